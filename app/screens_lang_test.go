package app

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/act"
	"github.com/vigil-mesh/vigil/incident/mbtiles"
	"github.com/vigil-mesh/vigil/incident/mbtiles/mbtilestest"
	"github.com/vigil-mesh/vigil/incident/media/mediatest"
)

// TestScreenshotsLanguages writes the screens that issue 20 changed, in
// every language the app has, phone-sized (dark, drawn at twice the
// size) and laptop-sized (light, 1280 × 800), so that a person can look
// at each for words left in English, cut or spilling out of their box:
// a report's attached photo, the calculator cover and the auto-lock
// settings, the space used and the quick delete with its confirmation,
// the reports table with its observer column and a retracted report, the
// review panel on the report's current verdict, and the dashboard's map
// over a basemap; and the rough edges after them: the confirmation line
// an action leaves, the phone's check-in tiles, the report form's
// required-field message, its location part in a mission without a
// station registry, and the revoke dialog of one of two members with the
// same label. Files are named <phone|desktop>-<screen>-<lang>.png in
// the folder languages/ under VIGIL_SCREENSHOTS:
//
//	VIGIL_SCREENSHOTS=$PWD/docs/screenshots go test -run ScreenshotsLanguages ./app
func TestScreenshotsLanguages(t *testing.T) {
	out := os.Getenv("VIGIL_SCREENSHOTS")
	if out == "" {
		t.Skip("set VIGIL_SCREENSHOTS to a folder to write screenshots")
	}
	out = filepath.Join(out, "languages")
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	a := test.NewTempApp(t)
	t.Cleanup(func() { SetLanguage("en") })
	m := langShotMission(t)
	r := roughShotMission(t)
	for _, phone := range []bool{true, false} {
		p := &shotPass{t: t, a: a, out: out, phone: phone, prefix: "phone-", scale: 2, size: fyne.NewSize(400, 820)}
		if !phone {
			p.prefix, p.scale, p.size = "desktop-", 1, fyne.NewSize(1280, 800)
		}
		for _, l := range Languages {
			SetLanguage(l.Code)
			langShots(t, p, m, l.Code)
			roughShots(t, p, r, l.Code)
		}
	}
}

// langMission is a coordinator's home holding an observer's reports (a
// sealed one with a photo, a long-titled one a coordinator verified, and
// one the observer retracted) and a basemap around the stations, and
// the observer's home, holding the coordinator's receipts.
type langMission struct {
	coord, observer *Home
	photo, long     incident.ID
}

func langShotMission(t *testing.T) langMission {
	t.Helper()
	coordHome, code := missionHomes(t)
	obsHome := joinedObserver(t, code)
	ob, err := obsHome.Unlock([]byte(testPass))
	if err != nil {
		t.Fatal(err)
	}
	att, err := ob.AttachFile("queue.png", mediatest.PNG(t, mediatest.Default))
	if err != nil {
		t.Fatal(err)
	}
	photo, err := ob.Submit(incident.ReportPayload{Category: "polling.late_opening", Severity: 2, Title: "Queue outside",
		Station: "PS-0001", Lat: incident.Micro(-1.2812), Lon: incident.Micro(36.8215), Occurred: time.Now().Add(-20 * time.Minute).UnixMilli()}, []Attachment{att}, true)
	if err != nil {
		t.Fatal(err)
	}
	long, err := ob.Submit(incident.ReportPayload{Category: "polling.intimidation", Severity: 4, Title: longTitle,
		Station: "PS-0001", Lat: incident.Micro(-1.2795), Lon: incident.Micro(36.8190), Occurred: time.Now().Add(-90 * time.Minute).UnixMilli()}, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	gone, err := ob.Submit(incident.ReportPayload{Category: "polling.late_opening", Severity: 2, Title: "Late opening",
		Station: "PS-0002", Lat: incident.Micro(-1.3105), Lon: incident.Micro(36.8512), Occurred: time.Now().Add(-60 * time.Minute).UnixMilli()}, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ob.Retract(gone, "Wrong station"); err != nil {
		t.Fatal(err)
	}
	// The photo travels on a USB stick, as in TestCoordinatorOpensSealedPhoto.
	var stick bytes.Buffer
	if _, err := ob.ExportBundle(BundleRequest{}, &stick); err != nil {
		t.Fatal(err)
	}
	co, err := coordHome.Unlock([]byte(testPass))
	if err != nil {
		t.Fatal(err)
	}
	if sum, err := co.ImportBundle("stick.vgb", stick.Bytes(), nil, nil); err != nil || sum.FilesStored != 1 {
		t.Fatalf("import: %+v %v", sum, err)
	}
	if err := co.Review(act.Verdict{Report: long.String(), Status: "verified", Note: "Confirmed by the presiding officer"}); err != nil {
		t.Fatal(err)
	}
	// The coordinator's receipts reach the phone: what it may delete.
	cst, ost := co.(*StoreBackend).Store(), ob.(*StoreBackend).Store()
	ms, _ := cst.Mission()
	if _, err := cst.Put(incident.KindConfig, ms.NewConfig(map[string]string{incident.SettingCustodyReceipts: "1"})); err != nil {
		t.Fatal(err)
	}
	if _, err := cst.Put(incident.KindReceipt, incident.ReceiptPayload{IDs: [][]byte{photo.Bytes(), long.Bytes()}}); err != nil {
		t.Fatal(err)
	}
	carry(t, cst, ost)
	if _, err := co.LoadBasemap("nairobi.mbtiles", bytes.NewReader(langShotBasemap(t))); err != nil {
		t.Fatal(err)
	}
	ob.Close()
	co.Close()
	return langMission{coord: coordHome, observer: obsHome, photo: photo, long: long}
}

// langShotBasemap is a synthetic MBTiles map (roads, woods, a town) around
// the test mission's two located stations.
func langShotBasemap(t *testing.T) []byte {
	t.Helper()
	b := mbtiles.Bounds{West: 36.6, South: -1.5, East: 37.1, North: -1.1}
	places := []mbtilestest.Place{{Lat: -1.28, Lon: 36.82, Urban: true}, {Lat: -1.31, Lon: 36.85}}
	var f bytes.Buffer
	meta := map[string]string{"name": "Nairobi (synthetic)", "format": "png", "bounds": b.String(),
		"attribution": "Synthetic tiles, made for the tests"}
	if err := mbtilestest.Write(&f, meta, mbtilestest.Synthetic(places, b, 8, 13), mbtilestest.Options{}); err != nil {
		t.Fatal(err)
	}
	return f.Bytes()
}

// openLang unlocks the app on h at the pass's size and theme.
func openLang(p *shotPass, h *Home) *UI {
	ui := New(p.a, h, Options{Phone: p.phone, RefreshEvery: -1, inline: true})
	ui.win.Resize(p.size)
	if !p.phone {
		p.a.Settings().SetTheme(lightTheme{&vigilTheme{}}) // after New, before the screens are built
	}
	ui.unlock([]byte(testPass))
	ui.wait()
	p.t.Cleanup(ui.Close)
	return ui
}

// roughMission holds the homes the rough edges' screens need, apart from
// langMission's so that their check-ins and drafts leave its screens as
// they were: an observer of a mission with a station registry, one of a
// mission without, and a coordinator whose two members joined with one
// observer code (both "Amani").
type roughMission struct {
	observer, bare, coord *Home
	second                incident.Author
}

func roughShotMission(t *testing.T) roughMission {
	t.Helper()
	coordHome, code := missionHomes(t)
	// A mission without a registry, as in TestStationLocationNeedsARegistry.
	bare := testHome(t)
	be, err := bare.Create([]byte(testPass))
	if err != nil {
		t.Fatal(err)
	}
	if err := be.CreateMission("No registry", "HQ"); err != nil {
		t.Fatal(err)
	}
	bareCode, err := be.Invite(InviteRequest{Role: incident.RoleObserver, Label: "Amani"})
	if err != nil {
		t.Fatal(err)
	}
	be.Close()
	// Two devices on one code, as in duplicateMission.
	co, err := coordHome.Unlock([]byte(testPass))
	if err != nil {
		t.Fatal(err)
	}
	var second incident.Author
	for range 2 {
		ob, err := joinedObserver(t, code).Unlock([]byte(testPass))
		if err != nil {
			t.Fatal(err)
		}
		id, err := ob.Identity()
		if err != nil {
			t.Fatal(err)
		}
		second = id.Author
		carry(t, ob.(*StoreBackend).Store(), co.(*StoreBackend).Store())
		ob.Close()
	}
	co.Close()
	return roughMission{observer: joinedObserver(t, code), bare: joinedObserver(t, bareCode), coord: coordHome, second: second}
}

// roughShots writes one language's rough-edge screens for one layout.
func roughShots(t *testing.T, p *shotPass, r roughMission, lang string) {
	shot := func(ui *UI, name string) { t.Helper(); p.shot(ui, name+"-"+lang) }

	ob := openLang(p, r.observer)
	// 2. The check-in tiles, their labels whole words, on a phone.
	langScrollTo(ob, func(o fyne.CanvasObject) bool { return textOf(o) == T("home.checkin") })
	if p.phone {
		shot(ob, "checkin")
	}
	// 1. A check-in's confirmation, a line over the screen.
	tap(t, ob, CheckinLabel("opened"))
	if toastText(ob) == "" || ob.win.Canvas().Overlays().Top() != nil {
		t.Fatalf("%s: a check-in shows no confirmation line", lang)
	}
	shot(ob, "confirmation")
	test.Tap(ob.toastBar)
	// 3. The report form saved without a title.
	tap(t, ob, T("home.new_report"))
	tap(t, ob, FamilyLabel("polling"))
	tap(t, ob, CategoryLabelOf("polling.late_opening"))
	tap(t, ob, SeverityLabel(2))
	ob.form.title.SetText("") // the category's name, filled in
	langScrollTo(ob, func(o fyne.CanvasObject) bool { return textOf(o) == T("form.title_label") })
	tap(t, ob, T("form.save"))
	if !strings.Contains(topText(ob), T("problem.required")) {
		t.Fatalf("%s: a report without a title reads:\n%s", lang, topText(ob))
	}
	shot(ob, "validation")
	dismissAll(ob)
	closeForm(ob)
	ob.Close()

	// 4. The form's location part where the mission has no registry.
	bare := openLang(p, r.bare)
	tap(t, bare, T("home.new_report"))
	tap(t, bare, FamilyLabel("polling"))
	tap(t, bare, CategoryLabelOf("polling.late_opening"))
	acc, ok := find(bare, func(a *widget.Accordion) bool {
		return len(a.Items) == 1 && strings.Contains(a.Items[0].Title, T("form.location_optional"))
	})
	if !ok {
		t.Fatalf("%s: no location section:\n%s", lang, allText(bare))
	}
	acc.Open(0)
	if strings.Contains(allText(bare), T("form.use_station_location")) {
		t.Fatalf("%s: a mission without a registry offers the station's location", lang)
	}
	langScrollTo(bare, func(o fyne.CanvasObject) bool { return strings.Contains(textOf(o), T("form.location_optional")) })
	shot(bare, "report-form-no-registry")
	closeForm(bare)
	bare.Close()

	// 5. The revoke dialog of the second of two "Amani"s: its key and
	// joining time.
	co := openLang(p, r.coord)
	co.selectTab(T("tab.members"))
	co.wait()
	m := memberByAuthor(t, co, r.second)
	revokeDialog(co, m)
	if !strings.Contains(topText(co), m.Author.Short()) {
		t.Fatalf("%s: the revoke dialog does not name the key:\n%s", lang, topText(co))
	}
	shot(co, "revoke-same-labels")
	dismissAll(co)
	co.Close()
}

// closeForm closes ui's report form and drops its draft, which would
// come back in the next language's form.
func closeForm(ui *UI) {
	ui.form.close()
	_ = ui.be.SetSetting(DraftSetting, nil)
}

// langShots writes one language's screens for one layout.
func langShots(t *testing.T, p *shotPass, m langMission, lang string) {
	shot := func(ui *UI, name string) { t.Helper(); p.shot(ui, name+"-"+lang) }

	co := openLang(p, m.coord)
	// 5. The dashboard's map over the basemap.
	langScrollTo(co, func(o fyne.CanvasObject) bool { return textOf(o) == T("dash.map") })
	if mp, ok := find(co, func(mp *mapPlot) bool { return mp.emptyText == T("dash.map_empty") }); !ok || mp.base == nil || !mp.covered() {
		t.Fatalf("%s: the dashboard map does not draw the basemap", lang)
	}
	shot(co, "dashboard-map")
	// 4. The reports table: who filed each, the retracted one.
	co.selectTab(T("tab.reports"))
	co.wait()
	if !p.phone && !strings.Contains(strings.Join(tableTexts(co), " "), "Amani") { // the phone's is off to the side
		t.Errorf("%s: the table does not draw the observer", lang)
	}
	shot(co, "reports-table")
	if p.phone { // the status and observer columns, off to the side on a phone
		for i, c := range co.table.cols {
			if c.key == "col.observer" {
				co.table.table.ScrollTo(widget.TableCellID{Row: 0, Col: i})
			}
		}
		shot(co, "reports-table-status")
	}
	// 4. The review panel on the verdict the report has.
	co.showReport(m.long, nil)
	langScrollTo(co, func(o fyne.CanvasObject) bool { return textOf(o) == T("review.title") })
	shot(co, "review-verified")
	co.popAll()
	// 1. The report with its photo: view and save, then the photo shown.
	co.showReport(m.photo, nil)
	langScrollTo(co, func(o fyne.CanvasObject) bool { return strings.HasPrefix(textOf(o), "📎 queue.png") })
	if !strings.Contains(allText(co), "📎 queue.png") {
		t.Fatalf("%s: the report does not list its photo:\n%s", lang, allText(co))
	}
	shot(co, "report-photo")
	tap(t, co, T("file.view"))
	shot(co, "report-photo-view")
	dismissAll(co)
	co.popAll()
	co.Close()

	ob := openLang(p, m.observer)
	ob.selectTab(T("tab.settings"))
	ob.wait()
	// 3. The space used and the quick delete, then its confirmation.
	langScrollTo(ob, func(o fyne.CanvasObject) bool { return textOf(o) == T("space.title") })
	shot(ob, "settings-space")
	tap(t, ob, T("forget.button"))
	shot(ob, "forget-confirm")
	dismissAll(ob)
	// 2. Auto-lock and the cover, then the cover itself.
	langScrollTo(ob, func(o fyne.CanvasObject) bool { return textOf(o) == "🔒 "+T("lock.title") })
	shot(ob, "settings-autolock")
	ob.device.Cover = newCoverSecret("2580")
	ob.lock()
	pressCalc(t, ob, "12+30=")
	shot(ob, "cover-calculator")
	ob.Close()
}

// langScrollTo scrolls as scrollTo does, a little higher: a heading's
// first line stays whole where the text above it wraps differently.
func langScrollTo(ui *UI, match func(fyne.CanvasObject) bool) {
	scrollTo(ui, match)
	walk(ui.win.Canvas().Content(), func(o fyne.CanvasObject) {
		if sc, ok := o.(*container.Scroll); ok {
			sc.ScrollToOffset(fyne.NewPos(0, max(0, sc.Offset.Y-24)))
		}
	})
}
