package app

import (
	"image/color"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/act"
)

// Notices and alerts on screen: what coordinators tell the field, the
// state of an observer's alerts, and a coordinator's answers. Which
// notices count as instructions is act's rule (Desk.Notices lists only
// trusted ones by default); the screens go through FieldNotices too, so a
// forged or revoked coordinator's notice is never drawn as one.

// MaxHomeNotices is how many notices the observer's home shows above its
// actions on a laptop, MaxPhoneNotices on a phone (where more would push
// "New report" off the first screen); the rest are one tap away.
const (
	MaxHomeNotices  = 3
	MaxPhoneNotices = 2
)

// fieldNotices reads the notices for the field, expired ones too when
// asked.
func (ui *UI) fieldNotices(expired bool) ([]incident.NoticeView, error) {
	list, err := ui.be.Notices(act.NoticeQuery{Expired: expired})
	if err != nil {
		return nil, err
	}
	return FieldNotices(list), nil
}

// audienceText names who a notice is for.
func audienceText(v incident.NoticeView) string {
	switch v.Audience {
	case incident.AudienceStation:
		return T("notice.to_station", map[string]any{"Code": v.Notice.Station})
	case incident.AudienceArea:
		return T("notice.to_area", map[string]any{"Name": v.Notice.Area})
	}
	return T("notice.to_everyone")
}

// senderName names a member by label, else by its key's short form.
func senderName(label string, a incident.Author) string {
	if label != "" {
		return label
	}
	return a.Short()
}

// noticeCard is one notice: its text, then severity, sender, audience and
// age, with a strip in the severity's colour.
func (ui *UI) noticeCard(v incident.NoticeView) fyne.CanvasObject {
	sev := int(v.Notice.Severity)
	strip := canvas.NewRectangle(severityColor(sev))
	strip.SetMinSize(fyne.NewSize(6, 6))
	text := wrapLabel("📢 " + v.Notice.Text)
	text.TextStyle.Bold = true
	meta := []string{severityIcons[sev] + " " + SeverityLabel(sev),
		T("notice.from", map[string]any{"Who": senderName(v.Label, v.Author)}),
		audienceText(v), Ago(ui.now(), time.UnixMilli(v.Created))}
	if v.Expired {
		meta = append(meta, T("notice.expired"))
	}
	body := container.NewBorder(nil, nil, strip, nil, container.NewVBox(text, note(strings.Join(meta, " · "))))
	return card(body)
}

// noticesButton opens the list of notices; its text counts those in
// force.
func (ui *UI) noticesButton(n int) *widget.Button {
	b := widget.NewButtonWithIcon(TN("notice.list_button", n), theme.MailComposeIcon(), ui.showNotices)
	b.Importance = widget.LowImportance
	return b
}

// showNotices lists every notice in force, with a switch to show the
// expired ones after them.
func (ui *UI) showNotices() {
	list := container.NewVBox()
	fill := func(expired bool) {
		list.RemoveAll()
		notices, err := ui.fieldNotices(expired)
		if err != nil {
			list.Add(note(errorText(err)))
		}
		if err == nil && len(notices) == 0 {
			list.Add(note(T("notice.none")))
		}
		for _, n := range notices {
			list.Add(ui.noticeCard(n))
		}
		list.Refresh()
	}
	show := widget.NewCheck(T("notice.show_expired"), fill)
	fill(false)
	ui.push(T("notice.list_title"), columnW(820, note(T("notice.list_note")), show, list), nil)
}

// alertTitle is an alert's first line: when, who and where.
func (ui *UI) alertTitle(a act.AlertItem) string {
	parts := []string{ui.timeText(a.Created)}
	if a.Author != ui.id.Author {
		parts = append(parts, senderName(a.Label, a.Author))
	}
	if a.Alert.Station != "" {
		parts = append(parts, "📍 "+a.Alert.Station)
	}
	return strings.Join(parts, " · ")
}

// alertStateText says where an alert stands, with the answer in force.
func (ui *UI) alertStateText(a act.AlertItem) string {
	switch AlertStateKey(a) {
	case "held":
		return "📥 " + T("alertstate.held")
	case incident.AlertAcknowledged, incident.AlertResolved:
		s := a.Last
		data := map[string]any{"Who": ui.stepName(*s), "Time": ui.timeText(s.Created)}
		text := "✅ " + T("alertstate.acknowledged", data)
		if s.Resolve {
			text = "✔️ " + T("alertstate.resolved", data)
		}
		if s.Note != "" {
			text += "\n“" + s.Note + "”"
		}
		return text
	}
	return "⏳ " + T("alertstate.sent")
}

// stepName names the coordinator who answered.
func (ui *UI) stepName(s incident.AlertStep) string {
	if s.By == ui.id.Author {
		return T("report.you")
	}
	return senderName(s.Label, s.By)
}

// alertStateLabel names an alert's state in a word or two.
func alertStateLabel(a act.AlertItem) string {
	switch AlertStateKey(a) {
	case "held":
		return T("alertstate.badge_held")
	case incident.AlertAcknowledged:
		return T("alertstate.badge_acknowledged")
	case incident.AlertResolved:
		return T("alertstate.badge_resolved")
	}
	return T("alertstate.badge_sent")
}

// audienceChoice names an audience on the notice form.
func audienceChoice(a string) string {
	switch a {
	case incident.AudienceStation:
		return T("notice.audience_station")
	case incident.AudienceArea:
		return T("notice.audience_area")
	}
	return T("notice.audience_everyone")
}

// alertColor tells the states apart: red until someone answered.
func alertColor(a act.AlertItem) color.Color {
	switch a.State {
	case incident.AlertAcknowledged:
		return colorPrimary
	case incident.AlertResolved:
		return colorOK
	}
	return colorAlert
}

// alertTile is one alert in a list; tapping it opens its detail.
func (ui *UI) alertTile(a act.AlertItem) fyne.CanvasObject {
	text := ui.alertTitle(a)
	if a.Alert.Note != "" {
		text += "\n“" + a.Alert.Note + "”"
	}
	t := newTile("🆘", text, alertColor(a), false, func() { ui.showAlert(a.ID) })
	t.sub = ui.alertStateText(a)
	return t
}

// showAlert opens an alert's detail: who raised it, where and when, the
// note, the coordinators' answers and, for a coordinator, the actions
// that answer it.
func (ui *UI) showAlert(id incident.ID) {
	alerts, err := ui.be.Alerts()
	if err != nil {
		ui.showError(err)
		return
	}
	var a *act.AlertItem
	for i := range alerts {
		if alerts[i].ID == id {
			a = &alerts[i]
		}
	}
	if a == nil {
		ui.showError(errorf(T("alert.gone")))
		return
	}
	head := wrapLabel("🆘 " + T("alert.from", map[string]any{"Who": senderName(a.Label, a.Author)}))
	if a.Author == ui.id.Author {
		head.SetText("🆘 " + T("alert.mine"))
	}
	head.TextStyle.Bold = true
	head.SizeName = theme.SizeNameSubHeadingText
	badges := container.NewHBox(badge(alertStateLabel(*a), alertColor(*a)))
	if ui.id.Practice {
		badges.Add(badge(T("practice.title"), colorPractice))
	}
	parts := []fyne.CanvasObject{head, badges}
	for _, f := range a.Flags {
		parts = append(parts, card(wrapLabel("⚠ "+FlagLabel(f))))
	}

	form := widget.NewForm()
	add := func(label, value string) {
		if value != "" {
			form.Append(label, wrapLabel(value))
		}
	}
	add(T("alert.observer"), senderName(a.Label, a.Author)+" ("+a.Author.Short()+")")
	station := a.Alert.Station
	if station != "" {
		if stations, err := ui.be.Stations(); err == nil {
			for _, s := range stations {
				if s.Code == station {
					station = stationTitle(s.Code, s.Name)
				}
			}
		}
	}
	add(T("field.station"), station)
	add(T("alert.time"), ui.timeText(a.Created)+" ("+Ago(ui.now(), time.UnixMilli(a.Created))+")")
	if a.Alert.Lat != nil && a.Alert.Lon != nil {
		add(T("field.location"), incident.FormatMicro(*a.Alert.Lat)+", "+incident.FormatMicro(*a.Alert.Lon))
	}
	noteText := a.Alert.Note
	if a.Sealed { // its own, after a coordinator's receipt ended the readable copy
		noteText = "🔒 " + T("report.sealed_badge")
	}
	add(T("alert.note_field"), noteText)
	add(T("alert.state"), ui.alertStateText(*a))
	add(T("field.id"), a.ID.String())
	parts = append(parts, form)
	if a.Author == ui.id.Author {
		if s := ui.smsAction(a.ID, true, func() { ui.pop(); ui.showAlert(id) }); s != nil {
			parts = append(parts, s)
		}
	}
	parts = append(parts, heading(T("report.history")))

	if len(a.History) == 0 {
		parts = append(parts, note(T("alert.no_answer")))
	}
	for _, s := range a.History {
		data := map[string]any{"Who": ui.stepName(s)}
		text := "✅ " + T("alert.step_acknowledged", data)
		if s.Resolve {
			text = "✔️ " + T("alert.step_resolved", data)
		}
		if s.Note != "" {
			text += "\n“" + s.Note + "”"
		}
		when := widget.NewLabel(ui.timeText(s.Created))
		when.TextStyle.Monospace = true
		parts = append(parts, container.NewBorder(nil, nil, when, nil, wrapLabel(text)))
	}
	if ui.id.Role == incident.RoleCoordinator {
		ack := widget.NewButtonWithIcon(T("alert.acknowledge"), theme.ConfirmIcon(), func() { ui.answerAlert(*a, false) })
		ack.Importance = widget.HighImportance
		resolve := widget.NewButtonWithIcon(T("alert.resolve"), theme.CheckButtonCheckedIcon(), func() { ui.answerAlert(*a, true) })
		parts = append(parts, widget.NewSeparator(), heading(T("alert.answer")),
			container.NewGridWithColumns(2, ack, resolve), note(T("alert.answer_note")))
	}
	ui.push(T("alert.detail_title"), columnW(820, parts...), nil)
}

// answerAlert asks for a short note, prefilled, then acknowledges or
// resolves the alert with a notice signed by this coordinator.
func (ui *UI) answerAlert(a act.AlertItem, resolve bool) {
	title, prefill, button, done := T("alert.ack_title"), T("alert.ack_prefill"), T("alert.acknowledge"), T("alert.acknowledged")
	if resolve {
		title, prefill, button, done = T("alert.resolve_title"), T("alert.resolve_prefill"), T("alert.resolve"), T("alert.resolved")
	}
	text := widget.NewMultiLineEntry()
	text.Wrapping = fyne.TextWrapWord
	text.SetMinRowsVisible(3)
	text.SetPlaceHolder(T("alert.answer_placeholder"))
	text.SetText(prefill)
	var d *dialog.CustomDialog
	cancel := widget.NewButton(T("action.cancel"), func() { d.Hide() })
	send := widget.NewButtonWithIcon(button, theme.MailSendIcon(), func() {
		msg := strings.TrimSpace(text.Text)
		if msg == "" {
			return
		}
		d.Hide()
		if _, err := ui.be.Notice(act.NoticeRequest{Text: msg, Ack: a.ID.String(), Resolve: resolve}); err != nil {
			ui.showError(err)
			return
		}
		ui.pop()
		ui.showAlert(a.ID)
		ui.toast(done)
	})
	send.Importance = widget.HighImportance
	text.OnChanged = func(s string) {
		if strings.TrimSpace(s) == "" {
			send.Disable()
		} else {
			send.Enable()
		}
	}
	head := wrapLabel("🆘 " + ui.alertTitle(a))
	head.TextStyle.Bold = true
	body := container.NewVBox(head, wrapLabel(T("alert.answer_explain")), text)
	d = dialog.NewCustomWithoutButtons(title, body, ui.win)
	d.SetButtons([]fyne.CanvasObject{cancel, send})
	fitDialog(d, 420)
	d.Show()
	ui.win.Canvas().Focus(text)
}

// showNoticeForm lets a coordinator send a signed notice to the field:
// text, severity, audience and how long it shows.
func (ui *UI) showNoticeForm() {
	d := NoticeDraft{Severity: act.DefaultNoticeSeverity, Audience: incident.AudienceEveryone}
	text := widget.NewMultiLineEntry()
	text.Wrapping = fyne.TextWrapWord
	text.SetMinRowsVisible(3)
	text.SetPlaceHolder(T("notice.text"))

	var sevNames []string
	for n := 1; n <= 4; n++ {
		sevNames = append(sevNames, severityIcons[n]+" "+SeverityLabel(n))
	}
	sev := widget.NewRadioGroup(sevNames, func(s string) {
		for i, n := range sevNames {
			if n == s {
				d.Severity = i + 1
			}
		}
	})
	sev.Horizontal = !ui.opts.Phone
	sev.Required = true
	sev.SetSelected(sevNames[d.Severity-1])

	to := widget.NewEntry()
	var audNames []string
	for _, a := range NoticeAudiences {
		audNames = append(audNames, audienceChoice(a))
	}
	aud := widget.NewRadioGroup(audNames, nil)
	aud.Horizontal = !ui.opts.Phone
	aud.Required = true
	aud.OnChanged = func(s string) {
		for i, n := range audNames {
			if n == s {
				d.Audience = NoticeAudiences[i]
			}
		}
		switch d.Audience {
		case incident.AudienceStation:
			to.SetPlaceHolder(T("notice.station_code"))
			to.Enable()
		case incident.AudienceArea:
			to.SetPlaceHolder(T("notice.area_name"))
			to.Enable()
		default:
			to.SetPlaceHolder(T("notice.to_everyone"))
			to.SetText("")
			to.Disable()
		}
	}
	aud.SetSelected(audNames[0])

	var expNames []string
	for _, e := range NoticeExpiries {
		if e == 0 {
			expNames = append(expNames, T("notice.expires_never"))
			continue
		}
		expNames = append(expNames, T("notice.expires_after", map[string]any{"For": shortDuration(e)}))
	}
	exp := widget.NewSelect(expNames, nil)
	exp.SetSelectedIndex(0)

	send := widget.NewButtonWithIcon(T("notice.send"), theme.MailSendIcon(), func() {
		d.Text, d.To = text.Text, to.Text
		d.Expires = 0
		if i := exp.SelectedIndex(); i > 0 {
			d.Expires = NoticeExpiries[i]
		}
		req, err := d.Request(ui.now())
		if err != nil {
			ui.showError(err)
			return
		}
		if _, err := ui.be.Notice(req); err != nil {
			ui.showError(err)
			return
		}
		ui.pop()
		ui.toast(T("notice.sent"))
	})
	send.Importance = widget.HighImportance
	ui.push(T("notice.form_title"), columnW(720,
		note(T("notice.form_note")),
		widget.NewLabelWithStyle(T("field.text"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), text,
		widget.NewLabelWithStyle(T("field.severity"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), sev,
		widget.NewLabelWithStyle(T("notice.audience"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), aud, to,
		widget.NewLabelWithStyle(T("field.expires"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), exp,
		note(T("notice.expires_note")),
		tall(send, 52),
	), nil)
}
