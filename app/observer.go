package app

import (
	"image/color"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/vigil-mesh/vigil/incident"
)

// MaxMyReports is how many of their reports the observer's home lists.
const MaxMyReports = 50

// observerHome is the observer's main screen: the coordinators' notices,
// station, a big "New report" action, check-ins, the checklists, the
// result sheet (tally), the alert button and the state of their alerts,
// and their reports with delivery status.
type observerHome struct {
	ui       *UI
	content  fyne.CanvasObject
	who      *noteLabel
	station  *widget.Label
	last     *noteLabel
	count    *widget.Label
	reports  *fyne.Container
	checkins map[string]*tile
	// notices: what coordinators tell the field, above everything else;
	// alerts: this device's alerts and how each stands.
	notices *fyne.Container
	alerts  *fyne.Container
	// smsCheckin sends the last check-in by SMS (a mission that takes
	// SMS, while no coordinator holds it); checkinID names it.
	smsCheckin *widget.Button
	checkinID  incident.ID
}

// minHeight gives its content at least h of height.
type minHeight struct{ h float32 }

func (l *minHeight) Layout(objs []fyne.CanvasObject, s fyne.Size) {
	for _, o := range objs {
		o.Resize(s)
		o.Move(fyne.NewPos(0, 0))
	}
}

func (l *minHeight) MinSize(objs []fyne.CanvasObject) fyne.Size {
	m := fyne.NewSize(0, l.h)
	for _, o := range objs {
		m = m.Max(o.MinSize())
	}
	return m
}

func tall(o fyne.CanvasObject, h float32) fyne.CanvasObject { return container.New(&minHeight{h}, o) }

// station returns the device's chosen station code.
func (ui *UI) station() string {
	if ui.be == nil {
		return ""
	}
	b, _ := ui.be.Setting("station")
	return string(b)
}

func newObserverHome(ui *UI) *observerHome {
	h := &observerHome{ui: ui, checkins: map[string]*tile{}}
	h.who = note("")
	h.station = wrapLabel("") // a long station name, an "assigned" in another language
	h.station.TextStyle.Bold = true
	change := widget.NewButtonWithIcon(T("home.change_station"), theme.SearchIcon(), func() { ui.showStationPicker(false) })
	change.Importance = widget.LowImportance
	stationRow := container.NewBorder(nil, nil, nil, change, h.station)

	newReport := widget.NewButtonWithIcon(T("home.new_report"), theme.DocumentCreateIcon(), ui.openReportForm)
	newReport.Importance = widget.HighImportance

	cols := 4
	if ui.opts.Phone {
		cols = 2
	}
	grid := container.NewGridWithColumns(cols)
	for _, s := range incident.CheckinStatuses {
		s := s
		t := newTile(checkinIcons[s], CheckinLabel(s), colorOK, true, func() { h.checkin(s) })
		h.checkins[s] = t
		grid.Add(t)
	}
	h.last = note("")
	h.smsCheckin = widget.NewButtonWithIcon(T("sms.send"), theme.MailSendIcon(), func() { ui.sendBySMS(h.checkinID, h.refresh) })
	h.smsCheckin.Importance = widget.LowImportance
	h.smsCheckin.Hide()
	// The mission's checklists, one per phase; at the count, the result
	// sheet: both for the observer's station.
	checklists := widget.NewButtonWithIcon(T("checklist.open"), theme.ListIcon(), ui.showChecklists)
	checklists.Importance = widget.HighImportance
	tally := widget.NewButtonWithIcon(T("tally.open"), theme.DocumentIcon(), ui.openTallyForm)

	alert := widget.NewButtonWithIcon(T("home.alert"), theme.WarningIcon(), h.alert)
	alert.Importance = widget.DangerImportance

	h.count = heading(T("home.my_reports"))
	h.reports = container.NewVBox()
	h.notices = container.NewVBox()
	h.alerts = container.NewVBox()

	h.content = column(
		h.who,
		h.notices,
		stationRow,
		tall(newReport, 64),
		heading(T("home.checkin")),
		grid,
		container.NewBorder(nil, nil, nil, h.smsCheckin, h.last),
		tall(checklists, 52),
		tally,
		tall(alert, 52),
		h.alerts,
		widget.NewSeparator(),
		h.count,
		h.reports,
	)
	ui.refresh = append(ui.refresh, h.refresh)
	return h
}

func (h *observerHome) refresh() {
	ui := h.ui
	who := ui.id.MissionName + " · " + RoleLabel(ui.id.Role)
	if ui.id.Label != "" {
		who += " · " + ui.id.Label
	}
	h.who.SetText(who)
	h.station.SetText(ui.stationLine()) // coverage.go: the assignment in force, adopted once
	h.last.SetText(T("home.no_checkin"))
	last := ""
	h.smsCheckin.Hide()
	if acts, err := ui.be.MyActivity(); err == nil {
		for _, a := range acts {
			if a.Kind == incident.KindCheckin {
				last = a.Status
				h.last.SetText(T("home.last_checkin", map[string]any{"Status": CheckinLabel(a.Status), "Time": ui.timeText(a.Created)}))
				h.showSMSCheckin(a.ID)
				break
			}
		}
	}
	for s, t := range h.checkins {
		t.setSelected(s == last)
	}
	h.refreshNotices()
	h.refreshAlerts()
	mine, err := ui.be.MyReports()
	if err != nil {
		return
	}
	h.count.SetText(T("home.my_reports") + " (" + TN("count.reports", len(mine)) + ")")
	h.reports.RemoveAll()
	if len(mine) == 0 {
		h.reports.Add(note(T("home.no_reports")))
	}
	for i, r := range mine {
		if i == MaxMyReports {
			h.reports.Add(note(TN("home.more_reports", len(mine)-MaxMyReports)))
			break
		}
		h.reports.Add(h.row(r))
	}
	h.reports.Refresh()
}

// showSMSCheckin offers the last check-in by SMS in a mission that
// takes SMS, and says "sent by SMS" once it was handed to the messaging
// app, until a coordinator holds it.
func (h *observerHome) showSMSCheckin(id incident.ID) {
	ui := h.ui
	if ui.id.SMSNumber == "" {
		return
	}
	if d, err := ui.be.Delivery(id); err != nil || d.Coordinator {
		return
	}
	h.checkinID = id
	h.smsCheckin.Show()
	if t, err := ui.be.SMSText(id); err == nil && t.Sent != nil {
		h.last.SetText(h.last.Text() + " · " + deliveryIcons["sms"] + " " + T("delivery.sms"))
	}
}

// refreshNotices shows the first notices in force and the way to the
// rest.
func (h *observerHome) refreshNotices() {
	ui := h.ui
	h.notices.RemoveAll()
	list, err := ui.fieldNotices(false)
	if err != nil {
		h.notices.Refresh()
		return
	}
	if len(list) > 0 {
		h.notices.Add(heading("📢 " + T("notice.home_title")))
	}
	shown := MaxHomeNotices
	if ui.opts.Phone {
		shown = MaxPhoneNotices
	}
	for i, n := range list {
		if i == shown {
			break
		}
		h.notices.Add(ui.noticeCard(n))
	}
	h.notices.Add(container.NewHBox(ui.noticesButton(len(list))))
	h.notices.Refresh()
}

// refreshAlerts lists this device's alerts, unanswered first, each with
// its state: pressing the alert button leaves a trace the observer can
// follow until a coordinator answers.
func (h *observerHome) refreshAlerts() {
	ui := h.ui
	h.alerts.RemoveAll()
	list, err := ui.be.Alerts()
	if err == nil && len(list) > 0 {
		h.alerts.Add(heading("🆘 " + T("home.my_alerts")))
		for _, a := range list {
			h.alerts.Add(ui.alertTile(a))
		}
	}
	h.alerts.Refresh()
}

// deliveryText is the delivery status in words.
func deliveryText(r MyReport) string {
	switch ReportDeliveryKey(r) {
	case "coordinator":
		return T("delivery.coordinator")
	case "sms":
		return T("delivery.sms")
	case "sent":
		return TN("delivery.sent", r.Delivery.Peers)
	}
	return T("delivery.local")
}

func deliveryColor(r MyReport) color.Color {
	switch ReportDeliveryKey(r) {
	case "coordinator":
		return colorOK
	case "sent", "sms":
		return colorPrimary
	}
	return colorMuted
}

// row is one of my reports: pictogram, title, when and where, delivery.
func (h *observerHome) row(r MyReport) fyne.CanvasObject {
	v := r.View
	title := v.Report.Title
	if !Readable(&v) {
		title = "🔒 " + T("report.sealed")
	} else if v.Sealed {
		title = "🔒 " + title
	}
	meta := h.ui.timeText(v.Created)
	if v.Report.Station != "" {
		meta += " · " + v.Report.Station
	}
	if v.Status != incident.StatusUnreviewed {
		meta += " · " + StatusLabel(v.Status)
	}
	if v.Retracted {
		meta += " · " + T("report.retracted")
	}
	del := deliveryIcons[ReportDeliveryKey(r)] + " " + deliveryText(r)
	t := newTile(CategoryIcon(v.Report.Category), title, familyColor(incident.FamilyOf(v.Report.Category)), false,
		func() { h.ui.showReport(v.ID, &r) })
	t.sub = meta + "\n" + del
	return t
}

// checkin stores a check-in at the device's station.
func (h *observerHome) checkin(status string) {
	ui := h.ui
	if err := ui.be.Checkin(status, ui.station()); err != nil {
		ui.showError(err)
		return
	}
	h.refresh()
	ui.toast(T("home.checkin_saved", map[string]any{"Status": CheckinLabel(status)}))
}

// alert asks for confirmation (and an optional note), then raises an
// alert for the coordinators and, in a mission that takes SMS, offers
// it by SMS at once.
func (h *observerHome) alert() {
	ui := h.ui
	noteEntry := widget.NewEntry()
	noteEntry.SetPlaceHolder(T("alert.note"))
	msg := wrapLabel(T("alert.explain"))
	icon := canvas.NewText("🆘", color.White)
	icon.TextSize = 48
	icon.Alignment = fyne.TextAlignCenter
	body := container.NewVBox(icon, msg, noteEntry)
	d := dialog.NewCustomConfirm(T("alert.title"), T("alert.send"), T("action.cancel"), body, func(ok bool) {
		if !ok {
			return
		}
		id, err := ui.be.Alert(strings.TrimSpace(noteEntry.Text), ui.station())
		if err != nil {
			ui.showError(err)
			return
		}
		ui.toast(T("alert.sent"))
		ui.refreshAll()
		ui.offerAlertBySMS(id, ui.refreshAll)
	}, ui.win)
	d.Resize(fyne.NewSize(360, 0).Max(d.MinSize()))
	d.Show()
}

// spacer is an expanding gap.
func spacer() fyne.CanvasObject { return layout.NewSpacer() }
