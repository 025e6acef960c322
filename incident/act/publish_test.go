package act

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/export"
	"github.com/vigil-mesh/vigil/incident/store"
)

// TestReviewPublishRefusals: only coordinators approve (they alone
// review); a rejected report's text is not approved; an approval of a
// version the person did not read is refused; none of these writes.
func TestReviewPublishRefusals(t *testing.T) {
	coord, obs := mission(t)
	mine, err := obs.Submit(Submission{Report: report("Closed at noon")})
	if err != nil {
		t.Fatal(err)
	}
	copyRecords(t, obs, coord)
	if _, err := obs.Review(Verdict{Report: mine.ID.String(), Status: "verified", Publish: true}); CodeOf(err) != Forbidden {
		t.Errorf("an observer approves a text: %v", err)
	}
	if _, err := coord.Review(Verdict{Report: mine.ID.String(), Status: "rejected", Publish: true}); CodeOf(err) != Invalid {
		t.Errorf("a rejected report's text approved: %v", err)
	}
	seen := mine.ID.String()
	am, err := obs.Amend(Amendment{Target: mine.ID.String(), Report: report("Closed at noon; reopened at two")})
	if err != nil {
		t.Fatal(err)
	}
	copyRecords(t, obs, coord)
	if _, err := coord.Review(Verdict{Report: mine.ID.String(), Status: "verified", Publish: true, Seen: seen}); CodeOf(err) != Refused {
		t.Errorf("an approval of the version before the amendment: %v", err)
	}
	v, _ := coord.Report(mine.ID.String())
	if v.Status != incident.StatusUnreviewed {
		t.Fatalf("a refused review was stored: %+v", v)
	}
	if _, err := coord.Review(Verdict{Report: mine.ID.String(), Status: "verified", Publish: true, Seen: am.ID.String()}); err != nil {
		t.Fatal(err)
	}
	if v, _ = coord.Report(mine.ID.String()); !v.TextApproved || v.Version != am.ID {
		t.Errorf("after approving the amendment: approved %v, version %s (want %s)", v.TextApproved, v.Version, am.ID)
	}
}

// TestPublicExportOfThePracticeMissionWithApprovedText: in the practice
// mission, the coordinator approves the text of every report it verified;
// the public export then carries those texts (save those naming a station
// the file hides) and no other text, no station code it hides in any
// text, and a notice that counts what was withheld. The coordinator's own
// report, approved then amended, goes without text until approved again.
func TestPublicExportOfThePracticeMissionWithApprovedText(t *testing.T) {
	st := practiceStore(t)
	d := New(st)
	views, err := st.List(store.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	approved := map[string]bool{} // texts approved
	var unapproved []string
	for _, v := range views {
		texts := []string{v.Report.Title, v.Report.Description, v.Report.Source}
		if !export.Verified(v) || v.Retracted || v.Sealed && !v.Opened {
			for _, s := range texts {
				if len(s) >= 12 {
					unapproved = append(unapproved, s)
				}
			}
			continue
		}
		if _, err := d.Review(Verdict{Report: v.ID.String(), Status: v.Status, Publish: true}); err != nil {
			t.Fatal(err)
		}
		for _, s := range texts {
			approved[s] = true
		}
	}
	if len(approved) == 0 || len(unapproved) == 0 {
		t.Fatalf("%d approved texts, %d unapproved: the test needs both", len(approved), len(unapproved))
	}
	// Texts that both kinds of reports share (a short stock phrase) say
	// nothing about which went out.
	for i := 0; i < len(unapproved); i++ {
		if approved[unapproved[i]] {
			unapproved = append(unapproved[:i], unapproved[i+1:]...)
			i--
		}
	}

	// The coordinator's own report: approved, then amended.
	const before, after = "Count by torchlight after the generator failed", "Count by torchlight; the generator was cut off"
	own, err := d.Submit(Submission{Report: incident.ReportPayload{Category: "polling.closure", Severity: 2, Title: before, Occurred: 1}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Review(Verdict{Report: own.ID.String(), Status: "verified", Publish: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Amend(Amendment{Target: own.ID.String(), Report: incident.ReportPayload{Category: "polling.closure",
		Severity: 2, Title: after, Occurred: 1}}); err != nil {
		t.Fatal(err)
	}

	out, res := publicJSONL(t, d)
	rows, notice := readRows(t, out)
	// The stations this file shows; every other code must appear in no text.
	shown := map[string]bool{}
	for _, r := range rows {
		if s, ok := r["station"].(string); ok {
			shown[s] = true
		}
	}
	codes := map[string]bool{}
	for _, v := range views {
		if c := v.Report.Station; c != "" && !shown[c] {
			codes[c] = true
		}
	}
	published := 0
	for _, r := range rows {
		for _, f := range []string{"title", "description", "source"} {
			s, ok := r[f].(string)
			if !ok {
				continue
			}
			published++
			if !approved[s] {
				t.Errorf("the public export holds the unapproved %s %q", f, s)
			}
			for c := range codes {
				if strings.Contains(strings.ToUpper(s), strings.ToUpper(c)) {
					t.Errorf("the public %s %q names %s, a station the file does not show", f, s, c)
				}
			}
		}
	}
	if published == 0 {
		t.Error("the public export holds no approved text")
	}
	t.Logf("%d rows, %d texts published; %d approved texts, %d unapproved; withheld %d unapproved, %d naming a hidden station; %d hidden codes",
		len(rows), published, len(approved), len(unapproved), res.WithheldText, res.WithheldStation, len(codes))
	for _, s := range append(unapproved, before, after) {
		if bytes.Contains(out, []byte(s)) {
			t.Errorf("the public export holds the text %q", s)
		}
	}
	if res.WithheldText == 0 || res.WithheldStation == 0 {
		t.Errorf("withheld %d unapproved texts and %d naming a hidden station; the practice mission has both", res.WithheldText, res.WithheldStation)
	}
	want := fmt.Sprintf("withheld from %d reports for lack of approval, and from %d whose approved text names a station",
		res.WithheldText, res.WithheldStation)
	if !strings.Contains(notice, want) {
		t.Errorf("the notice does not say %q:\n%s", want, notice)
	}

	// Approved again, the amended text goes out.
	if _, err := d.Review(Verdict{Report: own.ID.String(), Status: "verified", Publish: true}); err != nil {
		t.Fatal(err)
	}
	if out, _ = publicJSONL(t, d); !bytes.Contains(out, []byte(after)) || bytes.Contains(out, []byte(before)) {
		t.Error("the amendment, approved again, is not published as it stands")
	}
	// A later review without the approval withdraws it.
	if _, err := d.Review(Verdict{Report: own.ID.String(), Status: "verified"}); err != nil {
		t.Fatal(err)
	}
	if out, _ = publicJSONL(t, d); bytes.Contains(out, []byte(after)) {
		t.Error("a review without --publish left the approval standing")
	}
}

func publicJSONL(t *testing.T, d *Desk) ([]byte, Exported) {
	t.Helper()
	var out bytes.Buffer
	res, err := d.Export(ExportRequest{Format: "jsonl", Public: true}, &out)
	if err != nil {
		t.Fatal(err)
	}
	return out.Bytes(), res
}

func readRows(t *testing.T, out []byte) (rows []map[string]any, notice string) {
	t.Helper()
	for _, line := range bytes.Split(bytes.TrimSpace(out), []byte("\n")) {
		var row map[string]any
		if err := json.Unmarshal(line, &row); err != nil {
			t.Fatal(err)
		}
		if row["kind"] == "notice" {
			notice = row["text"].(string)
			continue
		}
		rows = append(rows, row)
	}
	return rows, notice
}
