package gen

import (
	mrand "math/rand/v2"
	"time"

	"github.com/vigil-mesh/vigil/incident"
)

// KindLongReport asks SMSPayloads for reports as the mesh benchmarks
// write them (the payload is a report).
const KindLongReport incident.Kind = "report_long"

// SMSPayload is one observation as an observer sends it by SMS: its
// kind, payload and creation time.
type SMSPayload struct {
	Kind    incident.Kind
	Payload any
	Created time.Time
}

// SMSPayloads returns n observations of kind as they are typed on a
// phone for SMS, deterministic in (seed, i):
//   - a report: a title of 15 to 60 characters, a station (its area is
//     the registry's), the phone's location seven times in ten, a short
//     description (up to 60 characters) one in five;
//   - KindLongReport: the mesh generator's report without its files (a
//     title up to 120 characters, an area, a description up to 900
//     characters six times in ten), to show what does not fit;
//   - a check-in: a status at a station;
//   - an alert: a note of up to 60 characters, a station, a location half
//     the time;
//   - a tally: one contest, 2 to 8 candidates with names of 4 to 12 letters;
//   - a response: a short checklist of 4 to 8 answers.
func (w *World) SMSPayloads(kind incident.Kind, n int, seed uint64) []SMSPayload {
	out := make([]SMSPayload, n)
	start := time.Date(2026, 8, 9, 6, 0, 0, 0, time.UTC)
	for i := range n {
		rng := mrand.New(mrand.NewPCG(seed, uint64(i)<<8|uint64(len(kind))))
		created := start.Add(time.Duration(rng.Int64N(int64(14 * time.Hour)))).Truncate(time.Millisecond)
		st := w.Stations[rng.IntN(len(w.Stations))]
		var p any
		switch kind {
		case incident.KindReport:
			r, _, _ := w.report(rng, Spec{Start: start}, 1)
			r.Attachments, r.Description, r.Area = nil, "", ""
			r.Title = sentence(rng, 15+rng.IntN(45))
			r.Occurred = created.Add(-time.Duration(rng.Int64N(int64(2 * time.Hour)))).UnixMilli()
			if rng.IntN(5) == 0 {
				r.Description = sentence(rng, 20+rng.IntN(40))
			}
			if r.Source != "" {
				r.Source = sentence(rng, 5+rng.IntN(20))
			}
			p = r
		case KindLongReport:
			r, _, _ := w.report(rng, Spec{Start: start}, 1)
			r.Attachments = nil
			r.Occurred = created.Add(-time.Duration(rng.Int64N(int64(2 * time.Hour)))).UnixMilli()
			p = r
		case incident.KindCheckin:
			p = incident.CheckinPayload{Status: incident.CheckinStatuses[rng.IntN(len(incident.CheckinStatuses))], Station: st.Code}
		case incident.KindAlert:
			a := incident.AlertPayload{Note: sentence(rng, 10+rng.IntN(50)), Station: st.Code}
			if rng.IntN(2) == 0 {
				a.Lat, a.Lon = &st.Lat, &st.Lon
			}
			p = a
		case incident.KindTally:
			t := incident.TallyPayload{Station: st.Code, Contest: "presidential", Registered: 400 + uint64(rng.IntN(600))}
			for range 2 + rng.IntN(7) {
				v := uint64(rng.IntN(300))
				t.Votes = append(t.Votes, incident.VoteCount{Choice: capitalize(word(rng, 4, 12)), Votes: v})
				t.Cast += v
			}
			t.Invalid, t.Blank = uint64(rng.IntN(12)), uint64(rng.IntN(6))
			t.Cast += t.Invalid + t.Blank
			t.Issued = t.Cast + uint64(rng.IntN(5))
			p = t
		case incident.KindResponse:
			r := incident.ResponsePayload{Form: RandomBytes(32), Station: st.Code}
			for q := range 4 + rng.IntN(5) {
				r.Answers = append(r.Answers, incident.Answer{Question: word(rng, 4, 12), Value: []string{"yes", "no", "na", "12", "240"}[(q+rng.IntN(5))%5]})
			}
			p = r
		}
		k := kind
		if k == KindLongReport {
			k = incident.KindReport
		}
		out[i] = SMSPayload{Kind: k, Payload: p, Created: created}
	}
	return out
}
