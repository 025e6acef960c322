package app

import (
	"bytes"
	"math"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/vigil-mesh/vigil/app/internal/scene"
	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/act"
	"github.com/vigil-mesh/vigil/incident/demo"
	"github.com/vigil-mesh/vigil/incident/store"
)

// typeNumber replaces what a number entry holds with s, key by key.
func typeNumber(e *numberEntry, s string) {
	e.SetText("")
	test.Type(e, s)
}

// failText is what the form and the confirmation say of a failing check.
func failText(name string, left, right uint64) string {
	return checkText(incident.TallyCheck{Name: name, Verdict: incident.CheckFlagged, Left: left, Right: right})
}

// A tally whose numbers do not add up: the failing check is named while
// the numbers are typed, goes when they add up and comes back when they
// do not; saved as it reads, flagged, with the same words in the
// confirmation, and stored so (the coordinator's results flag the
// station). The next form offers the contest and its choices.
func TestTallyFormFlagsWhileTyping(t *testing.T) {
	a := test.NewTempApp(t)
	coordHome, code := missionHomes(t)
	obs := newTestUI(t, a, joinedObserver(t, code), true, testPass)
	coord := newTestUI(t, a, coordHome, false, testPass)
	carry(t, storeOf(coord), storeOf(obs)) // the registry

	tap(t, obs, T("tally.open"))
	f := obs.tally
	if f == nil || f.station != "PS-0001" || !strings.Contains(allText(obs), "PS-0001 — Central school") {
		t.Fatalf("the form does not open on the observer's station:\n%s", allText(obs))
	}
	if f.contest.Text != "" || len(f.rows) != 2 {
		t.Fatalf("no tally yet: contest %q, %d rows", f.contest.Text, len(f.rows))
	}
	test.Type(f.contest, "presidential")
	for name, v := range map[string]string{"registered": "600", "issued": "500", "cast": "480", "invalid": "10", "blank": "5"} {
		typeNumber(f.numbers[name], v)
	}
	// Letters never reach a count.
	test.Type(f.numbers["cast"], "x")
	if f.numbers["cast"].Text != "480" {
		t.Fatalf("a count took a letter: %q", f.numbers["cast"].Text)
	}
	test.Type(f.rows[0].name, "Amara Okafor")
	typeNumber(f.rows[0].votes, "300")
	test.Type(f.rows[1].name, "Bastien Louro")
	typeNumber(f.rows[1].votes, "160")
	sum := failText(incident.CheckSum, 475, 480)
	if screen := allText(obs); !strings.Contains(screen, sum) || !strings.Contains(screen, TN("tally.flagged", 1)) {
		t.Fatalf("the failing sum is not shown while typing:\n%s", screen)
	}
	typeNumber(f.rows[1].votes, "165")
	if screen := allText(obs); strings.Contains(screen, "⚠ ") || !strings.Contains(screen, T("tally.all_ok")) ||
		!strings.Contains(screen, "✅ "+CheckName(incident.CheckSum)) {
		t.Fatalf("the numbers add up, the form still flags them:\n%s", screen)
	}
	typeNumber(f.rows[1].votes, "160")
	tap(t, obs, T("tally.add_choice"))
	if len(f.rows) != 3 {
		t.Fatalf("rows after adding one: %d", len(f.rows))
	}
	if !strings.Contains(allText(obs), sum) {
		t.Fatalf("the sum is not flagged again:\n%s", allText(obs))
	}

	tap(t, obs, T("tally.save"))
	if got := topText(obs); !strings.Contains(got, T("tally.saved_title")) || !strings.Contains(got, sum) {
		t.Fatalf("the confirmation does not say what fails: %q", got)
	}
	dismissAll(obs)

	// Stored flagged: the coordinator's results say so.
	carry(t, storeOf(obs), storeOf(coord))
	res, err := deskOf(coord).Results(act.ResultsQuery{})
	if err != nil || res.Contest != "presidential" {
		t.Fatalf("results: %+v %v", res, err)
	}
	var got act.StationResult
	for _, s := range res.Stations {
		if s.Code == "PS-0001" {
			got = s
		}
	}
	if got.Status != act.StatusFlagged || len(got.Tallies) != 1 {
		t.Fatalf("PS-0001 in the results: %+v", got)
	}
	tl := got.Tallies[0].Tally
	if tl.Cast != 480 || len(tl.Votes) != 2 || tl.Votes[1] != (incident.VoteCount{Choice: "Bastien Louro", Votes: 160}) {
		t.Fatalf("the tally stored: %+v", tl)
	}
	if fl := incident.FlaggedChecks(got.Tallies[0].Checks); len(fl) != 1 || fl[0].Name != incident.CheckSum {
		t.Fatalf("flagged checks: %+v", fl)
	}

	// The results screen lists the station with its failing check.
	coord.refreshAll()
	coord.wait()
	tap(t, coord, T("results.button"))
	screen := allText(coord)
	for _, want := range []string{"PS-0001 · Central school", "⚠ Amani: " + checkWords(incident.FlaggedChecks(got.Tallies[0].Checks)[0]),
		T("results.contest", map[string]any{"Name": "presidential"})} {
		if !strings.Contains(screen, want) {
			t.Fatalf("the results lack %q:\n%s", want, screen)
		}
	}
	tap(t, coord, "PS-0001 · Central school")
	if screen := allText(coord); !strings.Contains(screen, "Bastien Louro") || !strings.Contains(screen, sum) {
		t.Fatalf("the station's tally:\n%s", screen)
	}
	coord.popAll()

	// The next sheet: the contest and its choices are offered.
	tap(t, obs, T("tally.open"))
	f = obs.tally
	if f.contest.Text != "presidential" || len(f.rows) != 2 || f.rows[0].name.Text != "Amara Okafor" || f.rows[1].name.Text != "Bastien Louro" {
		t.Fatalf("the form offers %q and %d rows", f.contest.Text, len(f.rows))
	}

	// A coordinator copies a sheet from the dashboard: no station of its
	// own, so it picks one.
	tap(t, coord, T("tally.enter"))
	if coord.tally.station != "" || !strings.Contains(allText(coord), T("home.no_station")) {
		t.Fatalf("a coordinator's form starts on a station: %q", coord.tally.station)
	}
	typeNumber(coord.tally.rows[0].votes, "12")
	tap(t, coord, T("tally.save"))
	if got := topText(coord); !strings.Contains(got, T("tally.need_station")) {
		t.Fatalf("saved without a station: %q", got)
	}
	dismissAll(coord)
	tap(t, coord, T("home.change_station"))
	entry(t, coord, T("station.code")).SetText("ps 0002")
	tap(t, coord, T("station.use"))
	if coord.tally.station != "PS-0002" || !strings.Contains(allText(coord), "PS-0002 — Market hall") {
		t.Fatalf("the picked station: %q\n%s", coord.tally.station, allText(coord))
	}
	// Another contest: the results offer both, the most copied first
	// (a tie: by name).
	coord.tally.contest.SetText("parliamentary")
	tap(t, coord, T("tally.save"))
	dismissAll(coord)
	tap(t, coord, T("results.button"))
	sel, ok := find(coord, func(s *widget.Select) bool { return len(s.Options) == 2 && s.Options[0] == "parliamentary" })
	if !ok || sel.Selected != "parliamentary" || !strings.Contains(allText(coord), "PS-0002 · Market hall") || strings.Contains(allText(coord), "PS-0001 · Central school") {
		t.Fatalf("two contests:\n%s", allText(coord))
	}
	sel.SetSelected("presidential")
	coord.wait()
	if screen := allText(coord); !strings.Contains(screen, "PS-0001 · Central school") || strings.Contains(screen, "PS-0002 · Market hall") {
		t.Fatalf("the other contest:\n%s", screen)
	}
}

// A mission that seals tallies seals their photos with them: the form
// says so, the tally is saved sealed with its photo, and the
// coordinator, once the records and the encrypted photo have arrived,
// opens it from the station's copies on the results screen.
func TestTallyPhotoSealedWhereTheMissionSeals(t *testing.T) {
	a := test.NewTempApp(t)
	coordHome, code := missionHomes(t) // the mission seals by default
	obs := newTestUI(t, a, joinedObserver(t, code), true, testPass)
	tap(t, obs, T("tally.open"))
	f := obs.tally
	if !strings.Contains(allText(obs), T("tally.photos_sealed")) {
		t.Fatalf("the form does not say photos are sealed:\n%s", allText(obs))
	}
	tap(t, obs, T("home.change_station"))
	entry(t, obs, T("station.code")).SetText("PS-0100")
	tap(t, obs, T("station.use"))
	test.Type(f.contest, "presidential")
	typeNumber(f.numbers["cast"], "10")
	test.Type(f.rows[0].name, "Amara Okafor")
	typeNumber(f.rows[0].votes, "10")
	photo := append([]byte("\xff\xd8\xff\xe0"), bytes.Repeat([]byte{0xd8}, 500)...)
	f.attachData("sheet.jpg", photo)
	tap(t, obs, T("tally.save"))
	if got := topText(obs); !strings.Contains(got, T("tally.saved_title")) || !strings.Contains(got, T("tally.sealed")) {
		t.Fatalf("the confirmation: %q", got)
	}
	dismissAll(obs)

	coord := newTestUI(t, a, coordHome, false, testPass)
	carry(t, storeOf(obs), storeOf(coord))
	res, err := coord.be.Results(act.ResultsQuery{})
	if err != nil || len(res.Unknown) != 1 || len(res.Unknown[0].Tallies) != 1 {
		t.Fatalf("the coordinator's results: %+v %v", res.Unknown, err)
	}
	it := res.Unknown[0].Tallies[0]
	if len(it.Photos) != 1 || !it.Photos[0].Sealed || it.Photos[0].Held {
		t.Fatalf("the photo before its content arrives: %+v", it.Photos)
	}
	ct, err := storeOf(obs).Blob(it.Photos[0].Hash)
	if err != nil || bytes.Contains(ct, photo[4:40]) {
		t.Fatalf("the observer's copy of the photo is not encrypted (%v)", err)
	}
	if err := storeOf(coord).PutBlob(it.Photos[0].Hash, ct); err != nil {
		t.Fatal(err)
	}
	res, _ = coord.be.Results(act.ResultsQuery{})
	coord.showStationResult(res.Unknown[0])
	coord.wait()
	if !strings.Contains(allText(coord), "sheet.jpg") {
		t.Fatalf("the station's copies do not list the photo:\n%s", allText(coord))
	}
	tap(t, coord, T("file.view"))
	if got := topText(coord); !strings.Contains(got, "sheet.jpg") {
		t.Fatalf("the photo does not open: %q", got)
	}
	if got, err := coord.be.RecordFile(it.ID, 0); err != nil || !bytes.Equal(got, photo) {
		t.Fatalf("the opened photo: %d bytes, %v", len(got), err)
	}
}

// The coverage panel's map: the expected stations with coordinates,
// silent in red until heard from, then green; one without coordinates
// is counted under the map.
func TestCoverageMapHeardAndSilent(t *testing.T) {
	a := test.NewTempApp(t)
	coordHome, code := missionHomes(t)
	obsHome := joinedObserver(t, code)
	coord := newTestUI(t, a, coordHome, false, testPass)
	obs := newTestUI(t, a, obsHome, true, testPass)
	carry(t, storeOf(obs), storeOf(coord))
	for member, station := range map[string]string{"Amani": "PS-0002", "HQ": "PS-0003"} {
		if _, err := deskOf(coord).Assign(act.AssignRequest{Member: member, Station: station}); err != nil {
			t.Fatal(err)
		}
	}
	covMap := func() *mapPlot {
		t.Helper()
		coord.refreshAll()
		coord.wait()
		m, ok := find(coord, func(m *mapPlot) bool { return m.emptyText == T("cov.map_empty") })
		if !ok {
			t.Fatalf("no coverage map:\n%s", allText(coord))
		}
		return m
	}
	m := covMap()
	if len(m.points) != 1 || m.points[0].Color != colorAlert {
		t.Fatalf("before any check-in: %+v", m.points)
	}
	screen := allText(coord)
	for _, want := range []string{TN("cov.map_unplaced", 1), T("cov.map_count", map[string]any{"N": 0, "Total": 1})} {
		if !strings.Contains(screen, want) {
			t.Fatalf("the map lacks %q:\n%s", want, screen)
		}
	}

	carry(t, storeOf(coord), storeOf(obs))
	obs.refreshAll()
	obs.wait()
	tap(t, obs, CheckinLabel("arrived"))
	carry(t, storeOf(obs), storeOf(coord))
	m = covMap()
	if st := storeStation(t, coord, "PS-0002"); len(m.points) != 1 || m.points[0].Color != colorOK || math.Abs(m.points[0].Lat-float64(*st.Lat)/1e6) > 1e-9 {
		t.Fatalf("after the check-in: %+v", m.points)
	}
	if !strings.Contains(allText(coord), T("cov.map_count", map[string]any{"N": 1, "Total": 0})) {
		t.Fatalf("the counts under the map:\n%s", allText(coord))
	}
}

func storeStation(t *testing.T, ui *UI, code string) Station {
	t.Helper()
	list, err := ui.be.Stations()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range list {
		if s.Code == code {
			return s
		}
	}
	t.Fatalf("no station %s", code)
	return Station{}
}

// The results screen on the practice mission: every choice's share with
// its 95 % margin as act.Results computes it, the sample, the stations
// excluded as flagged, and the flagged stations with their checks.
func TestResultsShowTheQuickCount(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the practice mission")
	}
	a := test.NewTempApp(t)
	homes, err := scene.Build(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ui := openScene(a, homes.Coordinator, false, fyne.NewSize(1280, 800))
	defer ui.Close()
	res, err := ui.be.Results(act.ResultsQuery{Contest: demo.Contest})
	if err != nil || res.QuickCount == nil || len(res.QuickCount.Shares) != 3 {
		t.Fatalf("the practice mission's results: %+v %v", res.QuickCount, err)
	}
	q := res.QuickCount
	tap(t, ui, T("results.button"))
	screen := allText(ui)
	want := []string{
		T("results.contest", map[string]any{"Name": demo.Contest}),
		T("results.sample", map[string]any{"N": q.Used, "Total": q.Sample}),
		TN("results.excluded", q.Excluded) + " · " + TN("results.sample_missing", len(q.Missing)),
		TN("results.registry", res.Registry),
	}
	for _, sh := range q.Shares {
		want = append(want, sh.Choice, ShareText(sh))
	}
	for _, st := range res.Stations {
		if st.Status == act.StatusFlagged {
			want = append(want, stationTitle(st.Code, st.Name))
			for _, l := range flagLines(st) {
				want = append(want, l)
			}
		}
	}
	for _, w := range want {
		if !strings.Contains(screen, w) {
			t.Errorf("the results screen lacks %q", w)
		}
	}
	if res.Counts[act.StatusFlagged] == 0 || res.Counts[act.StatusConsolidated] == 0 || q.Used == 0 {
		t.Fatalf("the practice mission has flagged and consolidated stations: %+v", res.Counts)
	}
	if t.Failed() {
		t.Logf("screen:\n%s", screen)
	}
}

// Where the mission does not seal, the sheet's photos go with the tally.
func TestTallyPhotoKeptWhereTheMissionDoesNotSeal(t *testing.T) {
	a := test.NewTempApp(t)
	h := testHome(t)
	st, err := store.Init(h.Dir, []byte(testPass), h.Store)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateMission("Open mission", "HQ", false); err != nil {
		t.Fatal(err)
	}
	st.Close()
	ui := newTestUI(t, a, h, true, testPass)
	tap(t, ui, T("tally.enter"))
	f := ui.tally
	if strings.Contains(allText(ui), T("tally.photos_sealed")) {
		t.Fatal("a mission that does not seal is told photos are refused")
	}
	tap(t, ui, T("home.change_station"))
	entry(t, ui, T("station.code")).SetText("PS-0100")
	tap(t, ui, T("station.use"))
	test.Type(f.contest, "presidential")
	typeNumber(f.numbers["cast"], "7")
	test.Type(f.rows[0].name, "Amara Okafor")
	typeNumber(f.rows[0].votes, "7")
	f.attachData("sheet.jpg", bytes.Repeat([]byte{0xff, 0xd8}, 500))
	tap(t, ui, T("tally.save"))
	if got := topText(ui); !strings.Contains(got, T("tally.saved_title")) || strings.Contains(got, T("tally.sealed")) {
		t.Fatalf("the confirmation: %q", got)
	}
	res, err := ui.be.Results(act.ResultsQuery{})
	if err != nil || len(res.Unknown) != 1 || len(res.Unknown[0].Tallies) != 1 || len(res.Unknown[0].Tallies[0].Tally.Photos) != 1 {
		t.Fatalf("the tally and its photo: %+v %v", res.Unknown, err)
	}
}
