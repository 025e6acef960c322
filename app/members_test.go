package app

import (
	"errors"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/vigil-mesh/vigil/incident"
)

// duplicateMission is a coordinator's UI holding the member records of two
// devices that joined with the same observer code, on the members screen.
// It returns the UI and the two devices' author keys, in join order.
func duplicateMission(t *testing.T) (*UI, incident.Author, incident.Author) {
	t.Helper()
	a := test.NewTempApp(t)
	h, code := missionHomes(t)
	ui := newTestUI(t, a, h, false, testPass)
	var keys []incident.Author
	for range 2 {
		be, err := joinedObserver(t, code).Unlock([]byte(testPass))
		if err != nil {
			t.Fatal(err)
		}
		id, err := be.Identity()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, id.Author)
		carry(t, be.(*StoreBackend).Store(), storeOf(ui))
		be.Close()
	}
	ui.selectTab(T("tab.members"))
	ui.refreshAll()
	ui.wait()
	return ui, keys[0], keys[1]
}

// memberByAuthor returns a's enrollment from the backend.
func memberByAuthor(t *testing.T, ui *UI, a incident.Author) MemberItem {
	t.Helper()
	ms, err := ui.be.Members()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if m.Author == a {
			return m
		}
	}
	t.Fatalf("no member %s in %+v", a, ms)
	return MemberItem{}
}

// buttons counts the enabled buttons on screen whose text is text.
func buttons(ui *UI, text string) int {
	n := 0
	for _, r := range roots(ui) {
		walk(r, func(o fyne.CanvasObject) {
			if b, ok := o.(*widget.Button); ok && b.Text == text && !b.Disabled() {
				n++
			}
		})
	}
	return n
}

// TestMembersConfirmDuplicate: an invite redeemed by two devices flags
// both and offers a coordinator "Confirm this device" on each; cancelling
// the dialog changes nothing, confirming one admits it and closes the
// invite to the other (flag invite_closed), and the action goes away.
func TestMembersConfirmDuplicate(t *testing.T) {
	ui, first, second := duplicateMission(t)
	for _, a := range []incident.Author{first, second} {
		m := memberByAuthor(t, ui, a)
		if !m.DuplicateToken || !errors.Is(m.Standing, incident.ErrDuplicate) || m.InviteClosed || m.InviteRevoked {
			t.Fatalf("member %s before confirm: %+v, want duplicate_token and standing ErrDuplicate", a.Short(), m)
		}
	}
	if n := strings.Count(allText(ui), T("flag.duplicate_token")); n != 2 {
		t.Errorf("%d duplicate_token badges, want 2:\n%s", n, allText(ui))
	}
	if n := buttons(ui, T("members.confirm")); n != 2 {
		t.Fatalf("%d %q buttons, want one per duplicate device:\n%s", n, T("members.confirm"), allText(ui))
	}

	// Cancel: nothing is signed.
	before, err := storeOf(ui).Counts()
	if err != nil {
		t.Fatal(err)
	}
	tap(t, ui, T("members.confirm"))
	if !strings.Contains(topText(ui), T("members.confirm_title")) {
		t.Fatalf("no confirmation dialog:\n%s", topText(ui))
	}
	closeDialog(t, ui, T("action.cancel"))
	after, err := storeOf(ui).Counts()
	if err != nil {
		t.Fatal(err)
	}
	if after[incident.KindConfirm] != before[incident.KindConfirm] {
		t.Fatalf("cancelled dialog signed a confirm: %v -> %v", before, after)
	}

	// Confirm the first device listed (the first to join).
	tap(t, ui, T("members.confirm"))
	tap(t, ui, T("members.confirm"))
	if ui.win.Canvas().Overlays().Top() != nil {
		t.Fatalf("a dialog is still open after confirming:\n%s", topText(ui))
	}
	if c, _ := storeOf(ui).Counts(); c[incident.KindConfirm] != before[incident.KindConfirm]+1 {
		t.Fatalf("confirm records: %d, want %d", c[incident.KindConfirm], before[incident.KindConfirm]+1)
	}
	kept, closed := memberByAuthor(t, ui, first), memberByAuthor(t, ui, second)
	if kept.DuplicateToken || kept.InviteClosed || kept.Standing != nil {
		kept, closed = closed, kept
	}
	if kept.DuplicateToken || kept.InviteClosed || kept.Standing != nil {
		t.Fatalf("confirmed device: %+v, want no flags and good standing", kept)
	}
	if closed.DuplicateToken || !closed.InviteClosed || !errors.Is(closed.Standing, incident.ErrInviteVoid) {
		t.Fatalf("the other device: %+v, want invite_closed and standing ErrInviteVoid", closed)
	}
	text := allText(ui)
	if !strings.Contains(text, T("flag.invite_closed")) || strings.Contains(text, T("flag.duplicate_token")) {
		t.Errorf("members screen after confirm, want invite_closed and no duplicate_token:\n%s", text)
	}
	if n := buttons(ui, T("members.confirm")); n != 0 {
		t.Errorf("%d confirm buttons left after confirming", n)
	}
}

// TestMembersRevokeVoidsInvite: revoking one of two devices on an invite
// goes through store.Revoke: a new secret epoch starts, and the other
// device is flagged invite_revoked until a coordinator confirms it.
func TestMembersRevokeVoidsInvite(t *testing.T) {
	ui, first, second := duplicateMission(t)
	ms, err := storeOf(ui).Mission()
	if err != nil {
		t.Fatal(err)
	}
	epoch := ms.EpochNumber()

	tap(t, ui, T("members.revoke"))
	test.Type(entry(t, ui, T("members.reason")), "phone seized")
	tap(t, ui, T("members.revoke"))

	var revoked, other MemberItem
	for _, a := range []incident.Author{first, second} {
		if m := memberByAuthor(t, ui, a); m.Revoked {
			revoked = m
		} else {
			other = m
		}
	}
	if revoked.Author.IsZero() || other.Author.IsZero() {
		t.Fatalf("want exactly one of the two devices revoked")
	}
	if !errors.Is(revoked.Standing, incident.ErrRevoked) {
		t.Errorf("revoked device standing: %v", revoked.Standing)
	}
	if !other.InviteRevoked || other.InviteCancelled || !errors.Is(other.Standing, incident.ErrInviteVoid) {
		t.Errorf("the other device on the revoked invite: %+v, want invite_revoked and ErrInviteVoid", other)
	}
	if ms, err = storeOf(ui).Mission(); err != nil || ms.EpochNumber() != epoch+1 {
		t.Errorf("epoch after revoke: %d (%v), want %d: the app's revoke must start a new epoch", ms.EpochNumber(), err, epoch+1)
	}
	if !strings.Contains(allText(ui), T("flag.invite_revoked")) {
		t.Errorf("no invite_revoked badge:\n%s", allText(ui))
	}

	// The device left on the invite can still be vouched for.
	if n := buttons(ui, T("members.confirm")); n != 1 {
		t.Fatalf("%d confirm buttons after revoking one of two devices, want 1 (the other):\n%s", n, allText(ui))
	}
	tap(t, ui, T("members.confirm"))
	tap(t, ui, T("members.confirm"))
	if m := memberByAuthor(t, ui, other.Author); m.Standing != nil || m.InviteRevoked || m.DuplicateToken {
		t.Errorf("the confirmed device: %+v, want good standing and no flags", m)
	}
	if n := buttons(ui, T("members.confirm")); n != 0 {
		t.Errorf("%d confirm buttons left", n)
	}
}

// TestMembersCancelledInvite: a device that joined with a cancelled invite
// is flagged invite_revoked and offered no confirm.
func TestMembersCancelledInvite(t *testing.T) {
	a := test.NewTempApp(t)
	h, code := missionHomes(t)
	ui := newTestUI(t, a, h, false, testPass)
	inv, err := incident.DecodeInvite(code)
	if err != nil {
		t.Fatal(err)
	}
	id, ok := incident.InviteID(inv.Token)
	if !ok {
		t.Fatal("the invite names no invite key")
	}
	if _, err := storeOf(ui).CancelInvite(id, ""); err != nil {
		t.Fatal(err)
	}
	var keys []incident.Author
	for range 2 {
		be, err := joinedObserver(t, code).Unlock([]byte(testPass))
		if err != nil {
			t.Fatal(err)
		}
		carry(t, be.(*StoreBackend).Store(), storeOf(ui))
		id, _ := be.Identity()
		keys = append(keys, id.Author)
		be.Close()
	}
	ui.selectTab(T("tab.members"))
	ui.refreshAll()
	ui.wait()
	for _, k := range keys {
		if m := memberByAuthor(t, ui, k); !m.InviteRevoked || !m.InviteCancelled || !errors.Is(m.Standing, incident.ErrInviteVoid) {
			t.Errorf("device on a cancelled invite: %+v", m)
		}
	}
	if strings.Count(allText(ui), T("flag.invite_revoked")) != 2 {
		t.Errorf("want two invite_revoked badges:\n%s", allText(ui))
	}
	if n := buttons(ui, T("members.confirm")); n != 0 {
		t.Errorf("%d confirm buttons on a cancelled invite, want none", n)
	}
}

// TestCanConfirm: who gets the confirm action.
func TestCanConfirm(t *testing.T) {
	dup := MemberItem{Member: incident.Member{Role: incident.RoleObserver}, DuplicateToken: true}
	if !canConfirm(dup) {
		t.Error("a duplicate device should be confirmable")
	}
	if !canConfirm(MemberItem{Member: dup.Member, DuplicateToken: true, InviteRevoked: true}) {
		t.Error("a duplicate device whose invite was revoked with the other one should be confirmable")
	}
	for name, m := range map[string]MemberItem{
		"not duplicate":    {Member: dup.Member},
		"revoked":          {Member: dup.Member, DuplicateToken: true, Revoked: true},
		"invite cancelled": {Member: dup.Member, DuplicateToken: true, InviteRevoked: true, InviteCancelled: true},
		"self":             {Member: dup.Member, DuplicateToken: true, Self: true},
		"founder":          {Member: dup.Member, DuplicateToken: true, Founder: true},
	} {
		if canConfirm(m) {
			t.Errorf("%s: offered the confirm action", name)
		}
	}
}

// TestSingleCoordinatorWarning: the only coordinator of a real mission is
// told, on the members screen, that losing this device loses the sealed
// reports; a second coordinator ends the warning.
func TestSingleCoordinatorWarning(t *testing.T) {
	a := test.NewTempApp(t)
	h, _ := missionHomes(t)
	ui := newTestUI(t, a, h, false, testPass)
	ui.selectTab(T("tab.members"))
	ui.refreshAll()
	ui.wait()
	if !strings.Contains(allText(ui), T("members.single_coordinator")) {
		t.Fatalf("no warning for the only coordinator:\n%s", allText(ui))
	}
	// A second coordinator joins, bound to its device key.
	be, err := testHome(t).Create([]byte(testPass))
	if err != nil {
		t.Fatal(err)
	}
	defer be.Close()
	id, _ := be.Identity()
	code, err := ui.be.Invite(InviteRequest{Role: "coordinator", For: &id.Author})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := be.Join(code); err != nil {
		t.Fatal(err)
	}
	carry(t, be.(*StoreBackend).Store(), storeOf(ui))
	ui.refreshAll()
	ui.wait()
	if strings.Contains(allText(ui), T("members.single_coordinator")) {
		t.Fatalf("the warning stays with two coordinators:\n%s", allText(ui))
	}
}
