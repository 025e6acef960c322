// Package scene builds the homes the app's screenshots show: the practice
// mission from incident/demo as its founding coordinator sees it, and an
// observer of that mission with reports of their own in every delivery
// state and an alert the coordinator acknowledged. It is used by the screenshot test and the desktop screenshot
// program (app/internal/shots); it imports no Fyne.
package scene

import (
	"fmt"
	"path/filepath"
	"time"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/act"
	"github.com/vigil-mesh/vigil/incident/demo"
	"github.com/vigil-mesh/vigil/incident/store"
	"github.com/vigil-mesh/vigil/incident/vault"
)

// Passphrase unlocks both homes.
const Passphrase = "practice passphrase"

// Day is the practice polling day; Now is the moment the screenshots
// show, late on that day once the count is done.
var (
	Day = time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)
	Now = Day.Add(23*time.Hour + 55*time.Minute)
)

// KDF is cheap key derivation: screenshots need no protection.
var KDF = &vault.KDFParams{Time: 1, MemoryKiB: 8, Threads: 1}

// Homes are the built homes.
type Homes struct {
	Coordinator string
	Observer    string
	Station     string // the observer's station
}

// StoreOptions opens the homes on the scene's clock.
func StoreOptions() store.Options {
	return store.Options{KDF: KDF, Now: func() time.Time { return Now }}
}

// Build makes both homes under dir.
func Build(dir string) (Homes, error) {
	h := Homes{Coordinator: filepath.Join(dir, "coordinator"), Observer: filepath.Join(dir, "observer")}
	if _, err := demo.Generate(h.Coordinator, []byte(Passphrase), demo.Options{Day: Day, Store: StoreOptions()}); err != nil {
		return h, fmt.Errorf("demo: %w", err)
	}
	// The coordinator's device reads cclock, so its answer to the
	// observer's alert is dated when it was given.
	cclock := Now
	co := StoreOptions()
	co.Now = func() time.Time { return cclock }
	coord, err := store.Open(h.Coordinator, []byte(Passphrase), co)
	if err != nil {
		return h, err
	}
	defer coord.Close()
	code, err := coord.Invite(store.InviteRequest{Role: incident.RoleObserver, Label: "Lapwing"})
	if err != nil {
		return h, err
	}
	// The observer joined the evening before and reported through the day.
	clock := Day.Add(-4 * time.Hour)
	oo := StoreOptions()
	oo.Now = func() time.Time { return clock }
	obs, err := store.Init(h.Observer, []byte(Passphrase), oo)
	if err != nil {
		return h, err
	}
	defer obs.Close()
	if _, err := obs.Join(code); err != nil {
		return h, err
	}
	if err := carry(coord, obs); err != nil {
		return h, err
	}
	stations, err := coord.ByKind(incident.KindStation)
	if err != nil || len(stations) < 43 {
		return h, fmt.Errorf("demo stations: %d, %v", len(stations), err)
	}
	p, _ := stations[42].DecodePayload()
	sp := p.(*incident.StationPayload)
	h.Station = sp.Code
	if err := obs.SetMeta("station", []byte(sp.Code)); err != nil {
		return h, err
	}
	if err := obs.SetMeta("station_chosen", []byte("1")); err != nil {
		return h, err
	}
	// Lapwing's desk posted them there, as the demo's desks did everyone.
	if err := carry(obs, coord); err != nil {
		return h, err
	}
	if _, err := act.New(coord).Assign(act.AssignRequest{Member: "Lapwing", Station: sp.Code, Note: "Opening to count"}); err != nil {
		return h, err
	}
	if err := carry(coord, obs); err != nil {
		return h, err
	}
	// A practice device, like the demo's own.
	if err := obs.SetMeta(demo.MetaPractice, []byte("1")); err != nil {
		return h, err
	}
	at := func(hh, mm int) time.Time {
		return Day.Add(time.Duration(hh)*time.Hour + time.Duration(mm)*time.Minute)
	}
	put := func(t time.Time, k incident.Kind, payload any) (*incident.Signed, error) {
		clock = t
		return obs.Put(k, payload)
	}
	if _, err := put(at(5, 52), incident.KindCheckin, incident.CheckinPayload{Status: "arrived", Station: sp.Code}); err != nil {
		return h, err
	}
	if _, err := put(at(7, 18), incident.KindCheckin, incident.CheckinPayload{Status: "opened", Station: sp.Code}); err != nil {
		return h, err
	}
	reports := []struct {
		at time.Time
		p  incident.ReportPayload
	}{
		{at(6, 40), incident.ReportPayload{Category: "polling.late_opening", Severity: 2, Title: "Doors still shut at 06:40",
			Description: "About 80 people queuing. Presiding officer says the ballot boxes arrived late.", Station: sp.Code, Area: sp.Area}},
		{at(9, 5), incident.ReportPayload{Category: "registration.name_missing", Severity: 3, Title: "Names missing from the register",
			Description: "Six voters with valid cards turned away; all registered at this school last year.", Station: sp.Code, Area: sp.Area}},
		{at(12, 30), incident.ReportPayload{Category: "infrastructure.internet_shutdown", Severity: 3, Title: "No mobile data since noon",
			Station: sp.Code, Area: sp.Area}},
		{at(13, 15), incident.ReportPayload{Category: "disinformation.false_voting_info", Severity: 4, Title: "SMS says voting moved to Monday",
			Description: "Text message forwarded to several voters in the queue, claiming to come from the electoral commission.",
			Station:     sp.Code, Area: sp.Area, Channel: "sms", Harm: "critical", Reach: 5000, Source: "+000 555 0199"}},
		{at(19, 50), incident.ReportPayload{Category: "polling.tally_discrepancy", Severity: 3, Title: "Tally sheet not posted",
			Description: "Count finished at 19:30; the results sheet was taken away without being posted.", Station: sp.Code, Area: sp.Area,
			Lat: sp.Lat, Lon: sp.Lon, Precision: 100}},
	}
	var ids []incident.ID
	for _, r := range reports {
		r.p.Occurred = r.at.Add(-5 * time.Minute).UnixMilli()
		rec, err := put(r.at, incident.KindReport, r.p)
		if err != nil {
			return h, fmt.Errorf("report %q: %w", r.p.Title, err)
		}
		ids = append(ids, rec.ID)
	}
	if _, err := put(at(15, 0), incident.KindCheckin, incident.CheckinPayload{Status: "all_quiet", Station: sp.Code}); err != nil {
		return h, err
	}
	// The morning's reports reached a carrier and then a coordinator, the
	// midday ones two peers; the evening's is still on the phone.
	if err := obs.MarkHeld("carrier", ids[:4], at(16, 0).UnixMilli()); err != nil {
		return h, err
	}
	if err := obs.MarkHeld("neighbour", ids[2:4], at(16, 5).UnixMilli()); err != nil {
		return h, err
	}
	// Late in the evening the observer pressed the alert button; the
	// founding coordinator acknowledged it a few minutes later.
	alert, err := put(at(21, 12), incident.KindAlert, incident.AlertPayload{Station: sp.Code,
		Note: "Two men waiting by my motorbike since the count ended. I am staying inside."})
	if err != nil {
		return h, err
	}
	if err := carry(obs, coord); err != nil {
		return h, err
	}
	cclock = at(21, 17)
	if _, err := coord.Put(incident.KindNotice, incident.NoticePayload{Severity: 3, Ack: alert.ID.Bytes(),
		Text: "Seen. Stay inside; a team member is coming to drive you home."}); err != nil {
		return h, err
	}
	cclock = Now
	if _, err := coord.Put(incident.KindReceipt, incident.ReceiptPayload{IDs: [][]byte{ids[0].Bytes(), ids[1].Bytes()}}); err != nil {
		return h, err
	}
	return h, carry(coord, obs)
}

// carry copies the records to lacks, as a sync would.
func carry(from, to *store.Store) error {
	var raws [][]byte
	err := from.ForEachKey(func(_ int64, id incident.ID) error {
		if ok, _ := to.Has(id); ok {
			return nil
		}
		r, err := from.Get(id)
		if err != nil || r == nil {
			return err
		}
		raws = append(raws, r.Raw)
		return nil
	})
	if err != nil {
		return err
	}
	_, err = to.AddMany(raws, "scene", nil)
	return err
}
