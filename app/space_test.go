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

// The quick delete on an observer's phone: one confirmation, then its
// records that two coordinators hold are gone; a coordinator has no button.
func TestQuickDeleteFromSettings(t *testing.T) {
	a := test.NewTempApp(t)
	coordHome, code := missionHomes(t)
	obs := newTestUI(t, a, joinedObserver(t, code), true, testPass)
	id, err := obs.be.Submit(incident.ReportPayload{Category: "polling.late_opening", Severity: 2, Title: "late", Occurred: 1}, nil, true)
	if err != nil {
		t.Fatal(err)
	}
	co := newTestUI(t, a, coordHome, false, testPass)
	carry(t, storeOf(obs), storeOf(co))
	// custody_receipts 1: this mission has one coordinator.
	ms, _ := storeOf(co).Mission()
	if _, err := storeOf(co).Put(incident.KindConfig, ms.NewConfig(map[string]string{incident.SettingCustodyReceipts: "1"})); err != nil {
		t.Fatal(err)
	}
	if _, err := storeOf(co).Put(incident.KindReceipt, incident.ReceiptPayload{IDs: [][]byte{id.Bytes()}}); err != nil {
		t.Fatal(err)
	}
	carry(t, storeOf(co), storeOf(obs))
	obs.selectTab(T("tab.settings"))
	tap(t, obs, T("forget.button"))
	closeDialog(t, obs, T("forget.confirm_button"))
	waitFor(t, "the report deleted", func() bool { ok, _ := storeOf(obs).Has(id); return !ok })
	if !strings.Contains(toastText(obs), "Deleted 1") {
		t.Errorf("toast %q", toastText(obs))
	}
	co.selectTab(T("tab.settings"))
	if strings.Contains(allText(co), T("forget.button")) {
		t.Error("a coordinator's settings offer the quick delete")
	}
}
