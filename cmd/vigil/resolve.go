package main

import (
	"fmt"
	"strings"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/store"
)

// Report IDs and members as a person types them (the README's command
// line): a report by its full ID or any unique prefix of at least
// idPrefixMin characters after "bafkrei"; a member by author key, member
// record ID or unique label. Every command that takes one goes through
// resolveReportID or resolveMember.

// idHead starts every record ID's text form (CIDv1, raw, SHA-256).
const idHead = "bafkrei"

// idPrefixMin is the fewest characters after idHead a prefix may have.
const idPrefixMin = 8

// maxCandidates is how many matches an ambiguous prefix or label lists.
const maxCandidates = 4

// checkReportIDArg rejects what can be neither a report ID nor a prefix
// of one, before the store is opened (a usage error, exit 2).
func checkReportIDArg(arg string) error {
	if _, err := incident.ParseID(arg); err == nil {
		return nil
	}
	rest := strings.TrimPrefix(arg, idHead)
	if rest == "" || strings.Trim(rest, "abcdefghijklmnopqrstuvwxyz234567") != "" {
		return usagef("%q is not a report ID (IDs start with %s and use the letters a-z and digits 2-7; `vigil report list` shows them)", arg, idHead)
	}
	if len(rest) < idPrefixMin {
		return usagef("the ID prefix %q is too short: give at least %d characters after %s", arg, idPrefixMin, idHead)
	}
	return nil
}

// resolveReportID returns the report arg names: a full record ID as is
// (the caller says when no such report is held), or the one report on
// this device whose ID starts with the prefix arg (with or without the
// leading bafkrei).
func resolveReportID(s *store.Store, arg string) (incident.ID, error) {
	if id, err := incident.ParseID(arg); err == nil {
		return id, nil
	}
	if err := checkReportIDArg(arg); err != nil {
		return incident.ID{}, err
	}
	prefix := idHead + strings.TrimPrefix(arg, idHead)
	ids, err := s.IDsOfKind(incident.KindReport)
	if err != nil {
		return incident.ID{}, err
	}
	return pickByPrefix(ids, prefix)
}

// pickByPrefix returns the one ID in ids whose text starts with prefix.
func pickByPrefix(ids []incident.ID, prefix string) (incident.ID, error) {
	var match []incident.ID
	for _, id := range ids {
		if strings.HasPrefix(id.String(), prefix) {
			match = append(match, id)
		}
	}
	switch len(match) {
	case 0:
		return incident.ID{}, fmt.Errorf("no report on this device has an ID starting with %s (`vigil report list` shows them)", prefix)
	case 1:
		return match[0], nil
	}
	names := make([]string, 0, maxCandidates)
	for _, id := range match[:min(len(match), maxCandidates)] {
		names = append(names, id.String())
	}
	more := ""
	if len(match) > maxCandidates {
		more = fmt.Sprintf(" and %d more", len(match)-maxCandidates)
	}
	return incident.ID{}, fmt.Errorf("the ID prefix %s matches %s: %s%s; give more characters", prefix, incident.Plural(len(match), "report"), strings.Join(names, ", "), more)
}

// resolveMember returns the member arg names: an author key, a member
// record ID, or a label that one member holds (exact, else ignoring case).
func resolveMember(ms *incident.MissionState, arg string) (incident.Author, error) {
	if a, err := incident.ParseAuthor(arg); err == nil {
		if _, ok := ms.Role(a); !ok {
			return a, fmt.Errorf("%s is not a member of this mission (`vigil mission members` lists them)", a)
		}
		return a, nil
	}
	if id, err := incident.ParseID(arg); err == nil {
		for _, m := range ms.Members() {
			if m.Record == id {
				return m.Author, nil
			}
		}
		return incident.Author{}, fmt.Errorf("no member record %s in this mission (`vigil mission members` lists them)", id)
	}
	if strings.TrimSpace(arg) == "" {
		return incident.Author{}, usagef("want a MEMBER: an author key, a member record ID or a label")
	}
	for _, same := range []func(string) bool{
		func(l string) bool { return l == arg },
		func(l string) bool { return strings.EqualFold(strings.TrimSpace(l), strings.TrimSpace(arg)) },
	} {
		var authors []incident.Author
		var labels []string
		seen := map[incident.Author]bool{}
		for _, m := range ms.Members() {
			if same(m.Label) && !seen[m.Author] {
				seen[m.Author] = true
				authors = append(authors, m.Author)
				labels = append(labels, fmt.Sprintf("%s (%s)", m.Author, m.Role))
			}
		}
		switch {
		case len(authors) == 1:
			return authors[0], nil
		case len(authors) > 1:
			more := ""
			if len(labels) > maxCandidates {
				more = fmt.Sprintf(" and %d more", len(labels)-maxCandidates)
				labels = labels[:maxCandidates]
			}
			return incident.Author{}, fmt.Errorf("the label %q belongs to %s: %s%s; give an author key or member record ID", arg, incident.Plural(len(authors), "member"), strings.Join(labels, ", "), more)
		}
	}
	return incident.Author{}, fmt.Errorf("no member of this mission has the author key, member record ID or label %q (`vigil mission members` lists them)", arg)
}
