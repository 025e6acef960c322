package app

import (
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/vigil-mesh/vigil/incident"
)

// columnLayout centres its content in a column at most w wide (forms read
// badly across a laptop screen).
type columnLayout struct{ w float32 }

func (l *columnLayout) Layout(objs []fyne.CanvasObject, s fyne.Size) {
	w := s.Width
	if w > l.w {
		w = l.w
	}
	for _, o := range objs {
		o.Resize(fyne.NewSize(w, s.Height))
		o.Move(fyne.NewPos((s.Width-w)/2, 0))
	}
}

func (l *columnLayout) MinSize(objs []fyne.CanvasObject) fyne.Size {
	var m fyne.Size
	for _, o := range objs {
		m = m.Max(o.MinSize())
	}
	return m
}

// column lays content out in a centred, scrolling column.
func column(content ...fyne.CanvasObject) fyne.CanvasObject { return columnW(560, content...) }

// columnW is a column at most w wide.
func columnW(w float32, content ...fyne.CanvasObject) fyne.CanvasObject {
	return container.NewVScroll(container.New(&columnLayout{w: w}, container.NewPadded(container.NewVBox(content...))))
}

// logo is the app's title line.
func logo() fyne.CanvasObject {
	t := canvas.NewText("🗳️ Vigil", theme.Color(theme.ColorNamePrimary))
	t.TextSize = 34
	t.TextStyle.Bold = true
	t.Alignment = fyne.TextAlignCenter
	return t
}

// languagePicker lets the user choose the app's language; the choice is
// kept in Fyne's preferences (it must be known before unlock) and the
// current screen is rebuilt.
func (ui *UI) languagePicker(rebuild func()) fyne.CanvasObject {
	names := []string{T("lang.system")}
	for _, l := range Languages {
		names = append(names, l.Name)
	}
	sel := widget.NewSelect(names, nil)
	sel.SetSelectedIndex(0)
	for i, l := range Languages {
		if l.Code == Language() {
			sel.SetSelectedIndex(i + 1)
		}
	}
	sel.OnChanged = func(string) {
		code := ""
		if i := sel.SelectedIndex(); i > 0 {
			code = Languages[i-1].Code
		}
		if code == Language() {
			return
		}
		SetLanguage(code)
		ui.app.Preferences().SetString("language", code)
		rebuild()
	}
	return container.NewBorder(nil, nil, widget.NewLabel("🌐 "+T("settings.language")), nil, sel)
}

// showStart shows the welcome screen on a new device, else the unlock
// screen.
func (ui *UI) showStart() {
	if ui.device.Cover != nil {
		ui.showCover()
		return
	}
	ui.showPassphraseScreen()
}

// showPassphraseScreen is what the cover's code leads to: the welcome
// screen on a new (or wiped) device, else the unlock screen.
func (ui *UI) showPassphraseScreen() {
	if ui.locked || ui.home.Initialised() {
		ui.showUnlock()
		return
	}
	ui.showWelcome()
}

func (ui *UI) showWelcome() {
	pass := widget.NewPasswordEntry()
	pass.SetPlaceHolder(T("welcome.passphrase"))
	again := widget.NewPasswordEntry()
	again.SetPlaceHolder(T("welcome.again"))
	progress := widget.NewProgressBarInfinite()
	progress.Hide()
	var create *widget.Button
	create = widget.NewButtonWithIcon(T("welcome.create"), theme.ConfirmIcon(), func() {
		p := pass.Text
		if err := checkNewPassphrase(p, again.Text); err != nil {
			ui.showError(err)
			return
		}
		create.Disable()
		progress.Show()
		var b Backend
		ui.background(func() (err error) {
			b, err = ui.home.Create([]byte(p))
			return err
		}, func(err error) {
			create.Enable()
			progress.Hide()
			if err != nil {
				ui.showError(err)
				return
			}
			ui.be = b
			ui.signedIn()
		})
	})
	create.Importance = widget.HighImportance
	ui.setContent(column(
		logo(),
		wrapLabel(T("welcome.intro")),
		heading(T("welcome.choose")),
		pass, again,
		note(T("welcome.warning")),
		create, progress,
		widget.NewSeparator(),
		note(T("restore.offer")),
		widget.NewButtonWithIcon(T("restore.button"), theme.FolderOpenIcon(), ui.showRestore),
		widget.NewSeparator(),
		ui.languagePicker(ui.showWelcome),
	))
}

func (ui *UI) showUnlock() {
	pass := widget.NewPasswordEntry()
	pass.SetPlaceHolder(T("unlock.passphrase"))
	progress := widget.NewProgressBarInfinite()
	progress.Hide()
	var btn *widget.Button
	do := func() {
		if pass.Text == "" {
			return
		}
		btn.Disable()
		progress.Show()
		p := []byte(pass.Text)
		pass.SetText("")
		ui.unlockWith(p, func() {
			btn.Enable()
			progress.Hide()
		})
	}
	pass.OnSubmitted = func(string) { do() }
	btn = widget.NewButtonWithIcon(T("unlock.button"), theme.LoginIcon(), do)
	btn.Importance = widget.HighImportance
	ui.setContent(column(
		logo(),
		heading(T("unlock.title")),
		note(T("unlock.note")),
		pass, btn, progress,
		widget.NewSeparator(),
		ui.languagePicker(ui.showUnlock),
	))
	ui.win.Canvas().Focus(pass)
}

// unlock tries a passphrase (from the environment, at start).
func (ui *UI) unlock(p []byte) { ui.unlockWith(p, func() {}) }

func (ui *UI) unlockWith(p []byte, after func()) {
	if ui.locked && ui.be != nil {
		ui.resume(p, after)
		return
	}
	var b Backend
	ui.background(func() (err error) {
		b, err = ui.home.Unlock(p)
		return err
	}, func(err error) {
		after()
		if err != nil {
			ui.showError(err)
			return
		}
		ui.be = b
		ui.signedIn()
	})
}

// showJoin asks a device without a mission for an invite code, or lets a
// coordinator found a mission.
func (ui *UI) showJoin() {
	code := widget.NewMultiLineEntry()
	code.SetPlaceHolder(T("join.placeholder"))
	code.Wrapping = fyne.TextWrapBreak
	code.SetMinRowsVisible(4)
	progress := widget.NewProgressBarInfinite()
	progress.Hide()
	var join *widget.Button
	join = widget.NewButtonWithIcon(T("join.button"), theme.LoginIcon(), func() {
		c := strings.Join(strings.Fields(code.Text), "")
		if c == "" {
			ui.showError(errorf(T("join.empty")))
			return
		}
		// Check the code before anything else: a bad one is the common
		// mistake, and must change nothing.
		if _, err := incident.DecodeInvite(c); err != nil {
			ui.showError(err)
			return
		}
		join.Disable()
		progress.Show()
		var res JoinResult
		ui.background(func() (err error) {
			res, err = ui.be.Join(c)
			return err
		}, func(err error) {
			join.Enable()
			progress.Hide()
			if err != nil {
				ui.showError(err)
				return
			}
			code.SetText("")
			ui.signedIn()
			ui.toast(T("join.done", map[string]any{"Mission": res.Mission, "Role": RoleLabel(res.Role)}))
		})
	})
	join.Importance = widget.HighImportance
	openQR := widget.NewButtonWithIcon(T("join.open_qr"), theme.FileImageIcon(), func() {
		ui.openImage(func(data []byte) {
			text, err := DecodeQR(data)
			if err != nil {
				ui.showError(err)
				return
			}
			code.SetText(text)
		})
	})

	// Founding a mission is for coordinators; it sits folded away.
	name := widget.NewEntry()
	name.SetPlaceHolder(T("create.name"))
	label := widget.NewEntry()
	label.SetPlaceHolder(T("create.label"))
	createBtn := widget.NewButtonWithIcon(T("create.button"), theme.ContentAddIcon(), func() {
		if strings.TrimSpace(name.Text) == "" {
			ui.showError(errorf(T("create.need_name")))
			return
		}
		ui.background(func() error { return ui.be.CreateMission(strings.TrimSpace(name.Text), strings.TrimSpace(label.Text)) },
			func(err error) {
				if err != nil {
					ui.showError(err)
					return
				}
				ui.signedIn()
			})
	})
	founding := widget.NewAccordion(widget.NewAccordionItem(T("create.title"),
		container.NewVBox(note(T("create.note")), name, label, createBtn)))

	self := ""
	if id, err := ui.be.Identity(); err == nil {
		self = id.Author.String()
	}
	key := widget.NewLabel(self)
	key.Selectable = true
	key.Wrapping = fyne.TextWrapBreak
	key.TextStyle.Monospace = true
	copyKey := widget.NewButtonWithIcon("", theme.ContentCopyIcon(), func() {
		ui.app.Clipboard().SetContent(self)
	})
	ui.setContent(column(
		logo(),
		heading(T("join.title")),
		note(T("join.note")),
		code,
		// Join takes what the picture button leaves: two equal halves
		// are twice the longer label, wider than a phone in French.
		container.NewBorder(nil, nil, openQR, nil, join),
		progress,
		widget.NewSeparator(),
		note(T("join.device_key")),
		container.NewBorder(nil, nil, nil, copyKey, key),
		founding,
	))
}

// openImage lets the user pick an image file through the system picker.
func (ui *UI) openImage(got func([]byte)) {
	d := dialog.NewFileOpen(func(rc fyne.URIReadCloser, err error) {
		if _, data, ok := ui.readPicked(rc, err, 32<<20); ok {
			got(data)
		}
	}, ui.win)
	d.SetFilter(storage.NewExtensionFileFilter([]string{".png", ".jpg", ".jpeg", ".PNG", ".JPG", ".JPEG"}))
	d.Show()
}

// showStationPicker lets an observer choose the station they were
// assigned. first: part of the first run (then the main screens follow).
func (ui *UI) showStationPicker(first bool) {
	current := ""
	if b, _ := ui.be.Setting("station"); b != nil {
		current = string(b)
	}
	finish := func() {
		_ = ui.be.SetSetting("station_chosen", []byte("1"))
		if first {
			ui.signedIn()
		} else {
			ui.pop()
		}
	}
	words := pickerWords{title: T("station.title"), note: T("station.note"), noRegistry: T("station.note_no_registry"), skip: T("station.skip")}
	ui.stationPicker(current, first, words, func(c string) error {
		if err := ui.be.SetSetting("station", []byte(c)); err != nil {
			return err
		}
		finish()
		return nil
	}, finish)
}

// pickStation pushes the picker for a form's station (a tally's): use
// receives the code chosen, in its normal form, once the picker is
// gone. The device's own station stays as it is.
func (ui *UI) pickStation(current string, use func(code string)) {
	words := pickerWords{title: T("tally.station_title"), note: T("tally.station_note"), noRegistry: T("tally.station_note_no_registry"), skip: T("action.cancel")}
	ui.stationPicker(current, false, words, func(c string) error {
		ui.pop()
		use(c)
		return nil
	}, ui.pop)
}

// pickerWords are what the station picker says: its title, the note
// above the list (noRegistry: when there is no list) and its other
// button.
type pickerWords struct{ title, note, noRegistry, skip string }

// stationPicker shows the picker starting at current: use is called
// with the code chosen (normal form), skip by the other button. first:
// the picker is a whole screen of the first run, not pushed over
// another.
func (ui *UI) stationPicker(current string, first bool, words pickerWords, use func(code string) error, skip func()) {
	stations, _ := ui.be.Stations()
	byCode := make(map[string]Station, len(stations))
	for _, s := range stations {
		byCode[s.Code] = s
	}
	code := widget.NewEntry()
	code.SetPlaceHolder(T("station.code"))
	// Whether the typed code is a station of the registry: a code the
	// registry does not list is still accepted (an observer at a station
	// missing from the register must report from it), and said so.
	known := note("")
	showKnown := func(typed string) {
		c := incident.NormalizeCode(typed)
		switch s, ok := byCode[c]; {
		case len(stations) == 0 || c == "":
			known.SetText("")
		case ok:
			known.SetText("✅ " + stationText(s))
		default:
			known.SetText("⚠ " + T("station.not_in_registry", map[string]any{"Code": c}))
		}
	}
	code.OnChanged = showKnown
	code.SetText(current)
	showKnown(current)
	search := widget.NewEntry()
	search.SetPlaceHolder(T("station.search"))
	shown := stations
	list := widget.NewList(
		func() int { return len(shown) },
		func() fyne.CanvasObject {
			l := widget.NewLabel("PS-0000 — station name, area")
			l.Truncation = fyne.TextTruncateEllipsis
			return l
		},
		func(i widget.ListItemID, o fyne.CanvasObject) { o.(*widget.Label).SetText(stationText(shown[i])) })
	list.OnSelected = func(i widget.ListItemID) { code.SetText(shown[i].Code) }
	search.OnChanged = func(q string) {
		shown = filterStations(stations, q)
		list.UnselectAll()
		list.Refresh()
	}
	useBtn := widget.NewButtonWithIcon(T("station.use"), theme.ConfirmIcon(), func() {
		c := incident.NormalizeCode(code.Text)
		if c == "" {
			ui.showError(errorf(T("station.need_code")))
			return
		}
		if len(c) > incident.MaxCodeLen || strings.ContainsFunc(c, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
			ui.showError(errorf(T("station.bad_code")))
			return
		}
		if err := use(c); err != nil {
			ui.showError(err)
		}
	})
	useBtn.Importance = widget.HighImportance
	skipBtn := widget.NewButton(words.skip, skip)
	top := container.NewVBox(note(words.note), search)
	if len(stations) == 0 {
		top = container.NewVBox(note(words.noRegistry))
	}
	// Side by side on a laptop; on a phone one above the other, the
	// station's button first: side by side they are wider than a phone
	// in some languages.
	var buttons fyne.CanvasObject = container.NewGridWithColumns(2, skipBtn, useBtn)
	if ui.opts.Phone {
		buttons = container.NewVBox(useBtn, skipBtn)
	}
	bottom := container.NewVBox(widget.NewSeparator(), code, known, buttons)
	body := container.NewBorder(top, bottom, nil, nil, list)
	if len(stations) == 0 {
		body = container.NewBorder(top, nil, nil, nil, container.NewVBox(code, buttons))
	}
	if first {
		ui.setContent(container.NewPadded(container.NewBorder(heading(words.title), nil, nil, nil, body)))
		return
	}
	ui.push(words.title, container.NewPadded(body), nil)
}

// stationText is a station as the picker lists it: code, name and where.
func stationText(s Station) string {
	text := s.Code
	if s.Name != "" {
		text += " — " + s.Name
	}
	switch {
	case len(s.Admin) > 0:
		text += " (" + strings.Join(s.Admin, " / ") + ")"
	case s.Area != "":
		text += " (" + s.Area + ")"
	}
	return text
}

// filterStations is the stations whose code, name or place holds q, in
// any case; a code matches however it is typed ("ps 42" finds PS-0042's
// neighbours by their normal form).
func filterStations(stations []Station, q string) []Station {
	q = strings.TrimSpace(q)
	if q == "" {
		return stations
	}
	lower, code := strings.ToLower(q), incident.NormalizeCode(q)
	var out []Station
	for _, s := range stations {
		if strings.Contains(s.Code, code) ||
			strings.Contains(strings.ToLower(s.Name+"\n"+s.Area+"\n"+strings.Join(s.Admin, "\n")), lower) {
			out = append(out, s)
		}
	}
	return out
}

// errorf makes an error of an already translated message.
func errorf(msg string) error { return &userError{msg} }

type userError struct{ msg string }

func (e *userError) Error() string { return e.msg }
