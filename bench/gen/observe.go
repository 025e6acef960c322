package gen

import (
	"fmt"
	"runtime"
	"strconv"
	"sync"
	"time"

	"filippo.io/age"

	"github.com/vigil-mesh/vigil/incident"
)

// Observation is a national mission's systematic observation, signed in
// memory: a registry of Stations stations (10 regions of 20 districts,
// every eighth station in the pvt sample, each region a stratum), the
// mission's four phase checklists (required), and for each of the
// mission's observers (one per station, from the first): a sealed
// assignment to station i, a sealed response to each checklist, and,
// for the first Tallies observers, a sealed tally of the presidential
// contest (every twentieth does not add up). Sealed records go to
// recipients.
type Observation struct {
	Stations int
	Tallies  int
}

// Observation signs o's records (the founder signs the registry, the
// forms and the assignments) and returns their encodings, each kind
// after the ones it depends on. The mission needs at least o.Stations
// observers.
func (m *Mission) Observation(o Observation, recipients []age.Recipient) ([][]byte, error) {
	if len(m.Observers) < o.Stations || o.Tallies > o.Stations {
		return nil, fmt.Errorf("%d observers for %d stations and %d tallies", len(m.Observers), o.Stations, o.Tallies)
	}
	founder := m.Founder.Signer()
	at := time.Now().Add(-24 * time.Hour)
	var out [][]byte
	sign := func(s *incident.Signer, k incident.Kind, t time.Time, p any) (*incident.Signed, error) {
		rec, err := s.Sign(m.ID, k, t, p)
		if err == nil {
			out = append(out, rec.Raw)
		}
		return rec, err
	}
	snap := RandomBytes(32)
	ids := make([]incident.ID, o.Stations)
	for i := range o.Stations {
		p := ObservedStation(i)
		p.Snapshot = snap
		rec, err := sign(founder, incident.KindStation, at, p)
		if err != nil {
			return nil, err
		}
		ids[i] = rec.ID
	}
	if _, err := sign(founder, incident.KindRegistry, at.Add(time.Second), incident.RegistryPayload{
		Snapshot: snap, Count: uint64(o.Stations), Root: incident.RegistryRoot(ids)}); err != nil {
		return nil, err
	}
	forms := PhaseForms()
	formIDs := make([][]byte, len(forms))
	for i, f := range forms {
		rec, err := sign(founder, incident.KindForm, at.Add(2*time.Second), f)
		if err != nil {
			return nil, err
		}
		formIDs[i] = rec.ID.Bytes()
	}
	// The sealed records, in parallel: an assignment (the founder's), four
	// responses and maybe a tally (the observer's) per station.
	per := make([][][]byte, o.Stations)
	seal := func(s *incident.Signer, k incident.Kind, t time.Time, p any) ([]byte, error) {
		ct, err := incident.Seal(k, p, recipients)
		if err != nil {
			return nil, err
		}
		rec, err := s.SignSealed(m.ID, k, t, incident.SealedEnvelope{}, ct)
		if err != nil {
			return nil, err
		}
		return rec.Raw, nil
	}
	one := func(i int) error {
		obs := m.Observers[i]
		a := obs.Author()
		code := ObservedCode(i)
		t := at.Add(time.Minute + time.Duration(i)*time.Millisecond)
		raw, err := seal(founder, incident.KindAssignment, t, incident.AssignmentPayload{Member: a[:], Station: code})
		if err != nil {
			return err
		}
		list := [][]byte{raw}
		for j := range forms {
			r := incident.ResponsePayload{Form: formIDs[j], Station: code, Answers: PhaseAnswers(i)}
			if raw, err = seal(obs, incident.KindResponse, t.Add(time.Duration(j+1)*3*time.Hour), r); err != nil {
				return err
			}
			list = append(list, raw)
		}
		if i < o.Tallies {
			v := uint64(200 + i%97)
			p := incident.TallyPayload{Station: code, Contest: "presidential", Registered: 900, Issued: v + 320, Cast: v + 310,
				Invalid: 6, Blank: 4, Votes: []incident.VoteCount{{Choice: "Amara", Votes: v}, {Choice: "Bello", Votes: 300}}}
			if i%20 == 0 {
				p.Cast++
			}
			if raw, err = seal(obs, incident.KindTally, t.Add(13*time.Hour), p); err != nil {
				return err
			}
			list = append(list, raw)
		}
		per[i] = list
		return nil
	}
	workers := runtime.GOMAXPROCS(0)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < o.Stations; i += workers {
				if err := one(i); err != nil {
					errs[w] = fmt.Errorf("station %d: %w", i, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	// Assignments first (a kind's order within a batch does not matter
	// to the store, but a reader of the list may expect it).
	for _, list := range per {
		out = append(out, list[0])
	}
	for _, list := range per {
		out = append(out, list[1:]...)
	}
	return out, nil
}

// ObservedCode is station i's code in an Observation.
func ObservedCode(i int) string { return fmt.Sprintf("PS-%05d", i) }

// ObservedStation is station i of an Observation's registry (its code
// set, its snapshot not).
func ObservedStation(i int) incident.StationPayload {
	p := incident.StationPayload{Code: ObservedCode(i), Name: "School " + strconv.Itoa(i), Registered: 900,
		Admin: []string{fmt.Sprintf("Region %d", i%10), fmt.Sprintf("District %d", i/10%20), fmt.Sprintf("Ward %d", i/200)},
		Tags:  []string{incident.TagStratum + fmt.Sprintf("r%d", i%10)}}
	if i%8 == 0 {
		p.Tags = append(p.Tags, incident.TagPVT)
	}
	return p
}

// PhaseForms are four required checklists, one per phase, of the size a
// mission uses (12 questions each: selects, counts and a remark).
func PhaseForms() []incident.FormPayload {
	var out []incident.FormPayload
	lo, hi := int64(0), int64(5000)
	yes := []incident.Choice{{Name: "yes", Label: "Yes"}, {Name: "no", Label: "No"}, {Name: incident.AnswerNA, Label: "N/A"}}
	for p, phase := range incident.Phases {
		f := incident.FormPayload{Name: phase, Version: "1", Title: phase + " checklist", Phase: phase, Required: true}
		for q := range 12 {
			id := fmt.Sprintf("q%02d", q)
			question := incident.Question{ID: id, Code: fmt.Sprintf("%c%d", 'A'+p, q), Label: "Question " + id + " of the " + phase + " checklist?", Required: true}
			switch q % 3 {
			case 0, 1:
				question.Type, question.Choices = incident.QuestionSelectOne, yes
				question.Flag = &incident.Condition{Terms: []incident.Term{{Op: "=", Value: "no"}}}
			case 2:
				question.Type, question.Min, question.Max = incident.QuestionInteger, &lo, &hi
			}
			if q == 11 {
				question = incident.Question{ID: id, Code: fmt.Sprintf("%c%d", 'A'+p, q), Type: incident.QuestionText, Label: "Remarks"}
			}
			f.Questions = append(f.Questions, question)
		}
		out = append(out, f)
	}
	return out
}

// PhaseAnswers are station i's answers to a PhaseForms form: every
// question but the remark answered, one in seventeen flagged.
func PhaseAnswers(i int) []incident.Answer {
	var out []incident.Answer
	for q := range 11 {
		v := "yes"
		switch {
		case q%3 == 2:
			v = strconv.Itoa((i*7 + q) % 900)
		case (i+q)%17 == 0:
			v = "no"
		}
		out = append(out, incident.Answer{Question: fmt.Sprintf("q%02d", q), Value: v})
	}
	return out
}
