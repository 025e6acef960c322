package xlsform

import (
	"bytes"
	"testing"

	"github.com/xuri/excelize/v2"
)

// The checklists under testdata/forms are written by this file, so they
// can be read and regenerated: `go test ./incident -run TestXLSFormTestdata
// -update` rewrites them. They are laid out as ODK's XLSForm template and
// Kobo's exports lay theirs out: a survey, a choices and a settings sheet,
// in that order, each with its header on the first row; opening and
// closing with a bare label column, voting in two languages (English
// first, then French), counting with Kobo's label::English (en) columns
// and its $kuid column.

// xlsBook is a workbook to write: each sheet's rows, the header first.
type xlsBook struct {
	survey, choices, settings [][]any
}

// bytes writes b with excelize, sheets in ODK's order.
func (b xlsBook) bytes(tb testing.TB) []byte {
	tb.Helper()
	f := excelize.NewFile()
	defer f.Close()
	sheets := []struct {
		name string
		rows [][]any
	}{{"survey", b.survey}, {"choices", b.choices}, {"settings", b.settings}}
	first := true
	for _, s := range sheets {
		if s.rows == nil {
			continue
		}
		if first {
			if err := f.SetSheetName("Sheet1", s.name); err != nil {
				tb.Fatal(err)
			}
			first = false
		} else if _, err := f.NewSheet(s.name); err != nil {
			tb.Fatal(err)
		}
		for i, row := range s.rows {
			cell, _ := excelize.CoordinatesToCellName(1, i+1)
			r := row
			if err := f.SetSheetRow(s.name, cell, &r); err != nil {
				tb.Fatal(err)
			}
		}
	}
	var buf bytes.Buffer
	if _, err := f.WriteTo(&buf); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// The ODK template's survey columns, and Vigil's three after them.
var odkSurvey = []any{"type", "name", "label", "hint", "required", "required_message", "relevant", "constraint",
	"constraint_message", "appearance", "default", "calculation", "vigil_code", "vigil_flag", "vigil_na"}

// q is one survey row in the odkSurvey layout.
func q(typ, name, label, hint, required, relevant, constraint, code, flag, na string) []any {
	row := []any{typ, name, label, hint, required, "", relevant, constraint, "", "", "", "", code, flag, na}
	if constraint != "" {
		row[8] = "Check the number: it is outside what a polling station can have."
	}
	return row
}

var odkChoices = []any{"list_name", "name", "label"}

var yesNoChoices = [][]any{{"yes_no", "yes", "Yes"}, {"yes_no", "no", "No"}}
var yesNoNAChoices = [][]any{{"yes_no_na", "yes", "Yes"}, {"yes_no_na", "no", "No"}, {"yes_no_na", "na", "Not applicable"}}

func rows(header []any, groups ...[][]any) [][]any {
	out := [][]any{header}
	for _, g := range groups {
		out = append(out, g...)
	}
	return out
}

// openingBook: materials, staff, opening time, observers and agents,
// ballot secrecy; a group with a relevant of its own, follow-ups shown
// after a "no", flags, and an integer that allows N/A.
func openingBook() xlsBook {
	const yes = "yes"
	survey := rows(odkSurvey, [][]any{
		{"start", "start"},
		{"end", "end"},
		q("note", "intro", "Answer at the polling station, before the first voter casts a ballot.", "", "", "", "", "", "", ""),
		{"begin group", "materials", "Materials"},
		q("select_one yes_no_na", "materials_present", "Were all essential materials present (ballot papers, ballot boxes, indelible ink, voter register, seals)?",
			"Answer no if even one is missing.", yes, "", "", "", ". = 'no'", ""),
		q("select_multiple materials", "missing_materials", "Which materials were missing?", "Tick every one that was missing.", yes,
			"${materials_present} = 'no'", "", "", "selected(., 'register') or selected(., 'ballots')", ""),
		q("select_one yes_no", "boxes_shown_empty", "Were the ballot boxes shown empty and sealed before voting began?", "", yes, "", "", "", ". = 'no'", ""),
		{"end group"},
		{"begin group", "staff", "Polling staff"},
		q("integer", "staff_present", "How many polling officials were present at opening?", "Count everyone on duty, including the presiding officer.",
			yes, "", ". >= 0 and . <= 30", "", ". < 3", ""),
		q("select_one yes_no", "presiding_officer", "Was the presiding officer present?", "", yes, "", "", "", ". = 'no'", ""),
		{"end group"},
		q("select_one yes_no", "opened_on_time", "Did the station open on time (by 07:00)?", "", yes, "", "", "", ". = 'no'", ""),
		{"begin group", "late", "Late opening", "", "", "", "${opened_on_time} = 'no'"},
		q("integer", "minutes_late", "How many minutes late did it open?", "", yes, "", ". >= 1 and . <= 600", "", ". > 60", ""),
		q("select_one late_reasons", "late_reason", "Why did it open late?", "", yes, "", "", "", "", ""),
		q("text", "late_reason_other", "What was the other reason?", "", "", "${late_reason} = 'other'", "", "", "", ""),
		{"end group"},
		q("select_one yes_no", "observers_admitted", "Were you and other accredited observers admitted?", "", yes, "", "", "", ". = 'no'", ""),
		q("integer", "party_agents", "How many party agents were present at opening?",
			"Count the agents of every party. Answer na where the law admits no agents.", "", "", ". >= 0", "", "", yes),
		q("select_one yes_no_na", "secrecy", "Were the voting screens placed so that nobody could see how a voter marks the ballot?",
			"", yes, "", "", "", ". = 'no'", ""),
		q("text", "remarks", "Anything else the coordinators should know about the opening?", "", "", "", "", "", "", ""),
	})
	choices := rows(odkChoices, yesNoChoices, yesNoNAChoices, [][]any{
		{"materials", "ballots", "Ballot papers"},
		{"materials", "boxes", "Ballot boxes"},
		{"materials", "ink", "Indelible ink"},
		{"materials", "register", "Voter register"},
		{"materials", "seals", "Seals"},
		{"materials", "screens", "Voting screens"},
		{"materials", "result_forms", "Result forms"},
		{"late_reasons", "materials_late", "Materials arrived late"},
		{"late_reasons", "staff_late", "Staff arrived late"},
		{"late_reasons", "dispute", "A dispute among officials or agents"},
		{"late_reasons", "other", "Other"},
	})
	settings := [][]any{
		{"form_title", "form_id", "version", "default_language", "vigil_phase", "vigil_required"},
		{"Opening checklist", "opening", "2026.1", "English", "opening", "yes"},
	}
	return xlsBook{survey: survey, choices: choices, settings: settings}
}

// votingBook: two languages, the version as a number, required as
// TRUE(), select_multiple with flags and a follow-up on any of three
// choices.
func votingBook() xlsBook {
	header := []any{"type", "name", "label::English (en)", "label::Français (fr)", "hint::English (en)", "hint::Français (fr)",
		"required", "relevant", "constraint", "constraint_message::English (en)", "vigil_code", "vigil_flag"}
	yes := "TRUE()"
	survey := [][]any{header,
		{"today", "today"},
		{"note", "when", "Answer once, around midday, at your assigned station.", "Répondez une fois, vers midi, à votre bureau de vote.", "", "", "", "", "", "", "V0"},
		{"integer", "queue_length", "About how many people were waiting in the queue?", "Combien de personnes attendaient dans la file ?",
			"A rough count is enough.", "Un ordre de grandeur suffit.", yes, "", ". >= 0 and . <= 5000", "No more than 5000.", "V1"},
		{"select_one yes_no", "turned_away", "Were voters turned away because their names were missing from the register?",
			"Des électeurs ont-ils été refoulés parce que leur nom manquait sur la liste ?", "", "", yes, "", "", "", "V2", ". = 'yes'"},
		{"integer", "turned_away_count", "About how many voters were turned away?", "Environ combien d'électeurs ont été refoulés ?",
			"", "", yes, "${turned_away} = 'yes'", ". >= 1", "", "V3", ". >= 10"},
		{"select_one yes_no", "ink_checked", "Were voters' fingers checked for ink before they received a ballot?",
			"Les doigts des électeurs étaient-ils contrôlés avant la remise du bulletin ?", "", "", yes, "", "", "", "V4", ". = 'no'"},
		{"select_one yes_no", "secrecy_breach", "Could anyone see how a voter marked the ballot?",
			"Quelqu'un pouvait-il voir comment un électeur marquait son bulletin ?", "", "", yes, "", "", "", "V5", ". = 'yes'"},
		{"select_multiple incidents", "incidents", "Did you see any of the following?", "Avez-vous vu l'un des faits suivants ?",
			"Tick all that apply, or none of these.", "", yes, "", "", "", "V6", "selected(., 'violence') or selected(., 'intimidation')"},
		{"text", "incident_details", "What did you see, when, and who was involved?", "Qu'avez-vous vu, quand, et qui était impliqué ?",
			"Facts only: no names of voters.", "", "",
			"selected(${incidents}, 'intimidation') or selected(${incidents}, 'vote_buying') or selected(${incidents}, 'violence')", "", "", "V7"},
		{"select_one yes_no", "security_inside", "Were police or soldiers inside the polling station?",
			"Des policiers ou des militaires étaient-ils dans le bureau de vote ?", "", "", yes, "", "", "", "V8", ". = 'yes'"},
	}
	choices := [][]any{{"list_name", "name", "label::English (en)", "label::Français (fr)"},
		{"yes_no", "yes", "Yes", "Oui"},
		{"yes_no", "no", "No", "Non"},
		{"incidents", "intimidation", "Intimidation of voters", "Intimidation d'électeurs"},
		{"incidents", "vote_buying", "Vote buying", "Achat de voix"},
		{"incidents", "campaigning", "Campaigning near the station", "Campagne près du bureau"},
		{"incidents", "violence", "Violence", "Violences"},
		{"incidents", "assisted", "Voters \"assisted\" against their wish", "Électeurs « assistés » contre leur gré"},
		{"incidents", "none", "None of these", "Aucun de ces faits"},
	}
	settings := [][]any{{"form_title", "form_id", "version", "default_language", "vigil_phase", "vigil_required"},
		{"Voting checklist", "voting", 2026061401, "English (en)", "voting", true}}
	return xlsBook{survey: survey, choices: choices, settings: settings}
}

// closingBook has no phase in its settings: `form import --phase
// closing --required` gives it one.
func closingBook() xlsBook {
	const yes = "yes"
	survey := rows(odkSurvey, [][]any{
		{"start", "start"},
		q("select_one yes_no", "closed_on_time", "Did the station close at the official time (18:00)?", "", yes, "", "", "", ". = 'no'", ""),
		q("select_one yes_no", "queue_at_close", "Were voters still in the queue at closing time?", "", yes, "", "", "", "", ""),
		q("select_one yes_no_na", "queue_allowed", "Were the voters in the queue at closing time allowed to vote?", "", yes,
			"${queue_at_close} = 'yes'", "", "", ". = 'no'", ""),
		q("integer", "unused_ballots", "How many unused ballot papers were there?", "As the presiding officer announced them.", yes, "", ". >= 0", "", "", ""),
		q("select_one yes_no", "unused_cancelled", "Were the unused ballot papers cancelled and sealed before the count?", "", yes, "", "", "", ". = 'no'", ""),
		q("select_one yes_no", "observers_stayed", "Were observers allowed to stay for the close and the count?", "", yes, "", "", "", ". = 'no'", ""),
		q("text", "closing_remarks", "Anything else about the close?", "", "", "", "", "", "", ""),
	})
	choices := rows(odkChoices, yesNoChoices, yesNoNAChoices)
	settings := [][]any{{"form_title", "form_id", "version"}, {"Closing checklist", "closing", "2026.1"}}
	return xlsBook{survey: survey, choices: choices, settings: settings}
}

// countingBook: the result sheet's numbers, with SMS codes the field
// knows (REG, ISS, CAST…), in Kobo's layout (begin_group, $kuid).
func countingBook() xlsBook {
	header := []any{"type", "name", "label::English (en)", "hint::English (en)", "required", "relevant", "constraint", "vigil_code", "vigil_flag", "vigil_na", "$kuid"}
	survey := [][]any{header,
		{"start", "start", "", "", "", "", "", "", "", "", "k01"},
		{"end", "end", "", "", "", "", "", "", "", "", "k02"},
		{"note", "count_intro", "Copy the numbers from the official result sheet, not from your own count.", "", "", "", "", "N", "", "", "k03"},
		{"begin_group", "sheet", "The result sheet", "", "", "", "", "", "", "", "k04"},
		{"integer", "registered", "Voters on the register", "", "yes", "", ". >= 0 and . <= 5000", "REG", "", "", "k05"},
		{"integer", "ballots_issued", "Ballot papers issued to voters", "", "yes", "", ". >= 0 and . <= 5000", "ISS", "", "", "k06"},
		{"integer", "ballots_cast", "Ballot papers found in the box", "", "yes", "", ". >= 0 and . <= 5000", "CAST", "", "", "k07"},
		{"integer", "invalid_ballots", "Invalid ballot papers", "", "yes", "", ". >= 0", "INV", "", "", "k08"},
		{"integer", "blank_ballots", "Blank ballot papers", "Answer na if the sheet has no line for blank ballots.", "yes", "", ". >= 0", "BLK", "", "yes", "k09"},
		{"end_group", "", "", "", "", "", "", "", "", "", "k10"},
		{"select_one yes_no", "count_public", "Was the count done in full view of observers and party agents?", "", "yes", "", "", "PUB", ". = 'no'", "", "k11"},
		{"select_one yes_no_na", "agents_signed", "Did every party agent present sign the result sheet?", "", "yes", "", "", "SIG", ". = 'no'", "", "k12"},
		{"integer", "agents_refused", "How many agents refused to sign?", "", "yes", "${agents_signed} = 'no'", ". >= 1", "REF", "", "", "k13"},
		{"select_one yes_no", "sheet_posted", "Was a copy of the result sheet posted publicly at the station?", "", "yes", "", "", "POST", ". = 'no'", "", "k14"},
		{"select_one yes_no", "copy_given", "Were you given a copy of the result sheet?", "", "", "", "", "COPY", "", "", "k15"},
		{"text", "discrepancies", "Any difference between what you counted and the result sheet?", "Say which number, and both values.", "", "", "", "DIFF", "", "", "k16"},
	}
	choices := [][]any{{"list_name", "name", "label::English (en)", "$kuid"},
		{"yes_no", "yes", "Yes", "c1"},
		{"yes_no", "no", "No", "c2"},
		{"yes_no_na", "yes", "Yes", "c3"},
		{"yes_no_na", "no", "No", "c4"},
		{"yes_no_na", "na", "Not applicable (no agents present)", "c5"},
	}
	settings := [][]any{{"form_title", "form_id", "version", "vigil_phase", "vigil_required"},
		{"Counting and result sheet", "counting", "2026.1", "counting", "yes"}}
	return xlsBook{survey: survey, choices: choices, settings: settings}
}

// xlsformTestdata is every workbook under testdata/forms, by file name.
var xlsformTestdata = map[string]func() xlsBook{
	"opening.xlsx": openingBook, "voting.xlsx": votingBook, "closing.xlsx": closingBook, "counting.xlsx": countingBook,
}
