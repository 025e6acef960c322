package app

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/vigil-mesh/vigil/incident"
)

// Every language has every key, and every key the code uses exists.
func TestTranslationsAreComplete(t *testing.T) {
	en, err := translationKeys("en")
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, k := range en {
		have[k] = true
	}
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
	want := map[string]string{"en": "New report", "fr": "Nouveau rapport", "pt": "Novo relatório"}
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
	// Every message renders in every language without template errors.
	keys, _ := translationKeys("en")
	data := map[string]any{"N": 2, "Code": "X", "Status": "S", "Time": "T", "Mission": "M", "Role": "R", "Who": "W",
		"Ago": "A", "Field": "F", "Name": "N", "Limit": "L", "ID": "I", "For": "1 h", "Total": 3, "File": "f", "Min": 7, "Fields": "F", "Kinds": "K", "Value": "V", "Max": 9, "Key": "K"}
	for _, l := range Languages {
		SetLanguage(l.Code)
		for _, k := range keys {
			if s := TN(k, 2, data); strings.Contains(s, "{{") || strings.Contains(s, "<no value>") || s == "" {
				t.Errorf("%s %s renders %q", l.Code, k, s)
			}
		}
	}
}
