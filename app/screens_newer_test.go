package app

import (
	"bytes"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"

	"github.com/vigil-mesh/vigil/app/internal/scene"
	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/bundle"
	"github.com/vigil-mesh/vigil/internal/testrec"
)

// TestScreenshotsNewer writes the screenshots of records a newer Vigil
// wrote, as this version shows them: the import summary that counts them,
// the sync screen that says how many it holds and cannot show, and a
// report with fields a newer version added. Phone-sized (dark, drawn at
// twice the size) and laptop-sized (light), over the practice mission:
//
//	VIGIL_SCREENSHOTS=$PWD/docs/screenshots go test -run ScreenshotsNewer ./app
func TestScreenshotsNewer(t *testing.T) {
	forEachShotLayout(t, func(p *shotPass) {
		phone, homes, open, shot := p.phone, p.homes, p.open, p.shot

		// The observer's phone runs a newer Vigil: it signs records of
		// kinds this version does not know and a report with a new field.
		ob := open(homes.Observer)
		st := ob.be.(*netBackend).Backend.(*StoreBackend).Store()
		ms, _ := st.Mission()
		var rep *incident.Signed
		for i, r := range []struct {
			kind    incident.Kind
			payload any
		}{
			{"bulletin", map[uint64]any{1: "Counting starts at 18:30 at PS-0042"}},
			{"bulletin", map[uint64]any{1: "Keep the tally sheet photo until the count is signed"}},
			{"petition", map[uint64]any{1: "PS-0042", 2: map[uint64]any{1: uint64(412), 2: uint64(388)}}},
			{incident.KindReport, map[uint64]any{1: "polling.materials_missing", 2: uint64(3), 3: scene.Now.Add(-50 * time.Minute).UnixMilli(),
				4: "PS-0042", 9: "Tally sheets short at the count", 10: "Only two of the five tally sheets arrived; the count waits for the rest.",
				16: map[uint64]any{1: "form-7", 2: uint64(3)}}},
		} {
			rec, err := st.Signer().Sign(ms.ID, r.kind, scene.Now.Add(time.Duration(i-40)*time.Minute), r.payload)
			if err != nil {
				t.Fatal(err)
			}
			if res := st.Add(rec.Raw, "newer build"); res.Err != nil {
				t.Fatal(res.Err)
			}
			rep = rec
		}
		var exported bytes.Buffer
		if _, err := ob.be.ExportBundle(BundleRequest{Plain: true}, &exported); err != nil {
			t.Fatal(err)
		}
		_, raws, err := bundle.Parse(exported.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		ob.Close()

		// The coordinator's laptop, on this version, imports it, with one
		// record of a newer schema version in the file.
		co := open(homes.Coordinator)
		var buf bytes.Buffer
		if err := bundle.Write(&buf, ms.ID, scene.Now, append(raws, testrec.NewerVersion(t, st.Signer(), ms.ID))); err != nil {
			t.Fatal(err)
		}
		co.selectTab(T("tab.sync"))
		co.importBundleData("lapwing-2026-11-25.vgb", buf.Bytes(), nil)
		shot(co, "bundle-import-newer")
		dismissAll(co)
		co.wait()
		scrollAbove(co, "🆕 "+TN("peers.newer", 3))
		shot(co, "sync-newer")
		co.showReport(rep.ID, nil)
		shot(co, "report-detail-newer")
		co.Close()

		if phone {
			SetLanguage("fr")
			fr := open(homes.Coordinator)
			fr.selectTab(T("tab.sync"))
			fr.wait()
			scrollAbove(fr, "🆕 "+TN("peers.newer", 3))
			shot(fr, "sync-newer-fr")
			fr.Close()
			SetLanguage("en")
		}
	})
}

// scrollAbove scrolls the screen so that the text shows with what comes
// just before it (the last peers, above the newer records' card).
func scrollAbove(ui *UI, text string) {
	scrollTo(ui, func(o fyne.CanvasObject) bool { return textOf(o) == text })
	walk(ui.win.Canvas().Content(), func(o fyne.CanvasObject) {
		if sc, ok := o.(*container.Scroll); ok {
			sc.ScrollToOffset(fyne.NewPos(0, max(0, sc.Offset.Y-220)))
		}
	})
}
