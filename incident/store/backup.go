package store

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"filippo.io/age"
	"github.com/dgraph-io/badger/v4"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/vault"
)

// A backup file is an age file encrypted to one scrypt recipient (the
// backup passphrase), so `age -d` opens it too. Nothing outside the age
// header is in clear: not the mission, the device, the size of any record
// nor even that the file is Vigil's. Inside, the plaintext is:
//
//	"vigil-backup\x00" version:1 created:8 (Unix ms, big endian)
//	entries:  'e' uvarint(len key) key uvarint(len value) value
//	end:      'z' uvarint(number of entries)
//
// and nothing after the end. Each entry is one key of the store as this
// build wrote it (every table: device keys, mission secret, epoch
// secrets, invite keys, records, indexes, quarantine, drafts, attachment
// chunks and their completion markers, settings), except the transport
// key (m/x/transport): the restored device gets a peer ID of its own, so
// the two devices are never taken for one connection. A backup of a
// layout 3 store holds whole attachments; the restored store is migrated
// as any store is when it opens. age authenticates every 64 KiB chunk and
// marks the last one, so a truncated or altered file fails to decrypt;
// the end marker and count say the writer finished.
const (
	backupMagic   = "vigil-backup\x00"
	backupVersion = 1
	backupEntry   = 'e'
	backupEnd     = 'z'

	// BackupWorkFactor is the scrypt work factor (log2 N) a backup is
	// written with: age's default, about 256 MiB and a second on a
	// laptop. Restore accepts no more, so a file cannot make it allocate
	// more than that.
	BackupWorkFactor = 18

	// maxBackupKey is Badger's own limit on a key (65,000 bytes), rounded.
	maxBackupKey = 64 << 10
	// maxBackupValue bounds one value read back: attachments are the
	// largest (incident.MaxAttachmentSize, some padding when sealed).
	maxBackupValue = 4*incident.MaxAttachmentSize + 1<<20
	// restoreBatchBytes is how many bytes of entries one restore
	// transaction holds before it is committed, so restoring a store of
	// any size takes a bounded amount of memory.
	restoreBatchBytes = 4 << 20
)

var (
	// ErrBackupPassphrase: the passphrase does not open the backup file.
	ErrBackupPassphrase = errors.New("the backup passphrase does not open this file")
	// ErrBackupCorrupt: the file is not a complete backup (damaged,
	// truncated, or not a Vigil backup at all).
	ErrBackupCorrupt = errors.New("not a complete Vigil backup")
)

// transportMeta is the key kept out of backups (see above).
var transportMeta = metaKey("x/transport")

// BackupInfo says what a backup holds.
type BackupInfo struct {
	Entries int // keys written or restored
	Records int // signed records among them
	Blobs   int // attachment contents among them
	Author  incident.Author
	Mission incident.ID // zero when the device had joined no mission
	Created time.Time   // when the backup was written
}

// Backup writes the whole store, encrypted with passphrase, to w: one
// consistent snapshot (a read transaction), read while the store goes on
// serving. workFactor is the scrypt work factor, 0 for BackupWorkFactor
// (tests use less). Nothing reaches w unencrypted, and nothing is written
// anywhere else.
func (s *Store) Backup(w io.Writer, passphrase []byte, workFactor int) (BackupInfo, error) {
	if len(passphrase) == 0 {
		return BackupInfo{}, errors.New("the backup passphrase is empty")
	}
	if workFactor == 0 {
		workFactor = BackupWorkFactor
	}
	if workFactor < 1 || workFactor > BackupWorkFactor {
		return BackupInfo{}, fmt.Errorf("backup work factor %d out of range [1, %d]", workFactor, BackupWorkFactor)
	}
	rcp, err := age.NewScryptRecipient(string(passphrase))
	if err != nil {
		return BackupInfo{}, err
	}
	rcp.SetWorkFactor(workFactor)
	if err := s.enter(); err != nil {
		return BackupInfo{}, err
	}
	defer s.leave()

	info := BackupInfo{Author: s.Author(), Created: s.opts.Now()}
	if ms, err := s.Mission(); err == nil {
		info.Mission = ms.ID
	}
	aw, err := age.Encrypt(w, rcp)
	if err != nil {
		return BackupInfo{}, err
	}
	bw := bufio.NewWriterSize(aw, 64<<10)
	bw.WriteString(backupMagic)
	bw.WriteByte(backupVersion)
	bw.Write(binary.BigEndian.AppendUint64(nil, uint64(info.Created.UnixMilli())))

	txn := s.db.NewTransaction(false)
	defer txn.Discard()
	o := badger.DefaultIteratorOptions
	o.PrefetchValues = false
	it := txn.NewIterator(o)
	defer it.Close()
	var lenBuf []byte
	for it.Rewind(); it.Valid(); it.Next() {
		item := it.Item()
		k := item.Key()
		if bytes.Equal(k, transportMeta) {
			continue
		}
		lenBuf = binary.AppendUvarint(append(lenBuf[:0], backupEntry), uint64(len(k)))
		bw.Write(lenBuf)
		bw.Write(k)
		if err := item.Value(func(v []byte) error {
			bw.Write(binary.AppendUvarint(lenBuf[:0], uint64(len(v))))
			_, err := bw.Write(v)
			return err
		}); err != nil {
			return BackupInfo{}, fmt.Errorf("backup: reading the store: %w", err)
		}
		info.count(k)
	}
	bw.WriteByte(backupEnd)
	bw.Write(binary.AppendUvarint(nil, uint64(info.Entries)))
	// bufio keeps its first write error and returns it from Flush.
	if err := bw.Flush(); err != nil {
		return BackupInfo{}, fmt.Errorf("backup: writing: %w", err)
	}
	if err := aw.Close(); err != nil {
		return BackupInfo{}, fmt.Errorf("backup: writing: %w", err)
	}
	return info, nil
}

// count tallies key k in info.
func (info *BackupInfo) count(k []byte) {
	info.Entries++
	switch {
	case len(k) == 2+32 && k[0] == tRecord && k[1] == '/':
		info.Records++
	case len(k) == 2+32 && (k[0] == tComplete || k[0] == tBlob) && k[1] == '/':
		info.Blobs++ // a complete file's marker (its chunks are P/ keys), or a file held whole (layout 3)
	}
}

// corruptf is an ErrBackupCorrupt saying what is wrong.
func corruptf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrBackupCorrupt, fmt.Sprintf(format, args...))
}

// DecodeBackup reads the plaintext of a backup (what is inside the age
// encryption) from r and calls fn with each entry, in order; k and v are
// fn's only for the call. It returns when it has read the end marker and
// found nothing after it. A stream that is short, malformed, holds a key
// or value over the limits, or goes on after the end is ErrBackupCorrupt.
// Memory stays bounded by the limits whatever r claims: a value is
// buffered as its bytes arrive, not allocated from its declared length.
func DecodeBackup(r io.Reader, fn func(k, v []byte) error) (created time.Time, entries int, err error) {
	br := bufio.NewReaderSize(r, 64<<10)
	head := make([]byte, len(backupMagic)+1+8)
	if _, err := io.ReadFull(br, head); err != nil {
		return time.Time{}, 0, corruptf("no header")
	}
	if string(head[:len(backupMagic)]) != backupMagic {
		return time.Time{}, 0, corruptf("no Vigil backup header")
	}
	if v := head[len(backupMagic)]; v != backupVersion {
		return time.Time{}, 0, fmt.Errorf("%w: version %d; this build reads version %d (a newer Vigil wrote it?)", ErrBackupCorrupt, v, backupVersion)
	}
	created = time.UnixMilli(int64(binary.BigEndian.Uint64(head[len(backupMagic)+1:])))
	var k, v bytes.Buffer
	readPart := func(buf *bytes.Buffer, limit uint64, what string) error {
		n, err := binary.ReadUvarint(br)
		if err != nil {
			return corruptf("entry %d: %s length: %v", entries+1, what, noEOF(err))
		}
		if n > limit {
			return corruptf("entry %d: %s of %d bytes (limit %d)", entries+1, what, n, limit)
		}
		buf.Reset()
		if m, err := io.CopyN(buf, br, int64(n)); err != nil {
			return corruptf("entry %d: %s cut short after %d of %d bytes", entries+1, what, m, n)
		}
		return nil
	}
	for {
		tag, err := br.ReadByte()
		if err != nil {
			return created, entries, corruptf("cut short after %d entries (no end marker)", entries)
		}
		switch tag {
		case backupEntry:
			if err := readPart(&k, maxBackupKey, "key"); err != nil {
				return created, entries, err
			}
			if k.Len() == 0 {
				return created, entries, corruptf("entry %d: empty key", entries+1)
			}
			if err := readPart(&v, maxBackupValue, "value"); err != nil {
				return created, entries, err
			}
			entries++
			if err := fn(k.Bytes(), v.Bytes()); err != nil {
				return created, entries, err
			}
		case backupEnd:
			n, err := binary.ReadUvarint(br)
			if err != nil {
				return created, entries, corruptf("end marker: %v", noEOF(err))
			}
			if n != uint64(entries) {
				return created, entries, corruptf("the end marker counts %d entries, the file holds %d", n, entries)
			}
			if _, err := br.ReadByte(); err != io.EOF {
				if err == nil {
					return created, entries, corruptf("data after the end marker")
				}
				return created, entries, corruptf("after the end marker: %v", err)
			}
			return created, entries, nil
		default:
			return created, entries, corruptf("entry %d: unknown tag %#x", entries+1, tag)
		}
	}
}

func noEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// OpenBackup returns the plaintext of an age-encrypted backup file read
// from r, decrypted as it is read. A passphrase that opens no recipient is
// ErrBackupPassphrase; a file that is not an age passphrase file, or asks
// for a work factor above BackupWorkFactor, is ErrBackupCorrupt. Reads of
// the result fail (ErrBackupCorrupt) at the first damaged or missing
// chunk.
func OpenBackup(r io.Reader, passphrase []byte) (io.Reader, error) {
	if len(passphrase) == 0 {
		return nil, ErrBackupPassphrase
	}
	id, err := age.NewScryptIdentity(string(passphrase))
	if err != nil {
		return nil, err
	}
	id.SetMaxWorkFactor(BackupWorkFactor)
	pr, err := age.Decrypt(r, id)
	var nm *age.NoIdentityMatchError
	switch {
	case errors.As(err, &nm):
		// A scrypt file whose passphrase is another, or a file for
		// age keys, not a passphrase.
		return nil, ErrBackupPassphrase
	case err != nil:
		return nil, fmt.Errorf("%w: %v", ErrBackupCorrupt, err)
	}
	return &backupReader{pr}, nil
}

// backupReader marks decryption failures as ErrBackupCorrupt.
type backupReader struct{ r io.Reader }

func (b *backupReader) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err != nil && err != io.EOF {
		err = fmt.Errorf("%w: %v", ErrBackupCorrupt, err)
	}
	return n, err
}

// Restore makes a new home at home from a backup read from r: the store
// and keys the backed-up device had, under a new store key wrapped by
// homePassphrase (with opts.KDF). It returns the open store. home must
// hold no store (ErrExists otherwise, nothing touched); a wiped home's
// leftovers are cleared as Init clears them.
//
// The store is built in a folder inside home and moved into place only
// once the whole file has been read and checked, the key file last: a
// wrong passphrase, a damaged or truncated file, or a crash leaves no
// store key at home, and the failures remove what they made (the
// folder, and home itself when it was created here and is empty). The
// folder's content is encrypted with the new key like any store's: no
// plaintext of the backup ever reaches the disk.
func Restore(home string, r io.Reader, backupPassphrase, homePassphrase []byte, opts Options) (_ *Store, _ BackupInfo, err error) {
	if len(homePassphrase) == 0 {
		return nil, BackupInfo{}, errors.New("the passphrase is empty")
	}
	if Initialised(home) && !Wiped(home) {
		return nil, BackupInfo{}, fmt.Errorf("%w in %s", ErrExists, home)
	}
	_, statErr := os.Stat(home)
	madeHome := errors.Is(statErr, fs.ErrNotExist)
	unlock, err := vault.Lock(home)
	if err != nil {
		return nil, BackupInfo{}, err
	}
	held := true
	defer func() {
		if !held {
			return
		}
		_ = unlock()
		if err != nil {
			_ = os.Remove(filepath.Join(home, vault.LockName))
			if madeHome {
				_ = os.Remove(home) // only when empty
			}
		}
	}()
	// Asked again under the lock: another restore or init may have won.
	if Initialised(home) {
		if !Wiped(home) {
			return nil, BackupInfo{}, fmt.Errorf("%w in %s", ErrExists, home)
		}
	}
	// A restore killed midway left its staging folder (encrypted, with no
	// key file at home): under the lock nobody else is using it.
	if stale, _ := filepath.Glob(filepath.Join(home, ".restore-*")); len(stale) > 0 {
		for _, dir := range stale {
			_ = os.RemoveAll(dir)
		}
	}
	plain, err := OpenBackup(r, backupPassphrase)
	if err != nil {
		return nil, BackupInfo{}, err
	}

	staging, err := os.MkdirTemp(home, ".restore-")
	if err != nil {
		return nil, BackupInfo{}, err
	}
	defer os.RemoveAll(staging) // empty after a success
	key, err := vault.Create(staging, homePassphrase, opts.kdf())
	if err != nil {
		return nil, BackupInfo{}, err
	}
	// The key is cleared on failure only: the open store keeps using it
	// (Badger wraps its data keys with it).
	defer func() {
		if err != nil {
			clear(key)
		}
	}()
	info, err := restoreInto(staging, key, plain, opts)
	if err != nil {
		return nil, BackupInfo{}, err
	}

	// The leftovers of a wipe (tombstone, unreadable data folder) go as
	// Init clears them; a "data" folder that is not a store's is refused.
	if Initialised(home) {
		if err := os.Remove(filepath.Join(home, "key.json")); err != nil {
			return nil, BackupInfo{}, err
		}
	}
	if err := removeLeftoverData(home); err != nil {
		return nil, BackupInfo{}, err
	}
	if err := os.Rename(DataDir(staging), DataDir(home)); err != nil {
		return nil, BackupInfo{}, err
	}
	if err := os.Rename(filepath.Join(staging, "key.json"), filepath.Join(home, "key.json")); err != nil {
		_ = os.RemoveAll(DataDir(home))
		return nil, BackupInfo{}, err
	}
	if err := syncFolder(home); err != nil {
		return nil, BackupInfo{}, err
	}
	held = false // open owns the lock now, and releases it on failure
	s, err := open(home, key, unlock, opts)
	if err != nil {
		return nil, BackupInfo{}, err
	}
	if err := s.load(); err != nil {
		s.Close()
		return nil, BackupInfo{}, err
	}
	if err := s.migrate(); err != nil {
		s.Close()
		return nil, BackupInfo{}, fmt.Errorf("migrate the store to layout %d: %w", layoutVersion, err)
	}
	return s, info, nil
}

// restoreInto writes the backup's entries into a new database under dir
// (encrypted with key), in transactions of bounded size, and checks that
// the result is a store this build can open: its device keys, its
// mission, its layout.
func restoreInto(dir string, key []byte, plain io.Reader, opts Options) (BackupInfo, error) {
	opts.fill()
	db, err := badger.Open(badgerOptions(DataDir(dir), key, opts.Profile))
	if err != nil {
		return BackupInfo{}, fmt.Errorf("restore: %w", err)
	}
	var info BackupInfo
	txn := db.NewTransaction(true)
	pending := 0
	commit := func() error {
		err := txn.Commit()
		txn = db.NewTransaction(true)
		pending = 0
		return err
	}
	created, _, err := DecodeBackup(plain, func(k, v []byte) error {
		if len(k) >= 2 && k[0] == tMeta && bytes.Equal(k, transportMeta) {
			return nil // a backup never holds one; a restore never takes one
		}
		if pending+len(k)+len(v) > restoreBatchBytes && pending > 0 {
			if err := commit(); err != nil {
				return err
			}
		}
		// Badger keeps k and v until the commit: copies.
		kc, vc := bytes.Clone(k), bytes.Clone(v)
		err := txn.Set(kc, vc)
		if errors.Is(err, badger.ErrTxnTooBig) {
			if err := commit(); err != nil {
				return err
			}
			err = txn.Set(kc, vc)
		}
		if err != nil {
			return err
		}
		pending += len(k) + len(v)
		info.count(k)
		return nil
	})
	if err == nil {
		err = commit()
	}
	txn.Discard()
	if err == nil {
		err = db.Sync()
	}
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return BackupInfo{}, err
	}
	info.Created = created

	// Open it as a store: the device keys parse, the mission state
	// rebuilds from its records, the layout is one this build reads.
	s, err := open(dir, key, func() error { return nil }, opts)
	if err != nil {
		return BackupInfo{}, err
	}
	defer s.Close()
	if err := s.load(); err != nil {
		return BackupInfo{}, corruptf("the restored store does not open: %v", err)
	}
	var layout []byte
	if err := s.view(func(txn *badger.Txn) error {
		v, err := getValue(txn, metaKey("layout"))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return nil
		}
		layout = v
		return err
	}); err != nil {
		return BackupInfo{}, err
	}
	if len(layout) == 1 && layout[0] > layoutVersion {
		return BackupInfo{}, fmt.Errorf("%w: the store has key layout %d; this build reads layouts up to %d (restore it with a newer Vigil)", ErrBackupCorrupt, layout[0], layoutVersion)
	}
	info.Author = s.Author()
	if ms, err := s.Mission(); err == nil {
		info.Mission = ms.ID
	}
	return info, nil
}

// syncFolder makes dir's entries (the renames into it) durable.
func syncFolder(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Sync(); err != nil && !errors.Is(err, errors.ErrUnsupported) {
		return err
	}
	return nil
}
