package incident

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"sort"
)

// Trust against insiders: what a member record proves, who may be
// admitted to a hello, and the secret epochs that a revocation starts.
//
// An invite carries a one-time key pair. The coordinator signs the public
// half into the token (Token.Invite); the code holds the private half, and
// joining countersigns the new member's author key with it
// (MemberPayload.InviteSig). A member record therefore proves that its
// author held the code, and the token inside it, which every member
// holds, cannot enroll anyone else.
//
// Standing decides whether a member may be admitted to a hello. Records
// stay valid whatever standing says (validity is a pure function of the
// record and the mission records it depends on); what changes is the
// flags they carry and whether the mesh talks to their author:
//   - a revoked member is out;
//   - an invite is void once a coordinator revokes its invite key (an
//     unredeemed invite is cancelled that way) or revokes any member who
//     redeemed it: every other key on it is out, and its records are
//     unconfirmed (flag invite_revoked);
//   - an invite used by two keys (a photographed code, or an old-form
//     token copied from a synced member record) keeps both out and
//     flagged duplicate_token until a coordinator confirms one
//     redemption; the confirm closes it to every other key (flag
//     invite_closed).

// Errors Standing gives, for errors.Is.
var (
	ErrNotMember  = errors.New("not a member of this mission")
	ErrRevoked    = errors.New("member has been revoked")
	ErrInviteVoid = errors.New("member's invite is void")
	ErrDuplicate  = errors.New("member's invite was used by more than one device")
)

// Flags for the invite of a record's author.
const (
	FlagInviteRevoked = "invite_revoked" // the author's invite was revoked (with a member who redeemed it, or cancelled)
	FlagInviteClosed  = "invite_closed"  // a coordinator confirmed another device's redemption of the author's invite
)

const redeemDomain = "vigil/redeem/v1\x00"

// RedeemMessage is what an invite key signs for a joining author.
func RedeemMessage(mission ID, author Author) []byte {
	b := append([]byte(redeemDomain), mission[:]...)
	return append(b, author[:]...)
}

// NewInviteKey returns a fresh one-time invite key: its seed (what the
// code carries) and its public half (what the token names).
func NewInviteKey() (seed []byte, pub []byte, err error) {
	pk, sk, err := ed25519.GenerateKey(nil)
	if err != nil {
		return nil, nil, err
	}
	return sk.Seed(), pk, nil
}

// InvitePublic returns the public half of the invite key with seed (for
// deterministic missions: the demo, benchmarks).
func InvitePublic(seed []byte) []byte {
	return ed25519.NewKeyFromSeed(seed).Public().(ed25519.PublicKey)
}

// SignRedeem signs the redemption of an invite by author with the invite
// key's seed.
func SignRedeem(seed []byte, mission ID, author Author) []byte {
	return ed25519.Sign(ed25519.NewKeyFromSeed(seed), RedeemMessage(mission, author))
}

// checkRedeem checks a member record's invite countersignature.
func checkRedeem(author Author, p *MemberPayload, mission ID) error {
	if len(p.Token.Invite) == 0 {
		if len(p.InviteSig) != 0 {
			return fieldErr("payload.invite_sig", "is set but the token names no invite key")
		}
		return nil
	}
	if len(p.Token.Invite) != ed25519.PublicKeySize {
		return fieldErr("token.invite", "must be a %d-byte key, got %d bytes", ed25519.PublicKeySize, len(p.Token.Invite))
	}
	if len(p.InviteSig) != ed25519.SignatureSize || !ed25519.Verify(p.Token.Invite, RedeemMessage(mission, author), p.InviteSig) {
		return fieldErr("payload.invite_sig", "does not verify for the token's invite key: the record was not made with the invite code")
	}
	return nil
}

// InviteID names an invite: its invite key (shown like an author key), or
// for a token from before invite keys, nothing (ok false).
func InviteID(t Token) (Author, bool) {
	var a Author
	if len(t.Invite) != len(a) {
		return a, false
	}
	copy(a[:], t.Invite)
	return a, true
}

// accepted reports whether every revocation of author accepts record id:
// the part of Confirmed that depends on revocations alone (configs,
// confirms and epochs count by it).
func (ms *MissionState) accepted(author Author, id ID) bool {
	for _, r := range ms.revoked[author] {
		if !r.Accepted[id] {
			return false
		}
	}
	return true
}

// inviteProblem says why m's invite no longer admits m ("" when it does):
// its invite key was revoked, another member who redeemed the same token
// was revoked (or a revocation names the token), or a coordinator
// confirmed another redemption of it. A redemption a coordinator
// confirmed survives the revocation of another device on its invite.
func (ms *MissionState) inviteProblem(m Member) (flag, problem string) {
	if m.Record.IsZero() {
		return "", "" // the founder
	}
	if ms.InviteCancelled(m) {
		return FlagInviteRevoked, "its invite was cancelled or revoked"
	}
	if ms.recordConfirmed(m.Record) {
		// A coordinator vouched for this redemption: revoking another
		// device that used the same code (the natural clean-up after a
		// confirm) leaves it standing.
		return "", ""
	}
	for _, other := range ms.tokens[m.TokenID] {
		if other != m.Author && len(ms.revoked[other]) > 0 {
			return FlagInviteRevoked, fmt.Sprintf("its invite was revoked with %s, who redeemed it too", other)
		}
	}
	for _, other := range ms.revokedTokens[m.TokenID] {
		if other != m.Author {
			return FlagInviteRevoked, fmt.Sprintf("its invite was revoked with %s, who redeemed it too", other)
		}
	}
	if ms.tokenConfirmed(m.TokenID) {
		return FlagInviteClosed, "a coordinator confirmed another device's redemption of its invite"
	}
	return "", ""
}

// recordConfirmed reports whether a confirm that counts names member
// record id.
func (ms *MissionState) recordConfirmed(id ID) bool {
	for _, c := range ms.confirms[id] {
		if ms.accepted(c.author, c.id) {
			return true
		}
	}
	return false
}

// tokenConfirmed reports whether any redemption of token tid is confirmed.
func (ms *MissionState) tokenConfirmed(tid ID) bool {
	for _, a := range ms.tokens[tid] {
		for _, m := range ms.members[a] {
			if m.TokenID == tid && ms.recordConfirmed(m.Record) {
				return true
			}
		}
	}
	return false
}

// Coordinators counts the coordinators in good standing. Sealed reports
// are readable by coordinators only, so a real mission with one has a
// single device whose loss loses them.
func (ms *MissionState) Coordinators() int {
	n := 0
	seen := map[Author]bool{}
	for _, m := range ms.Members() {
		if seen[m.Author] {
			continue
		}
		seen[m.Author] = true
		if role, _ := ms.Role(m.Author); role == RoleCoordinator && ms.Standing(m.Author) == nil {
			n++
		}
	}
	return n
}

// Standing reports whether a may be admitted to a hello: nil for a member
// in good standing by at least one of its enrollments, else an error for
// which errors.Is gives ErrNotMember, ErrRevoked, ErrInviteVoid or
// ErrDuplicate, naming why.
func (ms *MissionState) Standing(a Author) error {
	list := ms.members[a]
	if len(list) == 0 {
		return fmt.Errorf("%w: %s", ErrNotMember, a)
	}
	if len(ms.revoked[a]) > 0 {
		return fmt.Errorf("%w: %s", ErrRevoked, a)
	}
	var last error
	for _, m := range list {
		if _, problem := ms.inviteProblem(m); problem != "" {
			last = fmt.Errorf("%w: %s: %s", ErrInviteVoid, a, problem)
			continue
		}
		if ms.DuplicateToken(m) {
			last = fmt.Errorf("%w: %s: its invite was redeemed by %d devices; a coordinator confirms one (vigil mission confirm)",
				ErrDuplicate, a, len(ms.tokens[m.TokenID]))
			continue
		}
		return nil
	}
	return last
}

// InviteFlag is the invite flag of a's records (FlagInviteRevoked,
// FlagInviteClosed): set when no enrollment of a is in good standing for
// an invite reason; "" otherwise.
func (ms *MissionState) InviteFlag(a Author) string { return ms.inviteFlag(a) }

func (ms *MissionState) inviteFlag(a Author) string {
	flag := ""
	for _, m := range ms.members[a] {
		f, _ := ms.inviteProblem(m)
		if f == "" {
			return ""
		}
		flag = f
	}
	return flag
}

// Duplicates returns the redemptions of invites used by more than one key
// that no coordinator has resolved yet, grouped by token.
func (ms *MissionState) Duplicates() [][]Member {
	var out [][]Member
	for tid, authors := range ms.tokens {
		if len(authors) < 2 || ms.tokenConfirmed(tid) {
			continue
		}
		var group []Member
		for _, a := range authors {
			for _, m := range ms.members[a] {
				if m.TokenID == tid {
					group = append(group, m)
				}
			}
		}
		sort.Slice(group, func(i, j int) bool { return bytes.Compare(group[i].Record[:], group[j].Record[:]) < 0 })
		out = append(out, group)
	}
	sort.Slice(out, func(i, j int) bool { return bytes.Compare(out[i][0].Record[:], out[j][0].Record[:]) < 0 })
	return out
}

// InviteCancelled reports whether a coordinator revoked m's invite key
// (`mission invite cancel`): a confirm cannot restore it.
func (ms *MissionState) InviteCancelled(m Member) bool {
	return m.Invite != (Author{}) && len(ms.revoked[m.Invite]) > 0
}

// RedemptionConfirmed reports whether a coordinator confirmed m's
// redemption of its invite.
func (ms *MissionState) RedemptionConfirmed(m Member) bool {
	return !m.Record.IsZero() && ms.recordConfirmed(m.Record)
}

// TokenConfirmedFor reports whether a coordinator confirmed a redemption
// of token tid by someone other than a.
func (ms *MissionState) TokenConfirmedFor(tid ID, a Author) bool {
	for _, other := range ms.tokens[tid] {
		if other == a {
			continue
		}
		for _, m := range ms.members[other] {
			if m.TokenID == tid && ms.recordConfirmed(m.Record) {
				return true
			}
		}
	}
	return false
}

// MembersOf returns every enrollment of a.
func (ms *MissionState) MembersOf(a Author) []Member { return slices.Clone(ms.members[a]) }

// RedeemedBy returns the authors who redeemed the invite with invite key
// id.
func (ms *MissionState) RedeemedBy(id Author) []Author { return ms.Redemptions()[id] }

// Redemptions returns, for every invite key that members redeemed, the
// authors who did, sorted: one pass over the members, for a list of many
// invites.
func (ms *MissionState) Redemptions() map[Author][]Author {
	out := map[Author][]Author{}
	for _, list := range ms.members {
		for _, m := range list {
			if m.Invite != (Author{}) && !slices.Contains(out[m.Invite], m.Author) {
				out[m.Invite] = append(out[m.Invite], m.Author)
			}
		}
	}
	for _, authors := range out {
		sort.Slice(authors, func(i, j int) bool { return bytes.Compare(authors[i][:], authors[j][:]) < 0 })
	}
	return out
}

// Epoch is a secret epoch that counts: started by a coordinator whose
// revocations, if any, accept it.
type Epoch struct {
	ID      ID
	Number  uint64
	Commit  [32]byte
	By      Author
	Created int64
}

const epochDomain = "vigil/epoch/v1\x00"

// EpochCommit is the commitment an epoch record carries to its secret.
func EpochCommit(mission ID, secret []byte) [32]byte {
	h := sha256.New()
	h.Write([]byte(epochDomain))
	h.Write(mission[:])
	h.Write(secret)
	var c [32]byte
	copy(c[:], h.Sum(nil))
	return c
}

// Epochs returns the epochs that count, by number then ID. Epochs of one
// number started concurrently by different coordinators all count: a
// member is current when it holds the secret of any epoch of the highest
// number, and members hand each other every secret they hold.
func (ms *MissionState) Epochs() []Epoch {
	var out []Epoch
	for _, e := range ms.epochs {
		if ms.accepted(e.By, e.ID) {
			out = append(out, e)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Number != out[j].Number {
			return out[i].Number < out[j].Number
		}
		return bytes.Compare(out[i].ID[:], out[j].ID[:]) < 0
	})
	return out
}

// EpochNumber is the highest epoch number that counts (0 for none).
func (ms *MissionState) EpochNumber() uint64 {
	var n uint64
	for _, e := range ms.Epochs() {
		n = max(n, e.Number)
	}
	return n
}

// EpochByID returns an epoch that counts.
func (ms *MissionState) EpochByID(id ID) (Epoch, bool) {
	e, ok := ms.epochs[id]
	if !ok || !ms.accepted(e.By, e.ID) {
		return Epoch{}, false
	}
	return e, true
}

type confirmRef struct {
	id     ID
	author Author
}
