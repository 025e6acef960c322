package vault

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// now is the clock for tombstones; tests replace it.
var now = time.Now

const (
	tempPrefix = "." + keyFileName + "." // temp files: .key.json.<random>.tmp
	tempSuffix = ".tmp"
	// oldName is a hard link to the previous key file, kept only while a
	// replacement is made durable, then shredded.
	oldName = keyFileName + ".old"
)

func keyPath(dir string) string { return filepath.Join(dir, keyFileName) }

// load reads and decodes dir/key.json. Errors wrap ErrNoKey, ErrWiped or
// ErrMalformed, and name the file.
func load(dir string) (*keyFile, error) {
	path := keyPath(dir)
	fh, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("vault: %s: %w", path, ErrNoKey)
	}
	if err != nil {
		return nil, fmt.Errorf("vault: reading key file: %w", err)
	}
	defer fh.Close()
	fi, err := fh.Stat()
	if err != nil {
		return nil, fmt.Errorf("vault: reading key file: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("vault: %s: %w: not a regular file (%v)", path, ErrMalformed, fi.Mode().Type())
	}
	data, err := io.ReadAll(io.LimitReader(fh, maxKeyFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("vault: reading key file: %w", err)
	}
	if len(data) > maxKeyFileSize {
		return nil, fmt.Errorf("vault: %s: %w: larger than %d bytes", path, ErrMalformed, maxKeyFileSize)
	}
	f, wipedAt, err := decode(data)
	if err != nil {
		return nil, fmt.Errorf("vault: %s: %w: %v", path, ErrMalformed, err)
	}
	if wipedAt != "" {
		return nil, fmt.Errorf("vault: %s: %w (wiped at %s)", path, ErrWiped, wipedAt)
	}
	return f, nil
}

// writeKeyFile replaces dir/key.json with data atomically: a temporary
// file in dir (mode 0600) is written and fsynced, renamed over key.json,
// and dir is fsynced. Readers see the old file or the new one, never a mix.
//
// The previous file's bytes are then overwritten with random ones (it is
// reached through a hard link made before the rename) so the old wrapping
// does not linger in freed blocks. Where hard links are unsupported the
// old file is shredded in place before the rename if mustShred is set
// (a crash in between loses the key: right for a duress wipe), and left
// to the filesystem otherwise (right for a passphrase change).
//
// Leftovers of an earlier interrupted write are shredded first, best
// effort (Wipe reports what could not be).
func writeKeyFile(dir string, data []byte, mustShred bool) error {
	cleanLeftovers(dir)
	path := keyPath(dir)
	tmp, err := os.CreateTemp(dir, tempPrefix+"*"+tempSuffix)
	if err != nil {
		return fmt.Errorf("vault: writing key file: %w", err)
	}
	tmpName := tmp.Name()
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmpName)
		return fmt.Errorf("vault: writing key file: %w", err)
	}

	oldPath := filepath.Join(dir, oldName)
	linked := false
	switch err := os.Link(path, oldPath); {
	case err == nil:
		linked = true
	case errors.Is(err, fs.ErrNotExist):
		// No previous file.
	case mustShred:
		if err := shred(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			os.Remove(tmpName)
			return fmt.Errorf("vault: destroying old key file: %w", err)
		}
	}

	if err := os.Rename(tmpName, path); err != nil {
		os.Remove(tmpName)
		if linked {
			os.Remove(oldPath)
		}
		return fmt.Errorf("vault: replacing key file: %w", err)
	}
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("vault: syncing %s: %w", dir, err)
	}
	if linked {
		// The new file is in place: failing to shred the old one now is
		// not the caller's failure. What is left is retried by the next
		// write, Open or Wipe (which reports it).
		if removeLeftover(dir, oldName) == nil {
			syncDir(dir)
		}
	}
	return nil
}

// shred overwrites the whole of the file at path with random bytes and
// fsyncs it. On flash storage and copy-on-write filesystems the old blocks
// may survive elsewhere; this is the most a program can do from user space.
// It refuses anything but a regular file, so a planted symlink cannot
// turn it against another file.
func shred(path string) error {
	if fi, err := os.Lstat(path); err != nil {
		return err
	} else if !fi.Mode().IsRegular() {
		return fmt.Errorf("%s is not a regular file", path)
	}
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	fi, err := f.Stat()
	if err == nil {
		var off int64
		buf := make([]byte, 4096)
		for off < fi.Size() && err == nil {
			n := min(int64(len(buf)), fi.Size()-off)
			_, err = f.WriteAt(randomBytes(int(n)), off)
			off += n
		}
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// shredRemove shreds path if it is a regular file, then removes it.
func shredRemove(path string) error {
	fi, err := os.Lstat(path)
	if err != nil {
		return err
	}
	if fi.Mode().IsRegular() {
		if err := shred(path); err != nil {
			return err
		}
	}
	return os.Remove(path)
}

// cleanLeftovers shreds and removes what an interrupted write may have
// left in dir: temporary key files and the link to a replaced key file.
// It returns the errors joined, having tried every file.
func cleanLeftovers(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("vault: cleaning %s: %w", dir, err)
	}
	var errs []error
	removed := false
	for _, e := range entries {
		name := e.Name()
		isTemp := strings.HasPrefix(name, tempPrefix) && strings.HasSuffix(name, tempSuffix)
		if !isTemp && name != oldName {
			continue
		}
		if err := removeLeftover(dir, name); err != nil {
			errs = append(errs, err)
			continue
		}
		removed = true
	}
	if removed {
		if err := syncDir(dir); err != nil {
			errs = append(errs, fmt.Errorf("vault: syncing %s: %w", dir, err))
		}
	}
	return errors.Join(errs...)
}

// removeLeftover shreds and removes dir/name, a leftover of an interrupted
// write. If it is the live key file under another name (a crash between
// writeKeyFile's link and rename leaves key.json.old so), it is only
// unlinked: shredding it would destroy the key. A missing file is no error.
func removeLeftover(dir, name string) error {
	path := filepath.Join(dir, name)
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("vault: destroying leftover %s: %w", name, err)
	}
	live, lerr := os.Lstat(keyPath(dir))
	if lerr == nil && os.SameFile(fi, live) {
		err = os.Remove(path)
	} else {
		err = shredRemove(path)
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("vault: destroying leftover %s: %w", name, err)
	}
	return nil
}
