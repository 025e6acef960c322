package main

import (
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// smsTextOut is `sms encode --json`.
type smsTextOut struct {
	ID       string `json:"id"`
	Kind     string `json:"kind"`
	Text     string `json:"text"`
	Segments int    `json:"segments"`
	Number   string `json:"number"`
}

// smsImportOut is one line of `sms import --json`.
type smsImportOut struct {
	Text    int      `json:"text"`
	Outcome string   `json:"outcome"`
	ID      *string  `json:"id"`
	Kind    string   `json:"kind"`
	Reason  string   `json:"reason"`
	Replies []string `json:"replies"`
}

// smsMission is a sealed mission that takes SMS, a Heron observer and a
// carrier, each holding the others' member records and the config.
func smsMission(t *testing.T) (coord, obs, carrier string) {
	t.Helper()
	coord, _, _ = sealedMission(t, "sms-coord")
	mustRun(t, coord, nil, "mission", "config", "set", "sms_number=+254700111222")
	obs, _, _ = member(t, "sms-obs", invite(t, coord, "--role", "observer", "--label", "Heron"))
	carrier, _, _ = member(t, "sms-carrier", invite(t, coord, "--role", "carrier", "--label", "Bus"))
	carry(t, obs, coord)
	carry(t, carrier, coord)
	carry(t, coord, obs)
	carry(t, coord, carrier)
	return coord, obs, carrier
}

// writeTexts writes lines to a new import file.
func writeTexts(t *testing.T, lines ...string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "texts.txt")
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// A report an observer sends by SMS (sms encode, pasted into a file,
// sms import on the coordinator's laptop, held by a node) and later by
// bundle is one record: the ID the import prints is the observer's, the
// coordinator reads its sealed content, and the bundle brings nothing
// new. The receipt text, pasted back on the observer's phone, makes the
// report "held by a coordinator" there. A carrier that gets the record
// reads nothing of it.
func TestSMSReportByTextThenBundleIsOneRecord(t *testing.T) {
	t.Parallel()
	coord, obs, carrier := smsMission(t)
	id := mustID(t, obs, nil, "report", "add", "--category", "polling.closure", "--severity", "3",
		"--title", "Closed at noon", "--station", "PS-0042")

	text, stderr, code := runVigil(t, obs, nil, "sms", "encode", id[:len("bafkrei")+12])
	if code != 0 || strings.Count(text, "\n") != 1 || !strings.Contains(stderr, "to +254700111222") || !strings.Contains(stderr, "segment") {
		t.Fatalf("sms encode: exit %d\nstdout: %q\nstderr: %s", code, text, stderr)
	}
	text = strings.TrimSpace(text)
	js := decodeJSON[smsTextOut](t, mustRun(t, obs, nil, "sms", "encode", id, "--json"))
	if js.ID != id || js.Text != text || js.Kind != "report" || js.Number != "+254700111222" || js.Segments < 1 || js.Segments > 4 {
		t.Fatalf("sms encode --json: %+v", js)
	}

	startNode(t, coord)
	out := mustRun(t, coord, nil, "sms", "import", writeTexts(t, text))
	lines := strings.Split(out, "\n")
	if len(lines) != 2 || lines[0] != "text 1: stored report "+id || !strings.HasPrefix(lines[1], "reply to the sender of text 1: ") {
		t.Fatalf("sms import through the node:\n%s", out)
	}
	reply := strings.TrimPrefix(lines[1], "reply to the sender of text 1: ")
	again := decodeLines[smsImportOut](t, mustRun(t, coord, nil, "sms", "import", "--json", writeTexts(t, text)))
	if len(again) != 1 || again[0].Outcome != "duplicate" || again[0].ID == nil || *again[0].ID != id ||
		len(again[0].Replies) != 1 || again[0].Replies[0] != reply {
		t.Fatalf("the same text again: %+v; want a duplicate answered with the same receipt %q", again, reply)
	}
	if r := showReport(t, coord, id); str(r.Title) != "Closed at noon" || !r.Sealed {
		t.Fatalf("the coordinator's copy from the text: %+v", r)
	}

	sum := carry(t, obs, coord)
	if sum.Accepted != 0 && sum.Duplicate == 0 {
		t.Fatalf("the bundle after the text: %+v", sum)
	}
	reports, _ := listReports(t, coord)
	if len(reports) != 1 || reports[id].ID != id {
		t.Fatalf("the coordinator's reports after text and bundle: %v", reports)
	}

	rec := mustRun(t, obs, nil, "sms", "import", writeTexts(t, reply))
	if !strings.HasPrefix(rec, "text 1: stored receipt ") {
		t.Fatalf("the observer pastes the receipt: %s", rec)
	}
	if r := showReport(t, obs, id); r.Delivery == nil || *r.Delivery != "held by a coordinator" {
		t.Fatalf("the observer's report after the receipt: delivery %s", str(r.Delivery))
	}

	carry(t, coord, carrier)
	seen, _ := listReports(t, carrier)
	r, ok := seen[id]
	if !ok || r.Title != nil || r.Description != nil || r.Category != nil || !r.Sealed {
		t.Fatalf("the carrier's copy of the text's record: %+v (held: %v)", r, ok)
	}
	if out := mustRun(t, carrier, nil, "report", "show", id); strings.Contains(out, "Closed at noon") || strings.Contains(out, "polling.closure") {
		t.Fatalf("the carrier reads the sealed record:\n%s", out)
	}
}

// A report sent by SMS and later by the mesh is one record: the
// coordinator's node stores the imported text under the observer's ID,
// and when the observer's phone reaches that node over libp2p the
// reconciliation finds the report on both sides, so it sends nothing and
// the coordinator still holds one report, readable (the compact seal is
// to the coordinator's SMS inbox). The receipt the import signed travels
// back by the mesh, with no text pasted on the phone: the observer's
// report goes from "local only" to "held by a coordinator".
func TestSMSThenMeshIsOneRecord(t *testing.T) {
	t.Parallel()
	// No carrier: two homes keep it quick.
	coord, _, _ := sealedMission(t, "sms-mesh-coord")
	mustRun(t, coord, nil, "mission", "config", "set", "sms_number=+254700111222")
	obs, _, _ := member(t, "sms-mesh-obs", invite(t, coord, "--role", "observer", "--label", "Heron"))
	carry(t, obs, coord)
	carry(t, coord, obs)
	id := mustID(t, obs, nil, "report", "add", "--category", "polling.closure", "--severity", "3",
		"--title", "Closed at noon", "--station", "PS-0042")
	// sms encode refuses a record sealed for the mesh (age): a sealed
	// report it encodes is compactly sealed.
	js := decodeJSON[smsTextOut](t, mustRun(t, obs, nil, "sms", "encode", "--json", id))
	if js.ID != id || js.Segments < 1 || js.Segments > 4 || !showReport(t, obs, id).Sealed {
		t.Fatalf("sms encode of a compactly sealed report: %+v", js)
	}

	addr := startNode(t, coord)
	got := decodeLines[smsImportOut](t, mustRun(t, coord, nil, "sms", "import", "--json", writeTexts(t, js.Text)))
	if len(got) != 1 || got[0].Outcome != "stored" || got[0].ID == nil || *got[0].ID != id || len(got[0].Replies) != 1 {
		t.Fatalf("sms import through the node: %+v", got)
	}
	before := status(t, coord).Records
	if before["report"] != 1 || before["receipt"] < 1 {
		t.Fatalf("the coordinator's records after the text: %v", before)
	}

	// The receipt text is not pasted on the phone: only the mesh can
	// bring it. (sms encode marks nothing; the app marks "sent by SMS".)
	if r := showReport(t, obs, id); r.Delivery == nil || *r.Delivery != "local only" {
		t.Fatalf("the observer's report before the mesh: delivery %s", str(r.Delivery))
	}

	// The one-shot sync returns once its sessions with the node are
	// counted. Once, in a full `make test` on 2 cores, a first sync
	// counted nothing at all (not even the receipt; the cause is not
	// known yet): the observer syncs again until the receipt is there,
	// and the sums over every sync are checked.
	type syncSum struct{ Sent, Received, Rejected int }
	var sum syncSum
	deadline := time.Now().Add(60 * time.Second)
	for {
		one := decodeJSON[syncSum](t, mustRun(t, obs, nil, "sync", "--peer", addr, "--json"))
		sum.Sent, sum.Received, sum.Rejected = sum.Sent+one.Sent, sum.Received+one.Received, sum.Rejected+one.Rejected
		if sum.Received > 0 || time.Now().After(deadline) {
			break
		}
	}
	if sum.Sent != 0 || sum.Received != 1 || sum.Rejected != 0 {
		t.Fatalf("the mesh sync after the text: %+v; want nothing sent (the report is held) and the receipt alone received", sum)
	}
	if after := status(t, coord).Records; !maps.Equal(before, after) {
		t.Fatalf("the mesh changed the coordinator's records: %v, then %v", before, after)
	}
	reports, _ := listReports(t, coord)
	if len(reports) != 1 || reports[id].ID != id {
		t.Fatalf("the coordinator's reports after text and mesh: %v", reports)
	}
	if r := showReport(t, coord, id); str(r.Title) != "Closed at noon" || str(r.Category) != "polling.closure" || !r.Sealed {
		t.Fatalf("the coordinator reads the report: %+v", r)
	}
	if r := showReport(t, obs, id); r.Delivery == nil || *r.Delivery != "held by a coordinator" {
		t.Fatalf("the observer's report after the mesh brought the receipt: delivery %s", str(r.Delivery))
	}
}

// Texts that are not records (a greeting, a text cut short, one mangled
// by the operator, a file that is not text) are refused with their
// reasons and change nothing; the valid ones beside them are kept.
func TestSMSImportRefusesBadTexts(t *testing.T) {
	t.Parallel()
	coord, obs, _ := smsMission(t)
	id := mustID(t, obs, nil, "alert", "--note", "men with sticks at the gate", "--station", "PS-0042")
	text := decodeJSON[smsTextOut](t, mustRun(t, obs, nil, "sms", "encode", "--json", id)).Text
	mangled := []byte(text)
	mangled[len(mangled)/2] ^= 0x01
	if mangled[len(mangled)/2] == text[len(text)/2] {
		t.Fatal("the mangled text is the text")
	}
	before := status(t, coord).Records

	out, stderr, code := runVigil(t, coord, nil, "sms", "import", writeTexts(t,
		"Hello, are you there?", text[:len(text)*2/3], string(mangled)))
	if code != exitPartial || !strings.Contains(stderr, "3 refused") {
		t.Fatalf("bad texts: exit %d\nstdout: %s\nstderr: %s", code, out, stderr)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 {
		t.Fatalf("want one line per text, got:\n%s", out)
	}
	for i, l := range lines {
		prefix := "text " + string(rune('1'+i)) + ": refused"
		if !strings.HasPrefix(l, prefix) || len(l) < len(prefix)+5 || strings.Contains(l, "reply") {
			t.Errorf("text %d: %q, want %q and a reason", i+1, l, prefix)
		}
	}
	if after := status(t, coord).Records; !maps.Equal(before, after) {
		t.Fatalf("refused texts changed the store: %v, then %v", before, after)
	}

	bin := filepath.Join(t.TempDir(), "photo.jpg")
	if err := os.WriteFile(bin, []byte{0xff, 0xd8, 0xff, 0x00, 0x10}, 0o600); err != nil {
		t.Fatal(err)
	}
	out, stderr, code = runVigil(t, coord, nil, "sms", "import", bin)
	wantFailure(t, "a file that is not text", out, stderr, code, exitError, "photo.jpg", "not UTF-8", "nothing imported")

	// The good text beside a bad one: stored, exit 3 all the same.
	out, stderr, code = runVigil(t, coord, nil, "sms", "import", writeTexts(t, text, "", "Hello"))
	if code != exitPartial || !strings.Contains(out, "text 1: stored alert "+id) || !strings.Contains(out, "text 2: refused") {
		t.Fatalf("a good and a bad text: exit %d\nstdout: %s\nstderr: %s", code, out, stderr)
	}
}

// A text from an observer whose member record has not reached the
// coordinator waits; once a bundle brings the member record, sms retry
// stores it.
func TestSMSPendingUntilTheAuthorIsKnown(t *testing.T) {
	t.Parallel()
	coord, _, _ := smsMission(t)
	late, _, _ := member(t, "sms-late", invite(t, coord, "--role", "observer", "--label", "Egret"))
	carry(t, coord, late)
	id := mustID(t, late, nil, "checkin", "--status", "arrived", "--station", "PS-0042")
	text := decodeJSON[smsTextOut](t, mustRun(t, late, nil, "sms", "encode", "--json", id)).Text

	out, stderr, code := runVigil(t, coord, nil, "sms", "import", writeTexts(t, text))
	if code != exitPartial || !strings.HasPrefix(out, "text 1: pending") {
		t.Fatalf("a text from an unknown author: exit %d\nstdout: %s\nstderr: %s", code, out, stderr)
	}
	out, _, code = runVigil(t, coord, nil, "sms", "retry")
	if code != 0 || out != "" {
		t.Fatalf("sms retry before the member record: exit %d: %s", code, out)
	}
	carryMembers(t, late, coord)
	out = mustRun(t, coord, nil, "sms", "retry")
	if !strings.Contains(out, "stored checkin "+id) && !strings.Contains(out, "duplicate checkin "+id) {
		t.Fatalf("sms retry after the member record:\n%s", out)
	}
}

// equalCounts compares record counts by kind.
