package app

import (
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// ShareableAddrs drops addresses no other device can dial (loopback).
func ShareableAddrs(addrs []string) []string {
	var out []string
	for _, a := range addrs {
		if strings.HasPrefix(a, "/ip4/127.") || strings.HasPrefix(a, "/ip6/::1/") {
			continue
		}
		out = append(out, a)
	}
	return out
}

// transportLabel names how a peer is connected.
func transportLabel(addrs []string) string { return T("transport." + Transport(addrs)) }

// newPeersScreen shows who is connected, over what, when the last sync
// happened, a sync-now action, this device's connection QR and clock
// warnings.
func newPeersScreen(ui *UI) fyne.CanvasObject {
	body := container.NewVBox()
	// Records by hand come right after the peers: with nobody in reach
	// (a shutdown), they are the way left.
	bundles := ui.bundleBox()
	var lastAddrs string
	var qrBox = container.NewVBox()
	var connectBox *fyne.Container
	refresh := func() {
		body.RemoveAll()
		body.Add(heading(T("peers.title")))
		n := ui.be.Network()
		if n == nil {
			msg := T("peers.off")
			if ui.id.HasMission {
				msg = T("peers.off_started")
			}
			body.Add(card(wrapLabel("📴 " + msg)))
			if c := ui.newerCard(); c != nil {
				body.Add(c)
			}
			body.Add(bundles)
			connectBox.Hide()
			body.Refresh()
			return
		}
		connectBox.Show()
		peers := n.Peers()
		status := "📶 " + TN("peers.connected", len(peers))
		if t := n.LastSync(); !t.IsZero() {
			status += " · " + T("peers.last_sync", map[string]any{"Ago": Ago(ui.now(), t)})
		} else {
			status += " · " + T("peers.never_synced")
		}
		syncBtn := widget.NewButtonWithIcon(T("peers.sync_now"), theme.ViewRefreshIcon(), func() {
			n.SyncNow()
			ui.toast(TN("peers.syncing", len(n.Peers())))
		})
		syncBtn.Importance = widget.HighImportance
		body.Add(card(container.NewBorder(nil, nil, nil, syncBtn, wrapLabel(status))))
		for _, p := range peers {
			if p.ClockSkew > ClockWarning || p.ClockSkew < -ClockWarning {
				who := p.Label
				if who == "" {
					who = shortID(p.ID)
				}
				body.Add(card(wrapLabel("⏱ " + T("peers.clock_warning", map[string]any{"Who": who, "Min": int(absDuration(p.ClockSkew) / time.Minute)}))))
			}
		}
		if len(peers) == 0 {
			body.Add(note(T("peers.none")))
		}
		for _, p := range peers {
			name := p.Label
			if name == "" {
				name = shortID(p.ID)
			}
			line := roleIcons[p.Role] + " " + name
			meta := RoleLabel(p.Role) + " · " + transportLabel(p.Addrs)
			if !p.LastSync.IsZero() {
				meta += " · " + T("peers.last_sync", map[string]any{"Ago": Ago(ui.now(), p.LastSync)})
			}
			l := wrapLabel(line)
			l.TextStyle.Bold = true
			body.Add(card(container.NewVBox(l, note(meta))))
		}
		if c := ui.newerCard(); c != nil {
			body.Add(c)
		}

		body.Add(bundles)

		// This device: its addresses as a QR for another device to read.
		addrs := ShareableAddrs(n.Addresses())
		joined := strings.Join(addrs, "\n")
		if joined != lastAddrs {
			lastAddrs = joined
			qrBox.RemoveAll()
			if len(addrs) == 0 {
				qrBox.Add(note(T("peers.no_addresses")))
			} else if img, err := qrImage(joined, 220); err == nil {
				qrBox.Add(container.NewCenter(img))
				text := widget.NewMultiLineEntry()
				text.SetText(joined)
				text.Wrapping = fyne.TextWrapBreak
				text.SetMinRowsVisible(2)
				qrBox.Add(text)
			}
		}
		body.Add(widget.NewSeparator())
		body.Add(heading(T("peers.this_device")))
		body.Add(note(T("peers.qr_note")))
		body.Add(qrBox)

		body.Refresh()
	}
	addr := widget.NewEntry()
	addr.SetPlaceHolder("/ip4/…/tcp/…/p2p/12D3KooW…")
	connect := widget.NewButtonWithIcon(T("peers.connect"), theme.LoginIcon(), func() {
		a := strings.TrimSpace(addr.Text)
		if a == "" {
			return
		}
		n := ui.be.Network()
		if n == nil {
			return
		}
		ui.background(func() error { return n.Connect(a) }, func(err error) {
			if err != nil {
				ui.showError(err)
				return
			}
			addr.SetText("")
			ui.refreshAll()
		})
	})
	openQR := widget.NewButtonWithIcon(T("join.open_qr"), theme.FileImageIcon(), func() {
		ui.openImage(func(data []byte) {
			text, err := DecodeQR(data)
			if err != nil {
				ui.showError(err)
				return
			}
			addr.SetText(strings.Fields(text + " ")[0])
		})
	})
	// Side by side on a laptop; stacked on a phone, where French labels
	// do not fit one row.
	var buttons fyne.CanvasObject = container.NewGridWithColumns(2, openQR, connect)
	if ui.opts.Phone {
		buttons = container.NewVBox(openQR, connect)
	}
	connectBox = container.NewVBox(heading(T("peers.connect_title")), addr, buttons)
	ui.refresh = append(ui.refresh, refresh)
	return column(body, connectBox)
}

// newerCard says how many records of a newer Vigil this device holds and
// cannot show (they travel on like the others), or is nil when it holds
// none.
func (ui *UI) newerCard() fyne.CanvasObject {
	byKind, err := ui.be.NewerRecords()
	if err != nil || len(byKind) == 0 {
		return nil
	}
	text, total := NewerKinds(byKind)
	return card(container.NewVBox(wrapLabel("🆕 "+TN("peers.newer", total)), note(T("peers.newer_kinds", map[string]any{"Kinds": text}))))
}

func absDuration(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}
