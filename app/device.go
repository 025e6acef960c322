package app

import (
	"bytes"
	"crypto/rand"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/crypto/argon2"
)

// deviceSettings are this device's settings that must be read while the
// store is locked (the app opens on the cover screen before anyone types
// a passphrase), so they cannot live in the encrypted store. They are
// kept in plain JSON beside the store's key file, in device.json: whoever
// holds the phone can read that a cover is set and the auto-lock delay,
// never the cover's code, of which only a salted Argon2id hash is kept.
type deviceSettings struct {
	// AutoLockMinutes is the idle time after which the app locks; 0 is
	// off; nil is the default for the layout (see autoLockDefault).
	AutoLockMinutes *int `json:"auto_lock_minutes,omitempty"`
	// Cover, when set, is the calculator's code that reaches the
	// passphrase screen.
	Cover *coverSecret `json:"cover,omitempty"`
}

// coverSecret is a salted Argon2id hash of the cover's code. The code is
// a few digits, so the hash keeps it from being read, not from being
// found by trying every code: what it guards is only the way to the
// passphrase screen, which still asks for the passphrase.
type coverSecret struct {
	Salt      []byte `json:"salt"`
	Hash      []byte `json:"hash"`
	Time      uint32 `json:"time"`
	MemoryKiB uint32 `json:"memory_kib"`
}

// Cheap on purpose: the hash is computed at each "=" typed after digits
// only, on the UI goroutine of a slow phone.
const (
	coverTime      = 1
	coverMemoryKiB = 8 * 1024
	coverMinDigits = 4
	coverMaxDigits = 12
)

func newCoverSecret(code string) *coverSecret {
	s := &coverSecret{Salt: make([]byte, 16), Time: coverTime, MemoryKiB: coverMemoryKiB}
	if _, err := rand.Read(s.Salt); err != nil {
		panic(err) // crypto/rand does not fail on supported systems
	}
	s.Hash = s.derive(code)
	return s
}

func (s *coverSecret) derive(code string) []byte {
	return argon2.IDKey([]byte(code), s.Salt, s.Time, s.MemoryKiB, 1, 32)
}

// matches reports whether code is the cover's code.
func (s *coverSecret) matches(code string) bool {
	if s == nil || len(s.Hash) == 0 || s.Time == 0 || s.MemoryKiB == 0 {
		return false
	}
	return subtle.ConstantTimeCompare(s.derive(code), s.Hash) == 1
}

// deviceFiler is an Unlocker that keeps a device settings file (Home
// does, in its folder). Without one the settings last as long as the app.
type deviceFiler interface {
	DeviceFile() string
}

// DeviceFile is where the app keeps the settings it reads before unlock.
func (h *Home) DeviceFile() string { return filepath.Join(h.Dir, "device.json") }

// loadDevice reads the device settings; a missing or unreadable file is
// the defaults (a damaged file must not keep the app from opening).
func (ui *UI) loadDevice() deviceSettings {
	var s deviceSettings
	f, ok := ui.home.(deviceFiler)
	if !ok {
		return s
	}
	b, err := os.ReadFile(f.DeviceFile())
	if err != nil {
		return s
	}
	if json.Unmarshal(b, &s) != nil {
		return deviceSettings{}
	}
	return s
}

// saveDevice writes the device settings atomically (a temporary file,
// synced, renamed over the old one).
func (ui *UI) saveDevice() error {
	f, ok := ui.home.(deviceFiler)
	if !ok {
		return nil
	}
	b, err := json.MarshalIndent(ui.device, "", " ")
	if err != nil {
		return err
	}
	path := f.DeviceFile()
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, b) {
		return nil
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	tmp := path + ".tmp"
	w, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	if err == nil {
		err = w.Sync() // on disk before it replaces the old settings
	}
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, path)
}
