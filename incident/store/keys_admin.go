package store

import (
	"errors"
	"fmt"
	"os"

	"github.com/vigil-mesh/vigil/incident/vault"
)

// ChangePassphrase re-wraps the store key under a new passphrase.
func (s *Store) ChangePassphrase(old, new []byte) error {
	return vault.Change(s.home, old, new, s.opts.kdf())
}

// SetDuress sets a duress passphrase: entered at unlock, it silently
// destroys this store's key and opens an empty store.
func (s *Store) SetDuress(real, duress []byte) error {
	return vault.SetDuress(s.home, real, duress, s.opts.kdf())
}

// Wipe crypto-shreds the home: the wrapped store key is overwritten and
// replaced by a tombstone, so the data folder can never be read again; then
// the data folder is removed if no other process holds the home. It needs
// no passphrase. When removed is false, a running node still holds the
// folder: its files are unreadable ciphertext and go at the next init.
func Wipe(home string) (removed bool, err error) {
	if !Initialised(home) {
		return false, fmt.Errorf("%w (home %s)", ErrNotInitialised, home)
	}
	if err := vault.Wipe(home); err != nil {
		return false, err
	}
	unlock, lerr := vault.Lock(home)
	if lerr != nil {
		var le *vault.LockedError
		if errors.As(lerr, &le) {
			return false, nil
		}
		return false, lerr
	}
	defer unlock()
	if err := os.RemoveAll(DataDir(home)); err != nil {
		return false, err
	}
	return true, nil
}

// Wiped reports whether home's key was destroyed by a wipe (cheap: no key
// derivation).
func Wiped(home string) bool { return vault.Wiped(home) }
