package act

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/vigil-mesh/vigil/incident"
)

// Checklists: an observer (or a coordinator) answers one version of a
// form for one station; the response is checked against the form before
// it is signed (incident.CheckAnswers: an answer that does not fit is
// refused, naming the question), and sealed to the coordinators where
// the mission seals, as a tally is. Readers list responses per station
// and form, each author's latest counting, and put co-observers' answers
// side by side: two observers at one station who disagree are both
// shown, never merged into one answer.
//
// While a person answers, the app keeps a draft per form version and
// station in the store (ChecklistDraft), never in plain preferences.

// ChecklistRequest answers a form at a station. Form is a form version's
// record ID, a unique prefix of it, or a form's name (its current
// version: Desk.Form); Station is any form of the code (stored in its
// normal form). Answers are text, as incident.Answer says: a choice's
// name, names separated by one space, a decimal integer, free text, or
// "na" where the question allows it (never 0 for "not applicable").
type ChecklistRequest struct {
	Form    string            `json:"form"`
	Station string            `json:"station"`
	Answers []incident.Answer `json:"answers"`
}

// ChecklistSubmitted is what SubmitChecklist stored.
type ChecklistSubmitted struct {
	ID      incident.ID `json:"id"`
	Sealed  bool        `json:"sealed,omitempty"`
	Form    incident.ID `json:"form"`    // the form version answered
	Station string      `json:"station"` // normal form
	// Flagged are the IDs of the questions whose answers the form flags
	// for coordinators ("materials present: no"), in the form's order.
	Flagged []string `json:"flagged"`
	// NotInRegistry: the mission holds a registry and the station is not
	// in it; stored, and counted apart by coverage.
	NotInRegistry bool `json:"not_in_registry,omitempty"`
}

// SubmitChecklist checks and stores a response: observers and
// coordinators, to a form version this device holds, sealed to the
// coordinators where the mission seals. Answers are trimmed and put in
// the form's order; any that does not fit the form (a value out of
// range, a question the form lacks or does not ask given the other
// answers, a required question left out) refuses the whole response as
// Invalid on field "answers", the message naming the question's ID. The
// draft of that form version and station, if any, is discarded.
func (d *Desk) SubmitChecklist(r ChecklistRequest) (ChecklistSubmitted, error) {
	for field, s := range map[string]string{"form": r.Form, "station": r.Station} {
		if err := text(field, s); err != nil {
			return ChecklistSubmitted{}, err
		}
	}
	code := incident.NormalizeCode(r.Station)
	switch {
	case code == "":
		return ChecklistSubmitted{}, invalid("station", "is required")
	case len(code) > incident.MaxCodeLen:
		return ChecklistSubmitted{}, invalid("station", "%q is over %d characters", code, incident.MaxCodeLen)
	}
	answers, err := trimAnswers(r.Answers)
	if err != nil {
		return ChecklistSubmitted{}, err
	}
	ms, err := d.mission()
	if err != nil {
		return ChecklistSubmitted{}, err
	}
	if err := d.mayPut(ms, incident.KindResponse); err != nil {
		return ChecklistSubmitted{}, err
	}
	form, err := d.Form(r.Form)
	if err != nil {
		return ChecklistSubmitted{}, err
	}
	answers = form.Form.SortAnswers(answers)
	if err := incident.CheckAnswers(&form.Form, answers); err != nil {
		return ChecklistSubmitted{}, invalid("answers", "%v", err)
	}
	reg, err := d.heldRegistry(ms)
	if err != nil {
		return ChecklistSubmitted{}, err
	}
	sealed := ms.SealByDefault()
	p := incident.ResponsePayload{Form: form.ID.Bytes(), Station: code, Answers: answers}
	rec, err := d.putObservation(ms, incident.KindResponse, p, sealed)
	if err != nil {
		return ChecklistSubmitted{}, classify(err)
	}
	out := ChecklistSubmitted{ID: rec.ID, Sealed: sealed, Form: form.ID, Station: code,
		Flagged: form.Form.FlaggedAnswers(answers), NotInRegistry: len(reg.Stations) > 0 && !reg.Known(code)}
	if out.Flagged == nil {
		out.Flagged = []string{}
	}
	// The response is stored: a draft left behind is only a stale
	// screen, and failing here would make the caller submit it twice.
	_ = d.DiscardChecklistDraft(form.ID, code)
	return out, nil
}

// trimAnswers trims each answer's question and value, and refuses an
// empty one (leave a question out to leave it unanswered), a question
// answered twice, and more answers than a form has questions.
func trimAnswers(in []incident.Answer) ([]incident.Answer, error) {
	if len(in) > incident.MaxFormQuestions {
		return nil, invalid("answers", "%d answers, limit %d", len(in), incident.MaxFormQuestions)
	}
	out := make([]incident.Answer, 0, len(in))
	seen := map[string]bool{}
	for _, a := range in {
		q, v := strings.TrimSpace(a.Question), strings.TrimSpace(a.Value)
		for _, s := range []string{q, v} {
			if err := text("answers", s); err != nil {
				return nil, err
			}
		}
		switch {
		case q == "":
			return nil, invalid("answers", "an answer names no question")
		case v == "":
			return nil, invalid("answers", "question %s: the answer is empty (leave the question out to leave it unanswered)", q)
		case seen[q]:
			return nil, invalid("answers", "question %s is answered twice", q)
		case len(v) > incident.MaxNoteLen:
			return nil, invalid("answers", "question %s: the answer is over %d bytes", q, incident.MaxNoteLen)
		}
		seen[q] = true
		out = append(out, incident.Answer{Question: q, Value: v})
	}
	return out, nil
}

// ChecklistQuery narrows Checklists to one form (a reference as
// ChecklistRequest's: every version of its name is listed) or one
// station (any form of the code).
type ChecklistQuery struct {
	Form    string `json:"form,omitempty"`
	Station string `json:"station,omitempty"`
}

// ChecklistResponse is one response as Checklists shows it.
type ChecklistResponse struct {
	ID      incident.ID       `json:"id"`
	Author  incident.Author   `json:"author"`
	Label   string            `json:"label"`
	Created int64             `json:"created"` // Unix ms, as claimed
	Sealed  bool              `json:"sealed,omitempty"`
	Form    incident.ID       `json:"form"`              // the version answered
	Version string            `json:"version,omitempty"` // as the form writes it
	Answers []incident.Answer `json:"answers"`
	// Flagged are the questions whose answers the form flags.
	Flagged []string `json:"flagged,omitempty"`
	// Misfit says why the answers do not fit their form (the question
	// and the problem), or that this device holds no such form version;
	// such a response is shown, never dropped.
	Misfit string `json:"misfit,omitempty"`
}

// AuthorAnswer is one author's answer to a question, beside the others'.
type AuthorAnswer struct {
	Author incident.Author `json:"author"`
	Label  string          `json:"label"`
	// Value is the answer; Answered is false when this author's response
	// leaves the question out (not asked given its other answers, or
	// optional), and Value is then "".
	Value    string `json:"value"`
	Answered bool   `json:"answered"`
	Flagged  bool   `json:"flagged,omitempty"`
}

// QuestionAnswers is one question of a form, with each counting
// response's answer side by side, in the group's response order.
type QuestionAnswers struct {
	Question string         `json:"question"` // its ID
	Code     string         `json:"code,omitempty"`
	Label    string         `json:"label,omitempty"`
	Type     string         `json:"type,omitempty"` // "" when no version held has it
	Answers  []AuthorAnswer `json:"answers"`
	// Disagree: two authors answered it differently. Free-text answers
	// are shown side by side but never disagree (two observers' remarks
	// always differ in words), and a question one author left out is not
	// a disagreement by itself (an earlier answer it depends on is, or
	// it was optional).
	Disagree bool `json:"disagree,omitempty"`
}

// ChecklistGroup is one form's responses at one station.
type ChecklistGroup struct {
	Station     string `json:"station"` // normal form
	StationName string `json:"station_name,omitempty"`
	// NotInRegistry: the mission holds a registry and the station is not
	// in it.
	NotInRegistry bool `json:"not_in_registry,omitempty"`
	// Form is the form's name; the version's record ID when this device
	// holds no version of what the responses answer.
	Form  string `json:"form"`
	Title string `json:"title,omitempty"`
	Phase string `json:"phase,omitempty"`
	// Responses are the ones that count: each author's latest (by claimed
	// time, then ID), oldest first. Superseded counts the earlier ones
	// their authors replaced.
	Responses  []ChecklistResponse `json:"responses"`
	Superseded int                 `json:"superseded,omitempty"`
	// Questions are those any counting response answers, in the form's
	// order, each with every author's answer side by side.
	Questions []QuestionAnswers `json:"questions"`
	// Disagree: the authors disagree on at least one question.
	Disagree bool `json:"disagree,omitempty"`
}

// ChecklistList is the responses this device reads, by station and form.
type ChecklistList struct {
	Groups []ChecklistGroup `json:"groups"`
	// Responses counts the counting responses listed; Superseded the
	// earlier ones they replace; Disagreements the groups whose authors
	// disagree; Flagged the responses with a flagged answer; Misfits
	// those that do not fit their form or answer a form not held.
	Responses     int `json:"responses"`
	Superseded    int `json:"superseded"`
	Disagreements int `json:"disagreements"`
	Flagged       int `json:"flagged"`
	Misfits       int `json:"misfits"`
}

// Checklists lists the responses this device reads (in the clear, or
// sealed ones it opens: a coordinator every one, an observer its own),
// grouped by station and form, sorted by station, then phase, then form
// name. Only responses whose author's standing covers them count, as
// with tallies (Results): a member revoked accepting none, or whose
// invite is void, is left out.
func (d *Desk) Checklists(q ChecklistQuery) (ChecklistList, error) {
	for field, s := range map[string]string{"form": q.Form, "station": q.Station} {
		if err := text(field, s); err != nil {
			return ChecklistList{}, err
		}
	}
	ms, err := d.mission()
	if err != nil {
		return ChecklistList{}, err
	}
	if _, err := d.myRole(ms); err != nil {
		return ChecklistList{}, err
	}
	forms, err := d.heldForms(ms)
	if err != nil {
		return ChecklistList{}, err
	}
	byID := make(map[incident.ID]*incident.FormView, len(forms))
	for i := range forms {
		byID[forms[i].ID] = &forms[i]
	}
	var onlyForm string
	if strings.TrimSpace(q.Form) != "" {
		f, err := d.Form(q.Form)
		if err != nil {
			return ChecklistList{}, err
		}
		onlyForm = f.Form.Name
	}
	onlyStation := incident.NormalizeCode(q.Station)
	reg, err := d.heldRegistry(ms)
	if err != nil {
		return ChecklistList{}, err
	}
	recs, opened, err := d.st.Readable(incident.KindResponse)
	if err != nil {
		return ChecklistList{}, classify(err)
	}

	type groupKey struct{ station, form string }
	type authorKey struct {
		groupKey
		author incident.Author
	}
	type pick struct {
		rec  *incident.Signed
		resp ChecklistResponse
	}
	latest := map[authorKey]pick{}
	superseded := map[groupKey]int{}
	for _, r := range recs {
		author := r.AuthorKey()
		if _, member := ms.Member(author); !member || !ms.Confirmed(author, r.ID) {
			continue
		}
		sealed := len(r.Sealed) > 0
		p, readable := readPayload(r, opened)
		if !readable {
			continue
		}
		rp, ok := p.(*incident.ResponsePayload)
		if !ok {
			continue
		}
		fid := formID(rp.Form)
		f := byID[fid]
		k := authorKey{groupKey{incident.NormalizeCode(rp.Station), fid.String()}, author}
		if f != nil {
			k.form = f.Form.Name
		}
		if (onlyForm != "" && k.form != onlyForm) || (onlyStation != "" && k.station != onlyStation) {
			continue
		}
		if old, ok := latest[k]; ok {
			superseded[k.groupKey]++
			if incident.Before(r, old.rec) {
				continue
			}
		}
		resp := ChecklistResponse{ID: r.ID, Author: author, Created: r.Created, Sealed: sealed, Form: fid,
			Answers: slices.Clone(rp.Answers)}
		if resp.Answers == nil {
			resp.Answers = []incident.Answer{}
		}
		if m, ok := ms.Member(author); ok {
			resp.Label = m.Label
		}
		if f == nil {
			resp.Misfit = fmt.Sprintf("this device holds no form %s (its version may not have arrived yet)", fid)
		} else {
			resp.Version = f.Form.Version
			resp.Flagged = f.Form.FlaggedAnswers(rp.Answers)
			if err := incident.CheckAnswers(&f.Form, rp.Answers); err != nil {
				resp.Misfit = err.Error()
			}
		}
		latest[k] = pick{r, resp}
	}

	groups := map[groupKey]*ChecklistGroup{}
	for k, pk := range latest {
		g := groups[k.groupKey]
		if g == nil {
			g = &ChecklistGroup{Station: k.station, Form: k.form, Superseded: superseded[k.groupKey]}
			if s, ok := reg.Lookup(k.station); ok {
				g.StationName = s.Station.Name
			} else {
				g.NotInRegistry = len(reg.Stations) > 0
			}
			groups[k.groupKey] = g
		}
		g.Responses = append(g.Responses, pk.resp)
	}
	out := ChecklistList{Groups: make([]ChecklistGroup, 0, len(groups))}
	for _, g := range groups {
		sort.Slice(g.Responses, func(i, j int) bool {
			a, b := g.Responses[i], g.Responses[j]
			if a.Created != b.Created {
				return a.Created < b.Created
			}
			return a.ID.String() < b.ID.String()
		})
		sideBySide(g, forms, byID)
		out.Responses += len(g.Responses)
		out.Superseded += g.Superseded
		if g.Disagree {
			out.Disagreements++
		}
		for _, r := range g.Responses {
			if len(r.Flagged) > 0 {
				out.Flagged++
			}
			if r.Misfit != "" {
				out.Misfits++
			}
		}
		out.Groups = append(out.Groups, *g)
	}
	sort.Slice(out.Groups, func(i, j int) bool {
		a, b := out.Groups[i], out.Groups[j]
		if a.Station != b.Station {
			return a.Station < b.Station
		}
		if pa, pb := phaseOrder(a.Phase), phaseOrder(b.Phase); pa != pb {
			return pa < pb
		}
		return a.Form < b.Form
	})
	return out, nil
}

// sideBySide fills g's title, phase and questions from the form versions
// held: the questions of the versions its responses answer (the newest
// version's order first, then those only older ones ask), then answers
// to questions no version held has; each with every response's answer.
func sideBySide(g *ChecklistGroup, forms []incident.FormView, byID map[incident.ID]*incident.FormView) {
	answered := map[string]bool{}
	for _, r := range g.Responses {
		for _, a := range r.Answers {
			answered[a.Question] = true
		}
	}
	var order []string
	meta := map[string]*incident.Question{}
	add := func(id string, q *incident.Question) {
		if _, ok := meta[id]; ok || !answered[id] {
			return
		}
		meta[id] = q
		order = append(order, id)
	}
	// forms is newest first: the newest version answered gives the
	// group's title and phase, and its order.
	answeredVersions := map[incident.ID]bool{}
	for _, r := range g.Responses {
		answeredVersions[r.Form] = true
	}
	named := false
	for i := range forms {
		f := &forms[i]
		if !answeredVersions[f.ID] {
			continue
		}
		if !named {
			g.Title, g.Phase, named = f.Form.Title, f.Form.Phase, true
		}
		for j := range f.Form.Questions {
			add(f.Form.Questions[j].ID, &f.Form.Questions[j])
		}
	}
	for _, r := range g.Responses {
		for _, a := range r.Answers {
			add(a.Question, nil)
		}
	}
	g.Questions = make([]QuestionAnswers, 0, len(order))
	for _, id := range order {
		qa := QuestionAnswers{Question: id, Answers: make([]AuthorAnswer, 0, len(g.Responses))}
		q := meta[id]
		if q != nil {
			qa.Code, qa.Label, qa.Type = q.Code, q.Label, q.Type
		}
		var first string
		seen := false
		for _, r := range g.Responses {
			aa := AuthorAnswer{Author: r.Author, Label: r.Label}
			for _, a := range r.Answers {
				if a.Question == id {
					aa.Value, aa.Answered = a.Value, true
				}
			}
			if aa.Answered {
				// The flag of the version this author answered.
				if f := byID[r.Form]; f != nil {
					if fq, ok := f.Form.Question(id); ok {
						aa.Flagged = fq.Flagged(aa.Value)
					}
				}
				if seen && aa.Value != first && qa.Type != incident.QuestionText {
					qa.Disagree = true
				}
				if !seen {
					first, seen = aa.Value, true
				}
			}
			qa.Answers = append(qa.Answers, aa)
		}
		g.Disagree = g.Disagree || qa.Disagree
		g.Questions = append(g.Questions, qa)
	}
}

// heldForms is Forms under mission state ms.
func (d *Desk) heldForms(ms *incident.MissionState) ([]incident.FormView, error) {
	recs, err := d.st.ByKind(incident.KindForm)
	if err != nil {
		return nil, classify(err)
	}
	return incident.FoldForms(recs, ms), nil
}

// formID reads a response's form reference (validation checked its
// length).
func formID(b []byte) incident.ID {
	var id incident.ID
	if len(b) == len(id) {
		copy(id[:], b)
	}
	return id
}

// phaseOrder sorts phases in the day's order, none last.
func phaseOrder(p string) int {
	if i := slices.Index(Phases, p); i >= 0 {
		return i
	}
	return len(Phases)
}

// Drafts. A checklist in progress is kept in the store (a device
// setting, never a record: nothing of it leaves the device), one per
// form version and station, so that a person interrupted at a question
// finds their answers and the screen they were on. The store is
// encrypted with its data key (Badger's encryption at rest), so a wipe,
// which shreds that key (store.Wipe), leaves no draft readable; nothing
// of a draft is kept anywhere else.
//
// Drafts live in MaxChecklistDrafts slots (device settings named
// checklist_draft/N): saving a new one when every slot is taken drops
// the oldest, so a phone that starts many checklists never grows the
// store without bound; each is at most MaxChecklistDraftBytes.
const (
	MaxChecklistDrafts     = 64
	MaxChecklistDraftBytes = incident.MaxRecordBytes
)

// ChecklistDraft is a checklist in progress.
type ChecklistDraft struct {
	Form    incident.ID       `json:"form"`    // the form version being answered
	Station string            `json:"station"` // normal form
	Answers []incident.Answer `json:"answers"`
	// Question is the screen the person was on (an index in the form's
	// questions, as the app counts them).
	Question int `json:"question"`
	// Saved is when it was last saved (Unix ms, this device's clock; set
	// by SaveChecklistDraft).
	Saved int64 `json:"saved"`
}

// draftsMu orders the read-modify-write of the draft slots. Only one
// process opens a store, so one lock in the process covers every desk
// over it.
var draftsMu sync.Mutex

func draftSlot(i int) string { return fmt.Sprintf("checklist_draft/%d", i) }

// SaveChecklistDraft keeps d (replacing the draft of the same form
// version and station), stamped with the time. Answers are kept as
// given: a draft need not fit its form yet.
func (d *Desk) SaveChecklistDraft(dr ChecklistDraft) error {
	dr.Station = incident.NormalizeCode(dr.Station)
	switch {
	case dr.Form.IsZero():
		return invalid("form", "is required (the form version being answered)")
	case dr.Station == "":
		return invalid("station", "is required")
	case len(dr.Answers) > incident.MaxFormQuestions:
		return invalid("answers", "%d answers, limit %d", len(dr.Answers), incident.MaxFormQuestions)
	case dr.Question < 0 || dr.Question > incident.MaxFormQuestions:
		return invalid("question", "%d is not a question's place in a form (0 to %d)", dr.Question, incident.MaxFormQuestions)
	}
	if err := text("station", dr.Station); err != nil {
		return err
	}
	for _, a := range dr.Answers {
		for _, s := range []string{a.Question, a.Value} {
			if err := text("answers", s); err != nil {
				return err
			}
		}
	}
	dr.Saved = d.now().UnixMilli()
	data, err := json.Marshal(dr)
	if err != nil {
		return classify(err)
	}
	if len(data) > MaxChecklistDraftBytes {
		return invalid("answers", "the draft is %d bytes, limit %d", len(data), MaxChecklistDraftBytes)
	}
	draftsMu.Lock()
	defer draftsMu.Unlock()
	slots, err := d.draftSlots()
	if err != nil {
		return err
	}
	at, free, oldest := -1, -1, -1
	for i, s := range slots {
		switch {
		case s == nil:
			if free < 0 {
				free = i
			}
		case s.Form == dr.Form && s.Station == dr.Station:
			at = i
		case oldest < 0 || s.Saved < slots[oldest].Saved:
			oldest = i
		}
	}
	switch {
	case at >= 0:
	case free >= 0:
		at = free
	default:
		at = oldest
	}
	return classify(d.st.SetMeta(draftSlot(at), data))
}

// ChecklistDraft is the draft of form version form at station, if any.
func (d *Desk) ChecklistDraft(form incident.ID, station string) (ChecklistDraft, bool, error) {
	station = incident.NormalizeCode(station)
	draftsMu.Lock()
	defer draftsMu.Unlock()
	slots, err := d.draftSlots()
	if err != nil {
		return ChecklistDraft{}, false, err
	}
	for _, s := range slots {
		if s != nil && s.Form == form && s.Station == station {
			return *s, true, nil
		}
	}
	return ChecklistDraft{}, false, nil
}

// ChecklistDrafts lists the drafts kept, the latest saved first.
func (d *Desk) ChecklistDrafts() ([]ChecklistDraft, error) {
	draftsMu.Lock()
	slots, err := d.draftSlots()
	draftsMu.Unlock()
	if err != nil {
		return nil, err
	}
	out := []ChecklistDraft{}
	for _, s := range slots {
		if s != nil {
			out = append(out, *s)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Saved != out[j].Saved {
			return out[i].Saved > out[j].Saved
		}
		if out[i].Station != out[j].Station {
			return out[i].Station < out[j].Station
		}
		return out[i].Form.String() < out[j].Form.String()
	})
	return out, nil
}

// DiscardChecklistDraft forgets the draft of form version form at
// station; none is not an error.
func (d *Desk) DiscardChecklistDraft(form incident.ID, station string) error {
	station = incident.NormalizeCode(station)
	draftsMu.Lock()
	defer draftsMu.Unlock()
	slots, err := d.draftSlots()
	if err != nil {
		return err
	}
	var errs []error
	for i, s := range slots {
		if s != nil && s.Form == form && s.Station == station {
			// An empty setting is an empty slot. Badger keeps the old
			// value until compaction, encrypted as the rest of the store.
			errs = append(errs, d.st.SetMeta(draftSlot(i), []byte{}))
		}
	}
	return classify(errors.Join(errs...))
}

// draftSlots reads every slot (nil: empty, or unreadable).
func (d *Desk) draftSlots() ([]*ChecklistDraft, error) {
	out := make([]*ChecklistDraft, MaxChecklistDrafts)
	for i := range out {
		data, err := d.st.Meta(draftSlot(i))
		if err != nil {
			return nil, classify(err)
		}
		if len(data) == 0 {
			continue
		}
		var dr ChecklistDraft
		if json.Unmarshal(data, &dr) != nil || dr.Form.IsZero() {
			continue // damaged: the slot is reused as a free one
		}
		out[i] = &dr
	}
	return out, nil
}
