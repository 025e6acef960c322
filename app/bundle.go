package app

import (
	"fmt"
	"io"
	"time"

	"github.com/vigil-mesh/vigil/incident/act"
	"github.com/vigil-mesh/vigil/incident/bundle"
)

// Carrying bundles is incident/act's (ExportBundle, ImportBundle), which
// `vigil bundle` uses too; the app adds its own error wording.

// MaxBundleBytes bounds a bundle read into memory.
const MaxBundleBytes = bundle.MaxBytes

// ErrBundlePassphrase means a bundle is encrypted with a passphrase (or to
// someone else) and none, or a wrong one, was given.
var ErrBundlePassphrase = bundle.ErrCannotOpen

// ErrNoCoordinatorKey means no coordinator's encryption key is known here,
// so a bundle cannot be encrypted for them.
var ErrNoCoordinatorKey = act.ErrNoCoordinatorKey

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
	// Plain writes it unencrypted. With none of these, the bundle is
	// encrypted for the mission's members (its current secret epoch).
	Plain bool
	// MaxBytes bounds the file (0: no bound): records always go,
	// attachment files while they fit.
	MaxBytes int64
}

// Bundled is what a bundle export wrote (act.Bundled).
type Bundled = act.Bundled

// ImportSummary is what an import did.
type ImportSummary = bundle.Summary

// nothingStored ends the errors of an import that stored nothing.
const nothingStored = "; nothing was stored"

// ExportBundle writes the bundle to w (act.Desk.ExportBundle).
func (b *StoreBackend) ExportBundle(req BundleRequest, w io.Writer) (Bundled, error) {
	return b.desk.ExportBundle(act.BundleRequest{Since: req.Since, Passphrase: req.Passphrase,
		ForCoordinators: req.ForCoordinators, Plain: req.Plain, MaxBytes: req.MaxBytes}, w)
}

// ImportBundle stores a bundle's valid records (act.Desk.ImportBundle).
func (b *StoreBackend) ImportBundle(name string, data, passphrase []byte, progress func(done, total int)) (ImportSummary, error) {
	sum, err := b.desk.ImportBundle(act.ImportRequest{Name: name, Data: data, Passphrase: passphrase, Progress: progress})
	if err != nil {
		return sum, fmt.Errorf("%w"+nothingStored, err)
	}
	return sum, nil
}
