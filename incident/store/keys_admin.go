package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

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
// removed, so the data folder can never be read again; then, unless
// another process holds the home, the data folder, the lock file and the
// home folder itself (when nothing else is in it) go too (ClearWiped), so
// the home looks like one never used: a seized device shows no trace of a
// wipe, nor its time. It needs no passphrase. When removed is false, a
// running node still holds the folder: its files are unreadable
// ciphertext, cleared when the node stops (ClearWiped) or at the next
// init.
func Wipe(home string) (removed bool, err error) {
	if !Initialised(home) {
		return false, fmt.Errorf("%w (home %s)", ErrNotInitialised, home)
	}
	if err := vault.Wipe(home); err != nil {
		return false, err
	}
	return ClearWiped(home)
}

// ClearWiped removes what a home with no store key still holds (the data
// folder a wipe left because a node held it, the lock file) and the home
// folder when nothing else is in it. A home with a key is left alone
// (false). It reports false while another process holds the home.
func ClearWiped(home string) (cleared bool, err error) {
	if Initialised(home) {
		return false, nil
	}
	if _, err := os.Stat(home); errors.Is(err, fs.ErrNotExist) {
		return true, nil
	}
	unlock, lerr := vault.Lock(home)
	if lerr != nil {
		var le *vault.LockedError
		if errors.As(lerr, &le) {
			return false, nil
		}
		return false, lerr
	}
	err = removeLeftoverData(home)
	if rerr := os.RemoveAll(MapsDir(home)); err == nil {
		err = rerr
	}
	_ = unlock()
	if rerr := os.Remove(filepath.Join(home, vault.LockName)); err == nil && !errors.Is(rerr, fs.ErrNotExist) {
		err = rerr
	}
	if err != nil {
		return false, err
	}
	_ = os.Remove(home) // only when empty: a home may sit in a folder of the person's
	return true, nil
}

// Wiped reports whether home holds the tombstone an older version's wipe
// left (cheap: no key derivation).
func Wiped(home string) bool { return vault.Wiped(home) }
