package app

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"time"

	"filippo.io/age"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/bundle"
	"github.com/vigil-mesh/vigil/incident/store"
)

// The bundle logic below mirrors cmd/vigil's `bundle export` and `bundle
// import` (cmd_bundle.go), which keeps it inside package main: the record
// selection, the age layer and the outcome counts are the same, over the
// same library calls (incident/bundle, store.AddMany, age).

// MaxBundleBytes bounds a bundle read into memory (the CLI's limit).
const MaxBundleBytes = 1 << 30

// ErrBundlePassphrase means a bundle is encrypted with a passphrase (or to
// someone else) and none, or a wrong one, was given.
var ErrBundlePassphrase = errors.New("the bundle is encrypted and this device cannot open it without its passphrase")

// ErrNoCoordinatorKey means no coordinator's encryption key is known here,
// so a bundle cannot be encrypted for them.
var ErrNoCoordinatorKey = errors.New("no coordinator of this mission has an encryption key on this device yet")

// ErrBundleMission means a bundle belongs to another mission.
var ErrBundleMission = errors.New("the bundle belongs to another mission")

// BundleRequest says what goes into a bundle and how it is protected.
type BundleRequest struct {
	// Since keeps only records claimed at or after it (zero: all). The
	// mission, config, member and revoke records always go.
	Since time.Time
	// ForCoordinators encrypts the bundle to the mission's coordinators
	// (their age keys from their member records): only they can open it.
	ForCoordinators bool
	// Passphrase, when set, encrypts the bundle with it instead.
	Passphrase []byte
}

// ImportSummary is what an import did.
type ImportSummary struct {
	Records     int // in the file
	Accepted    int // new, now stored
	Duplicate   int // already held
	Quarantined int // kept aside until what they depend on arrives
	Rejected    int
	Released    int // earlier-waiting records these let in
	Rejections  []Rejection
}

// Rejection is one record an import refused, and why.
type Rejection struct {
	ID     incident.ID
	Reason string
}

// nothingStored ends the errors of an import that stored nothing.
const nothingStored = "; nothing was stored"

// ageHeader starts every age-encrypted file.
var ageHeader = []byte("age-encryption.org/v1\n")

// coordinatorRecipients are the age keys of the mission's coordinators
// that are not revoked.
func coordinatorRecipients(ms *incident.MissionState) ([]age.Recipient, error) {
	var out []age.Recipient
	for _, m := range ms.Members() {
		if m.Role != incident.RoleCoordinator || m.Recipient == "" || len(ms.Revocations(m.Author)) > 0 {
			continue
		}
		r, err := age.ParseX25519Recipient(m.Recipient)
		if err != nil {
			continue
		}
		out = append(out, r)
	}
	if len(out) == 0 {
		return nil, ErrNoCoordinatorKey
	}
	return out, nil
}

// ExportBundle writes the bundle to w.
func (b *StoreBackend) ExportBundle(req BundleRequest, w io.Writer) (int, error) {
	ms, err := b.mission()
	if err != nil {
		return 0, err
	}
	var recipients []age.Recipient
	switch {
	case len(req.Passphrase) > 0:
		r, err := age.NewScryptRecipient(string(req.Passphrase))
		if err != nil {
			return 0, err
		}
		recipients = []age.Recipient{r}
	case req.ForCoordinators:
		if recipients, err = coordinatorRecipients(ms); err != nil {
			return 0, err
		}
	}
	var raws [][]byte
	for _, k := range incident.Kinds {
		recs, err := b.st.ByKind(k)
		if err != nil {
			return 0, err
		}
		for _, r := range recs {
			if k.MissionKind() || req.Since.IsZero() || r.Created >= req.Since.UnixMilli() {
				raws = append(raws, r.Raw)
			}
		}
	}
	dst := w
	var enc io.WriteCloser
	if recipients != nil {
		if enc, err = age.Encrypt(w, recipients...); err != nil {
			return 0, err
		}
		dst = enc
	}
	bw, err := bundle.NewWriter(dst, ms.ID, b.st.Now().UnixMilli(), len(raws))
	if err != nil {
		return 0, err
	}
	for _, r := range raws {
		if err := bw.Add(r); err != nil {
			return 0, err
		}
	}
	if err := bw.Close(); err != nil {
		return 0, err
	}
	if enc != nil {
		if err := enc.Close(); err != nil {
			return 0, err
		}
	}
	return len(raws), nil
}

// ImportBundle stores a bundle's valid records.
func (b *StoreBackend) ImportBundle(name string, data, passphrase []byte, progress func(done, total int)) (ImportSummary, error) {
	var sum ImportSummary
	if len(data) > MaxBundleBytes {
		return sum, fmt.Errorf("%s is larger than %d bytes"+nothingStored, name, MaxBundleBytes)
	}
	if bytes.HasPrefix(data, ageHeader) {
		ids := []age.Identity{b.st.AgeIdentity()}
		if len(passphrase) > 0 {
			id, err := age.NewScryptIdentity(string(passphrase))
			if err != nil {
				return sum, err
			}
			ids = append(ids, id)
		}
		r, err := age.Decrypt(bytes.NewReader(data), ids...)
		if err != nil {
			return sum, fmt.Errorf("%s: %w"+nothingStored, name, ErrBundlePassphrase)
		}
		if data, err = io.ReadAll(io.LimitReader(r, MaxBundleBytes+1)); err != nil {
			return sum, fmt.Errorf("%s: %w"+nothingStored, name, err)
		}
	}
	hdr, raws, err := bundle.Parse(data)
	if err != nil {
		return sum, fmt.Errorf("%s: %w"+nothingStored, name, err)
	}
	ms, err := b.mission()
	if err != nil {
		return sum, err
	}
	if hdr.Mission != ms.ID {
		return sum, fmt.Errorf("%s: %w (%s, not %q)"+nothingStored, name, ErrBundleMission, hdr.Mission, ms.Mission.Name)
	}
	var report func(int)
	if progress != nil {
		report = func(done int) { progress(done, len(raws)) }
	}
	results, err := b.st.AddMany(raws, "bundle:"+name, report)
	if err != nil {
		return sum, err
	}
	sum.Records = len(raws)
	released := map[incident.ID]bool{}
	for _, r := range results {
		for _, id := range r.Released {
			released[id] = true
		}
	}
	for _, r := range results {
		switch {
		case r.Outcome == store.Accepted, r.Outcome == store.Quarantined && released[r.ID]:
			// Released by a later record of the same bundle: stored.
			sum.Accepted++
			delete(released, r.ID)
		case r.Outcome == store.Duplicate:
			sum.Duplicate++
		case r.Outcome == store.Quarantined:
			sum.Quarantined++
		case r.Outcome == store.Rejected:
			sum.Rejected++
			sum.Rejections = append(sum.Rejections, Rejection{ID: r.ID, Reason: r.Err.Error()})
		}
	}
	sum.Released = len(released)
	return sum, nil
}
