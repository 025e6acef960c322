package app

import (
	"fmt"
	"strings"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/vigil-mesh/vigil/incident"
)

// DraftDelay is how long the form waits after the last keystroke before
// saving the draft (each save is a synced write to the store).
const DraftDelay = 400 * time.Millisecond

// draftSaver writes the draft to the encrypted store shortly after the
// user stops typing, and at once on flush. Safe for concurrent use.
type draftSaver struct {
	s       Settings
	key     string // the setting written
	mu      sync.Mutex
	pending []byte
	changes uint64 // drafts saved so far: the idle check sees answers given
	timer   *time.Timer
	writeMu sync.Mutex
}

func (d *draftSaver) save(b []byte) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.pending = b
	d.changes++
	if d.timer == nil {
		d.timer = time.AfterFunc(DraftDelay, d.flush)
	}
}

// changeCount is how many drafts were saved since the form opened.
func (d *draftSaver) changeCount() uint64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.changes
}

// flush writes a pending draft now.
func (d *draftSaver) flush() {
	d.writeMu.Lock()
	defer d.writeMu.Unlock()
	d.mu.Lock()
	b := d.pending
	d.pending = nil
	if d.timer != nil {
		d.timer.Stop()
		d.timer = nil
	}
	d.mu.Unlock()
	if b != nil {
		_ = d.s.SetSetting(d.key, b)
	}
}

// cancel drops a pending draft without saving it (panic wipe).
func (d *draftSaver) cancel() {
	d.writeMu.Lock()
	defer d.writeMu.Unlock()
	d.mu.Lock()
	defer d.mu.Unlock()
	d.pending = nil
	if d.timer != nil {
		d.timer.Stop()
		d.timer = nil
	}
}

// flushDraft saves the open form's draft now (the app is closing or going
// to the background).
func (ui *UI) flushDraft() {
	if ui.form != nil {
		ui.form.saver.flush()
	}
	if ui.checklist != nil {
		ui.checklist.saver.flush()
	}
}

// reportForm is the category-first report form: a family, then a
// category, then only the fields that category takes.
type reportForm struct {
	ui    *UI
	d     Draft
	saver *draftSaver
	now   func() time.Time
	// amend is the report being amended (nil: a new report); base is how
	// many pushed screens lie under the form (the report's detail, which
	// the back button returns to).
	amend *incident.ReportView
	base  int

	// The details step, kept so tests and the draft restore can reach
	// them.
	title    *widget.Entry
	desc     *widget.Entry
	station  *widget.Entry
	lat, lon *widget.Entry
	source   *widget.Entry
	severity map[int]*tile
	attached *fyne.Container
}

// openReportForm opens the form, restoring the saved draft if there is
// one.
func (ui *UI) openReportForm() {
	b, _ := ui.be.Setting(DraftSetting)
	f := &reportForm{ui: ui, d: DecodeDraft(b), saver: &draftSaver{s: ui.be, key: DraftSetting}, now: ui.now}
	ui.form = f
	restored := !f.d.Empty()
	if f.d.Empty() {
		f.d.Sealed = ui.id.SealByDefault
	}
	if f.d.Station == "" {
		f.d.Station = ui.station()
	}
	if f.d.Category != "" {
		f.showDetails(restored)
		return
	}
	f.showFamilies()
}

// changed records an edit and schedules the draft save.
func (f *reportForm) changed() {
	f.d.Updated = f.now().UnixMilli()
	f.saver.save(EncodeDraft(f.d))
}

// close leaves the form, keeping the draft.
func (f *reportForm) close() {
	f.saver.flush()
	if f.ui.form == f {
		f.ui.form = nil
	}
	f.ui.popAll()
}

func (f *reportForm) showFamilies() {
	ui := f.ui
	cols := 3
	if ui.opts.Phone {
		cols = 2
	}
	grid := container.NewGridWithColumns(cols)
	for _, fam := range incident.Families {
		fam := fam
		grid.Add(newTile(FamilyIcon(fam), FamilyLabel(fam), familyColor(fam), true, func() { f.pickFamily(fam) }))
	}
	f.resetStack()
	ui.push(f.screenTitle(), column(heading(T("form.what")), grid), f.leave)
}

// leave is the back button of the first step: the draft stays.
func (f *reportForm) leave() {
	f.saver.flush()
	if f.ui.form == f {
		f.ui.form = nil
	}
}

func (f *reportForm) categories(fam string) []incident.Category {
	var out []incident.Category
	for _, c := range f.ui.be.Categories() {
		if c.Family == fam {
			out = append(out, c)
		}
	}
	return out
}

func (f *reportForm) pickFamily(fam string) {
	cats := f.categories(fam)
	if len(cats) == 1 {
		f.pickCategory(cats[0].Code)
		return
	}
	list := container.NewVBox()
	for _, c := range cats {
		c := c
		list.Add(newTile(CategoryIcon(c.Code), CategoryLabel(c), familyColor(fam), false, func() { f.pickCategory(c.Code) }))
	}
	f.ui.push(FamilyIcon(fam)+" "+FamilyLabel(fam), column(heading(T("form.which")), list), nil)
}

func (f *reportForm) pickCategory(code string) {
	old := f.d.Category
	f.d.Category = code
	if !f.d.TitleEdited || f.d.Title == "" {
		f.d.Title = CategoryLabelOf(code)
		f.d.TitleEdited = false
	}
	if incident.FamilyOf(old) == "disinformation" && !f.d.Disinformation() {
		f.d.Channel, f.d.Harm, f.d.Reach, f.d.Source = "", "", 0, ""
	}
	f.changed()
	f.showDetails(false)
}

// showDetails shows the fields the category takes. restored: the draft
// was loaded from the store.
func (f *reportForm) showDetails(restored bool) {
	ui := f.ui
	d := &f.d
	var parts []fyne.CanvasObject

	if restored {
		discard := widget.NewButtonWithIcon(f.discardText(), theme.DeleteIcon(), f.discard)
		discard.Importance = widget.LowImportance
		parts = append(parts, card(container.NewBorder(nil, nil, nil, discard,
			wrapLabel("📝 "+f.restoredText(ui.timeText(d.Updated))))))
	}

	if f.amend != nil {
		// Say what is being changed, and that the first version stays.
		parts = append(parts, card(wrapLabel("✏️ "+T("amend.note", map[string]any{"Time": ui.timeText(f.amend.Created)}))))
		if f.amend.Sealed {
			parts = append(parts, card(wrapLabel("🔒 "+T("amend.sealed_note"))))
		}
	}

	// The category, and a way back to change it.
	change := widget.NewButton(T("form.change_category"), func() { f.showFamilies() })
	change.Importance = widget.LowImportance
	catTile := newTile(CategoryIcon(d.Category), CategoryLabelOf(d.Category), familyColor(incident.FamilyOf(d.Category)), false, nil)
	catTile.sub = FamilyLabel(incident.FamilyOf(d.Category))
	parts = append(parts, container.NewBorder(nil, nil, nil, change, catTile))

	// How serious: four big buttons, colour-coded.
	f.severity = map[int]*tile{}
	sev := container.NewGridWithColumns(4)
	if ui.opts.Phone {
		sev = container.NewGridWithColumns(2)
	}
	for n := 1; n <= 4; n++ {
		n := n
		t := newTile(severityIcons[n], SeverityLabel(n), severityColor(n), true, func() {
			d.Severity = n
			for k, t := range f.severity {
				t.setSelected(k == n)
			}
			f.changed()
		})
		t.selected = d.Severity == n
		f.severity[n] = t
		sev.Add(t)
	}
	parts = append(parts, heading(T("form.severity")), sev)

	f.title = widget.NewEntry()
	f.title.SetText(d.Title)
	f.title.OnChanged = func(s string) { d.Title, d.TitleEdited = s, true; f.changed() }
	f.desc = widget.NewMultiLineEntry()
	f.desc.Wrapping = fyne.TextWrapWord
	f.desc.SetMinRowsVisible(3)
	f.desc.SetPlaceHolder(T("form.description_hint"))
	f.desc.SetText(d.Description)
	f.desc.OnChanged = func(s string) { d.Description = s; f.changed() }
	parts = append(parts, heading(T("form.title_label")), f.title, heading(T("form.description")), f.desc)

	// When: now, or a while ago.
	whenChoices := []time.Duration{0, 15 * time.Minute, 30 * time.Minute, time.Hour, 2 * time.Hour, 3 * time.Hour}
	var whenNames []string
	for _, w := range whenChoices {
		if w == 0 {
			whenNames = append(whenNames, T("form.when_now"))
		} else {
			whenNames = append(whenNames, T("form.when_ago", map[string]any{"Ago": Ago(f.now(), f.now().Add(-w))}))
		}
	}
	when := widget.NewSelect(whenNames, nil)
	when.SetSelectedIndex(0)
	if d.Occurred != 0 {
		when.PlaceHolder = ui.timeText(d.Occurred)
		when.ClearSelected()
	}
	when.OnChanged = func(string) {
		i := when.SelectedIndex()
		if i <= 0 {
			d.Occurred = 0
		} else {
			d.Occurred = f.now().Add(-whenChoices[i]).UnixMilli()
		}
		f.changed()
	}
	parts = append(parts, heading(T("form.when")), when)

	// Where: the station (switchable mid-day), optional coordinates.
	f.station = widget.NewEntry()
	f.station.SetText(d.Station)
	f.station.SetPlaceHolder(T("station.code"))
	f.station.OnChanged = func(s string) { d.Station = strings.TrimSpace(s); f.changed() }
	stations, _ := ui.be.Stations()
	var pick fyne.CanvasObject = widget.NewLabel("")
	if len(stations) > 0 {
		var codes []string
		for _, s := range stations {
			codes = append(codes, s.Code)
		}
		sel := widget.NewSelect(codes, func(c string) { f.station.SetText(c) })
		sel.PlaceHolder = T("form.pick_station")
		pick = sel
	}
	parts = append(parts, heading(T("form.station")), container.NewGridWithColumns(2, f.station, pick))

	if d.Disinformation() {
		parts = append(parts, f.disinfoFields()...)
	}

	f.lat, f.lon = widget.NewEntry(), widget.NewEntry()
	f.lat.SetPlaceHolder(T("form.lat"))
	f.lon.SetPlaceHolder(T("form.lon"))
	f.lat.SetText(d.Lat)
	f.lon.SetText(d.Lon)
	f.lat.OnChanged = func(s string) { d.Lat, d.Precision = s, 0; f.changed() }
	f.lon.OnChanged = func(s string) { d.Lon, d.Precision = s, 0; f.changed() }
	useStation := widget.NewButtonWithIcon(T("form.use_station_location"), theme.HomeIcon(), func() {
		for _, s := range stations {
			if s.Code == d.Station && s.Lat != nil && s.Lon != nil {
				f.lat.SetText(incident.FormatMicro(*s.Lat))
				f.lon.SetText(incident.FormatMicro(*s.Lon))
				return
			}
		}
		dialog.ShowInformation(T("form.location"), T("form.no_station_location"), ui.win)
	})
	locParts := []fyne.CanvasObject{note(T("form.location_note")), container.NewGridWithColumns(2, f.lat, f.lon)}
	// Offered only where the registry has a station with a location: a
	// mission without a registry would answer every tap with "no location".
	for _, s := range stations {
		if s.Lat != nil && s.Lon != nil {
			locParts = append(locParts, useStation)
			break
		}
	}
	loc := widget.NewAccordion(widget.NewAccordionItem("📍 "+T("form.location_optional"), container.NewVBox(locParts...)))
	if d.Lat != "" || d.Lon != "" {
		loc.Open(0)
	}
	parts = append(parts, loc)

	// Attachments, through the system file picker.
	f.attached = container.NewVBox()
	f.showAttachments()
	attach := widget.NewButtonWithIcon(T("form.attach"), theme.MailAttachmentIcon(), f.attach)
	parts = append(parts, heading(T("form.attachments")), f.attached, attach)

	saveText := T("form.save")
	if f.amend == nil {
		seal := widget.NewCheck("🔒 "+T("form.seal"), func(on bool) { d.Sealed = on; f.changed() })
		seal.SetChecked(d.Sealed)
		parts = append(parts, seal, note(T("form.seal_note")))
	} else {
		// Sealing is the report's: its amendments follow it (said at the
		// top).
		saveText = T("amend.save")
	}

	save := widget.NewButtonWithIcon(saveText, theme.ConfirmIcon(), f.submit)
	save.Importance = widget.HighImportance
	parts = append(parts, widget.NewSeparator(), tall(save, 56), note(T("form.save_note")))
	if !restored {
		discard := widget.NewButtonWithIcon(f.discardText(), theme.DeleteIcon(), f.discard)
		discard.Importance = widget.LowImportance
		parts = append(parts, discard)
	}

	f.resetStack()
	ui.push(f.screenTitle(), column(parts...), f.leave)
}

// severityIcons is a face scale, read without words.
var severityIcons = map[int]string{1: "🙂", 2: "😐", 3: "😟", 4: "😱"}

func (f *reportForm) disinfoFields() []fyne.CanvasObject {
	d := &f.d
	var chNames []string
	for _, c := range incident.Channels {
		chNames = append(chNames, channelIcons[c]+" "+ChannelLabel(c))
	}
	channel := widget.NewSelect(chNames, nil)
	channel.PlaceHolder = T("form.pick_channel")
	for i, c := range incident.Channels {
		if c == d.Channel {
			channel.SetSelectedIndex(i)
		}
	}
	channel.OnChanged = func(string) {
		if i := channel.SelectedIndex(); i >= 0 {
			d.Channel = incident.Channels[i]
			f.changed()
		}
	}
	var harmNames []string
	for _, h := range incident.HarmLevels {
		harmNames = append(harmNames, HarmLabel(h))
	}
	harm := widget.NewRadioGroup(harmNames, nil)
	harm.Horizontal = !f.ui.opts.Phone
	for i, h := range incident.HarmLevels {
		if h == d.Harm {
			harm.SetSelected(harmNames[i])
		}
	}
	harm.OnChanged = func(s string) {
		d.Harm = ""
		for i, n := range harmNames {
			if n == s {
				d.Harm = incident.HarmLevels[i]
			}
		}
		f.changed()
	}
	reachNames := []string{T("reach.unknown")}
	for i := range ReachBuckets {
		reachNames = append(reachNames, T("reach."+[]string{"tens", "hundreds", "thousands", "tens_thousands", "more"}[i]))
	}
	reach := widget.NewSelect(reachNames, nil)
	reach.SetSelectedIndex(0)
	for i, v := range ReachBuckets {
		if v == d.Reach {
			reach.SetSelectedIndex(i + 1)
		}
	}
	reach.OnChanged = func(string) {
		i := reach.SelectedIndex()
		d.Reach = 0
		if i > 0 {
			d.Reach = ReachBuckets[i-1]
		}
		f.changed()
	}
	f.source = widget.NewEntry()
	f.source.SetPlaceHolder(T("form.source_hint"))
	f.source.SetText(d.Source)
	f.source.OnChanged = func(s string) { d.Source = s; f.changed() }
	return []fyne.CanvasObject{
		widget.NewSeparator(),
		heading("📢 " + T("form.disinfo")),
		note(T("form.disinfo_note")),
		widget.NewLabel(T("form.channel")), channel,
		widget.NewLabel(T("form.harm")), harm,
		widget.NewLabel(T("form.reach")), reach,
		widget.NewLabel(T("form.source")), f.source,
	}
}

func (f *reportForm) showAttachments() {
	f.attached.RemoveAll()
	if len(f.d.Attachments) == 0 {
		f.attached.Add(note(T("form.no_attachments")))
	}
	for i, a := range f.d.Attachments {
		i := i
		rm := widget.NewButtonWithIcon("", theme.DeleteIcon(), func() {
			f.d.Attachments = append(f.d.Attachments[:i:i], f.d.Attachments[i+1:]...)
			f.changed()
			f.showAttachments()
		})
		rm.Importance = widget.LowImportance
		f.attached.Add(container.NewBorder(nil, nil, nil, rm,
			widget.NewLabel("📎 "+a.Name+"  ("+humanSize(a.Size)+")")))
	}
	f.attached.Refresh()
}

// attach opens the file dialog (the one every screen uses, which tests
// replace) and keeps the file picked in the store.
func (f *reportForm) attach() {
	f.ui.pickAttachment(len(f.d.Attachments), incident.MaxAttachments, f.attachData)
}

// pickAttachment is how a form attaches a file: refused past limit files
// (it holds have), else the file dialog, then attachData with what was
// picked.
func (ui *UI) pickAttachment(have, limit int, attachData func(name string, data []byte)) {
	if have >= limit {
		ui.showError(errorf(T("form.too_many", map[string]any{"N": limit})))
		return
	}
	ui.chooseOpen(nil, func(rc fyne.URIReadCloser, err error) {
		if name, data, ok := ui.readPicked(rc, err, incident.MaxAttachmentSize); ok {
			attachData(name, data)
		}
	})
}

// keepAttachment keeps a file's content in the store for a form, or says
// why not (too big, the store refused it).
func (ui *UI) keepAttachment(name string, data []byte) (Attachment, bool) {
	if len(data) > incident.MaxAttachmentSize {
		ui.showError(errorf(T("form.too_big", map[string]any{"Name": name, "Limit": humanSize(incident.MaxAttachmentSize)})))
		return Attachment{}, false
	}
	a, err := ui.be.AttachFile(name, data)
	if err != nil {
		ui.showError(err)
		return Attachment{}, false
	}
	return a, true
}

// attachData keeps a file's content and adds it to the draft.
func (f *reportForm) attachData(name string, data []byte) {
	a, ok := f.ui.keepAttachment(name, data)
	if !ok {
		return
	}
	f.d.Attachments = append(f.d.Attachments, a)
	f.changed()
	f.saver.flush()
	f.showAttachments()
}

func humanSize(n int) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%d KB", (n+512)>>10)
	}
	return fmt.Sprintf("%d B", n)
}

// discard throws the draft away, after asking.
func (f *reportForm) discard() {
	title, msg := T("form.discard_title"), T("form.discard_message")
	if f.amend != nil {
		title, msg = T("amend.discard_title"), T("amend.discard_message")
	}
	f.ui.confirm(title, msg, f.discardText(), func() {
		f.saver.flush()
		_ = f.ui.be.SetSetting(f.saver.key, nil)
		f.d = Draft{}
		if f.ui.form == f {
			f.ui.form = nil
		}
		f.ui.popAll()
	})
}

// submit checks the draft, stores the report and clears the draft.
func (f *reportForm) submit() {
	ui := f.ui
	p, err := f.d.Payload(f.now())
	if err != nil {
		ui.showError(err)
		return
	}
	if f.amend != nil {
		f.submitAmend(p)
		return
	}
	id, err := ui.be.Submit(p, f.d.Attachments, f.d.Sealed)
	if err != nil {
		ui.showError(err)
		return
	}
	// The observer moved: the station on the report becomes theirs.
	if p.Station != "" && p.Station != ui.station() {
		_ = ui.be.SetSetting("station", []byte(p.Station))
	}
	f.saver.flush()
	_ = ui.be.SetSetting(DraftSetting, nil)
	f.d = Draft{}
	if ui.form == f {
		ui.form = nil
	}
	ui.popAll()
	ui.toast(T("form.saved", map[string]any{"ID": shortID(id.String())}))
}
