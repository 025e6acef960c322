package app

import (
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
	"github.com/skip2/go-qrcode"

	"github.com/vigil-mesh/vigil/incident"
)

// InviteExpiries are the lifetimes the invite form offers (0: never).
var InviteExpiries = []time.Duration{0, 24 * time.Hour, 72 * time.Hour, 7 * 24 * time.Hour}

var roleIcons = map[string]string{"coordinator": "⭐", "observer": "👁️", "carrier": "📦"}

// newMembersScreen is the coordinator's members and invites screen.
func newMembersScreen(ui *UI) fyne.CanvasObject {
	list := container.NewVBox()
	refresh := func() {
		members, err := ui.be.Members()
		if err != nil {
			return
		}
		list.RemoveAll()
		if singleCoordinator(ui, members) {
			list.Add(card(wrapLabel("⚠ " + T("members.single_coordinator"))))
		}
		list.Add(heading(T("members.title") + " (" + TN("count.members", len(members)) + ")"))
		for _, m := range members {
			list.Add(memberRow(ui, m))
		}
		list.Refresh()
	}
	ui.refresh = append(ui.refresh, refresh)
	return column(card(invitePanel(ui)), list)
}

// singleCoordinator: this device is the only coordinator in good standing
// of a real mission. Sealed reports are readable by coordinators only, so
// losing it would lose them.
func singleCoordinator(ui *UI, members []MemberItem) bool {
	if id, err := ui.be.Identity(); err != nil || id.Practice || id.Role != "coordinator" {
		return false
	}
	coords := map[string]bool{}
	for _, m := range members {
		if m.Role == "coordinator" && m.Standing == nil {
			coords[m.Author.String()] = true
		}
	}
	return len(coords) == 1
}

func memberRow(ui *UI, m MemberItem) fyne.CanvasObject {
	name := memberName(m.Member)
	if m.Self {
		name += " (" + T("report.you") + ")"
	}
	meta := RoleLabel(m.Role) + " · " + m.Author.Short() + " · " + ui.timeText(m.Created)
	var flags []fyne.CanvasObject
	if m.Founder {
		flags = append(flags, badge(T("members.founder"), colorPrimary))
	}
	if m.DuplicateToken {
		flags = append(flags, badge("⚠ "+T("flag.duplicate_token"), colorAlert))
	}
	if m.InviteRevoked {
		flags = append(flags, badge("⚠ "+T("flag.invite_revoked"), colorAlert))
	}
	if m.InviteClosed {
		flags = append(flags, badge(T("flag.invite_closed"), colorMuted))
	}
	if m.Revoked {
		flags = append(flags, badge(T("members.revoked"), colorMuted))
	}
	var buttons []fyne.CanvasObject
	if canConfirm(m) {
		btn := widget.NewButtonWithIcon(T("members.confirm"), theme.ConfirmIcon(), func() { confirmDialog(ui, m) })
		btn.Importance = widget.WarningImportance
		buttons = append(buttons, btn)
	}
	if !m.Founder && !m.Revoked && !m.Self {
		btn := widget.NewButtonWithIcon(T("members.revoke"), theme.CancelIcon(), func() { revokeDialog(ui, m) })
		btn.Importance = widget.DangerImportance
		buttons = append(buttons, btn)
	}
	var action fyne.CanvasObject
	if len(buttons) > 0 {
		action = container.NewVBox(buttons...)
	}
	text := wrapLabel(roleIcons[m.Role] + " " + name)
	text.TextStyle.Bold = true
	row := container.NewBorder(nil, nil, nil, action, container.NewVBox(text, note(meta)))
	if len(flags) == 0 {
		return card(row)
	}
	// The flags (a badge does not wrap) take the card's whole width, below
	// the buttons: beside Confirm and Revoke a long one ("Même invitation
	// utilisée par deux appareils") would widen a phone's screen.
	return card(container.NewVBox(row, container.NewHBox(flags...)))
}

func revokeDialog(ui *UI, m MemberItem) {
	reason := widget.NewEntry()
	reason.SetPlaceHolder(T("members.reason"))
	// Two devices may carry one label (an invite redeemed twice): the key
	// and the joining time tell which one this is.
	who := badge(roleIcons[m.Role]+" "+memberName(m.Member), colorMuted)
	whoMeta := note(T("members.revoke_who", map[string]any{"Key": m.Author.Short(), "Time": ui.timeText(m.Created)}))
	body := container.NewVBox(container.NewHBox(who), whoMeta,
		wrapLabel(T("members.revoke_explain", map[string]any{"Name": memberName(m.Member)})), reason)
	d := dialog.NewCustomConfirm(T("members.revoke_title"), T("members.revoke"), T("action.cancel"), body, func(ok bool) {
		if !ok {
			return
		}
		if err := ui.be.Revoke(m.Author, strings.TrimSpace(reason.Text)); err != nil {
			ui.showError(err)
			return
		}
		ui.refreshAll()
	}, ui.win)
	d.Resize(fyne.NewSize(420, 0).Max(d.MinSize()))
	d.Show()
}

// canConfirm: m shares its invite with another device and no coordinator
// has confirmed one, so a coordinator may confirm m (also after revoking
// the other device; not when the invite itself was cancelled).
func canConfirm(m MemberItem) bool {
	return m.DuplicateToken && !m.Founder && !m.Revoked && !m.InviteCancelled && !m.Self
}

// confirmDialog asks before confirming m's redemption of a duplicated
// invite: every other device on it is refused afterwards.
func confirmDialog(ui *UI, m MemberItem) {
	body := wrapLabel(T("members.confirm_explain", map[string]any{"Name": memberName(m.Member)}))
	d := dialog.NewCustomConfirm(T("members.confirm_title"), T("members.confirm"), T("action.cancel"), body, func(ok bool) {
		if !ok {
			return
		}
		if err := ui.be.Confirm(m.Author); err != nil {
			ui.showError(err)
			return
		}
		ui.refreshAll()
	}, ui.win)
	d.Resize(fyne.NewSize(420, 0).Max(d.MinSize()))
	d.Show()
}

// invitePanel creates invites: observers and carriers get bearer codes;
// coordinator invites are bound to the new coordinator's device key.
func invitePanel(ui *UI) fyne.CanvasObject {
	roles := []string{incident.RoleObserver, incident.RoleCarrier, incident.RoleCoordinator}
	var roleNames []string
	for _, r := range roles {
		roleNames = append(roleNames, roleIcons[r]+" "+RoleLabel(r))
	}
	role := widget.NewSelect(roleNames, nil)
	label := widget.NewEntry()
	label.SetPlaceHolder(T("invite.label"))
	var expNames []string
	for _, e := range InviteExpiries {
		if e == 0 {
			expNames = append(expNames, T("invite.never"))
		} else {
			expNames = append(expNames, T("invite.expires_in", map[string]any{"For": shortDuration(e)}))
		}
	}
	expires := widget.NewSelect(expNames, nil)
	expires.SetSelectedIndex(2)
	forKey := widget.NewEntry()
	forKey.SetPlaceHolder(T("invite.for"))
	forBox := container.NewVBox(note(T("invite.for_note")), forKey)
	forBox.Hide()
	role.OnChanged = func(string) {
		if roles[role.SelectedIndex()] == incident.RoleCoordinator {
			forBox.Show()
		} else {
			forBox.Hide()
		}
	}
	role.SetSelectedIndex(0)
	create := widget.NewButtonWithIcon(T("invite.create"), theme.ContentAddIcon(), func() {
		req := InviteRequest{Role: roles[role.SelectedIndex()], Label: strings.TrimSpace(label.Text)}
		if i := expires.SelectedIndex(); i > 0 {
			req.Expires = InviteExpiries[i]
		}
		if req.Role == incident.RoleCoordinator {
			a, err := incident.ParseAuthor(strings.TrimSpace(forKey.Text))
			if err != nil {
				ui.showError(errorf(T("invite.bad_key")))
				return
			}
			req.For = &a
		}
		code, err := ui.be.Invite(req)
		if err != nil {
			ui.showError(err)
			return
		}
		showInvite(ui, req, code)
		label.SetText("")
	})
	create.Importance = widget.HighImportance
	form := container.New(&formColumns{}, widget.NewLabel(T("invite.role")), role,
		widget.NewLabel(T("invite.label_title")), label, widget.NewLabel(T("invite.expires")), expires)
	return container.NewVBox(heading(T("invite.title")), note(T("invite.note")), form, forBox, create)
}

// formColumns is a two-column form layout (label, field) that fills the
// width.
type formColumns struct{}

func (f *formColumns) Layout(objs []fyne.CanvasObject, s fyne.Size) {
	lw := float32(0)
	for i := 0; i < len(objs); i += 2 {
		if w := objs[i].MinSize().Width; w > lw {
			lw = w
		}
	}
	y := float32(0)
	pad := theme.Padding()
	for i := 0; i+1 < len(objs); i += 2 {
		h := fyne.Max(objs[i].MinSize().Height, objs[i+1].MinSize().Height)
		objs[i].Move(fyne.NewPos(0, y))
		objs[i].Resize(fyne.NewSize(lw, h))
		objs[i+1].Move(fyne.NewPos(lw+pad, y))
		objs[i+1].Resize(fyne.NewSize(s.Width-lw-pad, h))
		y += h + pad
	}
}

func (f *formColumns) MinSize(objs []fyne.CanvasObject) fyne.Size {
	lw, fw, h := float32(0), float32(0), float32(0)
	for i := 0; i+1 < len(objs); i += 2 {
		lw = fyne.Max(lw, objs[i].MinSize().Width)
		fw = fyne.Max(fw, objs[i+1].MinSize().Width)
		h += fyne.Max(objs[i].MinSize().Height, objs[i+1].MinSize().Height) + theme.Padding()
	}
	return fyne.NewSize(lw+fw+theme.Padding(), h)
}

// showInvite shows a new invite's code and QR, with ways to hand it over.
func showInvite(ui *UI, req InviteRequest, code string) {
	img, err := qrImage(code, 300)
	var qr fyne.CanvasObject = note(T("invite.no_qr"))
	if err == nil {
		qr = img
	}
	text := widget.NewMultiLineEntry()
	text.SetText(code)
	text.Wrapping = fyne.TextWrapBreak
	text.SetMinRowsVisible(4)
	copyBtn := widget.NewButtonWithIcon(T("invite.copy"), theme.ContentCopyIcon(), func() {
		ui.app.Clipboard().SetContent(code)
	})
	saveBtn := widget.NewButtonWithIcon(T("invite.save_qr"), theme.DocumentSaveIcon(), func() {
		d := dialog.NewFileSave(func(wc fyne.URIWriteCloser, err error) {
			if err != nil {
				ui.showError(err)
				return
			}
			if wc == nil {
				return
			}
			defer wc.Close()
			png, err := qrcode.Encode(code, qrcode.Medium, 768)
			if err == nil {
				_, err = wc.Write(png)
			}
			if err != nil {
				ui.showError(err)
			}
		}, ui.win)
		d.SetFileName("vigil-invite.png")
		d.SetFilter(storage.NewExtensionFileFilter([]string{".png"}))
		d.Show()
	})
	who := RoleLabel(req.Role)
	if req.Label != "" {
		who += " · " + req.Label
	}
	body := container.NewVBox(
		wrapLabel(T("invite.shown", map[string]any{"Who": who})),
		container.NewCenter(qr),
		text,
		container.NewGridWithColumns(2, copyBtn, saveBtn),
		note(T("invite.warning")),
	)
	d := dialog.NewCustom(T("invite.title_done"), T("action.close"), container.NewVScroll(body), ui.win)
	size := fyne.NewSize(520, 640)
	if ui.opts.Phone {
		size = ui.win.Canvas().Size()
	}
	d.Resize(size)
	d.Show()
}
