package act

import (
	"errors"
	"io"
	"time"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/store"
	"github.com/vigil-mesh/vigil/incident/vault"
)

// BackupRequest asks for a backup of this device's keys and store.
type BackupRequest struct {
	// Passphrase encrypts the file. It is the backup's own, chosen now
	// and held to the rule for new passphrases; it may differ from the
	// store's.
	Passphrase []byte `json:"passphrase"`
	// WorkFactor is scrypt's (log2 N); 0 is store.BackupWorkFactor.
	// Tests lower it; the control socket does not carry it.
	WorkFactor int `json:"-"`
}

// BackedUp says what a backup (or a restore) holds.
type BackedUp struct {
	Entries int             `json:"entries"`
	Records int             `json:"records"`
	Files   int             `json:"files"`
	Author  incident.Author `json:"author"`
	// Mission is nil when the device had joined none.
	Mission *incident.ID `json:"mission,omitempty"`
	Created time.Time    `json:"created"`
}

func backedUp(info store.BackupInfo) BackedUp {
	out := BackedUp{Entries: info.Entries, Records: info.Records, Files: info.Blobs, Author: info.Author, Created: info.Created}
	if info.Mission != (incident.ID{}) {
		m := info.Mission
		out.Mission = &m
	}
	return out
}

// Backup writes this device's keys (signing, sealing, the mission
// secret, epoch secrets, invite keys) and its whole store (records,
// attachment content, drafts, settings) to w, encrypted with the
// request's passphrase: whoever holds the file and the passphrase can
// make a device that signs as this one and reads what it reads. It reads
// one snapshot while the store goes on serving. w is the caller's.
func (d *Desk) Backup(req BackupRequest, w io.Writer) (BackedUp, error) {
	if err := checkPassphrase("passphrase", req.Passphrase); err != nil {
		return BackedUp{}, err
	}
	info, err := d.st.Backup(w, req.Passphrase, req.WorkFactor)
	if err != nil {
		return BackedUp{}, classify(err)
	}
	return backedUp(info), nil
}

// checkPassphrase holds a passphrase being chosen to vault's rule.
func checkPassphrase(field string, p []byte) error {
	if err := vault.CheckNewPassphrase(p); err != nil {
		return &Error{Code: Invalid, Field: field, Msg: field + ": " + err.Error(), Cause: err}
	}
	return nil
}

// RestoreRequest makes a new home from a backup.
type RestoreRequest struct {
	Home string
	// From is the backup file, read once, as a stream.
	From io.Reader
	// BackupPassphrase opens the file; Passphrase is the new home's
	// store passphrase, chosen now (held to the rule for new ones).
	BackupPassphrase, Passphrase []byte
	// Store are the new store's options (its key derivation, clock).
	Store store.Options
}

// Restore makes a new home from a backup: the store and keys of the
// device that wrote it, under a new store passphrase. It returns the open
// store, the caller's to close. It refuses a home that holds a store
// (HasHome: nothing there is changed), a passphrase that does not open the
// file (CannotOpen) and a damaged, truncated or foreign file (BadFile);
// each leaves nothing behind.
//
// The new device signs as the old one. Two devices signing as one author
// are not told apart by the mission (see docs/security.md, "Backups"):
// the one restored from must not be used again.
func Restore(req RestoreRequest) (*store.Store, BackedUp, error) {
	if store.Initialised(req.Home) && !store.Wiped(req.Home) {
		return nil, BackedUp{}, hasHome(req.Home, store.ErrExists)
	}
	if err := checkPassphrase("passphrase", req.Passphrase); err != nil {
		return nil, BackedUp{}, err
	}
	s, info, err := store.Restore(req.Home, req.From, req.BackupPassphrase, req.Passphrase, req.Store)
	switch {
	case err == nil:
		return s, backedUp(info), nil
	case errors.Is(err, store.ErrExists):
		return nil, BackedUp{}, hasHome(req.Home, err)
	case errors.Is(err, store.ErrBackupPassphrase):
		return nil, BackedUp{}, &Error{Code: CannotOpen, Msg: err.Error(), Cause: err}
	case errors.Is(err, store.ErrBackupCorrupt):
		return nil, BackedUp{}, &Error{Code: BadFile, Msg: err.Error(), Cause: err}
	}
	return nil, BackedUp{}, classify(err)
}

// HasHome: a restore was asked into a home that holds a store.
const HasHome Code = "has_home"

func hasHome(home string, err error) error {
	return &Error{Code: HasHome, Msg: "the home " + home + " already holds a Vigil store; a restore makes a new home and never replaces one", Cause: err}
}
