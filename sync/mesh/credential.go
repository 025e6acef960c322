package mesh

import (
	"crypto/ed25519"
	"errors"
	"fmt"

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

// Errors a credential check can give.
var (
	ErrNotMember = errors.New("not a member of this mission")
	ErrRevoked   = errors.New("member has been revoked")
)

// checkCredential verifies a peer's credential: the signature over the
// binding, then membership (storing the chain records like any others), and
// that the member is not revoked. It returns the peer's author key.
func (e *Engine) checkCredential(source string, cred, binding []byte) (incident.Author, string, error) {
	var c credential
	if err := incident.UnmarshalCanonical(cred, &c); err != nil {
		return incident.Author{}, "", fmt.Errorf("credential: %w", err)
	}
	if len(c.Author) != ed25519.PublicKeySize || !ed25519.Verify(c.Author, append([]byte(credDomain), binding...), c.Sig) {
		return incident.Author{}, "", errors.New("credential signature does not verify")
	}
	var a incident.Author
	copy(a[:], c.Author)
	if len(c.Chain) > 16 {
		return a, "", fmt.Errorf("credential chain of %d records, limit 16", len(c.Chain))
	}
	if len(c.Chain) > 0 {
		results, err := e.store.AddMany(c.Chain, source, nil)
		if err != nil {
			return a, "", err
		}
		for _, r := range results {
			if r.Outcome == store.Rejected {
				return a, "", fmt.Errorf("credential chain record %s: %v", r.ID, r.Err)
			}
		}
	}
	ms, err := e.store.Mission()
	if err != nil {
		return a, "", err
	}
	role, ok := ms.Role(a)
	if !ok {
		return a, "", fmt.Errorf("%w: %s", ErrNotMember, a)
	}
	if len(ms.Revocations(a)) > 0 {
		return a, role, fmt.Errorf("%w: %s", ErrRevoked, a)
	}
	return a, role, nil
}

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
