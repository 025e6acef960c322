package app

import (
	"math"
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// The cover screen is a working calculator the app opens on (and returns
// to when it locks itself) once a cover code is set in Settings. Typing
// the code's digits and then "=" leads to the passphrase screen; anything
// else just calculates. It hides the app from someone glancing at an open
// phone, not from someone who knows Vigil (see the README).

// calc is a pocket calculator: immediate execution (12 + 30 × 2 = 84), as
// the cheap ones work.
type calc struct {
	acc     float64
	op      rune   // pending operator: + - * /, or 0
	cur     string // the number being typed
	shown   string // the display when nothing is being typed
	fresh   bool   // the display shows a result: a digit starts anew
	failed  bool   // division by zero: the display shows the error until C
	entered []rune // keys since the last C or =: the cover code is digits only
}

const calcMaxDigits = 15

// press types one key: 0-9 . + - * / = C. On "=", code is what was typed
// since the last C or = when it is digits only (a candidate cover code),
// else "".
func (c *calc) press(k rune) (code string) {
	if k == 'C' {
		*c = calc{}
		return ""
	}
	if c.failed {
		return ""
	}
	switch {
	case k >= '0' && k <= '9' || k == '.':
		c.entered = append(c.entered, k)
		if c.fresh {
			c.cur, c.fresh = "", false
		}
		if k == '.' && strings.Contains(c.cur, ".") || len(c.cur) >= calcMaxDigits {
			return ""
		}
		if c.cur == "0" && k != '.' {
			c.cur = ""
		}
		if c.cur == "" && k == '.' {
			c.cur = "0"
		}
		c.cur += string(k)
	case strings.ContainsRune("+-*/", k):
		c.entered = append(c.entered, k)
		if c.cur != "" || c.fresh {
			c.apply()
		}
		c.op = k
	case k == '=':
		code = string(c.entered)
		if strings.Trim(code, "0123456789") != "" {
			code = ""
		}
		c.entered = nil
		c.apply()
		c.op = 0
		if !c.failed {
			c.cur, c.fresh = c.shown, true
		}
	}
	return code
}

// apply folds the number typed into the total with the pending operator.
func (c *calc) apply() {
	v, err := strconv.ParseFloat(c.cur, 64)
	if c.cur == "" || err != nil {
		v = c.acc
		if c.op == 0 {
			c.cur = ""
			return
		}
	}
	switch c.op {
	case 0:
		c.acc = v
	case '+':
		c.acc += v
	case '-':
		c.acc -= v
	case '*':
		c.acc *= v
	case '/':
		if v == 0 {
			c.failed = true
			return
		}
		c.acc /= v
	}
	if math.IsInf(c.acc, 0) || math.IsNaN(c.acc) {
		c.failed = true
		return
	}
	c.shown = formatCalc(c.acc)
	c.cur, c.fresh = "", false
}

// display is what the calculator shows.
func (c *calc) display() string {
	switch {
	case c.failed:
		return T("cover.error")
	case c.cur != "":
		return c.cur
	case c.shown != "":
		return c.shown
	}
	return "0"
}

func formatCalc(v float64) string {
	if v == 0 {
		return "0" // not "-0"
	}
	return strconv.FormatFloat(v, 'g', 12, 64)
}

// coverScreen is the calculator on screen.
type coverScreen struct {
	ui      *UI
	c       calc
	display *canvas.Text
}

// calcKeys are the keys as laid out, with what each types.
var calcKeys = []struct {
	label string
	key   rune
}{
	{"7", '7'}, {"8", '8'}, {"9", '9'}, {"÷", '/'},
	{"4", '4'}, {"5", '5'}, {"6", '6'}, {"×", '*'},
	{"1", '1'}, {"2", '2'}, {"3", '3'}, {"−", '-'},
	{"C", 'C'}, {"0", '0'}, {".", '.'}, {"+", '+'},
}

// showCover shows the calculator, under the calculator's name.
func (ui *UI) showCover() {
	s := &coverScreen{ui: ui}
	s.display = canvas.NewText("0", theme.Color(theme.ColorNameForeground))
	s.display.TextSize = 44
	s.display.Alignment = fyne.TextAlignTrailing
	s.display.TextStyle.Monospace = true
	bg := canvas.NewRectangle(theme.Color(theme.ColorNameInputBackground))
	bg.CornerRadius = theme.InputRadiusSize()
	screen := container.NewStack(bg, container.NewPadded(s.display))

	grid := container.NewGridWithColumns(4)
	for _, k := range calcKeys {
		k := k
		b := widget.NewButton(k.label, func() { s.press(k.key) })
		if strings.ContainsRune("+-*/", k.key) {
			b.Importance = widget.MediumImportance
		} else {
			b.Importance = widget.LowImportance
		}
		grid.Add(tall(b, 64))
	}
	eq := widget.NewButton("=", func() { s.press('=') })
	eq.Importance = widget.HighImportance
	title := heading(T("cover.title"))
	body := container.NewVBox(title, screen, grid, tall(eq, 64))
	ui.setContent(container.New(&columnLayout{w: 420}, container.NewPadded(container.NewVBox(layout.NewSpacer(), body))))
	ui.win.SetTitle(T("cover.title"))
	ui.cover = s
}

// press types a key; the cover's code followed by "=" leaves for the
// passphrase screen.
func (s *coverScreen) press(k rune) {
	s.ui.touch()
	code := s.c.press(k)
	if len(code) >= coverMinDigits && s.ui.device.Cover.matches(code) {
		s.ui.showPassphraseScreen()
		return
	}
	s.display.Text = s.c.display()
	s.display.Refresh()
}

// typedRune and typedKey let a keyboard drive the calculator.
func (s *coverScreen) typedRune(r rune) {
	switch {
	case r >= '0' && r <= '9', strings.ContainsRune(".+-*/=", r):
		s.press(r)
	case r == 'x' || r == 'X':
		s.press('*')
	case r == 'c' || r == 'C':
		s.press('C')
	}
}

func (s *coverScreen) typedKey(k fyne.KeyName) {
	switch k {
	case fyne.KeyReturn, fyne.KeyEnter:
		s.press('=')
	case fyne.KeyEscape, fyne.KeyDelete:
		s.press('C')
	}
}

// hideBox is the settings section for auto-lock and the cover screen.
func (ui *UI) hideBox() fyne.CanvasObject {
	var names []string
	for _, m := range autoLockChoices {
		names = append(names, autoLockName(m))
	}
	lockSel := widget.NewSelect(names, nil)
	lockSel.SetSelected(autoLockName(ui.autoLockMinutes()))
	lockSel.OnChanged = func(string) {
		m := autoLockChoices[lockSel.SelectedIndex()]
		if m == ui.autoLockMinutes() && ui.device.AutoLockMinutes != nil {
			return
		}
		if err := ui.setAutoLock(m); err != nil {
			ui.showError(err)
		}
	}

	coverState := wrapLabel("")
	var coverButton *widget.Button
	show := func() {
		if ui.device.Cover != nil {
			coverState.SetText("✅ " + T("cover.is_on"))
			coverButton.SetText(T("cover.turn_off"))
		} else {
			coverState.SetText(T("cover.is_off"))
			coverButton.SetText(T("cover.set"))
		}
	}
	coverButton = widget.NewButton("", func() {
		if ui.device.Cover != nil {
			ui.device.Cover = nil
			if err := ui.saveDevice(); err != nil {
				ui.showError(err)
			}
			show()
			ui.toast(T("cover.turned_off"))
			return
		}
		ui.showSetCover(show)
	})
	show()
	return container.NewVBox(
		heading("🔒 "+T("lock.title")),
		note(T("lock.note")),
		container.NewBorder(nil, nil, widget.NewLabel(T("lock.after")), nil, lockSel),
		widget.NewSeparator(),
		heading(T("cover.settings_title")),
		note(T("cover.note")),
		coverState,
		coverButton,
	)
}

// autoLockName words a delay in minutes (0: off).
func autoLockName(m int) string {
	if m == 0 {
		return T("lock.off")
	}
	return T("duration.minutes", map[string]any{"N": m})
}

// showSetCover asks for the cover's code twice and turns the cover on.
func (ui *UI) showSetCover(done func()) {
	code := passEntry(T("cover.code"))
	again := passEntry(T("cover.code_again"))
	body := container.NewVBox(note(T("cover.code_note")), code, again)
	var d *dialog.CustomDialog
	cancel := widget.NewButton(T("action.cancel"), func() { d.Hide() })
	ok := widget.NewButton(T("cover.set_button"), func() {
		c := code.Text
		if len(c) < coverMinDigits || len(c) > coverMaxDigits || strings.Trim(c, "0123456789") != "" {
			ui.showError(errorf(T("cover.code_rule", map[string]any{"Min": coverMinDigits, "Max": coverMaxDigits})))
			return
		}
		if c != again.Text {
			ui.showError(errorf(T("cover.code_differ")))
			return
		}
		ui.device.Cover = newCoverSecret(c)
		if err := ui.saveDevice(); err != nil {
			ui.device.Cover = nil
			ui.showError(err)
			return
		}
		d.Hide()
		done()
		ui.toast(T("cover.turned_on"))
	})
	ok.Importance = widget.HighImportance
	d = dialog.NewCustomWithoutButtons(T("cover.settings_title"), body, ui.win)
	d.SetButtons([]fyne.CanvasObject{cancel, ok})
	fitDialog(d, 420)
	d.Show()
	ui.win.Canvas().Focus(code)
}
