package app

import (
	"errors"
	"net/url"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/act"
	"github.com/vigil-mesh/vigil/incident/sms"
)

// "Send by SMS" (docs/sms.md): when a shutdown cuts mobile data, an
// observer texts one signed record to the mission's SMS number through
// the phone's own messaging app, and pastes back the coordinator's
// receipt. What goes by SMS, its text and the receipt are act's
// (Texter); the app says what traces a text leaves, hands the messaging
// app an sms: URI, and shows how far the record went.

// SMSURI is the sms: URI (RFC 5724) that opens the messaging app with
// number and body filled in. The body is percent-encoded throughout:
// a "+" for a space, as query escaping writes it, is read as a plus by
// some messaging apps.
func SMSURI(number, body string) *url.URL {
	return &url.URL{Scheme: "sms", Opaque: number,
		RawQuery: "body=" + strings.ReplaceAll(url.QueryEscape(body), "+", "%20")}
}

// smsRefusal is why record cannot go by SMS, in the user's language for
// the three refusals docs/sms.md names (act's error carries which as its
// cause); any other refusal is shown as act wrote it.
func smsRefusal(err error) string {
	switch {
	case errors.Is(err, sms.ErrTooLong):
		return T("sms.refused_large")
	case errors.Is(err, act.ErrSMSInClear):
		return T("sms.refused_clear")
	case errors.Is(err, sms.ErrNotForSMS):
		return T("sms.refused_mesh")
	}
	return T("sms.refused", map[string]any{"Reason": err.Error()})
}

// smsAction is "Send by SMS" for one of this device's records, with how
// far it went by SMS: nil when the mission takes no SMS; a note saying
// why when SMS cannot carry the record; with held, "held by a
// coordinator" once a receipt lists it (a report's detail says so in
// its delivery line, and passes held false). changed is called after
// the record was handed to the messaging app or a receipt came back.
func (ui *UI) smsAction(id incident.ID, held bool, changed func()) fyne.CanvasObject {
	if ui.id.SMSNumber == "" {
		return nil
	}
	if d, err := ui.be.Delivery(id); err == nil && d.Coordinator {
		if held {
			return note("✅ " + T("delivery.coordinator"))
		}
		return nil
	}
	text, err := ui.be.SMSText(id)
	if err != nil {
		return card(wrapLabel("📵 " + smsRefusal(err)))
	}
	send := widget.NewButtonWithIcon(T("sms.send"), theme.MailSendIcon(), func() { ui.showSMSSheet(text, changed) })
	box := container.NewVBox(send)
	if text.Sent != nil {
		box.Add(note(deliveryIcons["sms"] + " " + T("sms.sent_at", map[string]any{"Time": ui.timeText(text.Sent.UnixMilli())})))
	}
	return box
}

// sendBySMS opens the SMS sheet for record id, or says why SMS cannot
// carry it (a button that has no room for the reason beside it: the
// last check-in on the observer's home).
func (ui *UI) sendBySMS(id incident.ID, changed func()) {
	text, err := ui.be.SMSText(id)
	if err != nil {
		ui.showError(errorf("📵 " + smsRefusal(err)))
		return
	}
	ui.showSMSSheet(text, changed)
}

// offerAlertBySMS follows an alert just raised in a mission that takes
// SMS with a prominent "Also send by SMS", which opens the same sheet
// as the alert's detail: in an emergency with mobile data cut, the mesh
// may reach nobody, and a text often still gets through, so the sheet
// is one tap away at once rather than behind the home's alert list.
// Nothing shows when the mission takes no SMS, or when SMS cannot carry
// this alert: the observer is not stopped in an emergency to read why
// (the alert's detail says it).
func (ui *UI) offerAlertBySMS(id incident.ID, changed func()) {
	if ui.id.SMSNumber == "" {
		return
	}
	text, err := ui.be.SMSText(id)
	if err != nil {
		return
	}
	var d *dialog.CustomDialog
	send := widget.NewButtonWithIcon(T("sms.also_send"), theme.MailSendIcon(), func() {
		d.Hide()
		ui.showSMSSheet(text, changed)
	})
	send.Importance = widget.DangerImportance
	later := widget.NewButton(T("action.close"), func() { d.Hide() })
	head := wrapLabel("🆘 " + T("sms.alert_offer"))
	head.TextStyle.Bold = true
	body := container.NewVBox(head, wrapLabel(T("sms.alert_offer_why")), tall(send, 52))
	d = dialog.NewCustomWithoutButtons(T("sms.alert_offer_title"), body, ui.win)
	d.SetButtons([]fyne.CanvasObject{later})
	fitDialog(d, 360)
	d.Show()
}

// showSMSSheet says what a text leaves behind and where, then opens the
// messaging app with the record's text, and takes the coordinator's
// receipt pasted back.
func (ui *UI) showSMSSheet(t act.SMSText, changed func()) {
	if changed == nil {
		changed = func() {}
	}
	traces := container.NewVBox(wrapLabel(T("sms.traces")))
	for _, k := range []string{"sms.trace_sent_folder", "sms.trace_operator", "sms.trace_sealed"} {
		traces.Add(wrapLabel("• " + T(k)))
	}
	size := wrapLabel(TN("sms.segments", t.Segments, map[string]any{"Number": t.Number}))
	size.TextStyle.Bold = true

	status := note("")
	if t.Sent != nil {
		status.SetText(deliveryIcons["sms"] + " " + T("sms.sent_at", map[string]any{"Time": ui.timeText(t.Sent.UnixMilli())}))
	}
	open := widget.NewButtonWithIcon(T("sms.open"), theme.MailSendIcon(), func() {
		if err := ui.openURL(SMSURI(t.Number, t.Text)); err != nil {
			ui.showError(err)
			return
		}
		if err := ui.be.MarkSMSSent(t.ID); err != nil {
			ui.showError(err)
			return
		}
		status.SetText(deliveryIcons["sms"] + " " + T("delivery.sms"))
		changed()
	})
	open.Importance = widget.HighImportance

	reply := widget.NewMultiLineEntry()
	reply.Wrapping = fyne.TextWrapBreak // a receipt is one long word
	reply.SetPlaceHolder(T("sms.reply_placeholder"))
	reply.SetMinRowsVisible(2)
	paste := widget.NewButtonWithIcon(T("sms.reply_button"), theme.ContentPasteIcon(), func() {
		if strings.TrimSpace(reply.Text) == "" {
			reply.SetText(ui.app.Clipboard().Content()) // copied in the messaging app
		}
		text := strings.TrimSpace(reply.Text)
		if text == "" {
			status.SetText("⚠ " + T("sms.reply_empty"))
			return
		}
		got, err := ui.be.ReceiveSMS(text)
		if err != nil {
			ui.showError(err)
			return
		}
		d, _ := ui.be.Delivery(t.ID)
		switch {
		case d.Coordinator:
			status.SetText("✅ " + T("delivery.coordinator"))
			reply.SetText("")
			changed()
		case got.Outcome == act.SMSRefused:
			status.SetText("⚠ " + T("sms.reply_refused", map[string]any{"Reason": got.Reason}))
		default:
			status.SetText("⚠ " + T("sms.reply_other"))
		}
	})

	body := container.NewVBox(traces, widget.NewSeparator(), size, open,
		widget.NewSeparator(), wrapLabel(T("sms.reply_explain")), reply, paste, status)
	d := dialog.NewCustom(T("sms.title"), T("action.close"), body, ui.win)
	d.Resize(fyne.NewSize(420, 0).Max(d.MinSize()))
	d.Show()
}
