package app

import (
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"
)

// vigilTheme is Fyne's default theme with Vigil's colours and, on phones,
// larger text and touch targets (observers use the app one-handed, outside,
// in a hurry).
type vigilTheme struct {
	phone bool
}

var _ fyne.Theme = (*vigilTheme)(nil)

// Brand and signal colours.
var (
	colorPrimary  = color.NRGBA{R: 0x1f, G: 0x5f, B: 0x8b, A: 0xff} // deep blue
	colorAlert    = color.NRGBA{R: 0xc6, G: 0x28, B: 0x28, A: 0xff}
	colorPractice = color.NRGBA{R: 0xf5, G: 0xa6, B: 0x23, A: 0xff}
	colorOK       = color.NRGBA{R: 0x2e, G: 0x7d, B: 0x32, A: 0xff}
	colorMuted    = color.NRGBA{R: 0x78, G: 0x78, B: 0x78, A: 0xff}
)

// severityColor is the colour of severity 1 to 4.
func severityColor(n int) color.Color {
	switch n {
	case 1:
		return color.NRGBA{R: 0x43, G: 0xa0, B: 0x47, A: 0xff}
	case 2:
		return color.NRGBA{R: 0xf9, G: 0xa8, B: 0x25, A: 0xff}
	case 3:
		return color.NRGBA{R: 0xef, G: 0x6c, B: 0x00, A: 0xff}
	case 4:
		return color.NRGBA{R: 0xc6, G: 0x28, B: 0x28, A: 0xff}
	}
	return colorMuted
}

// familyColor tells the families apart on charts and tiles.
func familyColor(f string) color.Color {
	switch f {
	case "polling":
		return color.NRGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}
	case "registration":
		return color.NRGBA{R: 0x94, G: 0x67, B: 0xbd, A: 0xff}
	case "infrastructure":
		return color.NRGBA{R: 0x8c, G: 0x56, B: 0x4b, A: 0xff}
	case "disinformation":
		return color.NRGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff}
	case "other":
		return color.NRGBA{R: 0x7f, G: 0x7f, B: 0x7f, A: 0xff}
	}
	return colorMuted
}

func (t *vigilTheme) Color(n fyne.ThemeColorName, v fyne.ThemeVariant) color.Color {
	switch n {
	case theme.ColorNamePrimary:
		if v == theme.VariantDark {
			return color.NRGBA{R: 0x4f, G: 0x9c, B: 0xd6, A: 0xff}
		}
		return colorPrimary
	case theme.ColorNameError:
		return colorAlert
	case theme.ColorNameWarning:
		return colorPractice
	case theme.ColorNameSuccess:
		return colorOK
	}
	return theme.DefaultTheme().Color(n, v)
}

// Font is Fyne's, except that regular and bold text start with a font
// mapping only Burmese, drawn to fit the line (fonts.go).
func (t *vigilTheme) Font(s fyne.TextStyle) fyne.Resource {
	if !s.Monospace && !s.Symbol && !s.Italic {
		if f := myanmarFont(s.Bold); f != nil {
			return f
		}
	}
	return theme.DefaultTheme().Font(s)
}

func (t *vigilTheme) Icon(n fyne.ThemeIconName) fyne.Resource { return theme.DefaultTheme().Icon(n) }

func (t *vigilTheme) Size(n fyne.ThemeSizeName) float32 {
	s := theme.DefaultTheme().Size(n)
	if !t.phone {
		return s
	}
	switch n {
	case theme.SizeNameText:
		return s + 2
	case theme.SizeNameInnerPadding:
		return s + 2
	case theme.SizeNameHeadingText:
		return s + 2
	}
	return s
}
