package app

import (
	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/act"
)

// Forms lists the form versions held (act.Desk.Forms).
func (b *StoreBackend) Forms() ([]incident.FormView, error) { return b.desk.Forms() }

// MyPhase reads this device's own records and places each in a phase as
// coverage does (act.HeardIn, the one mapping of records to phases): the
// latest phase any is placed in is where this observer's day is.
func (b *StoreBackend) MyPhase() (string, error) {
	forms, err := b.desk.Forms()
	if err != nil {
		return "", err
	}
	phases := make(map[incident.ID]string, len(forms))
	for _, f := range forms {
		phases[f.ID] = f.Form.Phase
	}
	phaseOf := func(id incident.ID) string { return phases[id] }
	recs, err := b.st.ByAuthor(b.st.Author())
	if err != nil {
		return "", err
	}
	latest := -1
	for _, r := range recs {
		switch r.Kind {
		case incident.KindCheckin, incident.KindResponse, incident.KindTally:
		default:
			continue
		}
		p, ok := b.st.Open(r) // its own sealed records: the kept copy
		if !ok {
			continue
		}
		if phase, _, heard := act.HeardIn(r.Kind, p, phaseOf); heard {
			for i, ph := range act.Phases {
				if ph == phase && i > latest {
					latest = i
				}
			}
		}
	}
	if latest < 0 {
		return "", nil
	}
	return act.Phases[latest], nil
}

// SubmitChecklist stores a response (act.Desk.SubmitChecklist).
func (b *StoreBackend) SubmitChecklist(r act.ChecklistRequest) (act.ChecklistSubmitted, error) {
	return b.desk.SubmitChecklist(r)
}

// Checklists lists the responses read (act.Desk.Checklists).
func (b *StoreBackend) Checklists(q act.ChecklistQuery) (act.ChecklistList, error) {
	return b.desk.Checklists(q)
}

// SaveChecklistDraft keeps a draft (act.Desk.SaveChecklistDraft).
func (b *StoreBackend) SaveChecklistDraft(d act.ChecklistDraft) error {
	return b.desk.SaveChecklistDraft(d)
}

// ChecklistDraft reads a draft (act.Desk.ChecklistDraft).
func (b *StoreBackend) ChecklistDraft(form incident.ID, station string) (act.ChecklistDraft, bool, error) {
	return b.desk.ChecklistDraft(form, station)
}

// ChecklistDrafts lists the drafts (act.Desk.ChecklistDrafts).
func (b *StoreBackend) ChecklistDrafts() ([]act.ChecklistDraft, error) {
	return b.desk.ChecklistDrafts()
}
