package app

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/bundle"
	"github.com/vigil-mesh/vigil/incident/store"
	"github.com/vigil-mesh/vigil/internal/testrec"
)

// addNewerRecords stores on st, signed with its own device key, what a
// newer Vigil on that device would write: two records of a kind this build
// does not know (notice), one of another (petition), and a report with a
// field it does not know (16). It returns the report.
func addNewerRecords(t *testing.T, st *store.Store) *incident.Signed {
	t.Helper()
	ms, err := st.Mission()
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	var rep *incident.Signed
	for _, r := range []struct {
		kind    incident.Kind
		payload any
	}{
		{"bulletin", map[uint64]any{1: "Stations close at 18:00"}},
		{"bulletin", map[uint64]any{1: "Queue marshals at the gate"}},
		{"petition", map[uint64]any{1: "PS-0001", 2: map[uint64]any{1: uint64(312)}}},
		{incident.KindReport, map[uint64]any{1: "polling.materials_missing", 2: uint64(3), 3: now.UnixMilli(), 9: "Ballots short", 16: "form-7"}},
	} {
		rec, err := st.Signer().Sign(ms.ID, r.kind, now, r.payload)
		if err != nil {
			t.Fatal(err)
		}
		if res := st.Add(rec.Raw, "newer build"); res.Outcome != store.Accepted {
			t.Fatalf("storing a %s: %v %v", r.kind, res.Outcome, res.Err)
		}
		rep = rec
	}
	return rep
}

// Records of a newer Vigil reach a coordinator's laptop on a USB stick:
// the import summary counts them, the sync screen says how many this
// version cannot show (off the network and on it), the report with newer
// fields carries the note, and a record of a newer schema version is
// rejected with a reason that does not blame the file.
func TestNewerRecordsShown(t *testing.T) {
	a := test.NewTempApp(t)
	coordHome, code := missionHomes(t)
	obs := newTestUI(t, a, joinedObserver(t, code), true, testPass)
	if _, err := obs.be.Submit(incident.ReportPayload{Category: "polling.late_opening", Severity: 2, Title: "Opened late"}, nil, false); err != nil {
		t.Fatal(err)
	}
	obs.selectTab(T("tab.sync"))
	obs.wait()
	if strings.Contains(allText(obs), "🆕") {
		t.Fatalf("the sync screen speaks of newer records before there are any:\n%s", allText(obs))
	}
	rep := addNewerRecords(t, storeOf(obs))
	obs.refreshAll()
	obs.wait()
	// Networking is off on the test phone: the count shows all the same.
	if s := allText(obs); !strings.Contains(s, "🆕 "+TN("peers.newer", 3)) || !strings.Contains(s, T("peers.newer_kinds", map[string]any{"Kinds": "bulletin: 2, petition: 1"})) {
		t.Fatalf("the observer's sync screen does not count the newer records:\n%s", s)
	}

	// The laptop, on a (fake) mesh, imports the observer's bundle.
	co := newTestUI(t, a, &fakeNetHome{coordHome}, false, testPass)
	dir := t.TempDir()
	stick := filepath.Join(dir, "plain.vgb")
	exportBundleUI(t, obs, stick, "🔓 "+T("bundle.protect_none"), "")
	importBundleUI(t, co, stick)
	if top := topText(co); !strings.Contains(top, "🆕  "+TN("bundle.newer", 4)) || !strings.Contains(top, TN("bundle.rejected", 0)) {
		t.Fatalf("import summary does not count the records that need a newer Vigil:\n%s", top)
	}
	dismissAll(co)
	co.selectTab(T("tab.sync"))
	co.wait()
	if s := allText(co); !strings.Contains(s, "🆕 "+TN("peers.newer", 3)) {
		t.Fatalf("the coordinator's sync screen does not count the newer records:\n%s", s)
	}

	co.showReport(rep.ID, nil)
	if s := allText(co); !strings.Contains(s, "🆕 "+FlagLabel(incident.FlagNewerFields)) || !strings.Contains(s, "Ballots short") {
		t.Fatalf("the report detail lacks the newer note or the fields it can read:\n%s", s)
	}
	co.popAll()

	// A record of a newer schema version: rejected, not blamed on the file.
	cst := co.be.(*netBackend).Backend.(*StoreBackend).Store()
	ms, _ := cst.Mission()
	v2 := testrec.NewerVersion(t, storeOf(obs).Signer(), ms.ID)
	var buf bytes.Buffer
	if err := bundle.Write(&buf, ms.ID, time.Now(), [][]byte{v2}); err != nil {
		t.Fatal(err)
	}
	mixed := filepath.Join(dir, "v2.vgb")
	if err := os.WriteFile(mixed, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	importBundleUI(t, co, mixed)
	if top := topText(co); !strings.Contains(top, TN("bundle.rejected", 1)) || !strings.Contains(top, T("bundle.rejected_newer")) {
		t.Fatalf("a version %d record: summary\n%s", incident.SchemaVersion+1, top)
	}
	dismissAll(co)
}

func TestNewerKinds(t *testing.T) {
	text, total := NewerKinds(map[incident.Kind]int{"petition": 1, "bulletin": 2})
	if text != "bulletin: 2, petition: 1" || total != 3 {
		t.Fatalf("NewerKinds = %q, %d", text, total)
	}
	if text, total := NewerKinds(nil); text != "" || total != 0 {
		t.Fatalf("NewerKinds(nil) = %q, %d", text, total)
	}
}
