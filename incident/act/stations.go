package act

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/store"
)

// The station registry: a coordinator imports the mission's polling
// stations from a file as one signed snapshot (incident.ParseStationsCSV,
// incident/registry.go); everyone lists the registry in force, and the
// codes people type are compared in their normal form.

// StationImport is a registry file to import.
type StationImport struct {
	Name string `json:"name"` // the file's name, for messages
	Data []byte `json:"data"`
}

// StationsImported is what an import signed.
type StationsImported struct {
	Stations   int    `json:"stations"`
	Located    int    `json:"located"`    // with coordinates
	Sample     int    `json:"sample"`     // tagged pvt
	Registered uint64 `json:"registered"` // voters, all stations together
	Regions    int    `json:"regions"`    // distinct first admin levels
	// Snapshot names the import (hex); Registry is its registry record.
	Snapshot string      `json:"snapshot"`
	Registry incident.ID `json:"registry"`
	// Supersedes is the registry in force before, if any.
	Supersedes *incident.ID `json:"supersedes,omitempty"`
	// Identical: the file says exactly what the registry in force said.
	Identical bool `json:"identical,omitempty"`
}

// ImportStations checks a registry file whole and, when every row is
// right, signs one snapshot: a station record for each row, naming a
// fresh random snapshot, then the registry record that closes it (its
// count and the hash of the station records' IDs). Any bad row refuses
// the whole file (Invalid, field "file", each bad line named) and
// nothing is stored. Only coordinators import. Importing the same file
// again signs a new snapshot, which supersedes the one in force; the
// result says when its content is identical.
func (d *Desk) ImportStations(req StationImport) (StationsImported, error) {
	if len(req.Data) > incident.MaxStationsCSVBytes {
		return StationsImported{}, &Error{Code: Invalid, Field: "file",
			Msg: fmt.Sprintf("%s is over %d MiB: nothing imported", fileName(req.Name), incident.MaxStationsCSVBytes>>20)}
	}
	ms, err := d.mission()
	if err != nil {
		return StationsImported{}, err
	}
	for _, k := range []incident.Kind{incident.KindStation, incident.KindRegistry} {
		if err := d.mayPut(ms, k); err != nil {
			return StationsImported{}, err
		}
	}
	rows, err := incident.ParseStationsCSV(bytes.NewReader(req.Data))
	if err != nil {
		var ce *incident.StationsCSVError
		if errors.As(err, &ce) {
			return StationsImported{}, &Error{Code: Invalid, Field: "file", Msg: fileName(req.Name) + ": " + err.Error(), Cause: err}
		}
		return StationsImported{}, classify(err)
	}
	before, err := d.Registry()
	if err != nil {
		return StationsImported{}, err
	}
	snap := make([]byte, 32)
	if _, err := rand.Read(snap); err != nil {
		return StationsImported{}, classify(err)
	}
	out := StationsImported{Stations: len(rows), Snapshot: hex.EncodeToString(snap), Supersedes: before.Snapshot,
		Identical: len(before.Stations) > 0 && sameStations(before, rows)}
	regions := map[string]bool{}
	drafts := make([]store.Draft, len(rows))
	for i := range rows {
		p := rows[i]
		p.Snapshot = snap
		drafts[i] = store.Draft{Kind: incident.KindStation, Payload: p}
		if p.Lat != nil {
			out.Located++
		}
		if p.HasTag(incident.TagPVT) {
			out.Sample++
		}
		out.Registered += p.Registered
		if len(p.Admin) > 0 {
			regions[strings.ToLower(p.Admin[0])] = true
		}
	}
	out.Regions = len(regions)
	recs, err := d.st.PutMany(drafts, func(signed []*incident.Signed) (store.Draft, error) {
		ids := make([]incident.ID, len(signed))
		for i, s := range signed {
			ids[i] = s.ID
		}
		return store.Draft{Kind: incident.KindRegistry, Payload: incident.RegistryPayload{
			Snapshot: snap, Count: uint64(len(signed)), Root: incident.RegistryRoot(ids)}}, nil
	})
	if err != nil {
		return StationsImported{}, classify(err)
	}
	out.Registry = recs[len(recs)-1].ID
	return out, nil
}

func fileName(name string) string {
	if name == "" {
		return "the registry file"
	}
	return name
}

// sameStations reports whether rows say exactly what reg says, station
// by station (whatever their order, and whichever snapshot holds them).
func sameStations(reg incident.Registry, rows []incident.StationPayload) bool {
	if len(reg.Stations) != len(rows) {
		return false
	}
	for _, r := range rows {
		v, ok := reg.Stations[r.Code]
		if !ok || !sameStation(v.Station, r) {
			return false
		}
	}
	return true
}

func sameStation(a, b incident.StationPayload) bool {
	eqPtr := func(x, y *int64) bool { return x == nil && y == nil || x != nil && y != nil && *x == *y }
	return a.Code == b.Code && a.Name == b.Name && a.Area == b.Area && eqPtr(a.Lat, b.Lat) && eqPtr(a.Lon, b.Lon) &&
		slices.Equal(a.Admin, b.Admin) && a.Registered == b.Registered && slices.Equal(a.Tags, b.Tags)
}

// Registry is the registry in force on this device
// (incident.FoldRegistry over the station and registry records it holds).
func (d *Desk) Registry() (incident.Registry, error) {
	ms, err := d.mission()
	if err != nil {
		return incident.Registry{}, err
	}
	stations, err := d.st.ByKind(incident.KindStation)
	if err != nil {
		return incident.Registry{}, classify(err)
	}
	regs, err := d.st.ByKind(incident.KindRegistry)
	if err != nil {
		return incident.Registry{}, classify(err)
	}
	return incident.FoldRegistry(stations, regs, ms), nil
}

// StationQuery selects stations of the registry in force; every field
// set must match.
type StationQuery struct {
	// Area matches a level of the admin path or the area, whole and in
	// any case ("Ros Tamin"); with a "/", a path from its widest level
	// ("Calvera/Ros Tamin").
	Area string `json:"area,omitempty"`
	// Tag is one of the station's tags ("pvt", "stratum=urban").
	Tag string `json:"tag,omitempty"`
	// Search is part of the code or the name, in any case ("0042",
	// "harbour").
	Search string `json:"search,omitempty"`
}

// StationList is the registry in force, or the part a query selects.
type StationList struct {
	Stations []incident.StationView `json:"stations"` // by code
	// Total is how many stations the registry in force holds.
	Total int `json:"total"`
	// Registry is the registry record in force; nil when the stations
	// are those signed on their own (no import held whole).
	Registry *incident.ID `json:"registry,omitempty"`
	// Pending lists newer imports this device does not hold whole yet.
	Pending []incident.SnapshotProgress `json:"pending,omitempty"`
}

// Stations lists the stations of the registry in force that q selects,
// sorted by code. Any member may list them.
func (d *Desk) Stations(q StationQuery) (StationList, error) {
	for field, s := range map[string]string{"area": q.Area, "tag": q.Tag, "search": q.Search} {
		if err := text(field, s); err != nil {
			return StationList{}, err
		}
	}
	reg, err := d.Registry()
	if err != nil {
		return StationList{}, err
	}
	out := StationList{Stations: []incident.StationView{}, Total: len(reg.Stations), Registry: reg.Snapshot, Pending: reg.Pending}
	for _, code := range reg.Codes() {
		v := reg.Stations[code]
		if q.matches(&v.Station) {
			out.Stations = append(out.Stations, v)
		}
	}
	return out, nil
}

func (q StationQuery) matches(s *incident.StationPayload) bool {
	if q.Tag != "" && !s.HasTag(strings.TrimSpace(q.Tag)) {
		return false
	}
	if area := strings.TrimSpace(q.Area); area != "" && !inArea(s, area) {
		return false
	}
	if find := strings.TrimSpace(q.Search); find != "" {
		code := incident.NormalizeCode(find)
		if !(code != "" && strings.Contains(s.Code, code)) && !strings.Contains(strings.ToLower(s.Name), strings.ToLower(find)) {
			return false
		}
	}
	return true
}

// inArea: area names a level of s's admin path, or its area, or (with a
// "/") the start of its path.
func inArea(s *incident.StationPayload, area string) bool {
	if strings.Contains(area, "/") {
		want := strings.Split(area, "/")
		if len(want) > len(s.Admin) {
			return false
		}
		for i, w := range want {
			if !strings.EqualFold(strings.TrimSpace(w), s.Admin[i]) {
				return false
			}
		}
		return true
	}
	return strings.EqualFold(s.Area, area) || slices.ContainsFunc(s.Admin, func(l string) bool { return strings.EqualFold(l, area) })
}

// stationCode is a station code as a person typed it, in the normal form
// the registry compares (incident.NormalizeCode): "ps 0042" is PS-0042.
// Text that is not UTF-8 is left for the record's checks to refuse.
func stationCode(code string) string {
	if !utf8.ValidString(code) {
		return code
	}
	return incident.NormalizeCode(code)
}

// flagStation adds incident.FlagUnknownStation to flags when code names
// no station of reg (a registry with no station knows every code).
func flagStation(flags []string, reg *incident.Registry, code string) []string {
	if reg == nil || reg.Known(code) || slices.Contains(flags, incident.FlagUnknownStation) {
		return flags
	}
	flags = append(flags, incident.FlagUnknownStation)
	sort.Strings(flags)
	return flags
}
