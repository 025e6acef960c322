package demo

import (
	"bytes"
	"testing"
	"time"

	"github.com/vigil-mesh/vigil/incident"
)

// The practice mission holds the four phase checklists, required, and
// answers that fit them: most observers answer every phase, a late
// opening and a short-staffed station are flagged, and at one station
// two observers' counting checklists disagree. Across seeds every answer
// fits its form (a form change that breaks the demo fails here).
func TestPracticeChecklists(t *testing.T) {
	founder, _ := incident.NewSigner(bytes.Repeat([]byte{9}, 32))
	genesis, err := founder.Sign(incident.ID{}, incident.KindMission, testDay.Add(-10*24*time.Hour),
		incident.MissionPayload{Name: MissionName, Nonce: bytes.Repeat([]byte{2}, 16), Taxonomy: incident.TaxonomyVersion})
	if err != nil {
		t.Fatal(err)
	}
	for seed := uint64(1); seed <= 6; seed++ {
		w := newWorld(seed)
		w.founder.signer = founder
		p, err := build(w, genesis, testDay.AddDate(0, 0, int(seed)))
		if err != nil {
			t.Fatal(err)
		}
		ms, _ := incident.NewMissionState(genesis)
		var formRecs, responses []*incident.Signed
		for _, r := range p.records {
			if err := ms.Apply(r); err != nil {
				t.Fatal(err)
			}
			switch r.Kind {
			case incident.KindForm:
				formRecs = append(formRecs, r)
			case incident.KindResponse:
				responses = append(responses, r)
			}
		}
		forms := map[incident.ID]incident.FormPayload{}
		phases := map[string]bool{}
		for _, f := range incident.FoldForms(formRecs, ms) {
			forms[f.ID] = f.Form
			if f.Current && f.Form.Required {
				phases[f.Form.Phase] = true
			}
		}
		if len(forms) != 4 || len(phases) != 4 {
			t.Fatalf("seed %d: %d forms counting, required phases %v", seed, len(forms), phases)
		}
		perPhase := map[string]int{}
		flagged := 0
		byStation := map[string][]*incident.ResponsePayload{}
		for _, r := range responses {
			pl, err := r.DecodePayload()
			if err != nil {
				t.Fatal(err)
			}
			rp := pl.(*incident.ResponsePayload)
			id, _ := rp.FormID()
			f, ok := forms[id]
			if !ok {
				t.Fatalf("seed %d: a response to a form not in the mission", seed)
			}
			if err := incident.CheckAnswers(&f, rp.Answers); err != nil {
				t.Fatalf("seed %d: %s at %s: %v", seed, f.Name, rp.Station, err)
			}
			perPhase[f.Phase]++
			if len(f.FlaggedAnswers(rp.Answers)) > 0 {
				flagged++
			}
			if f.Name == "counting" {
				byStation[rp.Station] = append(byStation[rp.Station], rp)
			}
		}
		twice := 0
		for _, list := range byStation {
			if len(list) == 2 {
				twice++
			}
		}
		n := len(w.observers)
		if perPhase[incident.PhaseOpening] < n*9/10 || perPhase[incident.PhaseVoting] < n/2 || perPhase[incident.PhaseClosing] < n*8/10 ||
			perPhase[incident.PhaseCounting] < n*7/10 || flagged < 3 || twice != 1 {
			t.Errorf("seed %d: responses per phase %v, %d flagged, %d stations answered twice", seed, perPhase, flagged, twice)
		}
	}
}
