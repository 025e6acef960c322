package app

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/vigil-mesh/vigil/incident"
)

// Every language has every key, with the same placeholders and plural
// forms as English; every file is a language the picker offers; and every
// key the code uses exists.
func TestTranslationsAreComplete(t *testing.T) {
	en, err := translationKeys("en")
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, k := range en {
		have[k] = true
	}
	enMsgs := translationMessages(t, "en")
	for _, l := range Languages[1:] {
		keys, err := translationKeys(l.Code)
		if err != nil {
			t.Fatalf("%s: %v", l.Code, err)
		}
		theirs := map[string]bool{}
		for _, k := range keys {
			theirs[k] = true
			if !have[k] {
				t.Errorf("%s.json has %q, which en.json lacks", l.Code, k)
			}
		}
		for _, k := range en {
			if !theirs[k] {
				t.Errorf("%s.json lacks %q", l.Code, k)
			}
		}
		msgs := translationMessages(t, l.Code)
		for _, k := range en {
			if m, ok := msgs[k]; ok {
				for _, p := range placeholderProblems(enMsgs[k], m) {
					t.Errorf("%s.json %q: %s", l.Code, k, p)
				}
			}
		}
	}
	// A file the picker does not list would still be followed from the
	// system's locale (Fyne reads the whole folder), half offered.
	dir, err := translationFS.ReadDir("translations")
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]bool{}
	for _, l := range Languages {
		listed[l.Code+".json"] = true
	}
	for _, f := range dir {
		if !listed[f.Name()] {
			t.Errorf("translations/%s is not in Languages", f.Name())
		}
	}

	// Keys written in the code.
	used := map[string]bool{}
	re := regexp.MustCompile(`\b(?:T|TN|TOr)\("([a-z0-9_.+]+)"`)
	colRe := regexp.MustCompile(`"(col\.[a-z]+)"`)
	files, _ := filepath.Glob("*.go")
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range re.FindAllStringSubmatch(string(src), -1) {
			if !strings.HasSuffix(m[1], ".") {
				used[m[1]] = true
			}
		}
		for _, m := range colRe.FindAllStringSubmatch(string(src), -1) {
			used[m[1]] = true
		}
	}
	// Keys built from closed vocabularies.
	for _, c := range incident.BaseTaxonomy {
		used["cat."+c.Code] = true
	}
	add := func(prefix string, list []string) {
		for _, s := range list {
			used[prefix+s] = true
		}
	}
	add("family.", familyOrder)
	add("status.", statusOrder)
	add("channel.", incident.Channels)
	add("harm.", incident.HarmLevels)
	add("checkin.", incident.CheckinStatuses)
	add("role.", incident.Roles)
	add("flag.", []string{incident.FlagFutureTime, incident.FlagBeforeMission, incident.FlagAuthorRevoked,
		incident.FlagUnconfirmed, incident.FlagDuplicateToken, incident.FlagUnknownCategory,
		incident.FlagInviteRevoked, incident.FlagInviteClosed})
	add("export.format.", ExportFormats)
	add("export.about.", ExportFormats)
	add("transport.", []string{"tcp", "quic", "webrtc", "relay", "other"})
	add("reach.", []string{"unknown", "tens", "hundreds", "thousands", "tens_thousands", "more"})
	add("field.", []string{"category", "severity", "title", "description", "station", "area", "lat", "lon", "precision", "channel", "harm", "reach", "source"})
	add("field.", tallyFields)
	checks := []string{incident.CheckSum, incident.CheckCastIssued, incident.CheckIssuedReg, incident.CheckTurnout, incident.CheckRegistry}
	add("tally.check.", checks)
	add("tally.fail.", checks)
	add("results.status.", resultStatuses)
	for n := 1; n <= 4; n++ {
		used["severity."+strconv.Itoa(n)] = true
	}
	if len(ReachBuckets) != 5 {
		t.Errorf("reach buckets changed: update the reach.* keys")
	}
	for k := range used {
		if !have[k] {
			t.Errorf("the code uses %q, which en.json lacks", k)
		}
	}
}

func TestLanguagesTranslate(t *testing.T) {
	defer SetLanguage("en")
	want := map[string]string{"en": "New report", "fr": "Nouveau rapport", "pt": "Novo relatório", "sw": "Ripoti mpya"}
	for _, l := range Languages {
		if _, ok := want[l.Code]; !ok {
			t.Errorf("%s: add its “New report” here", l.Code)
		}
	}
	for code, w := range want {
		SetLanguage(code)
		if got := T("home.new_report"); got != w {
			t.Errorf("%s: %q, want %q", code, got, w)
		}
		if got := TN("count.reports", 2); !strings.Contains(got, "2") || strings.Contains(got, "{{") {
			t.Errorf("%s plural: %q", code, got)
		}
		if got := T("home.station", map[string]any{"Code": "PS-0042"}); !strings.Contains(got, "PS-0042") {
			t.Errorf("%s template: %q", code, got)
		}
		if got := CategoryLabelOf("polling.vote_buying"); got == "polling.vote_buying" || got == "" {
			t.Errorf("%s category label: %q", code, got)
		}
	}
	SetLanguage("fr")
	if got := TN("delivery.sent", 1); got != "Envoyé à 1 appareil" {
		t.Errorf("fr singular: %q", got)
	}
	if got := TN("delivery.sent", 3); got != "Envoyé à 3 appareils" {
		t.Errorf("fr plural: %q", got)
	}
	// Swahili counts like English (one, other), and its nouns change
	// class with the number: kifaa, vifaa.
	SetLanguage("sw")
	if got := TN("delivery.sent", 1); got != "Imetumwa kwa kifaa 1" {
		t.Errorf("sw singular: %q", got)
	}
	if got := TN("delivery.sent", 3); got != "Imetumwa kwa vifaa 3" {
		t.Errorf("sw plural: %q", got)
	}
	if got := TN("delivery.sent", 0); got != "Imetumwa kwa vifaa 0" {
		t.Errorf("sw zero: %q", got)
	}
	// Every message renders in every language without template errors.
	keys, _ := translationKeys("en")
	data := map[string]any{"N": 2, "Code": "X", "Status": "S", "Time": "T", "Mission": "M", "Role": "R", "Who": "W",
		"Ago": "A", "Field": "F", "Name": "N", "Limit": "L", "ID": "I", "For": "1 h", "Total": 3, "File": "f", "Min": 7, "Fields": "F", "Kinds": "K", "Value": "V", "Max": 9, "Key": "K",
		"Reason": "R", "Number": "+1", "Used": "1 MiB", "Budget": "128 MiB", "Own": 3, "Carried": 4, "Receipts": 2,
		"Dropped": 5, "Deleted": 6, "Kept": 7, "D": "+2 min"}
	for _, l := range Languages {
		SetLanguage(l.Code)
		for _, k := range keys {
			if s := TN(k, 2, data); strings.Contains(s, "{{") || strings.Contains(s, "<no value>") || s == "" {
				t.Errorf("%s %s renders %q", l.Code, k, s)
			}
		}
	}
}

// translationMessages reads one translation file: each key's text, or its
// plural forms.
func translationMessages(t *testing.T, code string) map[string]any {
	t.Helper()
	b, err := translationFS.ReadFile("translations/" + code + ".json")
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s.json: %v", code, err)
	}
	return m
}

var placeholderRe = regexp.MustCompile(`\{\{[^}]*\}\}`)

// placeholders lists the {{.X}} a text uses.
func placeholders(s string) map[string]bool {
	p := map[string]bool{}
	for _, m := range placeholderRe.FindAllString(s, -1) {
		p[m] = true
	}
	return p
}

// placeholderProblems compares a translation with the English message: a
// plain text stays plain and names the same placeholders; a plural keeps
// the same forms, its "other" names the same placeholders as English's,
// and no form names one English does not fill ("one" may leave {{.N}}
// out, as "From the last hour" does).
func placeholderProblems(en, tr any) []string {
	var out []string
	same := func(what string, a, b map[string]bool) {
		for k := range a {
			if !b[k] {
				out = append(out, fmt.Sprintf("%s lacks %s", what, k))
			}
		}
		for k := range b {
			if !a[k] {
				out = append(out, fmt.Sprintf("%s has %s, which English lacks", what, k))
			}
		}
	}
	switch e := en.(type) {
	case string:
		s, ok := tr.(string)
		if !ok {
			return []string{"has plural forms where English has one text"}
		}
		same("the text", placeholders(e), placeholders(s))
	case map[string]any:
		f, ok := tr.(map[string]any)
		if !ok {
			return []string{"has one text where English has plural forms"}
		}
		all := map[string]bool{}
		for form, v := range e {
			if _, ok := f[form]; !ok {
				out = append(out, "lacks the form "+form)
			}
			es, _ := v.(string)
			for p := range placeholders(es) {
				all[p] = true
			}
		}
		for form, v := range f {
			s, ok := v.(string)
			if !ok {
				out = append(out, "form "+form+" is not a text")
				continue
			}
			if _, ok := e[form]; !ok {
				out = append(out, "has the form "+form+", which English lacks")
			}
			for p := range placeholders(s) {
				if !all[p] {
					out = append(out, fmt.Sprintf("form %s has %s, which English lacks", form, p))
				}
			}
		}
		eo, _ := e["other"].(string)
		fo, _ := f["other"].(string)
		same("the form other", placeholders(eo), placeholders(fo))
	}
	sort.Strings(out)
	return out
}
