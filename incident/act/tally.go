package act

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/vigil-mesh/vigil/incident"
)

// Tallies and results. An observer (or a coordinator) copies the result
// sheet posted at the count; the tally is stored even when its numbers
// do not add up, and the checks that fail come back with it
// (incident.TallyChecks): a sheet that does not add up is a finding, not
// a typing error to refuse. Results puts the tallies of one contest
// together per station of the registry, and, over the registry's pvt
// sample, gives the quick count (incident.QuickCount).

// TallyRequest is one contest's result sheet at one station, as read.
// Station is any form of the code (stored in its normal form). Photos
// are files kept with AttachFile.
type TallyRequest struct {
	Station    string               `json:"station"`
	Contest    string               `json:"contest"`
	Registered uint64               `json:"registered"`
	Issued     uint64               `json:"issued"`
	Cast       uint64               `json:"cast"`
	Invalid    uint64               `json:"invalid"`
	Blank      uint64               `json:"blank"`
	Votes      []incident.VoteCount `json:"votes"`
	Photos     []Attachment         `json:"photos,omitempty"`
}

// TallySubmitted is what SubmitTally stored, and what its checks say.
type TallySubmitted struct {
	ID      incident.ID           `json:"id"`
	Sealed  bool                  `json:"sealed,omitempty"`
	Station string                `json:"station"` // normal form
	Checks  []incident.TallyCheck `json:"checks"`
	// Flagged are the checks that failed (the tally is stored anyway).
	Flagged []incident.TallyCheck `json:"flagged"`
	// NotInRegistry: the mission holds a registry and the station is not
	// in it; stored, and counted apart by Results.
	NotInRegistry bool `json:"not_in_registry,omitempty"`
}

// SubmitTally checks and stores a tally: observers and coordinators,
// sealed to the coordinators where the mission seals (as reports are).
// The numbers are checked against the registry's station, and the
// failing checks returned; they never refuse it.
//
// Photos of the sheet are kept as a report's files are: an attachment
// record each in the clear, or, where the mission seals, encrypted with
// their keys inside the sealed tally (TallyPayload.Files), so a carrier
// learns neither the sheet nor the station.
func (d *Desk) SubmitTally(r TallyRequest) (TallySubmitted, error) {
	for field, s := range map[string]string{"station": r.Station, "contest": r.Contest} {
		if err := text(field, s); err != nil {
			return TallySubmitted{}, err
		}
	}
	p := incident.TallyPayload{Station: incident.NormalizeCode(r.Station), Contest: strings.TrimSpace(r.Contest),
		Registered: r.Registered, Issued: r.Issued, Cast: r.Cast, Invalid: r.Invalid, Blank: r.Blank}
	switch {
	case p.Station == "":
		return TallySubmitted{}, invalid("station", "is required")
	case p.Contest == "":
		return TallySubmitted{}, invalid("contest", "is required (the sheet's contest: presidential, …)")
	case len(r.Votes) == 0:
		return TallySubmitted{}, invalid("votes", "the sheet's votes per choice are required")
	case len(r.Photos) > incident.MaxTallyPhotos:
		return TallySubmitted{}, invalid("photos", "%d photos, limit %d", len(r.Photos), incident.MaxTallyPhotos)
	}
	for name, n := range map[string]uint64{"registered": r.Registered, "issued": r.Issued, "cast": r.Cast, "invalid": r.Invalid, "blank": r.Blank} {
		if n > incident.MaxTallyVotes {
			return TallySubmitted{}, invalid(name, "%d, limit %d", n, incident.MaxTallyVotes)
		}
	}
	seen := map[string]bool{}
	for _, v := range r.Votes {
		c := strings.TrimSpace(v.Choice)
		if err := text("votes", c); err != nil {
			return TallySubmitted{}, err
		}
		switch {
		case c == "":
			return TallySubmitted{}, invalid("votes", "a choice without a name")
		case seen[c]:
			return TallySubmitted{}, invalid("votes", "%q is given twice", c)
		case v.Votes > incident.MaxTallyVotes:
			return TallySubmitted{}, invalid("votes", "%s: %d, limit %d", c, v.Votes, incident.MaxTallyVotes)
		}
		seen[c] = true
		p.Votes = append(p.Votes, incident.VoteCount{Choice: c, Votes: v.Votes})
	}
	ms, err := d.mission()
	if err != nil {
		return TallySubmitted{}, err
	}
	if err := d.mayPut(ms, incident.KindTally); err != nil {
		return TallySubmitted{}, err
	}
	sealed := ms.SealByDefault()
	reg, err := d.heldRegistry(ms)
	if err != nil {
		return TallySubmitted{}, err
	}
	out := TallySubmitted{Station: p.Station}
	var onRegister uint64
	if st, ok := reg.Lookup(p.Station); ok {
		onRegister = st.Station.Registered
	} else {
		out.NotInRegistry = len(reg.Stations) > 0
	}
	var photos attached
	if len(r.Photos) > 0 {
		var files incident.ReportPayload
		if photos, err = d.attach(&files, r.Photos, nil, sealed); err != nil {
			return TallySubmitted{}, err
		}
		p.Photos, p.Files = files.Attachments, files.Files
	}
	rec, err := d.putObservation(ms, incident.KindTally, p, sealed)
	if err != nil {
		return TallySubmitted{}, classify(err)
	}
	d.dropPlain(photos)
	if err := d.capture(rec, photos, &incident.ReportPayload{Station: p.Station}); err != nil {
		return TallySubmitted{ID: rec.ID}, err
	}
	out.ID, out.Sealed = rec.ID, sealed
	out.Checks = incident.TallyChecks(&p, onRegister)
	out.Flagged = incident.FlaggedChecks(out.Checks)
	if out.Flagged == nil {
		out.Flagged = []incident.TallyCheck{}
	}
	return out, nil
}

// The statuses of a station in Results.
const (
	StatusMissing      = incident.StationMissing
	StatusOK           = incident.StationOK
	StatusFlagged      = incident.StationFlagged
	StatusConsolidated = incident.StationConsolidated
)

// ResultsQuery names the contest ("": the one contest the tallies name;
// an error lists them when they name several).
type ResultsQuery struct {
	Contest string `json:"contest,omitempty"`
}

// TallyItem is one tally in force, as Results shows it.
type TallyItem struct {
	ID      incident.ID     `json:"id"`
	Author  incident.Author `json:"author"`
	Label   string          `json:"label"`
	Created int64           `json:"created"` // Unix ms
	Sealed  bool            `json:"sealed,omitempty"`
	// Tally is the sheet as copied; a sealed tally's photo keys are not
	// in it (Photos describes the photos; Files and ReadFile open them by the tally's ID).
	Tally  incident.TallyPayload `json:"tally"`
	Checks []incident.TallyCheck `json:"checks"`
	Photos []File                `json:"photos,omitempty"`
}

// StationResult is one station's result: its tallies side by side (one
// per author: an author's latest, by claimed time then ID, replaces its
// earlier ones as a correction), never merged.
type StationResult struct {
	Code    string `json:"code"`
	Name    string `json:"name,omitempty"`
	Unit    string `json:"unit,omitempty"` // admin path joined with "/"
	PVT     bool   `json:"pvt,omitempty"`
	Stratum string `json:"stratum,omitempty"`
	Status  string `json:"status"`
	// Flags say why a station is flagged: "author: check detail" for a
	// failing check, "disagree: field a vs b" for tallies that differ.
	Flags   []string    `json:"flags,omitempty"`
	Tallies []TallyItem `json:"tallies,omitempty"`
}

// QuickCountResult is the quick count over the pvt sample, with the
// sampled stations the estimate could not use.
type QuickCountResult struct {
	incident.QuickCountEstimate
	Sample   int      `json:"sample"`   // pvt stations in the registry
	Flagged  []string `json:"flagged"`  // excluded: flagged (codes)
	Missing  []string `json:"missing"`  // no tally yet (codes)
	Excluded int      `json:"excluded"` // len(Flagged)
}

// Results is one contest's results as this device holds them.
type Results struct {
	Contest  string   `json:"contest"`
	Contests []string `json:"contests"` // every contest the tallies name
	Registry int      `json:"registry"` // stations of the registry in force
	// Counts counts the registry's stations by status.
	Counts   map[string]int  `json:"counts"`
	Stations []StationResult `json:"stations"` // the registry's, by code
	// Unknown are stations tallies name that the registry does not list,
	// counted apart.
	Unknown []StationResult `json:"unknown,omitempty"`
	// QuickCount is nil without a pvt sample in the registry.
	QuickCount *QuickCountResult `json:"quick_count,omitempty"`
}

// Results puts one contest's tallies together per station of the
// registry in force, and, with a pvt sample, computes the quick count
// over its usable stations (ok or consolidated; flagged ones are
// excluded and counted, missing ones listed). Coordinators only: only
// they read every tally. Only tallies whose author's standing covers
// them count.
func (d *Desk) Results(q ResultsQuery) (Results, error) {
	if err := text("contest", q.Contest); err != nil {
		return Results{}, err
	}
	ms, err := d.mission()
	if err != nil {
		return Results{}, err
	}
	role, err := d.myRole(ms)
	if err != nil {
		return Results{}, err
	}
	if role != incident.RoleCoordinator {
		return Results{}, refuse(Forbidden, "results are the coordinators' view: only they read every tally")
	}
	reg, err := d.heldRegistry(ms)
	if err != nil {
		return Results{}, err
	}
	recs, opened, err := d.st.Readable(incident.KindTally)
	if err != nil {
		return Results{}, classify(err)
	}
	// Each author's latest tally per station and contest.
	type key struct {
		station, contest string
		author           incident.Author
	}
	type pick struct {
		rec *incident.Signed
		it  TallyItem
	}
	latest := map[key]pick{}
	contests := map[string]bool{}
	for _, r := range recs {
		if !ms.Confirmed(r.AuthorKey(), r.ID) {
			continue
		}
		sealed := len(r.Sealed) > 0
		p, readable := readPayload(r, opened)
		if !readable {
			continue
		}
		tp, ok := p.(*incident.TallyPayload)
		if !ok {
			continue
		}
		contests[tp.Contest] = true
		k := key{incident.NormalizeCode(tp.Station), tp.Contest, r.AuthorKey()}
		if old, ok := latest[k]; ok && incident.Before(r, old.rec) {
			continue
		}
		it := TallyItem{ID: r.ID, Author: r.AuthorKey(), Created: r.Created, Sealed: sealed, Tally: *tp}
		it.Tally.Station = k.station
		if len(tp.Photos) > 0 {
			it.Photos = d.FilesOf(tp.FileSet())
		}
		it.Tally.Files = nil
		if m, ok := ms.Member(it.Author); ok {
			it.Label = m.Label
		}
		latest[k] = pick{r, it}
	}
	out := Results{Contest: q.Contest, Contests: sortedKeys(contests), Registry: len(reg.Stations),
		Counts: map[string]int{StatusMissing: 0, StatusOK: 0, StatusFlagged: 0, StatusConsolidated: 0}, Stations: []StationResult{}}
	switch {
	case q.Contest != "" && !contests[q.Contest]:
		if len(out.Contests) == 0 {
			return Results{}, invalid("contest", "no tally names contest %q (this device holds no tally yet)", q.Contest)
		}
		return Results{}, invalid("contest", "no tally names contest %q (contests: %s)", q.Contest, strings.Join(out.Contests, ", "))
	case q.Contest == "" && len(out.Contests) > 1:
		return Results{}, invalid("contest", "the tallies name %d contests (%s): name one", len(out.Contests), strings.Join(out.Contests, ", "))
	case q.Contest == "" && len(out.Contests) == 1:
		out.Contest = out.Contests[0]
	}
	byStation := map[string][]TallyItem{}
	for k, pk := range latest {
		if k.contest == out.Contest {
			byStation[k.station] = append(byStation[k.station], pk.it)
		}
	}

	var sample []incident.PVTStation
	var qc *QuickCountResult
	population := map[string]int{}
	for _, code := range reg.Codes() {
		sv := reg.Stations[code]
		st := sv.Station
		population[st.Stratum()]++
		res := stationResult(code, byStation[code], st.Registered)
		res.Name, res.Unit, res.Stratum, res.PVT = st.Name, strings.Join(st.AdminPath(), "/"), st.Stratum(), st.HasTag(incident.TagPVT)
		out.Counts[res.Status]++
		if res.PVT {
			if qc == nil {
				qc = &QuickCountResult{Flagged: []string{}, Missing: []string{}}
			}
			qc.Sample++
			switch res.Status {
			case StatusOK, StatusConsolidated:
				sample = append(sample, incident.PVTStation{Code: code, Stratum: res.Stratum, Votes: res.Tallies[0].Tally.Votes})
			case StatusFlagged:
				qc.Flagged = append(qc.Flagged, code)
			default:
				qc.Missing = append(qc.Missing, code)
			}
		}
		out.Stations = append(out.Stations, res)
	}
	for code, items := range byStation {
		if _, ok := reg.Stations[code]; ok {
			continue
		}
		out.Unknown = append(out.Unknown, stationResult(code, items, 0))
	}
	sort.Slice(out.Unknown, func(i, j int) bool { return out.Unknown[i].Code < out.Unknown[j].Code })
	if qc != nil {
		qc.QuickCountEstimate = incident.QuickCount(population, sample)
		qc.Excluded = len(qc.Flagged)
		if qc.Used*2 < qc.Sample {
			// The margin is sampling error only: it assumes the stations
			// not used are like those used, which early in the count (the
			// quick, urban ones report first) they are not.
			qc.Notes = append(qc.Notes, fmt.Sprintf("only %d of the %d sampled stations are used: the margin is sampling error alone, and assumes the stations not yet in are like those in", qc.Used, qc.Sample))
		}
		out.QuickCount = qc
	}
	return out, nil
}

// stationResult folds a station's tallies (one per author) into its
// status: missing with none; flagged when they disagree on any number or
// any check fails; consolidated when two or more agree and pass; ok with
// one that passes.
func stationResult(code string, items []TallyItem, onRegister uint64) StationResult {
	sort.Slice(items, func(i, j int) bool {
		if items[i].Created != items[j].Created {
			return items[i].Created < items[j].Created
		}
		return items[i].ID.String() < items[j].ID.String()
	})
	res := StationResult{Code: code, Status: StatusMissing, Tallies: items}
	if len(items) == 0 {
		return res
	}
	for i := range items {
		items[i].Checks = incident.TallyChecks(&items[i].Tally, onRegister)
		for _, c := range incident.FlaggedChecks(items[i].Checks) {
			res.Flags = append(res.Flags, fmt.Sprintf("%s: %s", who(items[i]), c.Detail))
		}
	}
	for _, it := range items[1:] {
		if !incident.SameNumbers(&items[0].Tally, &it.Tally) {
			res.Flags = append(res.Flags, fmt.Sprintf("disagree: %s and %s: %s", who(items[0]), who(it), differences(&items[0].Tally, &it.Tally)))
		}
	}
	sheets := make([]*incident.TallyPayload, len(items))
	for i := range items {
		sheets[i] = &items[i].Tally
	}
	res.Status = incident.StationStatus(sheets, onRegister)
	return res
}

func who(it TallyItem) string {
	if it.Label != "" {
		return it.Label
	}
	return it.Author.Short()
}

// differences names the numbers on which two tallies differ: "cast 610
// vs 612, A 300 vs 302".
func differences(a, b *incident.TallyPayload) string {
	var out []string
	for _, f := range []struct {
		name string
		x, y uint64
	}{{"registered", a.Registered, b.Registered}, {"issued", a.Issued, b.Issued}, {"cast", a.Cast, b.Cast},
		{"invalid", a.Invalid, b.Invalid}, {"blank", a.Blank, b.Blank}} {
		if f.x != f.y {
			out = append(out, fmt.Sprintf("%s %d vs %d", f.name, f.x, f.y))
		}
	}
	votes := func(p *incident.TallyPayload) map[string]uint64 {
		m := map[string]uint64{}
		for _, v := range p.Votes {
			m[v.Choice] = v.Votes
		}
		return m
	}
	va, vb := votes(a), votes(b)
	var choices []string
	for c := range va {
		choices = append(choices, c)
	}
	for c := range vb {
		if _, ok := va[c]; !ok {
			choices = append(choices, c)
		}
	}
	slices.Sort(choices)
	for _, c := range choices {
		x, inA := va[c]
		y, inB := vb[c]
		switch {
		case !inA:
			out = append(out, fmt.Sprintf("%s absent vs %d", c, y))
		case !inB:
			out = append(out, fmt.Sprintf("%s %d vs absent", c, x))
		case x != y:
			out = append(out, fmt.Sprintf("%s %d vs %d", c, x, y))
		}
	}
	return strings.Join(out, ", ")
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// readPayload is r's payload as this device reads it: decoded when in
// the clear, from opened (Store.Readable) when sealed; false when
// neither.
func readPayload(r *incident.Signed, opened map[incident.ID]any) (any, bool) {
	if len(r.Sealed) > 0 {
		p, ok := opened[r.ID]
		return p, ok
	}
	p, err := r.DecodePayload()
	return p, err == nil
}
