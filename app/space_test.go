package app

import (
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/vigil-mesh/vigil/incident"
)

// An observer's settings say how much room Vigil uses on the phone and
// what it keeps; a coordinator's say it keeps every record.
func TestSettingsShowSpace(t *testing.T) {
	a := test.NewTempApp(t)
	coordHome, code := missionHomes(t)
	obs := newTestUI(t, a, joinedObserver(t, code), true, testPass)
	if _, err := obs.be.Submit(incident.ReportPayload{Category: "polling.late_opening", Severity: 2, Title: "late", Occurred: 1}, nil, false); err != nil {
		t.Fatal(err)
	}
	obs.selectTab(T("tab.settings"))
	text := allText(obs)
	if !strings.Contains(text, T("space.title")) || !strings.Contains(text, "of 128 MiB") || !strings.Contains(text, "the records you wrote (1)") {
		t.Errorf("observer's settings do not show the space: %q", text)
	}
	co := newTestUI(t, a, coordHome, false, testPass)
	co.selectTab(T("tab.settings"))
	if text := allText(co); !strings.Contains(text, "keeps every record of the mission") {
		t.Errorf("coordinator's settings do not show the space: %q", text)
	}
}
