package demo

import (
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/vigil-mesh/vigil/incident"
)

// The practice mission's four checklists, one per phase of polling day,
// as a mission would import them from XLSForm (`vigil form import`), and
// each observer's answers at their station. The answers follow the day
// the other records tell: an observer whose station opened late says so,
// one who fell silent in the shutdown answers nothing after, and where
// two observers copied one count their counting checklists disagree on
// one answer (shown side by side, never merged).

func yesNo(na bool) []incident.Choice {
	c := []incident.Choice{{Name: "yes", Label: "Yes"}, {Name: "no", Label: "No"}}
	if na {
		c = append(c, incident.Choice{Name: incident.AnswerNA, Label: "Not applicable"})
	}
	return c
}

func flagIf(op, value string) *incident.Condition {
	return &incident.Condition{Terms: []incident.Term{{Op: op, Value: value}}}
}

func showIf(question, op, value string) *incident.Condition {
	return &incident.Condition{Terms: []incident.Term{{Question: question, Op: op, Value: value}}}
}

func bounds(lo, hi int64) (*int64, *int64) { return &lo, &hi }

// practiceForms are the four checklists, in phase order.
func practiceForms() []incident.FormPayload {
	staffMin, staffMax := bounds(0, 20)
	lateMin, lateMax := bounds(1, 600)
	agentsMin, agentsMax := bounds(0, 12)
	awayMin, awayMax := bounds(0, 2000)
	disputeMin, disputeMax := bounds(0, 50)
	remarks := func(code string) incident.Question {
		return incident.Question{ID: "remarks", Code: code, Type: incident.QuestionText, Label: "Anything else the desk should know",
			Hint: "Facts only: what you saw, when, who was involved."}
	}
	return []incident.FormPayload{
		{Name: "opening", Version: "2026-11-20", Title: "Opening checklist", Phase: incident.PhaseOpening, Required: true,
			Questions: []incident.Question{
				{ID: "opened_on_time", Code: "A1", Type: incident.QuestionSelectOne, Label: "Did the station open at 07:00?", Required: true,
					Choices: yesNo(false), Flag: flagIf("=", "no")},
				{ID: "minutes_late", Code: "A2", Type: incident.QuestionInteger, Label: "How many minutes late did it open?", Required: true,
					Min: lateMin, Max: lateMax, Relevant: showIf("opened_on_time", "=", "no"), Flag: flagIf(">", "60")},
				{ID: "materials", Code: "A3", Type: incident.QuestionSelectOne, Label: "Were all essential materials present (ballots, register, ink, seals, booths)?",
					Required: true, Choices: yesNo(false), Flag: flagIf("=", "no")},
				{ID: "missing", Code: "A4", Type: incident.QuestionSelectMultiple, Label: "What was missing?", Required: true,
					Choices: []incident.Choice{{Name: "ballots", Label: "Ballot papers"}, {Name: "register", Label: "Voter register"},
						{Name: "ink", Label: "Indelible ink"}, {Name: "seals", Label: "Ballot box seals"}, {Name: "booths", Label: "Voting booths"},
						{Name: "lamps", Label: "Lamps for the count"}},
					Relevant: showIf("materials", "=", "no"), Flag: flagIf("selected", "register")},
				{ID: "box_shown_empty", Code: "A5", Type: incident.QuestionSelectOne, Label: "Was the ballot box shown empty and sealed before voting began?",
					Required: true, Choices: yesNo(false), Flag: flagIf("=", "no")},
				{ID: "staff", Code: "A6", Type: incident.QuestionInteger, Label: "How many polling staff were present at opening?", Required: true,
					Min: staffMin, Max: staffMax, Flag: flagIf("<", "3")},
				{ID: "observers_allowed", Code: "A7", Type: incident.QuestionSelectOne, Label: "Were you allowed to observe the opening?",
					Required: true, Choices: yesNo(false), Flag: flagIf("=", "no")},
				{ID: "agents", Code: "A8", Type: incident.QuestionInteger, Label: "How many party agents were present?", NA: true,
					Hint: "N/A if agents are not allowed at this station.", Min: agentsMin, Max: agentsMax},
				remarks("A9"),
			}},
		{Name: "voting", Version: "2026-11-20", Title: "Voting checklist (midday)", Phase: incident.PhaseVoting, Required: true,
			Questions: []incident.Question{
				{ID: "secrecy", Code: "B1", Type: incident.QuestionSelectOne, Label: "Could voters mark their ballots in secret?", Required: true,
					Choices: yesNo(false), Flag: flagIf("=", "no")},
				{ID: "ink_checked", Code: "B2", Type: incident.QuestionSelectOne, Label: "Were voters' fingers checked for ink before they voted?",
					Required: true, Choices: yesNo(false), Flag: flagIf("=", "no")},
				{ID: "queue", Code: "B3", Type: incident.QuestionSelectOne, Label: "How long was the queue?", Required: true,
					Choices: []incident.Choice{{Name: "none", Label: "No queue"}, {Name: "short", Label: "Under 30 minutes"},
						{Name: "long", Label: "30 minutes or more"}}},
				{ID: "turned_away", Code: "B4", Type: incident.QuestionInteger, Label: "How many voters were turned away (not on the register)?",
					Required: true, Min: awayMin, Max: awayMax, Flag: flagIf(">", "20")},
				{ID: "intimidation", Code: "B5", Type: incident.QuestionSelectOne, Label: "Did you see intimidation of voters in or near the station?",
					Required: true, Choices: yesNo(false), Flag: flagIf("=", "yes")},
				remarks("B6"),
			}},
		{Name: "closing", Version: "2026-11-20", Title: "Closing checklist", Phase: incident.PhaseClosing, Required: true,
			Questions: []incident.Question{
				{ID: "closed_on_time", Code: "C1", Type: incident.QuestionSelectOne, Label: "Did voting end at 18:00 (or after the last voter in the queue)?",
					Required: true, Choices: yesNo(false), Flag: flagIf("=", "no")},
				{ID: "queue_allowed", Code: "C2", Type: incident.QuestionSelectOne, Label: "Were voters in the queue at 18:00 allowed to vote?",
					Required: true, Choices: yesNo(true), Flag: flagIf("=", "no")},
				{ID: "unused_cancelled", Code: "C3", Type: incident.QuestionSelectOne, Label: "Were unused ballots counted and cancelled before the count?",
					Required: true, Choices: yesNo(false), Flag: flagIf("=", "no")},
				remarks("C4"),
			}},
		{Name: "counting", Version: "2026-11-20", Title: "Counting checklist", Phase: incident.PhaseCounting, Required: true,
			Questions: []incident.Question{
				{ID: "count_public", Code: "D1", Type: incident.QuestionSelectOne, Label: "Was the count held at the station, in view of observers and agents?",
					Required: true, Choices: yesNo(false), Flag: flagIf("=", "no")},
				{ID: "disputes", Code: "D2", Type: incident.QuestionInteger, Label: "How many ballots were disputed?", Required: true,
					Min: disputeMin, Max: disputeMax, Flag: flagIf(">", "10")},
				{ID: "agents_signed", Code: "D3", Type: incident.QuestionSelectOne, Label: "Did the party agents present sign the result sheet?",
					Required: true, Choices: yesNo(true), Flag: flagIf("=", "no")},
				{ID: "sheet_posted", Code: "D4", Type: incident.QuestionSelectOne, Label: "Was the result sheet posted publicly at the station?",
					Required: true, Choices: yesNo(false), Flag: flagIf("=", "no")},
				remarks("D5"),
			}},
	}
}

// checklists signs the four forms (the founder, a week before the day)
// and each observer's answers. The draws come from a generator of their
// own, so every other record of the day stays what it was.
func (b *builder) checklists() {
	rng := rand.New(rand.NewPCG(b.w.seed, 0x636865636b6c73))
	at := b.day.Add(-7*24*time.Hour + 10*time.Hour)
	forms := map[string]*incident.Signed{}
	for i, f := range practiceForms() {
		forms[f.Name] = b.sign(b.w.founder, incident.KindForm, at.Add(time.Duration(i)*time.Minute), f)
	}
	answer := func(o *person, st *station, form string, m int, answers ...string) {
		if !o.heard(m) {
			return
		}
		p := incident.ResponsePayload{Form: forms[form].ID.Bytes(), Station: st.code}
		for i := 0; i < len(answers); i += 2 {
			p.Answers = append(p.Answers, incident.Answer{Question: answers[i], Value: answers[i+1]})
		}
		b.sign(o, incident.KindResponse, b.clock(m, rng.IntN(60)), p)
	}
	pick := func(p float64, yes, no string) string {
		if rng.Float64() < p {
			return no
		}
		return yes
	}
	var counted []*person
	for n, o := range b.w.observers {
		st := o.home
		// Opening: a quarter of an hour after the doors open.
		open := minuteOf(b.day, o.opened) + 10 + rng.IntN(25)
		a := []string{"opened_on_time", "yes"}
		if late := minuteOf(b.day, o.opened) - opening; o.opensLate && late > 0 {
			a = []string{"opened_on_time", "no", "minutes_late", strconv.Itoa(late)}
		}
		if rng.Float64() < 0.12 {
			missing := []string{"ink", "seals", "booths", "lamps", "register"}[rng.IntN(5)]
			a = append(a, "materials", "no", "missing", missing)
		} else {
			a = append(a, "materials", "yes")
		}
		staff := 3 + rng.IntN(6)
		if n == 7 {
			staff = 2
		}
		a = append(a, "box_shown_empty", pick(0.04, "yes", "no"), "staff", strconv.Itoa(staff),
			"observers_allowed", pick(0.03, "yes", "no"))
		if rng.Float64() < 0.15 {
			a = append(a, "agents", incident.AnswerNA)
		} else {
			a = append(a, "agents", strconv.Itoa(rng.IntN(7)))
		}
		if n == 3 {
			a = append(a, "remarks", "The presiding officer asked us to wait outside until the box was sealed; allowed in at 07:20.")
		}
		answer(o, st, "opening", open, a...)

		// Voting: around midday, when the phone has a quiet moment.
		mid := hm(11, 30) + rng.IntN(150)
		if o.quiet(mid) {
			queue := []string{"none", "short", "short", "long"}[rng.IntN(4)]
			away := rng.IntN(12)
			if n == 11 {
				away = 46
			}
			answer(o, st, "voting", mid, "secrecy", pick(0.05, "yes", "no"), "ink_checked", pick(0.08, "yes", "no"),
				"queue", queue, "turned_away", strconv.Itoa(away), "intimidation", pick(0.04, "no", "yes"))
		}

		// Closing: just after the doors close.
		shut := hm(18, 5) + rng.IntN(30)
		answer(o, st, "closing", shut, "closed_on_time", pick(0.06, "yes", "no"),
			"queue_allowed", []string{"yes", "yes", "yes", incident.AnswerNA}[rng.IntN(4)], "unused_cancelled", pick(0.07, "yes", "no"))

		// Counting: once the result sheet is signed.
		count := hm(20, 0) + rng.IntN(120)
		if rng.Float64() < 0.1 || !o.heard(count) {
			continue // a long count, a flat battery
		}
		answer(o, st, "counting", count, "count_public", pick(0.04, "yes", "no"), "disputes", strconv.Itoa(rng.IntN(6)),
			"agents_signed", []string{"yes", "yes", "yes", "no", incident.AnswerNA}[rng.IntN(5)], "sheet_posted", "yes")
		counted = append(counted, o)
	}
	// A colleague from the same district also watched one of the counts
	// and saw the sheet taken away instead of posted: the two counting
	// checklists disagree, and the desk sees both.
	for i, o := range counted {
		if i == 0 {
			continue
		}
		if first := counted[i-1]; first.district == o.district {
			answer(o, first.home, "counting", hm(21, 50), "count_public", "yes", "disputes", "2",
				"agents_signed", "yes", "sheet_posted", "no", "remarks", "The presiding officer took the sheet to the tally centre without posting it.")
			break
		}
	}
}
