package app

import (
	"cmp"
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/driver/mobile"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/act"
)

// The tally form: an observer (or a coordinator) copies the result sheet
// posted at the count. The checks run while the numbers are typed, with
// the same pure function the act layer stores them with
// (incident.TallyChecks), and they flag, never refuse: a sheet that does
// not add up is a finding, so it is saved as it reads.

// tallyFields are the sheet's numbers, in the sheet's order.
var tallyFields = []string{"registered", "issued", "cast", "invalid", "blank"}

// numberEntry is an entry for a count: digits only, and a phone's number
// keyboard.
type numberEntry struct{ widget.Entry }

func newNumberEntry() *numberEntry {
	e := &numberEntry{}
	e.ExtendBaseWidget(e)
	return e
}

// Keyboard asks a phone for its number keyboard.
func (e *numberEntry) Keyboard() mobile.KeyboardType { return mobile.NumberKeyboard }

// TypedRune takes digits only: a count has nothing else.
func (e *numberEntry) TypedRune(r rune) {
	if r >= '0' && r <= '9' {
		e.Entry.TypedRune(r)
	}
}

// count reads the entry: 0 when empty; ok is false when it holds
// something else than a whole number within the sheet's limit (pasted).
func (e *numberEntry) count() (n uint64, ok bool) {
	s := strings.TrimSpace(e.Text)
	if s == "" {
		return 0, true
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || n > incident.MaxTallyVotes {
		return 0, false
	}
	return n, true
}

// choiceRow is one choice of the sheet and its votes.
type choiceRow struct {
	name  *widget.Entry
	votes *numberEntry
}

// tallyForm is the form's state.
type tallyForm struct {
	ui       *UI
	station  string // normal form; "" none chosen
	stations map[string]Station
	contests []TallyContest

	stationLabel *widget.Label
	contest      *widget.SelectEntry
	numbers      map[string]*numberEntry
	rows         []*choiceRow
	rowBox       *fyne.Container
	addRow       *widget.Button
	checks       *fyne.Container
	pinned       *fyne.Container // the failing checks, under the form
	photos       []Attachment
	photoBox     *fyne.Container
}

// openTallyForm opens the form on the device's station (an observer's
// assignment, adopted by the home), the contest the mission's tallies
// name most and the choices of its latest sheet.
func (ui *UI) openTallyForm() {
	f := &tallyForm{ui: ui, station: ui.station(), stations: map[string]Station{}, numbers: map[string]*numberEntry{}}
	stations, _ := ui.be.Stations()
	for _, s := range stations {
		f.stations[s.Code] = s
	}
	f.contests, _ = ui.be.TallyContests()
	ui.tally = f
	ui.push("📝 "+T("tally.title"), f.build(), nil)
	f.update()
}

func (f *tallyForm) build() fyne.CanvasObject {
	ui := f.ui
	f.stationLabel = wrapLabel("")
	f.stationLabel.TextStyle.Bold = true
	f.showStation()
	change := widget.NewButtonWithIcon(T("home.change_station"), theme.SearchIcon(), func() {
		ui.pickStation(f.station, func(c string) {
			f.station = c
			f.showStation()
			f.update()
		})
	})
	change.Importance = widget.LowImportance

	var names []string
	for _, c := range f.contests {
		names = append(names, c.Name)
	}
	f.contest = widget.NewSelectEntry(names)
	f.contest.SetPlaceHolder(T("tally.contest_hint"))
	f.rowBox = container.NewVBox()
	if len(f.contests) > 0 {
		f.contest.SetText(f.contests[0].Name)
		f.setChoices(f.contests[0].Choices)
	} else {
		f.setChoices([]string{"", ""})
	}
	f.contest.OnChanged = f.contestChanged

	cols := 3
	if ui.opts.Phone {
		cols = 2
	}
	grid := container.NewGridWithColumns(cols)
	for _, name := range tallyFields {
		e := newNumberEntry()
		e.SetPlaceHolder("0")
		e.OnChanged = func(string) { f.update() }
		f.numbers[name] = e
		l := wrapLabel(FieldLabel(name))
		grid.Add(container.NewBorder(l, nil, nil, nil, e))
	}

	f.addRow = widget.NewButtonWithIcon(T("tally.add_choice"), theme.ContentAddIcon(), func() {
		f.appendRow("")
		f.rowBox.Refresh()
		f.update()
	})
	f.checks = container.NewVBox()

	f.photoBox = container.NewVBox()
	f.showPhotos()
	attach := widget.NewButtonWithIcon(T("form.attach"), theme.MailAttachmentIcon(), f.attach)
	photoParts := []fyne.CanvasObject{heading(T("tally.photos")), f.photoBox, attach}
	if ui.id.SealByDefault {
		photoParts = append(photoParts, note(T("tally.photos_sealed")))
	}

	save := widget.NewButtonWithIcon(T("tally.save"), theme.ConfirmIcon(), f.submit)
	save.Importance = widget.HighImportance

	parts := []fyne.CanvasObject{
		note(T("tally.note")),
		heading(T("field.station")),
		container.NewBorder(nil, nil, nil, change, f.stationLabel),
		heading(T("field.contest")),
		f.contest,
		heading(T("tally.sheet")),
		grid,
		heading(T("field.votes")),
		f.rowBox,
		f.addRow,
		card(f.checks),
	}
	parts = append(parts, photoParts...)
	parts = append(parts, widget.NewSeparator(), tall(save, 56), note(T("tally.save_note")))
	// What fails stays in sight under the form while the numbers are
	// typed at its top (on a phone, just above the keyboard).
	f.pinned = container.NewVBox()
	bg := canvas.NewRectangle(theme.Color(theme.ColorNameHeaderBackground))
	bar := container.NewStack(bg, container.NewVBox(widget.NewSeparator(), container.New(&columnLayout{w: 560}, container.NewPadded(f.pinned))))
	return container.NewBorder(nil, bar, nil, nil, column(parts...))
}

// showStation names the form's station, from the registry when it is
// there.
func (f *tallyForm) showStation() {
	switch s, ok := f.stations[f.station]; {
	case f.station == "":
		f.stationLabel.SetText("📍 " + T("home.no_station"))
	case ok:
		f.stationLabel.SetText("📍 " + stationText(s))
	case len(f.stations) > 0:
		f.stationLabel.SetText("📍 " + f.station + "\n⚠ " + T("station.not_in_registry", map[string]any{"Code": f.station}))
	default:
		f.stationLabel.SetText("📍 " + f.station)
	}
}

// setChoices replaces the rows with one per name.
func (f *tallyForm) setChoices(names []string) {
	f.rows = nil
	f.rowBox.RemoveAll()
	for _, n := range names {
		f.appendRow(n)
	}
	f.rowBox.Refresh()
}

func (f *tallyForm) appendRow(name string) {
	r := &choiceRow{name: widget.NewEntry(), votes: newNumberEntry()}
	r.name.SetPlaceHolder(T("tally.choice"))
	r.name.SetText(name)
	r.votes.SetPlaceHolder(T("tally.votes"))
	r.votes.OnChanged = func(string) { f.update() }
	rm := widget.NewButtonWithIcon("", theme.DeleteIcon(), nil)
	rm.Importance = widget.LowImportance
	row := container.NewBorder(nil, nil, nil,
		container.NewHBox(container.NewGridWrap(fyne.NewSize(104, r.votes.MinSize().Height), r.votes), rm), r.name)
	rm.OnTapped = func() {
		for i, x := range f.rows {
			if x == r {
				f.rows = append(f.rows[:i:i], f.rows[i+1:]...)
			}
		}
		f.rowBox.Remove(row)
		f.update()
	}
	f.rows = append(f.rows, r)
	f.rowBox.Add(row)
}

// contestChanged offers a known contest's choices, as long as no vote
// has been typed (they would be lost).
func (f *tallyForm) contestChanged(name string) {
	for _, r := range f.rows {
		if strings.TrimSpace(r.votes.Text) != "" {
			return
		}
	}
	for _, c := range f.contests {
		if c.Name == strings.TrimSpace(name) {
			f.setChoices(c.Choices)
			f.update()
			return
		}
	}
}

// sheet reads the form: the payload as typed, and the fields that hold
// no whole number.
func (f *tallyForm) sheet() (p incident.TallyPayload, bad []string) {
	p = incident.TallyPayload{Station: f.station, Contest: strings.TrimSpace(f.contest.Text)}
	for _, name := range tallyFields {
		n, ok := f.numbers[name].count()
		if !ok {
			bad = append(bad, FieldLabel(name))
		}
		switch name {
		case "registered":
			p.Registered = n
		case "issued":
			p.Issued = n
		case "cast":
			p.Cast = n
		case "invalid":
			p.Invalid = n
		case "blank":
			p.Blank = n
		}
	}
	for _, r := range f.rows {
		name := strings.TrimSpace(r.name.Text)
		n, ok := r.votes.count()
		if !ok {
			bad = append(bad, cmp.Or(name, FieldLabel("votes")))
		}
		if name == "" && strings.TrimSpace(r.votes.Text) == "" {
			continue // an empty row says nothing
		}
		p.Votes = append(p.Votes, incident.VoteCount{Choice: name, Votes: n})
	}
	return p, bad
}

// onRegister is the registry's registered voters at the form's station
// (0: the registry gives none).
func (f *tallyForm) onRegister() uint64 { return f.stations[f.station].Registered }

// update runs the checks on what is typed.
func (f *tallyForm) update() {
	p, bad := f.sheet()
	f.addRow.Disable()
	if len(f.rows) < incident.MaxTallyChoices {
		f.addRow.Enable()
	}
	checks := incident.TallyChecks(&p, f.onRegister())
	f.checks.RemoveAll()
	f.checks.Add(heading(T("tally.checks")))
	for _, o := range checkLines(checks, "tally.flagged") {
		f.checks.Add(o)
	}
	red := func(text string) *widget.Label {
		l := wrapLabel(text)
		l.Importance = widget.DangerImportance
		return l
	}
	f.pinned.RemoveAll()
	for _, c := range incident.FlaggedChecks(checks) {
		f.pinned.Add(red(checkText(c)))
	}
	for _, b := range bad {
		text := "⚠ " + T("tally.not_number", map[string]any{"Field": b})
		f.checks.Add(red(text))
		f.pinned.Add(red(text))
	}
	if len(f.pinned.Objects) == 0 {
		f.pinned.Add(wrapLabel("✅ " + T("tally.all_ok")))
	}
	f.checks.Refresh()
	f.pinned.Refresh()
}

// checkLines are a tally's checks in words: a summary (failing: the
// key of its words when checks fail), then each check, failing ones in
// red with their numbers. The form shows them while typing, the
// confirmation the same after saving, and the results each copy's.
func checkLines(checks []incident.TallyCheck, failing string) []fyne.CanvasObject {
	flagged := len(incident.FlaggedChecks(checks))
	summary := wrapLabel(T("tally.all_ok"))
	if flagged > 0 {
		summary.SetText(TN(failing, flagged))
		summary.Importance = widget.DangerImportance
	}
	summary.TextStyle.Bold = true
	out := []fyne.CanvasObject{summary}
	for _, c := range checks {
		if c.Flagged() {
			l := wrapLabel(checkText(c))
			l.Importance = widget.DangerImportance
			out = append(out, l)
			continue
		}
		out = append(out, note(checkText(c)))
	}
	return out
}

// CheckName names a tally check (incident.CheckSum, …) in words.
func CheckName(name string) string { return TOr("tally.check."+name, name) }

// checkText is one check's verdict in words with the numbers it
// compares, after a sign: ✅ passes, ⚠ fails, ⚪ cannot be made.
func checkText(c incident.TallyCheck) string {
	switch c.Verdict {
	case incident.CheckFlagged:
		return "⚠ " + checkWords(c)
	case incident.CheckMissing:
		return "⚪ " + checkWords(c)
	}
	return "✅ " + checkWords(c)
}

// checkWords is checkText without the sign; a failing check this build
// does not know shows its own sentence.
func checkWords(c incident.TallyCheck) string {
	switch c.Verdict {
	case incident.CheckFlagged:
		key := "tally.fail." + c.Name
		if !hasTranslation(key) {
			return c.Detail
		}
		return T(key, map[string]any{"Value": c.Left, "Total": c.Right})
	case incident.CheckMissing:
		return T("tally.check_missing", map[string]any{"Name": CheckName(c.Name)})
	}
	return CheckName(c.Name)
}

// hasTranslation reports whether key is one of the app's messages.
func hasTranslation(key string) bool {
	loadTranslations()
	_, ok := trEnglish[key]
	return ok
}

func (f *tallyForm) showPhotos() {
	f.photoBox.RemoveAll()
	if len(f.photos) == 0 {
		f.photoBox.Add(note(T("tally.no_photos")))
	}
	for i, a := range f.photos {
		i := i
		rm := widget.NewButtonWithIcon("", theme.DeleteIcon(), func() {
			f.photos = append(f.photos[:i:i], f.photos[i+1:]...)
			f.showPhotos()
		})
		rm.Importance = widget.LowImportance
		f.photoBox.Add(container.NewBorder(nil, nil, nil, rm, wrapLabel("📎 "+a.Name+"  ("+humanSize(a.Size)+")")))
	}
	f.photoBox.Refresh()
}

// attach picks a photo of the sheet through the file dialog, as the
// report form does.
func (f *tallyForm) attach() {
	f.ui.pickAttachment(len(f.photos), incident.MaxTallyPhotos, f.attachData)
}

// attachData keeps a photo's content in the store and lists it.
func (f *tallyForm) attachData(name string, data []byte) {
	a, ok := f.ui.keepAttachment(name, data)
	if !ok {
		return
	}
	f.photos = append(f.photos, a)
	f.showPhotos()
}

// submit stores the tally as typed, flagged or not, and shows what its
// checks say. What the form can tell is missing (a station, a contest, a
// choice, a choice's name, a number) is asked for first.
func (f *tallyForm) submit() {
	ui := f.ui
	p, bad := f.sheet()
	names := map[string]bool{}
	var problem string
	switch {
	case p.Station == "":
		problem = T("tally.need_station")
	case p.Contest == "":
		problem = T("tally.need_contest")
	case len(bad) > 0:
		problem = T("tally.not_number", map[string]any{"Field": bad[0]})
	case len(p.Votes) == 0:
		problem = T("tally.need_choice")
	}
	for _, v := range p.Votes {
		switch {
		case problem != "":
		case v.Choice == "":
			problem = T("tally.need_choice_name")
		case names[v.Choice]:
			problem = T("tally.choice_twice", map[string]any{"Name": v.Choice})
		}
		names[v.Choice] = true
	}
	if problem != "" {
		ui.showError(errorf(problem))
		return
	}
	res, err := ui.be.SubmitTally(act.TallyRequest{Station: p.Station, Contest: p.Contest, Registered: p.Registered,
		Issued: p.Issued, Cast: p.Cast, Invalid: p.Invalid, Blank: p.Blank, Votes: p.Votes, Photos: f.photos})
	if err != nil {
		// A sealed mission refuses the photos: SubmitTally says why, and
		// the form stays as it is (remove the photos and save again).
		ui.showError(err)
		return
	}
	ui.popAll()
	ui.showTallySaved(p.Contest, res)
}

// showTallySaved confirms a stored tally with its checks: the same
// words the form showed while typing.
func (ui *UI) showTallySaved(contest string, res act.TallySubmitted) {
	box := container.NewVBox(wrapLabel(T("tally.saved", map[string]any{"Code": res.Station, "Name": contest, "ID": shortID(res.ID.String())})))
	for _, o := range checkLines(res.Checks, "tally.flagged") {
		box.Add(o)
	}
	if res.NotInRegistry {
		box.Add(note("⚠ " + T("station.not_in_registry", map[string]any{"Code": res.Station})))
	}
	if res.Sealed {
		box.Add(note("🔒 " + T("tally.sealed")))
	}
	if s := ui.smsAction(res.ID, true, nil); s != nil {
		box.Add(s)
	}
	d := dialog.NewCustom(T("tally.saved_title"), T("action.ok"), box, ui.win)
	d.Resize(fyne.NewSize(360, 0).Max(d.MinSize()))
	d.Show()
}
