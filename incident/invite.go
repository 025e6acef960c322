package incident

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base32"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Invite is what an invite code carries: the mission genesis, a signed
// enrollment token, the member records that authorise the token's issuer
// (empty when the founder issued it), the mission secret used for discovery
// and hello, and bootstrap addresses. Everything a device needs to join
// offline, at once.
type Invite struct {
	Version   uint64   `cbor:"1,keyasint"`
	Genesis   []byte   `cbor:"2,keyasint"`
	Token     Token    `cbor:"3,keyasint"`
	Secret    []byte   `cbor:"4,keyasint"`
	Chain     [][]byte `cbor:"5,keyasint,omitempty"`
	Bootstrap []string `cbor:"6,keyasint,omitempty"`
	// InviteKey is the seed of the one-time invite key whose public half
	// the token names: joining signs with it (SignRedeem). Whoever holds
	// the code can redeem it once more; a coordinator sees both
	// redemptions and confirms one, or cancels the invite.
	InviteKey []byte `cbor:"7,keyasint,omitempty"`
}

// MaxInviteBytes bounds a decoded invite.
const MaxInviteBytes = 16 << 10

// ErrInvite marks every invite-code problem.
var ErrInvite = errors.New("invite code")

var inviteEnc = base32.StdEncoding.WithPadding(base32.NoPadding)

// EncodeInvite returns the text form: upper-case base32 (QR alphanumeric
// mode) of the CBOR encoding followed by a 4-byte SHA-256 checksum, so a
// mistyped or cut-off code is caught before anything else.
func EncodeInvite(inv Invite) (string, error) {
	inv.Version = 1
	b, err := encMode.Marshal(inv)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return inviteEnc.EncodeToString(append(b, sum[:4]...)), nil
}

// ParsedInvite is a decoded, signature-checked invite.
type ParsedInvite struct {
	Invite
	GenesisRecord *Signed
	ChainRecords  []*Signed
	Mission       MissionPayload
}

func inviteErr(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvite}, args...)...)
}

// DecodeInvite parses and checks an invite code: checksum, canonical form,
// the genesis signature, the token's mission and signature, and the chain.
// It does not check expiry (see CheckJoin). Spaces, dashes and line breaks
// in the code are ignored; case does not matter.
func DecodeInvite(code string) (*ParsedInvite, error) {
	clean := strings.Map(func(r rune) rune {
		switch r {
		case ' ', '-', '\n', '\r', '\t':
			return -1
		}
		return r
	}, strings.ToUpper(code))
	if clean == "" {
		return nil, inviteErr("is empty")
	}
	if len(clean) > (MaxInviteBytes+4)*8/5+1 {
		return nil, inviteErr("is too long (%d characters)", len(clean))
	}
	b, err := inviteEnc.DecodeString(clean)
	if err != nil {
		return nil, inviteErr("is not valid: it contains characters an invite never has")
	}
	if len(b) < 5 {
		return nil, inviteErr("is too short")
	}
	body, sum := b[:len(b)-4], b[len(b)-4:]
	want := sha256.Sum256(body)
	if !bytes.Equal(sum, want[:4]) {
		return nil, inviteErr("is damaged or mistyped (checksum mismatch)")
	}
	var inv Invite
	if err := UnmarshalCanonical(body, &inv); err != nil {
		return nil, inviteErr("is not a valid invite: %v", err)
	}
	if inv.Version != 1 {
		return nil, inviteErr("has version %d; this build reads version 1", inv.Version)
	}
	g, err := Decode(inv.Genesis)
	if err != nil {
		return nil, inviteErr("mission genesis: %v", err)
	}
	ms, err := NewMissionState(g)
	if err != nil {
		return nil, inviteErr("mission genesis: %v", err)
	}
	if len(inv.Secret) != 32 {
		return nil, inviteErr("mission secret must be 32 bytes")
	}
	if len(inv.Bootstrap) > 16 {
		return nil, inviteErr("lists %d bootstrap addresses, limit 16", len(inv.Bootstrap))
	}
	if !bytes.Equal(inv.Token.Mission, g.ID[:]) {
		return nil, inviteErr("token is for another mission than its genesis")
	}
	if !verifyToken(inv.Token) {
		return nil, inviteErr("token signature does not verify (the code was altered)")
	}
	p := &ParsedInvite{Invite: inv, GenesisRecord: g, Mission: ms.Mission}
	// The chain must authorise the issuer using only the records in the
	// invite, so a joiner can trust it offline.
	pending := make([]*Signed, 0, len(inv.Chain))
	for i, raw := range inv.Chain {
		s, err := Decode(raw)
		if err != nil {
			return nil, inviteErr("chain record %d: %v", i, err)
		}
		if s.Kind != KindMember {
			return nil, inviteErr("chain record %d is %s, not a member record", i, Article(string(s.Kind)))
		}
		pending = append(pending, s)
	}
	for progress := true; progress; {
		progress = false
		for i, s := range pending {
			if s == nil {
				continue
			}
			err := Validate(s, ms, noRecords{})
			if IsMissing(err) {
				continue
			}
			if err != nil {
				return nil, inviteErr("chain record %s: %v", s.ID, err)
			}
			if err := ms.Apply(s); err != nil {
				return nil, inviteErr("chain record %s: %v", s.ID, err)
			}
			p.ChainRecords = append(p.ChainRecords, s)
			pending[i] = nil
			progress = true
		}
	}
	var issuer Author
	copy(issuer[:], inv.Token.Issuer)
	if role, _ := ms.Role(issuer); role != RoleCoordinator {
		return nil, inviteErr("was issued by %s, who is not a coordinator of this mission", issuer)
	}
	if !slices.Contains(Roles, inv.Token.Role) {
		return nil, inviteErr("has unknown role %q", inv.Token.Role)
	}
	if inv.Token.Role == RoleCoordinator && len(inv.Token.For) != 32 {
		return nil, inviteErr("is a coordinator invite not bound to a device key")
	}
	switch {
	case len(inv.Token.Invite) == 0 && len(inv.InviteKey) != 0:
		return nil, inviteErr("carries an invite key its token does not name")
	case len(inv.Token.Invite) != 0:
		if len(inv.InviteKey) != ed25519.SeedSize ||
			!bytes.Equal(InvitePublic(inv.InviteKey), inv.Token.Invite) {
			return nil, inviteErr("invite key does not match its token (the code was altered)")
		}
	}
	return p, nil
}

// Redemption returns the member payload that enrolls self with this
// invite, countersigned with the invite key when the token names one.
func (p *ParsedInvite) Redemption(self Author, recipient string) MemberPayload {
	mp := MemberPayload{Token: p.Token, Recipient: recipient}
	if len(p.InviteKey) != 0 {
		mp.InviteSig = SignRedeem(p.InviteKey, p.GenesisRecord.ID, self)
	}
	return mp
}

// CheckJoin checks what only the joining device can: that the invite has
// not expired by its clock and that a bound invite names this device.
func (p *ParsedInvite) CheckJoin(now time.Time, self Author) error {
	if p.Token.Expires != 0 && now.UnixMilli() > p.Token.Expires {
		return inviteErr("expired at %s", time.UnixMilli(p.Token.Expires).UTC().Format(time.RFC3339))
	}
	if len(p.Token.For) != 0 && !bytes.Equal(p.Token.For, self[:]) {
		var want Author
		copy(want[:], p.Token.For)
		return inviteErr("is bound to device %s, not this device (%s)", want, self)
	}
	return nil
}

type noRecords struct{}

func (noRecords) Get(ID) (*Signed, error) { return nil, nil }
