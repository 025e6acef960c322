package app

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// navItem is one main screen.
type navItem struct {
	title   string
	icon    fyne.Resource
	content fyne.CanvasObject
	refresh []func() // re-read the store for this screen
}

// nav switches between the main screens: Fyne's tabs down the side on a
// laptop; on a phone a bottom bar of equal buttons, icon above label, so
// five screens fit a narrow screen in any language (Fyne's own tab bar
// hides some behind a menu, or widens the window, when labels are long).
type nav struct {
	items    []navItem
	current  int
	onSelect func()

	tabs    *container.AppTabs // laptop
	stack   *fyne.Container    // phone
	buttons []*navButton
	root    fyne.CanvasObject
}

func newNav(items []navItem, phone bool, onSelect func()) *nav {
	n := &nav{items: items, onSelect: onSelect}
	if !phone {
		var ti []*container.TabItem
		for _, it := range items {
			ti = append(ti, container.NewTabItemWithIcon(it.title, it.icon, it.content))
		}
		n.tabs = container.NewAppTabs(ti...)
		n.tabs.SetTabLocation(container.TabLocationLeading)
		n.tabs.OnSelected = func(*container.TabItem) {
			n.current = n.tabs.SelectedIndex()
			if n.onSelect != nil {
				n.onSelect()
			}
		}
		n.root = n.tabs
		return n
	}
	n.stack = container.NewStack()
	bar := container.NewGridWithColumns(len(items))
	for i, it := range items {
		i := i
		n.stack.Add(it.content)
		b := newNavButton(it.icon, it.title, func() { n.selectIndex(i) })
		n.buttons = append(n.buttons, b)
		bar.Add(b)
	}
	bg := canvas.NewRectangle(theme.Color(theme.ColorNameHeaderBackground))
	n.root = container.NewBorder(nil, container.NewStack(bg, container.NewVBox(widget.NewSeparator(), bar)), nil, nil, n.stack)
	n.show()
	return n
}

func (n *nav) show() {
	for i, it := range n.items {
		if i == n.current {
			it.content.Show()
		} else {
			it.content.Hide()
		}
		n.buttons[i].setSelected(i == n.current)
	}
	n.stack.Refresh()
}

func (n *nav) selectIndex(i int) {
	if n.tabs != nil {
		n.tabs.SelectIndex(i)
		return
	}
	n.current = i
	n.show()
	if n.onSelect != nil {
		n.onSelect()
	}
}

// selectTitle shows the screen with the given title.
func (n *nav) selectTitle(title string) {
	for i, it := range n.items {
		if it.title == title {
			n.selectIndex(i)
			return
		}
	}
}

// navButton is a phone's bottom-bar button.
type navButton struct {
	widget.BaseWidget
	icon     fyne.Resource
	text     string
	selected bool
	onTap    func()
}

func newNavButton(icon fyne.Resource, text string, tap func()) *navButton {
	b := &navButton{icon: icon, text: text, onTap: tap}
	b.ExtendBaseWidget(b)
	return b
}

func (b *navButton) Tapped(*fyne.PointEvent) {
	if b.onTap != nil {
		b.onTap()
	}
}

func (b *navButton) setSelected(on bool) {
	b.selected = on
	b.Refresh()
}

func (b *navButton) CreateRenderer() fyne.WidgetRenderer {
	ic := widget.NewIcon(b.icon)
	l := canvas.NewText(b.text, theme.Color(theme.ColorNameForeground))
	l.TextSize = theme.CaptionTextSize() + 1
	l.Alignment = fyne.TextAlignCenter
	mark := canvas.NewRectangle(theme.Color(theme.ColorNamePrimary))
	mark.SetMinSize(fyne.NewSize(0, 3))
	r := &navRenderer{b: b, icon: ic, label: l, mark: mark,
		box: container.NewBorder(mark, nil, nil, nil, container.NewPadded(container.NewVBox(container.NewCenter(ic), l)))}
	r.Refresh()
	return r
}

type navRenderer struct {
	b     *navButton
	icon  *widget.Icon
	label *canvas.Text
	mark  *canvas.Rectangle
	box   *fyne.Container
}

func (r *navRenderer) Layout(s fyne.Size)           { r.box.Resize(s) }
func (r *navRenderer) MinSize() fyne.Size           { return fyne.NewSize(48, r.box.MinSize().Height) }
func (r *navRenderer) Objects() []fyne.CanvasObject { return []fyne.CanvasObject{r.box} }
func (r *navRenderer) Destroy()                     {}
func (r *navRenderer) Refresh() {
	r.mark.Hidden = !r.b.selected
	if r.b.selected {
		r.label.Color = theme.Color(theme.ColorNamePrimary)
		r.label.TextStyle.Bold = true
		r.icon.SetResource(theme.NewPrimaryThemedResource(r.b.icon))
	} else {
		r.label.Color = theme.Color(theme.ColorNameForeground)
		r.label.TextStyle.Bold = false
		r.icon.SetResource(r.b.icon)
	}
	r.label.Refresh()
	r.box.Refresh()
}
