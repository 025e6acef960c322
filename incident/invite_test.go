package incident

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

// testSecret is a fixed mission secret for invites.
var testSecret = bytes.Repeat([]byte{0x42}, 32)

// invite encodes an invite for tok with f's genesis and the given chain.
func (f *fixture) invite(tok Token, chain ...*Signed) string {
	f.tb.Helper()
	inv := Invite{Genesis: f.genesis.Raw, Token: tok, Secret: testSecret, Bootstrap: []string{"/ip4/192.168.1.10/tcp/4001"}}
	for _, c := range chain {
		inv.Chain = append(inv.Chain, c.Raw)
	}
	code, err := EncodeInvite(inv)
	if err != nil {
		f.tb.Fatalf("EncodeInvite: %v", err)
	}
	return code
}

// encodeRawInvite is EncodeInvite without its fix-ups: body is used as is.
func encodeRawInvite(body []byte) string {
	sum := sha256.Sum256(body)
	return inviteEnc.EncodeToString(append(append([]byte(nil), body...), sum[:4]...))
}

func wantInviteErr(t *testing.T, err error, contains string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want an invite error mentioning %q", contains)
	}
	if !errors.Is(err, ErrInvite) {
		t.Fatalf("error %v does not wrap ErrInvite", err)
	}
	if !strings.Contains(err.Error(), contains) {
		t.Fatalf("error %q does not mention %q", err, contains)
	}
}

func TestInviteRoundTrip(t *testing.T) {
	f := newFixture(t, "invite-roundtrip")
	tok := f.token(f.founder, RoleObserver, "Kibra team", nil)
	tok.Expires = 0
	code := f.invite(tok)
	for _, r := range code {
		if !strings.ContainsRune("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", r) {
			t.Fatalf("code has %q: not QR alphanumeric base32", r)
		}
	}
	p, err := DecodeInvite(code)
	if err != nil {
		t.Fatalf("DecodeInvite: %v", err)
	}
	want := Invite{Version: 1, Genesis: f.genesis.Raw, Token: tok, Secret: testSecret, Bootstrap: []string{"/ip4/192.168.1.10/tcp/4001"}}
	if !reflect.DeepEqual(p.Invite, want) {
		t.Fatalf("decoded invite = %+v, want %+v", p.Invite, want)
	}
	if p.GenesisRecord.ID != f.ms.ID || p.Mission.Name != "invite-roundtrip" || len(p.ChainRecords) != 0 {
		t.Fatalf("genesis %s name %q chain %d", p.GenesisRecord.ID, p.Mission.Name, len(p.ChainRecords))
	}
	again, err := EncodeInvite(p.Invite)
	if err != nil || again != code {
		t.Fatalf("re-encoding the decoded invite gave a different code (err %v)", err)
	}
	// The joiner turns the token into a member record that is valid.
	joiner := f.signer("joiner")
	if err := p.CheckJoin(t0, joiner.Author()); err != nil {
		t.Fatalf("CheckJoin: %v", err)
	}
	rec := f.memberRecord(joiner, p.Token)
	f.accept(rec)
	if role, _ := f.ms.Role(joiner.Author()); role != RoleObserver {
		t.Fatalf("joined as %q", role)
	}
}

func TestInviteExpiry(t *testing.T) {
	f := newFixture(t, "invite-expiry")
	expires := t0.Add(48 * time.Hour)
	tok := f.founder.SignToken(Token{Mission: f.ms.ID.Bytes(), Role: RoleObserver, Nonce: f.nonce(), Expires: expires.UnixMilli()})
	p, err := DecodeInvite(f.invite(tok))
	if err != nil {
		t.Fatalf("DecodeInvite of a token that will expire: %v (expiry is CheckJoin's job)", err)
	}
	joiner := f.signer("late")
	if err := p.CheckJoin(expires.Add(-time.Millisecond), joiner.Author()); err != nil {
		t.Fatalf("CheckJoin before expiry: %v", err)
	}
	wantInviteErr(t, p.CheckJoin(expires.Add(time.Millisecond), joiner.Author()), "expired")
	wantInviteErr(t, p.CheckJoin(expires.AddDate(1, 0, 0), joiner.Author()), "expired")
	// Expiry cannot invalidate a member record elsewhere: validity never
	// depends on a clock.
	if err := f.validate(f.signAt(joiner, KindMember, expires.AddDate(1, 0, 0), MemberPayload{Token: tok})); err != nil {
		t.Fatalf("member record redeeming an expired token: %v, want valid", err)
	}
}

func TestInviteTamperedCode(t *testing.T) {
	f := newFixture(t, "invite-tamper")
	code := f.invite(f.token(f.founder, RoleObserver, "", nil))
	swap := func(s string, i int) string {
		c := byte('A')
		if s[i] == 'A' {
			c = 'B'
		}
		return s[:i] + string(c) + s[i+1:]
	}
	mid := len(code) / 2
	_, err := DecodeInvite(swap(code, mid))
	wantInviteErr(t, err, "checksum")
	// Every single-character change is caught, except where the last
	// character only carries unused padding bits (then the invite is the
	// same one).
	for i := 0; i < len(code); i++ {
		p, err := DecodeInvite(swap(code, i))
		if err == nil {
			if i != len(code)-1 || p.GenesisRecord.ID != f.ms.ID {
				t.Fatalf("changing character %d/%d gave an accepted invite", i, len(code))
			}
			continue
		}
		if !errors.Is(err, ErrInvite) {
			t.Fatalf("character %d: error %v does not wrap ErrInvite", i, err)
		}
	}
}

func TestInviteTamperedToken(t *testing.T) {
	f := newFixture(t, "invite-tamper-token")
	p, err := DecodeInvite(f.invite(f.token(f.founder, RoleObserver, "", nil)))
	if err != nil {
		t.Fatal(err)
	}
	for name, mut := range map[string]func(*Invite){
		"role raised": func(inv *Invite) { inv.Token.Role = RoleCarrier },
		"label":       func(inv *Invite) { inv.Token.Label = "someone" },
		"nonce":       func(inv *Invite) { inv.Token.Nonce = bytes.Repeat([]byte{1}, 16) },
		"signature":   func(inv *Invite) { inv.Token.Sig = append([]byte{inv.Token.Sig[0] ^ 1}, inv.Token.Sig[1:]...) },
		"expiry":      func(inv *Invite) { inv.Token.Expires = 1 },
	} {
		t.Run(name, func(t *testing.T) {
			inv := p.Invite
			mut(&inv)
			code, err := EncodeInvite(inv)
			if err != nil {
				t.Fatal(err)
			}
			_, err = DecodeInvite(code)
			wantInviteErr(t, err, "signature")
		})
	}
}

func TestInviteRejects(t *testing.T) {
	a := newFixture(t, "invite-mission-a")
	b := newFixture(t, "invite-mission-b")
	good := a.invite(a.token(a.founder, RoleObserver, "", nil))
	goodP, err := DecodeInvite(good)
	if err != nil {
		t.Fatal(err)
	}
	withInvite := func(mut func(*Invite)) string {
		inv := goodP.Invite
		mut(&inv)
		code, err := EncodeInvite(inv)
		if err != nil {
			t.Fatal(err)
		}
		return code
	}
	obs := a.enroll(a.founder, "obs", RoleObserver)
	cases := []struct {
		name, code, mention string
	}{
		{"empty", "", "empty"},
		{"only separators", " - \n\t-", "empty"},
		{"garbage", "hello, world!", "characters"},
		{"digits base32 never has", "ABCD0189", "characters"},
		{"too short", "AAAA", "short"},
		{"truncated by one", good[:len(good)-1], ""},
		{"truncated by five", good[:len(good)-5], ""},
		{"truncated to half", good[:len(good)/2], ""},
		{"doubled", good + good, ""},
		{"too long", strings.Repeat("A", 40000), "too long"},
		{"genesis of A, token of B", withInvite(func(inv *Invite) { inv.Token = b.token(b.founder, RoleObserver, "", nil) }), "another mission"},
		{"genesis of B, token of A", withInvite(func(inv *Invite) { inv.Genesis = b.genesis.Raw }), "another mission"},
		{"token for A signed by B's founder", withInvite(func(inv *Invite) { inv.Token = a.token(b.founder, RoleObserver, "", nil) }), "not a coordinator"},
		{"token issued by an observer", withInvite(func(inv *Invite) { inv.Token = a.token(obs, RoleObserver, "", nil) }), "not a coordinator"},
		{"unknown role", withInvite(func(inv *Invite) { inv.Token = a.token(a.founder, "admin", "", nil) }), "role"},
		{"unbound coordinator invite", withInvite(func(inv *Invite) { inv.Token = a.token(a.founder, RoleCoordinator, "", nil) }), "not bound"},
		{"genesis is not a genesis", withInvite(func(inv *Invite) { inv.Genesis = a.report(obs, nil).Raw }), "genesis"},
		{"genesis damaged", withInvite(func(inv *Invite) {
			inv.Genesis = append([]byte(nil), inv.Genesis...)
			inv.Genesis[len(inv.Genesis)-1] ^= 1
		}), "genesis"},
		{"short secret", withInvite(func(inv *Invite) { inv.Secret = inv.Secret[:31] }), "secret"},
		{"no secret", withInvite(func(inv *Invite) { inv.Secret = nil }), "secret"},
		{"too many bootstrap addresses", withInvite(func(inv *Invite) { inv.Bootstrap = make([]string, 17) }), "bootstrap"},
		{"chain holds a report", withInvite(func(inv *Invite) { inv.Chain = [][]byte{a.report(obs, nil).Raw} }), "not a member record"},
		{"chain holds garbage", withInvite(func(inv *Invite) { inv.Chain = [][]byte{{0xa0}} }), "chain record 0"},
		{"version 2", func() string {
			inv := goodP.Invite
			inv.Version = 2
			return encodeRawInvite(mustMarshal(t, inv))
		}(), "version"},
		{"body not canonical", func() string {
			body := mustMarshal(t, goodP.Invite)
			return encodeRawInvite(append(body, 0x00))
		}(), "not a valid invite"},
		{"body not an invite", encodeRawInvite(mustMarshal(t, "invite")), "not a valid invite"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := DecodeInvite(c.code)
			if err == nil {
				t.Fatalf("DecodeInvite accepted it (mission %s)", p.GenesisRecord.ID)
			}
			wantInviteErr(t, err, c.mention)
		})
	}
}

func TestInviteLenientText(t *testing.T) {
	f := newFixture(t, "invite-lenient")
	code := f.invite(f.token(f.founder, RoleObserver, "", nil))
	var grouped strings.Builder
	for i, r := range code {
		if i > 0 && i%5 == 0 {
			grouped.WriteString([]string{"-", " ", "\n", "\r\n", "\t"}[i/5%5])
		}
		grouped.WriteRune(r)
	}
	for name, variant := range map[string]string{
		"lower case":         strings.ToLower(code),
		"mixed case":         strings.ToLower(code[:len(code)/2]) + code[len(code)/2:],
		"grouped":            grouped.String(),
		"lower case grouped": strings.ToLower(grouped.String()),
		"surrounding space":  "  " + code + "\n",
	} {
		p, err := DecodeInvite(variant)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if p.GenesisRecord.ID != f.ms.ID {
			t.Fatalf("%s: mission %s", name, p.GenesisRecord.ID)
		}
	}
}

func TestInviteCoordinatorBinding(t *testing.T) {
	f := newFixture(t, "invite-bound")
	x, y := f.signer("x"), f.signer("y")
	xa := x.Author()
	p, err := DecodeInvite(f.invite(f.token(f.founder, RoleCoordinator, "deputy", &xa)))
	if err != nil {
		t.Fatalf("DecodeInvite: %v", err)
	}
	wantInviteErr(t, p.CheckJoin(t0, y.Author()), "bound")
	if err := p.CheckJoin(t0, x.Author()); err != nil {
		t.Fatalf("CheckJoin for the bound key: %v", err)
	}
	// Even if Y ignored CheckJoin, its member record would be rejected.
	wantField(t, f.validate(f.memberRecord(y, p.Token)), "token.for")
	f.accept(f.memberRecord(x, p.Token))
	if r, _ := f.ms.Role(xa); r != RoleCoordinator {
		t.Fatalf("role %q", r)
	}
}

func TestInviteChain(t *testing.T) {
	f := newFixture(t, "invite-chain")
	c2, m2 := f.enrollRecord(f.founder, "c2", RoleCoordinator)
	c3, m3 := f.enrollRecord(c2, "c3", RoleCoordinator)
	obs, mo := f.enrollRecord(f.founder, "obs", RoleObserver)

	tok2 := f.token(c2, RoleObserver, "", nil)
	p, err := DecodeInvite(f.invite(tok2, m2))
	if err != nil {
		t.Fatalf("invite by a second coordinator with its chain: %v", err)
	}
	if len(p.ChainRecords) != 1 || p.ChainRecords[0].ID != m2.ID {
		t.Fatalf("ChainRecords = %v", p.ChainRecords)
	}
	_, err = DecodeInvite(f.invite(tok2))
	wantInviteErr(t, err, "not a coordinator")

	// Two links, in either order.
	tok3 := f.token(c3, RoleCarrier, "", nil)
	for _, chain := range [][]*Signed{{m3, m2}, {m2, m3}} {
		p, err := DecodeInvite(f.invite(tok3, chain...))
		if err != nil {
			t.Fatalf("two-link chain: %v", err)
		}
		if len(p.ChainRecords) != 2 {
			t.Fatalf("ChainRecords = %d", len(p.ChainRecords))
		}
	}
	_, err = DecodeInvite(f.invite(tok3, m3))
	wantInviteErr(t, err, "not a coordinator")
	_, err = DecodeInvite(f.invite(tok3, m2))
	wantInviteErr(t, err, "not a coordinator")

	// An observer's enrollment does not make its token good.
	_, err = DecodeInvite(f.invite(f.token(obs, RoleObserver, "", nil), mo))
	wantInviteErr(t, err, "not a coordinator")

	// A chain record from another mission is refused.
	other := newFixture(t, "invite-chain-other")
	_, om := other.enrollRecord(other.founder, "c2", RoleCoordinator)
	_, err = DecodeInvite(f.invite(tok2, om))
	wantInviteErr(t, err, "chain record")

	// A chain record redeeming a tampered token is refused.
	bad := f.token(f.founder, RoleObserver, "", nil)
	bad.Role = RoleCarrier
	_, err = DecodeInvite(f.invite(tok2, m2, f.memberRecord(f.signer("z"), bad)))
	wantInviteErr(t, err, "chain record")
}
