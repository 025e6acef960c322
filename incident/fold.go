package incident

import (
	"math"
	"slices"
	"sort"
	"strconv"
	"time"
)

// Flags a fold may raise. They never change a record's validity.
const (
	FlagFutureTime      = "future_time"      // claimed time ahead of this device's clock
	FlagBeforeMission   = "before_mission"   // claimed time a day or more before the genesis
	FlagAuthorRevoked   = "author_revoked"   // the author has been revoked
	FlagUnconfirmed     = "unconfirmed"      // revoked author, record not in the accepted list, not yet reviewed
	FlagDuplicateToken  = "duplicate_token"  // the author's invite token was redeemed by two devices
	FlagUnknownCategory = "unknown_category" // well-formed, but no config defines it
	// FlagNewerFields: the report or a record that changes it carries
	// fields a newer build added; this device shows what it can read.
	FlagNewerFields = "newer_fields"
)

// Event is one entry in a report's history.
type Event struct {
	ID      ID     `json:"id"`
	Kind    Kind   `json:"kind"`
	Author  Author `json:"author"`
	Created int64  `json:"-"`
	Status  string `json:"status,omitempty"` // reviews
	Note    string `json:"note,omitempty"`   // review notes, retraction reasons
	Head    bool   `json:"head,omitempty"`   // a review nobody has superseded
	// Publish: the version (record ID) whose free text this review
	// approves for public exports; nil when it approves none.
	Publish *ID `json:"publish,omitempty"`
}

// ReportView is a report's current state: the fold of the report and every
// amend, retract and review that targets it.
type ReportView struct {
	ID            ID
	Author        Author
	Created       int64
	Sealed        bool
	Opened        bool          // sealed, and this device could read it
	Report        ReportPayload // the latest amendment's fields, or the original's
	Status        string        // head of the review chain
	Conflict      bool          // coordinators' concurrent reviews disagree
	Retracted     bool
	RetractReason string
	Amendments    int
	Flags         []string
	History       []Event // oldest first, the report itself included

	// Version is the record that holds the current fields: the report, or
	// its latest amendment (sealed or not).
	Version ID
	// TextApproved: the coordinators approved Version's free text for
	// public exports. Every head of the review chain approves that very
	// version, each by a coordinator in good standing, and this device
	// reads the version and every review (an unreadable review might
	// withdraw the approval). An amendment after the approval is a new
	// version, so it withdraws the approval until someone reviews again.
	TextApproved bool
}

// HasFlag reports whether v carries flag f.
func (v *ReportView) HasFlag(f string) bool { return slices.Contains(v.Flags, f) }

// FoldReport computes a report's view. related holds the valid records that
// target it (amend, retract, review), in any order; records that target
// another report are ignored. now is used for clock flags only. The result
// does not depend on the order of related.
func FoldReport(report *Signed, related []*Signed, ms *MissionState, now time.Time) (ReportView, error) {
	return FoldReportOpen(report, related, ms, now, nil)
}

// Opener returns the payload of a sealed record when this device can read
// it (a coordinator, or the author's kept copy), and false otherwise.
type Opener func(*Signed) (any, bool)

// FoldReportOpen is FoldReport for a device that can open some sealed
// records: opened ones fold like clear ones; the view stays marked Sealed.
func FoldReportOpen(report *Signed, related []*Signed, ms *MissionState, now time.Time, open Opener) (ReportView, error) {
	v := ReportView{ID: report.ID, Author: report.AuthorKey(), Created: report.Created, Status: StatusUnreviewed,
		Version: report.ID}
	textOf := report.ID // the record v.Report was read from
	v.History = append(v.History, Event{ID: report.ID, Kind: report.Kind, Author: v.Author, Created: report.Created})
	newer := false
	payload := func(r *Signed) (any, error) {
		if len(r.Sealed) > 0 && open != nil {
			if p, ok := open(r); ok {
				return p, nil
			}
		}
		p, extra, err := r.DecodePayloadNewer()
		newer = newer || len(extra) > 0
		return p, err
	}
	if len(report.Sealed) > 0 {
		v.Sealed = true
		if p, err := payload(report); err == nil {
			if rp, ok := p.(*ReportPayload); ok {
				v.Report = *rp
				v.Opened = true
			}
		}
	} else {
		p, err := payload(report)
		if err != nil {
			return v, err
		}
		v.Report = *p.(*ReportPayload)
	}
	rel := append([]*Signed(nil), related...)
	sort.Slice(rel, func(i, j int) bool { return Before(rel[i], rel[j]) })

	type review struct {
		ev        Event
		prev      []ID
		confirmed bool
	}
	var reviews []review
	superseded := map[ID]bool{}
	reviewed, unreadReview := false, false
	for _, r := range rel {
		if r.Kind == KindCapture {
			continue // describes a file, not the report: CaptureOf reads it
		}
		ev := Event{ID: r.ID, Kind: r.Kind, Author: r.AuthorKey(), Created: r.Created}
		p, err := payload(r)
		if err != nil {
			return v, err
		}
		switch pl := p.(type) {
		case *AmendPayload:
			if !sameID(pl.Target, report.ID) || r.AuthorKey() != v.Author {
				continue
			}
			v.Report = pl.Report
			v.Amendments++
			v.Version, textOf = r.ID, r.ID
		case *RetractPayload:
			if !sameID(pl.Target, report.ID) || r.AuthorKey() != v.Author {
				continue
			}
			v.Retracted = true
			v.RetractReason = pl.Reason
			ev.Note = pl.Reason
		case *ReviewPayload:
			if !sameID(pl.Target, report.ID) {
				continue
			}
			ev.Status, ev.Note = pl.Status, pl.Note
			if len(pl.Publish) == len(ID{}) {
				var id ID
				copy(id[:], pl.Publish)
				ev.Publish = &id
			}
			var prev []ID
			for _, b := range pl.Prev {
				var id ID
				copy(id[:], b)
				prev = append(prev, id)
				superseded[id] = true
			}
			confirmed := ms.Confirmed(r.AuthorKey(), r.ID)
			reviews = append(reviews, review{ev, prev, confirmed})
			// A revoked reviewer's unaccepted review clears nothing: a
			// seized coordinator's phone must not confirm its own forgeries.
			if confirmed {
				reviewed = true
			}
		case *SealedEnvelope:
			if !sameID(pl.Target, report.ID) {
				continue
			}
			if r.Kind == KindAmend {
				v.Amendments++
				v.Version = r.ID
			}
			if r.Kind == KindRetract {
				v.Retracted = true
			}
			if r.Kind == KindReview {
				unreadReview = true
				if ms.Confirmed(r.AuthorKey(), r.ID) {
					reviewed = true
				}
			}
		default:
			continue
		}
		v.History = append(v.History, ev)
	}
	// Heads: reviews no later review lists as seen. The latest head gives the
	// status; heads by different coordinators that disagree are a conflict.
	var heads []Event
	v.TextApproved = !unreadReview && textOf == v.Version && (!v.Sealed || v.Opened)
	for _, r := range reviews {
		if !superseded[r.ev.ID] {
			heads = append(heads, r.ev)
			if r.ev.Publish == nil || *r.ev.Publish != v.Version || !r.confirmed {
				v.TextApproved = false
			}
		}
	}
	if len(heads) == 0 {
		v.TextApproved = false
	}
	for i := range v.History {
		if v.History[i].Kind == KindReview && !superseded[v.History[i].ID] {
			v.History[i].Head = true
		}
	}
	if len(heads) > 0 {
		v.Status = heads[len(heads)-1].Status
		for _, h := range heads {
			if h.Status != v.Status && h.Author != heads[len(heads)-1].Author {
				v.Conflict = true
			}
		}
	}
	v.Flags = RecordFlags(report, ms, now)
	if !v.Sealed || v.Opened {
		if v.Report.Occurred > now.Add(ClockSkewFlag).UnixMilli() && !slices.Contains(v.Flags, FlagFutureTime) {
			v.Flags = append(v.Flags, FlagFutureTime)
		}
		if _, ok := ms.Category(v.Report.Category); !ok {
			v.Flags = append(v.Flags, FlagUnknownCategory)
		}
	}
	if reviewed {
		v.Flags = remove(v.Flags, FlagUnconfirmed)
	}
	if newer {
		v.Flags = append(v.Flags, FlagNewerFields)
	}
	sort.Strings(v.Flags)
	return v, nil
}

// RecordFlags returns the flags any record can carry.
func RecordFlags(s *Signed, ms *MissionState, now time.Time) []string {
	var flags []string
	if s.Created > now.Add(ClockSkewFlag).UnixMilli() {
		flags = append(flags, FlagFutureTime)
	}
	if ms.Genesis != nil && s.Created < ms.Genesis.Created-24*time.Hour.Milliseconds() {
		flags = append(flags, FlagBeforeMission)
	}
	a := s.AuthorKey()
	if len(ms.Revocations(a)) > 0 {
		flags = append(flags, FlagAuthorRevoked)
		if !ms.Confirmed(a, s.ID) {
			flags = append(flags, FlagUnconfirmed)
		}
	}
	for _, m := range ms.members[a] {
		if ms.DuplicateToken(m) {
			flags = append(flags, FlagDuplicateToken)
			break
		}
	}
	if f := ms.inviteFlag(a); f != "" {
		flags = append(flags, f)
		if !slices.Contains(flags, FlagUnconfirmed) {
			flags = append(flags, FlagUnconfirmed)
		}
	}
	sort.Strings(flags)
	return flags
}

// Before orders records by claimed time, then ID: a total order every node
// agrees on.
func Before(a, b *Signed) bool {
	if a.Created != b.Created {
		return a.Created < b.Created
	}
	return string(a.ID[:]) < string(b.ID[:])
}

func sameID(b []byte, id ID) bool { return len(b) == len(id) && string(b) == string(id[:]) }

func remove(list []string, s string) []string {
	out := list[:0]
	for _, x := range list {
		if x != s {
			out = append(out, x)
		}
	}
	return out
}

// Micro converts degrees to integer microdegrees.
func Micro(deg float64) *int64 {
	v := int64(math.Round(deg * 1e6))
	return &v
}

// Degrees converts microdegrees back to degrees (nil stays nil).
func Degrees(m *int64) *float64 {
	if m == nil {
		return nil
	}
	d := float64(*m) / 1e6
	return &d
}

// FormatMicro prints microdegrees as decimal degrees.
func FormatMicro(m int64) string { return strconv.FormatFloat(float64(m)/1e6, 'f', -1, 64) }
