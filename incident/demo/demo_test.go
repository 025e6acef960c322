package demo

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/act"
	"github.com/vigil-mesh/vigil/incident/store"
	"github.com/vigil-mesh/vigil/incident/vault"
)

var (
	testDay  = time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)
	testNow  = time.Date(2026, 11, 25, 10, 30, 0, 0, time.UTC)
	testPass = []byte("practice passphrase")
)

func testOptions(seed uint64) Options {
	return Options{Seed: seed, Day: testDay, Store: store.Options{
		Now: func() time.Time { return testNow },
		KDF: &vault.KDFParams{Time: 1, MemoryKiB: 64, Threads: 1},
	}}
}

func practice(t *testing.T, seed uint64) (Summary, string) {
	t.Helper()
	home := filepath.Join(t.TempDir(), "practice")
	sum, err := Generate(home, testPass, testOptions(seed))
	if err != nil {
		t.Fatalf("Generate: %v", err)
	}
	return sum, home
}

func openHome(t *testing.T, home string) *store.Store {
	t.Helper()
	st, err := store.Open(home, testPass, store.Options{Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatalf("store.Open: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// TestGenerate checks that a practice home holds a whole, valid mission
// with the polling day's rhythm.
func TestGenerate(t *testing.T) {
	start := time.Now()
	sum, home := practice(t, 0)
	t.Logf("generated in %v: %+v", time.Since(start), sum)
	st := openHome(t, home)

	if sum.Home != home || sum.Seed != DefaultSeed || sum.Day != "2026-11-24" {
		t.Errorf("summary home/seed/day = %q/%d/%q", sum.Home, sum.Seed, sum.Day)
	}
	if v, err := st.Meta(MetaPractice); err != nil || string(v) != "1" {
		t.Errorf("meta %q = %q, %v; want 1", MetaPractice, v, err)
	}
	ms, err := st.Mission()
	if err != nil {
		t.Fatal(err)
	}
	if !ms.Mission.Practice {
		t.Error("the practice mission's genesis is not marked practice; members who join it would not know")
	}
	if ms.ID != sum.Mission || !strings.Contains(ms.Mission.Name, "PRACTICE") {
		t.Errorf("mission %s %q, summary says %s", ms.ID, ms.Mission.Name, sum.Mission)
	}
	if ms.Founder != st.Author() || sum.Founder != st.Author() {
		t.Errorf("founder %s, device %s, summary %s", ms.Founder, st.Author(), sum.Founder)
	}

	// Every record is stored and valid; nothing waits.
	counts, err := st.Counts()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range incident.Kinds {
		if counts[k] != sum.Records[k] {
			t.Errorf("%s records: store has %d, summary says %d", k, counts[k], sum.Records[k])
		}
	}
	if q, err := st.QuarantineCount(); err != nil || q != 0 {
		t.Errorf("quarantine holds %d records (%v)", q, err)
	}
	for _, k := range incident.Kinds {
		recs, err := st.ByKind(k)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			if err := incident.Validate(r, ms, st); err != nil {
				t.Errorf("%s %s: %v", k, r.ID, err)
			}
			if flags := incident.RecordFlags(r, ms, testNow); len(flags) > 0 {
				t.Errorf("%s %s flagged %v", k, r.ID, flags)
			}
		}
	}

	// The country and the people.
	if sum.Regions < 3 || sum.Regions > 4 || sum.Districts != 12 || sum.Stations != 300 {
		t.Errorf("regions/districts/stations = %d/%d/%d", sum.Regions, sum.Districts, sum.Stations)
	}
	stations, _ := st.ByKind(incident.KindStation)
	codes := map[string]bool{}
	for _, r := range stations {
		p, _ := r.DecodePayload()
		sp := p.(*incident.StationPayload)
		if sp.Lat == nil || sp.Area == "" || sp.Name == "" {
			t.Errorf("station %s lacks a location, area or name", sp.Code)
		}
		codes[sp.Code] = true
	}
	if len(codes) != 300 || !codes["PS-0001"] || !codes["PS-0300"] {
		t.Errorf("%d distinct station codes; want PS-0001…PS-0300", len(codes))
	}
	roles := map[string]int{}
	for _, m := range ms.Members() {
		roles[m.Role]++
		if m.Label == "" {
			t.Errorf("member %s has no label", m.Author)
		}
		if m.Recipient != "" {
			if _, err := age.ParseX25519Recipient(m.Recipient); err != nil {
				t.Errorf("member %s recipient: %v", m.Author, err)
			}
		}
	}
	if roles["coordinator"] != 3 || roles["observer"] != sum.Observers || roles["carrier"] != 2 || sum.Observers < 35 {
		t.Errorf("roles %v, summary %d observers", roles, sum.Observers)
	}

	// Reports: every family, the day's rhythm, fates and reviews.
	views, err := st.List(store.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(views) != sum.Reports || len(views) < 200 || len(views) > 300 {
		t.Errorf("%d reports listed, summary says %d", len(views), sum.Reports)
	}
	families := map[string]int{}
	titles := map[string]bool{}
	var amended, retracted, reviewed, conflicts, withLocation int
	noon := testDay.Add(12 * time.Hour).UnixMilli()
	shutdowns := 0
	for _, v := range views {
		families[incident.FamilyOf(v.Report.Category)]++
		titles[v.Report.Title] = true
		if len(v.Flags) > 0 {
			t.Errorf("report %s %q flagged %v", v.ID, v.Report.Title, v.Flags)
		}
		if v.Report.Occurred < testDay.UnixMilli() || v.Report.Occurred >= testDay.Add(24*time.Hour).UnixMilli() {
			t.Errorf("report %q occurred outside polling day: %v", v.Report.Title, time.UnixMilli(v.Report.Occurred).UTC())
		}
		if v.Report.Occurred > v.Created {
			t.Errorf("report %q occurred after it was written", v.Report.Title)
		}
		if v.Report.Lat != nil {
			withLocation++
		}
		if incident.FamilyOf(v.Report.Category) == "disinformation" && (v.Report.Channel == "" || v.Report.Harm == "" || v.Report.Reach == 0 || v.Report.Source == "") {
			t.Errorf("sighting %q lacks channel, harm, reach or source", v.Report.Title)
		}
		if v.Report.Category == "infrastructure.internet_shutdown" {
			shutdowns++
			if v.Report.Occurred < noon {
				t.Errorf("internet shutdown reported before midday: %q at %v", v.Report.Title, time.UnixMilli(v.Report.Occurred).UTC())
			}
		}
		amended += btoi(v.Amendments > 0)
		retracted += btoi(v.Retracted)
		reviewed += btoi(v.Status != incident.StatusUnreviewed)
		conflicts += btoi(v.Conflict)
	}
	for _, f := range incident.Families {
		if families[f] == 0 {
			t.Errorf("no report in family %s (%v)", f, families)
		}
	}
	if shutdowns < 5 {
		t.Errorf("%d internet shutdown reports", shutdowns)
	}
	if amended == 0 || retracted == 0 || conflicts == 0 {
		t.Errorf("amended %d, retracted %d, conflicts %d; want some of each", amended, retracted, conflicts)
	}
	if amended != sum.Amended || retracted != sum.Retracted || reviewed != sum.Reviewed || conflicts != sum.Conflicts {
		t.Errorf("views: amended %d retracted %d reviewed %d conflicts %d; summary %+v", amended, retracted, reviewed, conflicts, sum)
	}
	if frac := float64(reviewed) / float64(len(views)); frac < 0.3 || frac > 0.5 {
		t.Errorf("%.0f%% of reports reviewed, want about 40%%", 100*frac)
	}
	if withLocation < len(views)/4 {
		t.Errorf("only %d reports carry a location", withLocation)
	}
	if len(titles) < len(views)/2 {
		t.Errorf("only %d distinct titles in %d reports", len(titles), len(views))
	}
	for _, v := range views {
		if strings.Contains(strings.ToLower(v.Report.Title+v.Report.Description), "lorem") {
			t.Errorf("placeholder text in %q", v.Report.Title)
		}
	}

	// Check-ins from nearly every observer, each kind of them.
	checkins, _ := st.ByKind(incident.KindCheckin)
	arrived := map[incident.Author]bool{}
	statuses := map[string]int{}
	for _, r := range checkins {
		p, _ := r.DecodePayload()
		c := p.(*incident.CheckinPayload)
		statuses[c.Status]++
		if c.Status == "arrived" {
			arrived[r.AuthorKey()] = true
			if h := r.CreatedTime().Hour(); h < 5 || h > 6 {
				t.Errorf("arrived at %v", r.CreatedTime())
			}
		}
	}
	if len(arrived) < sum.Observers*9/10 {
		t.Errorf("%d of %d observers checked in", len(arrived), sum.Observers)
	}
	for _, s := range incident.CheckinStatuses {
		if statuses[s] == 0 {
			t.Errorf("no %s check-in (%v)", s, statuses)
		}
	}
	if statuses["closed"] >= statuses["arrived"] {
		t.Errorf("every station closed (%v): some observers should fall silent in the shutdown", statuses)
	}
	alerts, _ := st.ByKind(incident.KindAlert)
	if len(alerts) == 0 || len(alerts) != sum.Alerts {
		t.Errorf("%d alerts, summary says %d", len(alerts), sum.Alerts)
	}
	if sum.Records[incident.KindConfig] != 1 {
		t.Errorf("%d config records", sum.Records[incident.KindConfig])
	}
}

type reportKey struct {
	title, category, station string
	occurred                 int64
	severity                 uint64
	author                   incident.Author
	status                   string
}

func reportKeys(t *testing.T, home string) ([]reportKey, []incident.Author) {
	st := openHome(t, home)
	views, err := st.List(store.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	founder := st.Author()
	var out []reportKey
	for _, v := range views {
		a := v.Author
		if a == founder {
			a = incident.Author{} // the home's own device key is random
		}
		out = append(out, reportKey{v.Report.Title, v.Report.Category, v.Report.Station, v.Report.Occurred, v.Report.Severity, a, v.Status})
	}
	// Reports that occurred in the same millisecond (a report filed again
	// under the right station) are listed in ID order, and IDs depend on
	// the home's device key: compare them in a stable order.
	slices.SortStableFunc(out, func(x, y reportKey) int {
		if x.occurred != y.occurred {
			return cmp.Compare(x.occurred, y.occurred)
		}
		return cmp.Compare(fmt.Sprint(x), fmt.Sprint(y))
	})
	ms, _ := st.Mission()
	var members []incident.Author
	for _, m := range ms.Members()[1:] {
		members = append(members, m.Author)
	}
	return out, members
}

// TestDeterministic: the same seed gives the same day, the same members
// (same keys) and the same reports; another seed another day.
func TestDeterministic(t *testing.T) {
	_, h1 := practice(t, 7)
	_, h2 := practice(t, 7)
	_, h3 := practice(t, 8)
	r1, m1 := reportKeys(t, h1)
	r2, m2 := reportKeys(t, h2)
	r3, _ := reportKeys(t, h3)
	if !slices.Equal(r1, r2) {
		for i := range min(len(r1), len(r2)) {
			if r1[i] != r2[i] {
				t.Fatalf("report %d differs:\n%+v\n%+v", i, r1[i], r2[i])
			}
		}
		t.Fatalf("%d and %d reports", len(r1), len(r2))
	}
	if !slices.Equal(m1, m2) {
		t.Errorf("member keys differ between runs with one seed")
	}
	if slices.Equal(r1, r3) {
		t.Errorf("seeds 7 and 8 gave the same reports")
	}
}

// TestSameFounderSameIDs: given the same founding device and genesis, the
// records are byte for byte the same, so their IDs are too. (Generate's
// homes differ only in the device key and mission nonce the store draws.)
func TestSameFounderSameIDs(t *testing.T) {
	founder, _ := incident.NewSigner(bytes.Repeat([]byte{7}, 32))
	genesis, err := founder.Sign(incident.ID{}, incident.KindMission, testDay.Add(-10*24*time.Hour),
		incident.MissionPayload{Name: MissionName, Nonce: bytes.Repeat([]byte{1}, 16), Taxonomy: incident.TaxonomyVersion, Label: "Osprey"})
	if err != nil {
		t.Fatal(err)
	}
	ids := func() []incident.ID {
		w := newWorld(DefaultSeed)
		w.founder.signer = founder
		p, err := build(w, genesis, testDay)
		if err != nil {
			t.Fatal(err)
		}
		var out []incident.ID
		for _, r := range p.records {
			out = append(out, r.ID)
		}
		return out
	}
	a, b := ids(), ids()
	if len(a) < 900 || !slices.Equal(a, b) {
		t.Fatalf("two builds: %d and %d records, equal IDs %v", len(a), len(b), slices.Equal(a, b))
	}
}

// TestRefusesExistingHome: a practice mission never goes into a home that
// holds a store, or any other files, and changes nothing there.
func TestRefusesExistingHome(t *testing.T) {
	sum, home := practice(t, 0)
	_, err := Generate(home, testPass, testOptions(0))
	if !errors.Is(err, store.ErrExists) {
		t.Fatalf("second Generate in %s: %v, want ErrExists", home, err)
	}
	st := openHome(t, home)
	counts, _ := st.Counts()
	if counts[incident.KindReport] != sum.Records[incident.KindReport] {
		t.Errorf("existing home changed: %d reports, had %d", counts[incident.KindReport], sum.Records[incident.KindReport])
	}

	other := t.TempDir()
	keep := filepath.Join(other, "notes.txt")
	if err := os.WriteFile(keep, []byte("mine"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = Generate(other, testPass, testOptions(0))
	if !errors.Is(err, ErrNotEmpty) {
		t.Fatalf("Generate into a folder with files: %v, want ErrNotEmpty", err)
	}
	entries, _ := os.ReadDir(other)
	if len(entries) != 1 {
		t.Errorf("folder with files now holds %d entries", len(entries))
	}

	if _, err := Generate(filepath.Join(t.TempDir(), "x"), nil, testOptions(0)); err == nil {
		t.Error("Generate with an empty passphrase succeeded")
	}
}

// TestEmptyFolderAccepted: an existing empty folder is a new home.
func TestEmptyFolderAccepted(t *testing.T) {
	home := t.TempDir()
	if _, err := Generate(home, testPass, testOptions(3)); err != nil {
		t.Fatal(err)
	}
	if !store.Initialised(home) {
		t.Fatal("no store in the empty folder")
	}
}

// TestDefaultDay: without a day, the polling day is yesterday by the
// store's clock, so nothing lies in the future.
func TestDefaultDay(t *testing.T) {
	if got := pollingDay(time.Time{}, time.Date(2026, 3, 1, 0, 30, 0, 0, time.UTC)); !got.Equal(time.Date(2026, 2, 28, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("default day %v", got)
	}
	if got := pollingDay(time.Date(2026, 6, 7, 15, 0, 0, 0, time.FixedZone("x", 3600)), time.Time{}); !got.Equal(time.Date(2026, 6, 7, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("given day %v", got)
	}
}

// TestAgeRecipient: the derived recipients are the ones age computes for
// the same secret.
func TestAgeRecipient(t *testing.T) {
	for i := byte(0); i < 5; i++ {
		secret := bytes.Repeat([]byte{i*37 + 1}, 32)
		id, err := incident.AgeIdentityFrom(secret)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := ageRecipient(secret), id.Recipient().String(); got != want {
			t.Errorf("recipient %s, age says %s", got, want)
		}
	}
}

type mapSource map[incident.ID]*incident.Signed

func (m mapSource) Get(id incident.ID) (*incident.Signed, error) { return m[id], nil }

// TestManySeeds: every seed gives a valid day, in the order a store needs.
func TestManySeeds(t *testing.T) {
	founder, _ := incident.NewSigner(bytes.Repeat([]byte{9}, 32))
	genesis, err := founder.Sign(incident.ID{}, incident.KindMission, testDay.Add(-10*24*time.Hour),
		incident.MissionPayload{Name: MissionName, Nonce: bytes.Repeat([]byte{2}, 16), Taxonomy: incident.TaxonomyVersion})
	if err != nil {
		t.Fatal(err)
	}
	for seed := uint64(1); seed <= 12; seed++ {
		w := newWorld(seed)
		w.founder.signer = founder
		p, err := build(w, genesis, testDay.AddDate(0, 0, int(seed)))
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		ms, _ := incident.NewMissionState(genesis)
		src := mapSource{genesis.ID: genesis}
		for _, r := range p.records {
			if err := incident.Validate(r, ms, src); err != nil {
				t.Fatalf("seed %d: %s %s: %v", seed, r.Kind, r.ID, err)
			}
			if err := ms.Apply(r); err != nil {
				t.Fatal(err)
			}
			src[r.ID] = r
		}
		s := p.summary
		if s.Reports < 200 || s.Conflicts != 2 || s.Retracted < 3 || s.Amended < 10 || s.Alerts != 3 {
			t.Errorf("seed %d: %+v", seed, s)
		}
	}
}

// TestNoticesAndAnswers: the practice mission's notices and alerts fill
// every screen that shows them: notices in force to everyone and to a
// station, one expired; one alert acknowledged, one resolved, one not
// answered, listed as act lists them.
func TestNoticesAndAnswers(t *testing.T) {
	_, home := practice(t, 0)
	st := openHome(t, home)
	d := act.New(st)
	notices, err := d.Notices(act.NoticeQuery{Expired: true})
	if err != nil {
		t.Fatal(err)
	}
	audiences, expired, answers := map[string]int{}, 0, 0
	for _, n := range notices {
		if !n.Trusted || len(n.Flags) > 0 {
			t.Errorf("notice %q: trusted %v, flags %v", n.Notice.Text, n.Trusted, n.Flags)
		}
		switch {
		case len(n.Notice.Ack) > 0:
			answers++
		case n.Expired:
			expired++
		default:
			audiences[n.Audience]++
		}
	}
	if audiences[incident.AudienceEveryone] < 1 || audiences[incident.AudienceStation] != 1 || expired != 1 || answers != 3 {
		t.Errorf("notices in force by audience %v, %d expired, %d answers", audiences, expired, answers)
	}
	alerts, err := d.Alerts()
	if err != nil {
		t.Fatal(err)
	}
	var states []string
	for _, a := range alerts {
		states = append(states, a.State)
		if a.Label == "" || a.Alert.Station == "" || a.Alert.Note == "" {
			t.Errorf("alert %+v", a)
		}
	}
	want := []string{incident.AlertSent, incident.AlertAcknowledged, incident.AlertResolved}
	if !slices.Equal(states, want) {
		t.Errorf("alert states %v, want %v", states, want)
	}
	if r := alerts[2]; len(r.History) != 2 || r.Last == nil || !r.Last.Resolve || r.Last.Label == "" {
		t.Errorf("the resolved alert's history: %+v", r.History)
	}
}
