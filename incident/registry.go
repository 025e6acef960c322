package incident

import (
	"bytes"
	"crypto/sha256"
	"sort"
	"strings"

	"filippo.io/age"
)

// The station registry and assignments. A coordinator imports the
// mission's polling stations as one snapshot: a station record for each
// station, naming the snapshot, then a registry record that closes it
// (its count and the hash of its station records' IDs). Records travel
// one by one, so a device may hold part of a snapshot: the registry in
// force is the newest snapshot it holds whole, and stations signed on
// their own (before registries, or the practice mission's) count while
// no snapshot is complete.
//
// An assignment posts a member to a station; the member's latest, by
// claimed time then ID, is in force. Who is posted where is what a seized
// phone must not reveal: where the mission seals, an assignment is sealed
// to the coordinators and the member it posts (AssignmentRecipients), and
// its public envelope names neither.

// Registry limits.
const (
	MaxAdminLevels = 6
	MaxTags        = 32
	MaxTagLen      = 64
	MaxRegistered  = 100_000_000 // voters on one station's register
)

// TagPVT marks a station of the quick-count sample; TagStratum prefixes
// its stratum ("stratum=NAME").
const (
	TagPVT     = "pvt"
	TagStratum = "stratum="
)

// NormalizeCode is the form a station code is stored and compared in:
// trimmed, upper case, and each run of spaces, underscores or dashes one
// dash, so that "ps 0042", "PS_0042" and "ps-0042" are one station.
func NormalizeCode(code string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToUpper(strings.TrimSpace(code)) {
		switch {
		case r == ' ' || r == '\t' || r == '_' || r == '-':
			dash = true
			continue
		case dash && b.Len() > 0:
			b.WriteByte('-')
		}
		dash = false
		b.WriteRune(r)
	}
	return b.String()
}

// HasTag reports whether a station carries tag.
func (p *StationPayload) HasTag(tag string) bool {
	for _, t := range p.Tags {
		if t == tag {
			return true
		}
	}
	return false
}

// Stratum is the station's stratum tag's name ("" for none).
func (p *StationPayload) Stratum() string {
	for _, t := range p.Tags {
		if name, ok := strings.CutPrefix(t, TagStratum); ok {
			return name
		}
	}
	return ""
}

// validateStationMore checks the fields registries added to stations.
//
// A station's code is not required in its normal form: stations signed
// before registries were checked without that rule, and an existing
// field's rules never change (docs/record-format.md). The registry
// compares codes in their normal form, and imports write them so.
func validateStationMore(v *StationPayload) error {
	if len(v.Admin) > MaxAdminLevels {
		return fieldErr("payload.admin", "%d levels, limit %d", len(v.Admin), MaxAdminLevels)
	}
	for _, level := range v.Admin {
		if err := checkText("payload.admin", level, MaxAreaLen, true); err != nil {
			return err
		}
		if strings.Contains(level, "/") {
			return fieldErr("payload.admin", "%q: a level's name holds no /", level)
		}
	}
	if v.Registered > MaxRegistered {
		return fieldErr("payload.registered", "%d voters on one station, limit %d", v.Registered, MaxRegistered)
	}
	if len(v.Tags) > MaxTags {
		return fieldErr("payload.tags", "%d tags, limit %d", len(v.Tags), MaxTags)
	}
	for _, t := range v.Tags {
		if err := checkCode("payload.tags", t, true); err != nil {
			return err
		}
		if len(t) > MaxTagLen {
			return fieldErr("payload.tags", "%q is longer than %d bytes", t, MaxTagLen)
		}
	}
	if v.Snapshot != nil && len(v.Snapshot) != 32 {
		return fieldErr("payload.snapshot", "must be 32 bytes, got %d", len(v.Snapshot))
	}
	return nil
}

func validateRegistry(v *RegistryPayload) error {
	if len(v.Snapshot) != 32 {
		return fieldErr("payload.snapshot", "must be 32 bytes, got %d", len(v.Snapshot))
	}
	if v.Count == 0 || v.Count > MaxRegistryStations {
		return fieldErr("payload.count", "%d stations, want 1 to %d", v.Count, MaxRegistryStations)
	}
	if len(v.Root) != 32 {
		return fieldErr("payload.root", "must be 32 bytes, got %d", len(v.Root))
	}
	return nil
}

// MaxRegistryStations bounds one registry snapshot.
const MaxRegistryStations = 200_000

func validateAssignment(v *AssignmentPayload) error {
	if len(v.Member) != len(Author{}) {
		return fieldErr("payload.member", "must be a %d-byte author key, got %d bytes", len(Author{}), len(v.Member))
	}
	if v.Station != "" {
		if err := checkCode("payload.station", v.Station, true); err != nil {
			return err
		}
		if NormalizeCode(v.Station) != v.Station {
			return fieldErr("payload.station", "%q is not in its normal form %q", v.Station, NormalizeCode(v.Station))
		}
	}
	return checkText("payload.note", v.Note, MaxNoteLen, false)
}

// RegistryRoot is the hash a registry record carries of its stations'
// record IDs (any order given: they are sorted).
func RegistryRoot(ids []ID) []byte {
	sorted := append([]ID(nil), ids...)
	sort.Slice(sorted, func(i, j int) bool { return bytes.Compare(sorted[i][:], sorted[j][:]) < 0 })
	h := sha256.New()
	for _, id := range sorted {
		h.Write(id[:])
	}
	return h.Sum(nil)
}

// SealRecipientsWith is SealRecipients and member's own key: what a
// record about one member (an assignment, the answer to its alert) is
// sealed to. A revoked member is left out: whoever holds its keys must
// not read what is sealed after the revocation.
func (ms *MissionState) SealRecipientsWith(member Author) ([]age.Recipient, error) {
	out, err := ms.SealRecipients()
	if err != nil {
		return nil, err
	}
	m, ok := ms.Member(member)
	if !ok || len(ms.Revocations(member)) > 0 || m.Role == RoleCoordinator {
		return out, nil
	}
	r, err := age.ParseX25519Recipient(m.Recipient)
	if err != nil {
		return nil, fieldErr("member", "%s has no key to seal to: %v", member, err)
	}
	return append(out, r), nil
}
