package app

import (
	"bytes"
	"image/color"
	"slices"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/vigil-mesh/vigil/app/internal/scene"
	"github.com/vigil-mesh/vigil/incident/bundle"
)

// lightTheme is a theme drawn in its light variant whatever the settings
// say (desktop screenshots are light, like a laptop's default).
type lightTheme struct{ fyne.Theme }

func (l lightTheme) Color(n fyne.ThemeColorName, _ fyne.ThemeVariant) color.Color {
	return l.Theme.Color(n, theme.VariantLight)
}

// TestScreenshotsTools writes the screenshots of amend and retract,
// bundles and the passphrase screens, phone-sized (dark, drawn at twice the
// size) and laptop-sized (light, 1280 × 800), from the real widgets over the
// practice mission:
//
//	VIGIL_SCREENSHOTS=$PWD/docs/screenshots go test -run ScreenshotsTools ./app
func TestScreenshotsTools(t *testing.T) {
	forEachShotLayout(t, func(p *shotPass) {
		phone, homes, open, shot := p.phone, p.homes, p.open, p.shot

		// Observer: amend, then retract, one of their reports.
		ob := open(homes.Observer)
		mine, _ := ob.be.MyReports()
		var r MyReport
		for _, m := range mine {
			if Readable(&m.View) && !m.View.Retracted && m.View.Report.Category != "" {
				r = m
				break
			}
		}
		ob.showReport(r.View.ID, &r)
		scrollTo(ob, func(o fyne.CanvasObject) bool { return textOf(o) == T("amend.actions") })
		shot(ob, "report-mine-actions")
		tap(t, ob, T("amend.button"))
		tap(t, ob, SeverityLabel(4))
		ob.form.desc.SetText(ob.form.desc.Text + " Party agents were not allowed to photograph it before it went.")
		shot(ob, "report-amend")
		scrollTo(ob, func(o fyne.CanvasObject) bool { return textOf(o) == T("form.attachments") })
		shot(ob, "report-amend-save")
		tap(t, ob, T("amend.save"))
		dismissAll(ob)
		scrollTo(ob, func(o fyne.CanvasObject) bool { return textOf(o) == T("report.history") })
		shot(ob, "report-amended-history")
		tap(t, ob, T("retract.button"))
		test.Type(entry(t, ob, T("retract.reason")), "Wrong station: this happened at PS-0044, next door.")
		shot(ob, "report-retract")
		dismissAll(ob)
		ob.popAll()

		// Observer: bundles on the sync screen.
		ob.selectTab(T("tab.sync"))
		ob.wait()
		scrollTo(ob, func(o fyne.CanvasObject) bool { return textOf(o) == "💾 "+T("bundle.title") })
		shot(ob, "sync-bundle")
		tap(t, ob, T("bundle.export"))
		shot(ob, "bundle-export")
		rg, _ := find(ob, func(g *widget.RadioGroup) bool {
			return slices.Contains(g.Options, "🔑 "+T("bundle.protect_passphrase"))
		})
		rg.SetSelected("🔑 " + T("bundle.protect_passphrase"))
		shot(ob, "bundle-export-passphrase")
		dismissAll(ob)

		// Observer: passphrase and duress.
		ob.selectTab(T("tab.settings"))
		ob.wait()
		scrollTo(ob, func(o fyne.CanvasObject) bool { return textOf(o) == "🔑 "+T("pass.title") })
		shot(ob, "settings-passphrase")
		tap(t, ob, T("pass.change"))
		test.Type(entry(t, ob, T("pass.current")), "practice passphrase")
		shot(ob, "passphrase-change")
		dismissAll(ob)
		tap(t, ob, T("duress.set"))
		shot(ob, "passphrase-duress")
		dismissAll(ob)
		var exported bytes.Buffer
		if _, err := ob.be.ExportBundle(BundleRequest{Plain: true}, &exported); err != nil {
			t.Fatal(err)
		}
		// A record that fails its checks, to show a rejection.
		var forged []byte
		for _, m := range mine {
			if rec, err := ob.be.(*netBackend).Backend.(*StoreBackend).Store().Get(m.View.ID); err == nil && len(rec.Sealed) == 0 {
				forged = bytes.Clone(rec.Raw)
				forged[len(forged)-3] ^= 1
				break
			}
		}
		ob.Close()

		// Coordinator: import the observer's bundle.
		co := open(homes.Coordinator)
		ms, _ := co.be.(*netBackend).Backend.(*StoreBackend).Store().Mission()
		_, raws, err := bundle.Parse(exported.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		w, _ := bundle.NewWriter(&buf, ms.ID, scene.Now.UnixMilli(), len(raws)+1)
		for _, raw := range raws {
			_ = w.Add(raw)
		}
		_ = w.Add(forged)
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		co.selectTab(T("tab.sync"))
		co.importBundleData("lapwing-2026-11-25.vgb", buf.Bytes(), nil)
		shot(co, "bundle-import-summary")
		dismissAll(co)
		co.importBundleData("lapwing-2026-11-25.vgb", buf.Bytes()[:len(buf.Bytes())/2], nil)
		shot(co, "bundle-import-corrupt")
		dismissAll(co)
		co.Close()

		// The longest of the new words: French, on a phone.
		if phone {
			SetLanguage("fr")
			fr := open(homes.Observer)
			fr.selectTab(T("tab.sync"))
			fr.wait()
			tap(t, fr, T("bundle.export"))
			shot(fr, "bundle-export-fr")
			dismissAll(fr)
			fr.selectTab(T("tab.settings"))
			fr.wait()
			tap(t, fr, T("duress.set"))
			shot(fr, "passphrase-duress-fr")
			dismissAll(fr)
			fr.Close()
			SetLanguage("en")
		}
	})
}
