package app

import (
	"bytes"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/export"
)

// TestReviewApprovesTextForPublication: the review screen's check box
// approves the report's text, as shown, for public exports; it says what
// that means; it starts as the approval stands; a rejection cannot carry
// it; an amendment that arrives while the coordinator reads is not
// approved unread.
func TestReviewApprovesTextForPublication(t *testing.T) {
	a := test.NewTempApp(t)
	coordHome, code := missionHomes(t)
	ob, err := joinedObserver(t, code).Unlock([]byte(testPass))
	if err != nil {
		t.Fatal(err)
	}
	defer ob.Close()
	const title = "Cash handed out in the queue"
	p := incident.ReportPayload{Category: "polling.vote_buying", Severity: 3, Title: title, Station: "PS-0002",
		Occurred: 1_790_000_000_000}
	id, err := ob.Submit(p, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	coord := newTestUI(t, a, coordHome, false, testPass)
	carry(t, ob.(*StoreBackend).Store(), storeOf(coord))
	publicText := func() string {
		var b bytes.Buffer
		if _, err := export.FromStore(storeOf(coord), &b, export.Request{Format: "csv", Public: true}); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	review := func(status string, publish bool) {
		t.Helper()
		radio, ok := find(coord, func(r *widget.RadioGroup) bool { return len(r.Options) == len(incident.ReviewStatuses) })
		if !ok {
			t.Fatal("no review choices")
		}
		radio.SetSelected(StatusLabel(status))
		box := findCheck(t, coord, T("review.publish"))
		if publish != box.Checked {
			test.Tap(box)
		}
		tap(t, coord, T("review.save"))
	}

	coord.showReport(id, nil)
	if !strings.Contains(allText(coord), T("review.publish_note")) {
		t.Fatalf("the review panel does not say what approving the text means:\n%s", allText(coord))
	}
	if findCheck(t, coord, T("review.publish")).Checked {
		t.Fatal("the approval box starts ticked on a report nobody approved")
	}
	// Rejecting unticks and disables the box.
	radio, _ := find(coord, func(r *widget.RadioGroup) bool { return len(r.Options) == len(incident.ReviewStatuses) })
	box := findCheck(t, coord, T("review.publish"))
	test.Tap(box)
	radio.SetSelected(StatusLabel("rejected"))
	if box.Checked || !box.Disabled() {
		t.Fatal("a rejection can carry an approval of the text")
	}
	if strings.Contains(publicText(), title) {
		t.Fatal("the text is public before anyone approved it")
	}

	review("verified", true)
	dismissAll(coord)
	v, _ := coord.be.Report(id)
	if !v.TextApproved || v.Status != "verified" {
		t.Fatalf("after approving: status %q, approved %v", v.Status, v.TextApproved)
	}
	if !strings.Contains(allText(coord), T("history.publish")) {
		t.Fatalf("the history does not show the approval:\n%s", allText(coord))
	}
	if !strings.Contains(publicText(), title) {
		t.Fatal("the approved text is not in the public export")
	}
	// The screen shown again starts with the approval standing.
	if !findCheck(t, coord, T("review.publish")).Checked {
		t.Fatal("the approval box starts unticked on an approved report")
	}

	// An amendment arrives while the coordinator reads: approving is
	// refused, nothing is stored, and the old approval no longer holds.
	p.Title = "Cash and phones handed out in the queue"
	if _, err := ob.Amend(id, p, nil); err != nil {
		t.Fatal(err)
	}
	carry(t, ob.(*StoreBackend).Store(), storeOf(coord))
	before, _ := coord.be.Report(id)
	review("verified", true)
	if !strings.Contains(allText(coord), T("err.amended_since")) {
		t.Fatalf("no refusal on screen:\n%s", allText(coord))
	}
	dismissAll(coord)
	after, _ := coord.be.Report(id)
	if len(after.History) != len(before.History) || after.TextApproved {
		t.Fatalf("a refused approval changed the report: approved %v, %d events (was %d)", after.TextApproved,
			len(after.History), len(before.History))
	}
	if out := publicText(); strings.Contains(out, p.Title) || strings.Contains(out, title) {
		t.Fatal("the amended report's text is public without a new approval")
	}
	// Read again, approved again.
	coord.pop()
	coord.showReport(id, nil)
	review("verified", true)
	dismissAll(coord)
	if !strings.Contains(publicText(), p.Title) {
		t.Fatal("the amendment, approved, is not in the public export")
	}
}
