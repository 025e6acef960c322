package mesh

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/store"
)

// A member credential, sent inside hello: the device's author key, its
// signature over the hello binding (so the credential cannot be replayed
// on another connection), and the member records that enroll it back to
// the founder (so a peer that has not yet received them can still check).
type credential struct {
	Author []byte   `cbor:"1,keyasint"`
	Sig    []byte   `cbor:"2,keyasint"`
	Chain  [][]byte `cbor:"3,keyasint,omitempty"`
}

const credDomain = "vigil/credential/v1\x00"

// ownCredential builds this device's credential for binding.
func (e *Engine) ownCredential(binding []byte) []byte {
	b, err := incident.Marshal(credential{
		Author: e.self[:],
		Sig:    e.signer.SignBytes(append([]byte(credDomain), binding...)),
		Chain:  e.chain,
	})
	if err != nil {
		return nil
	}
	return b
}

// Errors a credential check can give (the mission state's standing).
var (
	ErrNotMember  = incident.ErrNotMember
	ErrRevoked    = incident.ErrRevoked
	ErrInviteVoid = incident.ErrInviteVoid
	ErrDuplicate  = incident.ErrDuplicate
)

// checkPeer is the node's credential check (node.Owner.CheckCredential)
// for peer p: the signature over the binding names the peer's author key;
// a banned author is refused before anything else (ErrBanned), then
// membership is checked, storing the chain records like any others, and
// a revoked member is refused (ErrRevoked). On success p's PeerInfo holds
// its author and role.
//
// p is registered under its author before the mission state is read, so
// a revocation is never missed: one stored before that read refuses p
// here, one stored after finds p registered and cuts it (CutRevoked),
// even while its hello is still running. A ban for strikes and this check
// are atomic under e.mu.
func (e *Engine) checkPeer(p peer.ID, cred, binding []byte) error {
	a, chain, err := openCredential(cred, binding)
	if err != nil {
		return err
	}
	e.mu.Lock()
	if until, banned := e.bans.banned(a); banned {
		e.mu.Unlock()
		return fmt.Errorf("%w: %s, until %s", ErrBanned, a, until.UTC().Format(time.RFC3339))
	}
	pi := e.peers[p]
	if pi == nil || pi.Author != a {
		pi = &PeerInfo{ID: p, Author: a}
		e.peers[p] = pi
	}
	e.mu.Unlock()
	role, err := e.checkMember("hello:"+p.String(), a, chain)
	e.mu.Lock()
	defer e.mu.Unlock()
	if err != nil {
		if e.peers[p] == pi {
			delete(e.peers, p)
		}
		return err
	}
	pi.Role = role
	return nil
}

// openCredential decodes a credential and checks its signature over
// binding; it returns the author key and the chain records.
func openCredential(cred, binding []byte) (incident.Author, [][]byte, error) {
	var c credential
	if err := incident.UnmarshalCanonical(cred, &c); err != nil {
		return incident.Author{}, nil, fmt.Errorf("credential: %w", err)
	}
	if len(c.Author) != ed25519.PublicKeySize || !ed25519.Verify(c.Author, append([]byte(credDomain), binding...), c.Sig) {
		return incident.Author{}, nil, errors.New("credential signature does not verify")
	}
	var a incident.Author
	copy(a[:], c.Author)
	if len(c.Chain) > 16 {
		return a, nil, fmt.Errorf("credential chain of %d records, limit 16", len(c.Chain))
	}
	return a, c.Chain, nil
}

// checkMember checks that a is a member that is not revoked, with the
// help of a credential's chain records (from source), and returns a's
// role. The chain is judged first on a copy of the mission state, and
// nothing of it is stored unless it shows a current membership: a peer
// that only knows the mission secret cannot write to this store, nor park
// records in its quarantine (chain records that wait for something are
// dropped, never quarantined).
func (e *Engine) checkMember(source string, a incident.Author, chain [][]byte) (string, error) {
	ms, err := e.store.Mission()
	if err != nil {
		return "", err
	}
	keep, err := judgeChain(ms, chain)
	if err != nil {
		return "", err
	}
	role, _ := ms.Role(a)
	if err := ms.Standing(a); err != nil {
		return role, err
	}
	if len(keep) > 0 {
		results, err := e.store.AddMany(keep, source, nil)
		if err != nil {
			return "", err
		}
		for _, r := range results {
			if r.Outcome == store.Rejected {
				return "", fmt.Errorf("credential chain record %s: %v", r.ID, r.Err)
			}
		}
		// A stored chain record may have let a waiting revocation in:
		// the store's revocation hook has cut whoever it names. Read the
		// state again: it may name a.
		if ms, err = e.store.Mission(); err != nil {
			return "", err
		}
		if err := ms.Standing(a); err != nil {
			return role, err
		}
	}
	return role, nil
}

// judgeChain applies to ms, a copy of the mission state, the chain's
// member records that are valid against it (in whatever order they make
// each other valid), and returns them. An invalid record fails the
// credential; one that stays waiting (an issuer the chain does not
// enroll), a record of another kind and one of a newer schema version are
// left out.
func judgeChain(ms *incident.MissionState, chain [][]byte) ([][]byte, error) {
	pending := make([]*incident.Signed, 0, len(chain))
	for _, raw := range chain {
		rec, err := incident.Decode(raw)
		if incident.IsNewer(err) {
			continue // a newer build's: not this build's to judge
		}
		if err != nil {
			return nil, fmt.Errorf("credential chain record %s: %v", incident.IDOf(raw), err)
		}
		if rec.Kind != incident.KindMember {
			continue // only enrollments make a member; a newer build may send more
		}
		pending = append(pending, rec)
	}
	var keep [][]byte
	for progress := true; progress; {
		progress = false
		for i, rec := range pending {
			if rec == nil {
				continue
			}
			err := incident.Validate(rec, ms, noRecords{})
			if incident.IsMissing(err) {
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("credential chain record %s: %v", rec.ID, err)
			}
			if err := ms.Apply(rec); err != nil {
				return nil, fmt.Errorf("credential chain record %s: %v", rec.ID, err)
			}
			keep = append(keep, rec.Raw)
			pending[i] = nil
			progress = true
		}
	}
	return keep, nil
}

// noRecords is a RecordSource that holds nothing: member records depend on
// no other record.
type noRecords struct{}

func (noRecords) Get(incident.ID) (*incident.Signed, error) { return nil, nil }

// memberChain returns the member records that enroll author back to the
// founder, from st. The chain goes out in hello, before the verifier's
// format level is known: member records must stay readable at level 0
// (today's are; a member payload field added later would make a level-0
// verifier refuse the credential).
func memberChain(st Store, ms *incident.MissionState, a incident.Author) ([][]byte, error) {
	var chain [][]byte
	seen := map[incident.Author]bool{}
	for a != ms.Founder && !seen[a] {
		seen[a] = true
		m, ok := ms.Member(a)
		if !ok {
			return nil, fmt.Errorf("%s is not a member", a)
		}
		r, err := st.Get(m.Record)
		if err != nil || r == nil {
			return nil, fmt.Errorf("member record %s missing", m.Record)
		}
		chain = append(chain, r.Raw)
		a = m.Issuer
	}
	return chain, nil
}
