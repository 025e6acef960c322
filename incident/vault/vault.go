// Package vault manages the key that encrypts a Vigil home folder at rest.
//
// A random 32-byte data key encrypts the store. It is kept on disk only
// wrapped, in dir/key.json, by a key derived from the user's passphrase
// with Argon2id; destroying that file (Wipe) makes the store unreadable
// (crypto-shredding). The key file always holds two slots of identical
// shape: the real one, and one that is either a duress passphrase's slot
// (SetDuress) or random filler, so reading the file does not reveal
// whether a duress passphrase exists. Opening the store with the duress
// passphrase (Open) silently destroys the real key and starts afresh.
//
// Every function that writes key.json does so atomically (temporary file,
// fsync, rename, fsync of dir) with mode 0600, and overwrites the bytes of
// the file it replaces. None of them is safe to run concurrently with
// another on the same dir, in this process or another: callers hold the
// home folder's Lock for as long as they use the store.
//
// The package does not keep passphrases or keys. Keys it returns belong
// to the caller, who should clear them when done.
package vault

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// KDFParams are Argon2id parameters, stored in the key file.
//
// Time is the number of passes (1 to 64), MemoryKiB the memory in KiB (at
// least 8 per thread, at most 1 GiB) and Threads the parallelism (at least
// 1). Parameters outside these limits are refused when writing and, in a
// key file, reported as malformed.
type KDFParams struct {
	Time      uint32
	MemoryKiB uint32
	Threads   uint8
}

// DefaultKDF is RFC 9106's second recommended option (t=3, 64 MiB, p=4),
// sized for phones.
var DefaultKDF = KDFParams{Time: 3, MemoryKiB: 64 * 1024, Threads: 4}

var (
	// ErrWrongPassphrase means the passphrase opens no usable slot.
	ErrWrongPassphrase = errors.New("wrong passphrase")
	// ErrNoKey means dir/key.json does not exist.
	ErrNoKey = errors.New("no store key: the home is not initialised or was wiped")
	// ErrWiped means dir/key.json is the tombstone an older version's
	// Wipe left (Wipe now removes the key file and leaves no mark).
	ErrWiped = errors.New("the store was wiped; its data can no longer be read")
	// ErrExists means Create found a key file already there.
	ErrExists = errors.New("a store key already exists")
	// ErrMalformed means dir/key.json exists but is not a key file this
	// build can read; the error wrapping it names the file and the fault.
	ErrMalformed = errors.New("malformed key file")
)

// Create makes a new random 32-byte data key, wraps it with a key derived
// from passphrase under p, and writes dir/key.json (creating dir with mode
// 0700 if needed). The second slot is random filler. It returns the data
// key.
//
// Create never overwrites: if a key file exists it fails with an error
// wrapping ErrExists or, for a wiped store's tombstone, ErrWiped (remove
// the tombstone and the data folder to start again). The passphrase must
// not be empty.
func Create(dir string, passphrase []byte, p KDFParams) ([]byte, error) {
	if err := checkArgs(p, passphrase); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("vault: %w", err)
	}
	if _, err := os.Lstat(keyPath(dir)); err == nil {
		if _, err := load(dir); errors.Is(err, ErrWiped) {
			return nil, fmt.Errorf("%w; remove %s and the data folder to start again", err, keyFileName)
		}
		return nil, fmt.Errorf("vault: %s: %w", keyPath(dir), ErrExists)
	}
	key := randomBytes(keyLen)
	f := keyFile{slots: [slotCount]slot{
		realSlot:   newSlot(realSlot, passphrase, p, key),
		duressSlot: decoySlot(duressSlot, p),
	}}
	if err := writeKeyFile(dir, f.encode(), false); err != nil {
		clear(key)
		return nil, err
	}
	return key, nil
}

// Unlock reads dir/key.json and returns the data key wrapped under
// passphrase. It fails with an error matching (errors.Is) ErrNoKey if the
// file is absent, ErrWiped if it is a tombstone, ErrMalformed (naming the
// file) if it cannot be parsed, and ErrWrongPassphrase if the passphrase
// does not open the real slot.
//
// Unlock derives a key for both slots whatever the outcome. It treats the
// duress passphrase as wrong and never wipes: apps unlock with Open.
// Unlock does not write.
func Unlock(dir string, passphrase []byte) ([]byte, error) {
	f, err := load(dir)
	if err != nil {
		return nil, err
	}
	opened := f.try(passphrase)
	clear(opened[duressSlot])
	if opened[realSlot] == nil {
		return nil, ErrWrongPassphrase
	}
	return opened[realSlot], nil
}

// Change re-wraps the data key under the passphrase new with params p and
// a fresh salt, replacing key.json atomically. The passphrase old must
// open the real slot (else ErrWrongPassphrase, and nothing is written);
// new must not be empty nor be the duress passphrase. The second slot is
// kept byte for byte: Change cannot tell a duress slot from filler.
func Change(dir string, old, new []byte, p KDFParams) error {
	if err := checkArgs(p, new); err != nil {
		return err
	}
	f, err := load(dir)
	if err != nil {
		return err
	}
	opened := f.try(old)
	clear(opened[duressSlot])
	key := opened[realSlot]
	if key == nil {
		return ErrWrongPassphrase
	}
	defer clear(key)
	if pt := f.slots[duressSlot].open(duressSlot, new); pt != nil {
		clear(pt)
		return errors.New("vault: the new passphrase is the duress passphrase; choose another")
	}
	f.slots[realSlot] = newSlot(realSlot, new, p, key)
	return writeKeyFile(dir, f.encode(), false)
}

// SetDuress sets the duress passphrase: the second slot is rewritten to
// open with duress (wrapping random bytes) and the real slot is re-wrapped
// under real with a fresh salt, both with params p, so the two slots stay
// alike. real must open the real slot (else ErrWrongPassphrase); duress
// must not be empty nor equal real (ErrDuressIsReal, checked before any
// key derivation). See Open for what duress does. Front ends check a
// duress passphrase with CheckNewPassphrase first.
func SetDuress(dir string, real, duress []byte, p KDFParams) error {
	if err := checkArgs(p, duress); err != nil {
		return err
	}
	if bytes.Equal(real, duress) {
		return ErrDuressIsReal
	}
	filler := randomBytes(keyLen)
	defer clear(filler)
	return rewrap(dir, real, p, func() slot { return newSlot(duressSlot, duress, p, filler) })
}

// ClearDuress removes the duress passphrase: the second slot becomes
// random filler again, and the real slot is re-wrapped under real with a
// fresh salt, both with params p. real must open the real slot (else
// ErrWrongPassphrase).
func ClearDuress(dir string, real []byte, p KDFParams) error {
	if err := checkArgs(p, real); err != nil {
		return err
	}
	return rewrap(dir, real, p, func() slot { return decoySlot(duressSlot, p) })
}

// rewrap writes a key file whose real slot wraps the data key under real
// (which must open the current real slot) and whose second slot is
// second().
func rewrap(dir string, real []byte, p KDFParams, second func() slot) error {
	f, err := load(dir)
	if err != nil {
		return err
	}
	opened := f.try(real)
	clear(opened[duressSlot])
	key := opened[realSlot]
	if key == nil {
		return ErrWrongPassphrase
	}
	defer clear(key)
	nf := keyFile{slots: [slotCount]slot{
		realSlot:   newSlot(realSlot, real, p, key),
		duressSlot: second(),
	}}
	return writeKeyFile(dir, nf.encode(), false)
}

// Wipe crypto-shreds dir's store key: the key file's bytes are
// overwritten with random ones, synced, and the file removed, so the data
// folder can never be read again and nothing marks the home as wiped (an
// older version's tombstone goes the same way). Temporary key files an
// interrupted write left go too. A home with no key file is left as it
// is. It needs no passphrase.
func Wipe(dir string) error {
	var errs []error
	switch _, err := os.Lstat(keyPath(dir)); {
	case errors.Is(err, fs.ErrNotExist):
		// Nothing to shred.
	case err != nil:
		return fmt.Errorf("vault: %w", err)
	default:
		if err := shredRemove(keyPath(dir)); err != nil {
			errs = append(errs, fmt.Errorf("vault: shredding the key file: %w", err))
		} else if err := syncDir(dir); err != nil {
			errs = append(errs, fmt.Errorf("vault: syncing %s: %w", dir, err))
		}
	}
	if _, err := os.Stat(dir); err == nil {
		if err := cleanLeftovers(dir); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Open is what the app calls at unlock. If passphrase opens the real slot
// it returns (key, false, nil). If it is the duress passphrase instead,
// Open silently destroys the real key (its file's bytes are overwritten
// and replaced) and writes a fresh key file: a new random data key wrapped
// under passphrase, with the duress slot's params and no duress slot. It
// returns (newKey, true, nil): fresh means the caller must discard the
// old data folder's contents, which newKey cannot read, and start an
// empty store. Afterwards the real passphrase fails with
// ErrWrongPassphrase, and the duress one opens the new store normally.
// Otherwise Open fails as Unlock does.
//
// Open also shreds leftovers of interrupted writes (best effort), so
// unlike Unlock it may write to dir.
func Open(dir string, passphrase []byte) (key []byte, fresh bool, err error) {
	f, err := load(dir)
	if err != nil {
		return nil, false, err
	}
	opened := f.try(passphrase)
	if opened[realSlot] != nil {
		clear(opened[duressSlot])
		cleanLeftovers(dir) // best effort; the unlock itself succeeded
		return opened[realSlot], false, nil
	}
	if opened[duressSlot] == nil {
		return nil, false, ErrWrongPassphrase
	}
	clear(opened[duressSlot])

	key = randomBytes(keyLen)
	p := f.slots[duressSlot].params
	nf := keyFile{slots: [slotCount]slot{
		realSlot:   newSlot(realSlot, passphrase, p, key),
		duressSlot: decoySlot(duressSlot, p),
	}}
	if err := writeKeyFile(dir, nf.encode(), true); err != nil {
		clear(key)
		return nil, false, err
	}
	cleanLeftovers(dir)
	return key, true, nil
}

// checkArgs validates the params and passphrase given to a writer.
func checkArgs(p KDFParams, passphrase []byte) error {
	if err := p.check(); err != nil {
		return fmt.Errorf("vault: %w", err)
	}
	if len(passphrase) == 0 {
		return errors.New("vault: the passphrase is empty")
	}
	return nil
}

// Wiped reports whether dir's key file is a wipe tombstone. It reads the
// file only: no key derivation, so it is cheap to ask at every start.
func Wiped(dir string) bool {
	_, err := load(dir)
	return errors.Is(err, ErrWiped)
}
