package app

import (
	"errors"
	"fmt"
	"io"
	"time"

	"filippo.io/age"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/bundle"
)

// The bundle logic is incident/bundle's (Select, Write, Import), which
// `vigil bundle` uses too; the app adds the choice of recipients and its
// own error wording.

// MaxBundleBytes bounds a bundle read into memory.
const MaxBundleBytes = bundle.MaxBytes

// ErrBundlePassphrase means a bundle is encrypted with a passphrase (or to
// someone else) and none, or a wrong one, was given.
var ErrBundlePassphrase = bundle.ErrCannotOpen

// ErrNoCoordinatorKey means no coordinator's encryption key is known here,
// so a bundle cannot be encrypted for them.
var ErrNoCoordinatorKey = errors.New("no coordinator of this mission has an encryption key on this device yet")

// ErrBundleMission means a bundle belongs to another mission.
var ErrBundleMission = bundle.ErrOtherMission

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
type ImportSummary = bundle.Summary

// nothingStored ends the errors of an import that stored nothing.
const nothingStored = "; nothing was stored"

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
	raws, err := bundle.Select(b.st, req.Since)
	if err != nil {
		return 0, err
	}
	if err := bundle.Write(w, ms.ID, b.st.Now(), raws, recipients...); err != nil {
		return 0, err
	}
	return len(raws), nil
}

// ImportBundle stores a bundle's valid records.
func (b *StoreBackend) ImportBundle(name string, data, passphrase []byte, progress func(done, total int)) (ImportSummary, error) {
	var ids []age.Identity
	if len(passphrase) > 0 {
		id, err := age.NewScryptIdentity(string(passphrase))
		if err != nil {
			return ImportSummary{}, err
		}
		ids = append(ids, id)
	}
	sum, err := bundle.Import(b.st, name, data, ids, progress)
	if err != nil {
		return sum, fmt.Errorf("%w"+nothingStored, err)
	}
	return sum, nil
}
