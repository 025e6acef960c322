// Package store keeps a device's records in an encrypted Badger database
// under its home folder, with the indexes that lists and the dashboard use.
//
// A Store is safe for concurrent use. Writes are serialised; every write is
// synced to disk before the call that made it returns.
package store

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	gosync "sync"
	"sync/atomic"
	"time"

	"filippo.io/age"
	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"
	"github.com/dgraph-io/badger/v4/skl"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/vault"
)

// Errors callers test with errors.Is.
var (
	ErrNotInitialised = errors.New("no Vigil store here")
	ErrExists         = errors.New("a Vigil store already exists here")
	ErrNoMission      = errors.New("this device has not joined a mission")
	ErrHasMission     = errors.New("this device already belongs to a mission")
	ErrNotFound       = errors.New("no such record")
	// ErrClosed is returned by every call made after Close (or racing it).
	ErrClosed = errors.New("the store is closed")
)

// Options tune a store. The zero value is the phone profile with the
// system clock and no logging.
type Options struct {
	// Now is the clock used for record timestamps and flags (never for
	// validity). Default time.Now.
	Now func() time.Time
	// Logger receives store events. Default: discard.
	Logger *slog.Logger
	// KDF overrides the passphrase key derivation parameters for Init and
	// ChangePassphrase (tests use cheap ones). Default vault.DefaultKDF.
	KDF *vault.KDFParams
	// Profile picks Badger memory settings. Default PhoneProfile.
	Profile Profile
	// KeepAll makes an observer's or carrier's store keep every record,
	// as coordinators' do (a relay or hub laptop): nothing is dropped
	// once coordinators hold it and no storage budget applies
	// (custody.go).
	KeepAll bool
	// QuarantineRecords and QuarantineBytes cap the quarantine (records
	// waiting for a member or record they depend on) as a whole: a new
	// record makes room by dropping the oldest (reconciliation offers
	// them again). Default 10,000 records and 16 MiB.
	QuarantineRecords int
	QuarantineBytes   int64
	// QuarantineAuthorRecords and QuarantineAuthorBytes bound what one
	// author key may have waiting; its records past them are refused.
	// Default 2,000 records and 4 MiB.
	QuarantineAuthorRecords int
	QuarantineAuthorBytes   int64
	// QuarantineSourceRecords bounds the records one member's devices
	// (AddMany's source, SenderSource) may have waiting; past it they are
	// refused before anything is written. Default 1,000.
	QuarantineSourceRecords int
	// QuarantineMaxAge: records waiting longer, by Now, are dropped (when
	// the store opens, and whenever the quarantine takes a record).
	// Default 7 days.
	QuarantineMaxAge time.Duration
}

// Profile is a set of Badger memory options.
type Profile int

const (
	// PhoneProfile keeps memory around 100 MB at 100k records (see
	// docs/architecture.md, "Platform notes", for the measurement).
	PhoneProfile Profile = iota
	// LaptopProfile uses Badger's defaults.
	LaptopProfile
)

// Store is an open home.
type Store struct {
	home   string
	db     *badger.DB
	unlock func() error
	opts   Options
	log    *slog.Logger

	hookMu   gosync.Mutex
	onPut    func(*incident.Signed)
	onRevoke func()
	// revoked: a revocation was committed since the last AddMany fired
	// onRevoke (set under mu).
	revoked bool

	// life guards closing: every call that touches db is counted in
	// inflight (enter/leave), and Close waits for them before closing db.
	life     gosync.Mutex
	idle     *gosync.Cond
	inflight int
	closed   bool

	mu     gosync.Mutex // serialises writes and guards the fields below
	signer *incident.Signer
	ageID  *age.X25519Identity
	// ageMark names ageID in the markers of the records it cannot open
	// (closedMark, opened.go).
	ageMark []byte
	// decrypts counts age decryptions tried (opened.go), for tests.
	decrypts atomic.Int64
	ms       *incident.MissionState
	secret   []byte
	// waiting holds the dependencies (record IDs, author keys) that some
	// quarantined record may wait for: a hint that spares the quarantine
	// scan after every stored record. It may hold deps nothing waits for
	// any more, never miss one that something waits for.
	waiting map[string]bool
	seq     uint32 // the next report's index number (m/seq)
	// txnBytes and txnCount are Badger's limits on one transaction.
	txnBytes, txnCount int64
	// quotas caches quota usage (u/ values) read or written since open,
	// by author: commit is their only writer, and a dropped batch clears it.
	quotas map[incident.Author]quota
	// hot caches the committed summary counters and heard times (hot.go).
	hot hotCache
	// qtotal is what the quarantine holds (quarantine.go).
	qtotal qusage
	// qhead and qoldest spare the quarantine a walk of its W/ entries
	// for every record it takes (quarantine.go, evict): no entry lies
	// below qhead (nil: none known), and the oldest waiting record
	// arrived at qoldest (0: not known).
	qhead   []byte
	qoldest int64
	// qsources counts the waiting records by who handed them over.
	qsources map[string]uint64
	// declined remembers records refused for quota (quota.go).
	declined declinedSet
	// epochs caches the member secrets (m/epochs) once read: every hello
	// asks for them several times. Written through by saveEpochSecrets.
	epochs map[incident.ID][]byte
	// overBudget: the last Prune found a bounded store over its budget,
	// so records carried for others are refused (custody.go).
	overBudget atomic.Bool
	// spaceBase is the data folder's size when last measured (open,
	// Prune); spaceGrown what was stored since, as disk bytes
	// (custody.go, carriedOverBudget).
	spaceBase, spaceGrown atomic.Uint64
	// custodyStale: a record that changes who counts as a coordinator,
	// or custody_receipts, was stored since the live set was built.
	custodyStale atomic.Bool
}

func (o *Options) fill() {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if o.QuarantineRecords == 0 {
		o.QuarantineRecords = 10_000
	}
	if o.QuarantineBytes == 0 {
		o.QuarantineBytes = 16 << 20
	}
	if o.QuarantineAuthorRecords == 0 {
		o.QuarantineAuthorRecords = 2_000
	}
	if o.QuarantineAuthorBytes == 0 {
		o.QuarantineAuthorBytes = 4 << 20
	}
	if o.QuarantineSourceRecords == 0 {
		o.QuarantineSourceRecords = 1_000
	}
	if o.QuarantineMaxAge == 0 {
		o.QuarantineMaxAge = 7 * 24 * time.Hour
	}
}

func (o Options) kdf() vault.KDFParams {
	if o.KDF != nil {
		return *o.KDF
	}
	return vault.DefaultKDF
}

// DataDir is the Badger folder inside a home.
func DataDir(home string) string { return filepath.Join(home, "data") }

// MapsDir is where a home keeps its basemap (incident/act), encrypted to
// the device's sealing key: a wipe leaves it unreadable, and ClearWiped
// removes it with the rest.
func MapsDir(home string) string { return filepath.Join(home, "maps") }

// removeLeftoverData removes home's data folder when it is a store's
// (Badger keeps a KEYREGISTRY and a MANIFEST there), left by a wipe: its
// key is gone, so nothing in it can be read. A folder of that name that
// is not a store's is left alone, with an error: the home was pointed at
// a folder of the person's.
func removeLeftoverData(home string) error {
	dir := DataDir(home)
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return err
	case len(entries) == 0:
		return os.Remove(dir)
	}
	for _, name := range []string{"KEYREGISTRY", "MANIFEST"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
			return os.RemoveAll(dir)
		}
	}
	return fmt.Errorf("%s holds a folder \"data\" that is not a Vigil store's; nothing was removed: choose another home folder", home)
}

// Initialised reports whether home holds a store key.
func Initialised(home string) bool {
	_, err := os.Stat(filepath.Join(home, "key.json"))
	return err == nil
}

// Init creates a new home: the store key wrapped by passphrase, the
// database, and this device's signing and sealing keys.
func Init(home string, passphrase []byte, opts Options) (*Store, error) {
	if len(passphrase) == 0 {
		return nil, errors.New("the passphrase is empty")
	}
	if err := os.MkdirAll(home, 0o700); err != nil {
		return nil, fmt.Errorf("create home: %w", err)
	}
	unlock, err := vault.Lock(home)
	if err != nil {
		return nil, err
	}
	if Initialised(home) {
		if !Wiped(home) {
			unlock()
			return nil, fmt.Errorf("%w in %s", ErrExists, home)
		}
		if err := os.Remove(filepath.Join(home, "key.json")); err != nil {
			unlock()
			return nil, err
		}
	}
	// A leftover data folder from a wiped store is unreadable: clear it.
	// A "data" folder that is not a store's is somebody's: refuse.
	if err := removeLeftoverData(home); err != nil {
		unlock()
		return nil, err
	}
	key, err := vault.Create(home, passphrase, opts.kdf())
	if err != nil {
		unlock()
		return nil, err
	}
	s, err := open(home, key, unlock, opts)
	if err != nil {
		return nil, err
	}
	if err := s.initDevice(); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Open unlocks and opens an existing home. A wrong passphrase is
// vault.ErrWrongPassphrase and touches nothing. The duress passphrase (see
// vault.SetDuress) opens an empty store after destroying the real one.
func Open(home string, passphrase []byte, opts Options) (*Store, error) {
	if !Initialised(home) {
		return nil, fmt.Errorf("%w (home %s)", ErrNotInitialised, home)
	}
	unlock, err := vault.Lock(home)
	if err != nil {
		return nil, err
	}
	key, fresh, err := vault.Open(home, passphrase)
	if err != nil {
		unlock()
		return nil, err
	}
	if fresh {
		if err := os.RemoveAll(DataDir(home)); err != nil {
			unlock()
			return nil, err
		}
	}
	s, err := open(home, key, unlock, opts)
	if err != nil {
		return nil, err
	}
	if fresh {
		if err := s.initDevice(); err != nil {
			s.Close()
			return nil, err
		}
	}
	if err := s.load(); err != nil {
		s.Close()
		return nil, err
	}
	if err := s.migrate(); err != nil {
		s.Close()
		return nil, fmt.Errorf("migrate the store to layout %d: %w", layoutVersion, err)
	}
	if err := s.custodyMigrate(); err != nil {
		s.Close()
		return nil, fmt.Errorf("build the custody index: %w", err)
	}
	if err := s.goneMigrate(); err != nil {
		s.Close()
		return nil, fmt.Errorf("shorten the marks of dropped records: %w", err)
	}
	s.noteSpace()
	if err := s.tidyQuarantine(); err != nil {
		s.Close()
		return nil, fmt.Errorf("tidy the quarantine: %w", err)
	}
	return s, nil
}

func badgerOptions(dir string, key []byte, p Profile) badger.Options {
	o := badger.DefaultOptions(dir).
		WithEncryptionKey(key).
		// Commits are not synced one by one; every acknowledged write calls
		// db.Sync (vlog and memtable WAL) before returning, and a batch
		// syncs once at its end.
		WithSyncWrites(false).
		WithLogger(nil).
		// Table blocks are compressed: index keys, tuples and record
		// pointers shrink by about 40 % (vigil-bench, 20k reports,
		// layout 2: SST files 9.2 → 5.5 MiB). Each table records its own
		// compression, so tables written before stay readable.
		WithCompression(options.ZSTD).
		// Blocks of 16 KiB rather than Badger's 4: ZSTD builds its tables
		// once per block, which made compressing tables in flushes and
		// compactions the largest cost of storing a report after its
		// signature (vigil-bench ingest.store, 100k reports: 42 µs of CPU
		// per report; 22 with these blocks and level 0 compacted at 5
		// tables instead of 2, which the phone's memory ruled out), and
		// the larger blocks compress better (SST files 53.3 → 48.2 MB,
		// store.size 1.94 → 1.86 × the records). A point lookup decompresses a larger
		// block; most lookups of records not stored stop at the bloom
		// filters.
		WithBlockSize(16 << 10)
	if p == PhoneProfile {
		o = o.WithMemTableSize(8 << 20).
			// Badger's 4 KiB blocks on the phone: with 16 KiB the phone's
			// memory while opening a synced store of 100k reports was not
			// told apart from the noise (memory.phone_sync 104.6 MiB with
			// 4 KiB, 148.3 with 16, 126.2 before either change, one run
			// each under load), and the phone's memory comes first.
			WithBlockSize(4 << 10).
			WithNumMemtables(2).
			WithBlockCacheSize(8 << 20).
			WithIndexCacheSize(4 << 20).
			// Value-log files of 16 MiB: the garbage collector rewrites
			// whole files and never the one being written, so on a phone
			// that drops what coordinators hold, the file size is about
			// the garbage it cannot give back.
			WithValueLogFileSize(16 << 20).
			WithBaseTableSize(2 << 20).
			WithNumLevelZeroTables(2).
			WithNumLevelZeroTablesStall(4).
			WithNumCompactors(2).
			// Records stay in the value log. Kept in the (compressed)
			// tables instead, the store is 1.22 × the records rather than
			// 1.56 ×, but every record then passes through memtable
			// flushes and compactions, whose table builders made a 100k
			// bundle import peak at 150–190 MiB anonymous memory instead
			// of about 75, and the phone sync at 47–110 MiB (tables of
			// 512 KiB to 2 MiB) instead of about 35 (vigil-bench -only
			// size,memory, 100k reports).
			WithValueThreshold(256)
	} else {
		// A 16 MiB memtable rather than Badger's 64: every write walks
		// the memtable's skiplist, and in 64 MiB each step of the walk
		// missed the CPU caches (vigil-bench ingest.store_all_cores,
		// 100k reports: the skiplist's inserts 67 → 39 µs of CPU per
		// report, on the path every write waits for, against more
		// flushes and compactions in the background).
		o = o.WithIndexCacheSize(64 << 20).WithMemTableSize(laptopMemTable)
		// A memtable's log left by a crash is replayed into a memtable
		// of this size, and Badger panics when it does not fit: with
		// such logs left, the store opens with the 64 MiB memtables
		// laptop stores were written with before, until they are
		// flushed (a clean close leaves no log).
		if memLogsLeft(dir) {
			o = o.WithMemTableSize(max(laptopMemTable, 64<<20))
		}
	}
	return o
}

// laptopMemTable is the laptop profile's memtable size.
var laptopMemTable int64 = 16 << 20

// memLogsLeft reports whether dir holds a memtable log (*.mem) that is
// not empty.
func memLogsLeft(dir string) bool {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return false
	}
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".mem") {
			continue
		}
		if info, err := e.Info(); err == nil && info.Size() > 0 {
			return true
		}
	}
	return false
}

func open(home string, key []byte, unlock func() error, opts Options) (*Store, error) {
	opts.fill()
	if err := dropEmptyLogs(DataDir(home)); err != nil {
		unlock()
		return nil, fmt.Errorf("open store: %w", err)
	}
	db, err := badger.Open(badgerOptions(DataDir(home), key, opts.Profile))
	if err != nil {
		unlock()
		if errors.Is(err, badger.ErrEncryptionKeyMismatch) {
			return nil, fmt.Errorf("the data folder %s was written with another key: %w", DataDir(home), err)
		}
		return nil, fmt.Errorf("open store: %w", err)
	}
	s := &Store{home: home, db: db, unlock: unlock, opts: opts, log: opts.Logger, waiting: map[string]bool{}, quotas: map[incident.Author]quota{}, qsources: map[string]uint64{}}
	// Badger refuses a transaction past 15 % of a memtable in bytes, or
	// that many bytes' worth of skiplist nodes in entries.
	s.txnBytes = db.Opts().MemTableSize * 15 / 100
	s.txnCount = s.txnBytes / int64(skl.MaxNodeSize)
	s.idle = gosync.NewCond(&s.life)
	return s, nil
}

// dropEmptyLogs removes zero-length Badger log files (*.mem, *.vlog). A
// process killed between creating such a file and sizing it leaves one
// behind, and Badger then refuses to open (dgraph-io/badger#2207). An empty
// log holds no entries, and the home lock guarantees no other process is
// writing it, so removing it loses nothing.
func dropEmptyLogs(dir string) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".mem") && !strings.HasSuffix(name, ".vlog") {
			continue
		}
		info, err := e.Info()
		if err != nil || info.Size() != 0 || !info.Mode().IsRegular() {
			continue
		}
		if err := os.Remove(filepath.Join(dir, name)); err != nil {
			return err
		}
	}
	return nil
}

// enter counts a call that uses the database, or returns ErrClosed once
// Close has begun. Every enter is paired with a leave. Calls nest freely:
// an inner enter after Close began fails instead of waiting.
func (s *Store) enter() error {
	s.life.Lock()
	defer s.life.Unlock()
	if s.closed {
		return ErrClosed
	}
	s.inflight++
	return nil
}

func (s *Store) leave() {
	s.life.Lock()
	s.inflight--
	if s.inflight == 0 {
		s.idle.Broadcast()
	}
	s.life.Unlock()
}

// view and update are db.View and db.Update for an open store.
func (s *Store) view(fn func(*badger.Txn) error) error {
	if err := s.enter(); err != nil {
		return err
	}
	defer s.leave()
	return s.db.View(fn)
}

func (s *Store) update(fn func(*badger.Txn) error) error {
	if err := s.enter(); err != nil {
		return err
	}
	defer s.leave()
	return s.db.Update(fn)
}

// sync makes every committed write durable (fsync of the value log and
// the memtable's write-ahead log).
func (s *Store) sync() error {
	if err := s.enter(); err != nil {
		return err
	}
	defer s.leave()
	return s.db.Sync()
}

// Home returns the home folder.
func (s *Store) Home() string { return s.home }

// Close waits for the calls in progress, closes the database and releases
// the home lock. Every call after it returns ErrClosed; a second Close
// does nothing and returns nil.
func (s *Store) Close() error {
	s.life.Lock()
	if s.closed {
		s.life.Unlock()
		return nil
	}
	s.closed = true
	for s.inflight > 0 {
		s.idle.Wait()
	}
	s.life.Unlock()
	err := s.db.Close()
	if uerr := s.unlock(); err == nil {
		err = uerr
	}
	return err
}

func (s *Store) initDevice() error {
	seed := make([]byte, 32)
	if _, err := rand.Read(seed); err != nil {
		return err
	}
	id, err := age.GenerateX25519Identity()
	if err != nil {
		return err
	}
	err = s.update(func(txn *badger.Txn) error {
		if err := txn.Set(metaKey("signer"), seed); err != nil {
			return err
		}
		if err := txn.Set(metaKey("age"), []byte(id.String())); err != nil {
			return err
		}
		if err := txn.Set(metaKey("layout"), []byte{layoutVersion}); err != nil {
			return err
		}
		return txn.Set(metaKey("created"), be64(s.opts.Now().UnixMilli()))
	})
	if err != nil {
		return err
	}
	if err := s.sync(); err != nil {
		return err
	}
	return s.load()
}

// load reads device keys and rebuilds the mission state from the mission
// records (a few thousand at most), and which dependencies quarantined
// records wait for.
func (s *Store) load() error {
	if err := s.loadWaiting(); err != nil {
		return err
	}
	return s.view(func(txn *badger.Txn) error {
		seed, err := getValue(txn, metaKey("signer"))
		if err != nil {
			return fmt.Errorf("read device key: %w", err)
		}
		if s.signer, err = incident.NewSigner(seed); err != nil {
			return err
		}
		ageText, err := getValue(txn, metaKey("age"))
		if err != nil {
			return fmt.Errorf("read sealing key: %w", err)
		}
		if s.ageID, err = age.ParseX25519Identity(string(ageText)); err != nil {
			return err
		}
		s.ageMark = closedMark(s.ageID)
		switch v, err := getValue(txn, metaKey("seq")); {
		case err == nil && len(v) == 4:
			s.seq = binary.BigEndian.Uint32(v)
		case err != nil && !errors.Is(err, badger.ErrKeyNotFound):
			return err
		}
		mid, err := getValue(txn, metaKey("mission"))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if s.secret, err = getValue(txn, metaKey("secret")); err != nil && !errors.Is(err, badger.ErrKeyNotFound) {
			return err
		}
		var id incident.ID
		copy(id[:], mid)
		g, err := getRecord(txn, id)
		if err != nil {
			return fmt.Errorf("read mission genesis: %w", err)
		}
		ms, err := incident.NewMissionState(g)
		if err != nil {
			return err
		}
		for _, k := range incident.MissionKinds[1:] {
			recs, err := recordsUnder(txn, kindPrefix(k))
			if err != nil {
				return err
			}
			for _, r := range recs {
				if err := ms.Apply(r); err != nil {
					return err
				}
			}
		}
		s.ms = ms
		return nil
	})
}

func getValue(txn *badger.Txn, k []byte) ([]byte, error) {
	item, err := txn.Get(k)
	if err != nil {
		return nil, err
	}
	return item.ValueCopy(nil)
}

func getRecord(txn *badger.Txn, id incident.ID) (*incident.Signed, error) {
	raw, err := getValue(txn, recordKey(id))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	if err != nil {
		return nil, err
	}
	// Only records verified by Add are stored here.
	return incident.DecodeStored(raw)
}

// scanPrefix calls fn with each key under prefix, in order (reverse when
// asked), without reading values.
func scanPrefix(txn *badger.Txn, prefix []byte, reverse bool, fn func(key []byte) error) error {
	o := badger.DefaultIteratorOptions
	o.PrefetchValues = false
	o.Prefix = prefix
	o.Reverse = reverse
	it := txn.NewIterator(o)
	defer it.Close()
	seek := prefix
	if reverse {
		seek = append(append([]byte(nil), prefix...), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff)
	}
	for it.Seek(seek); it.ValidForPrefix(prefix); it.Next() {
		if err := fn(it.Item().KeyCopy(nil)); err != nil {
			return err
		}
	}
	return nil
}

// Signer returns this device's signing key.
func (s *Store) Signer() *incident.Signer {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.signer
}

// Author returns this device's author key.
func (s *Store) Author() incident.Author { return s.Signer().Author() }

// AgeIdentity returns this device's sealing identity.
func (s *Store) AgeIdentity() *age.X25519Identity {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ageID
}

// Mission returns a snapshot of the mission state, or ErrNoMission. The
// snapshot is the caller's: records stored later do not change it.
func (s *Store) Mission() (*incident.MissionState, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ms == nil {
		return nil, ErrNoMission
	}
	return s.ms.Clone(), nil
}

// RevokedUnaccepted reports whether raw is signed by a revoked member and
// no revocation accepts it: a record the mesh neither stores nor passes
// on. It reads the mission state in place, so a caller judging one record
// at a time (the gossip validator) does not pay for Mission's copy.
func (s *Store) RevokedUnaccepted(raw []byte) bool {
	a, ok := incident.PeekAuthor(raw)
	if !ok {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ms == nil || len(s.ms.Revocations(a)) == 0 {
		return false
	}
	return !s.ms.Confirmed(a, incident.IDOf(raw))
}

// Secret returns the mission secret (nil before a mission).
func (s *Store) Secret() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]byte(nil), s.secret...)
}

// Get returns a stored record, or nil, nil when it is not held. It
// implements incident.RecordSource.
func (s *Store) Get(id incident.ID) (*incident.Signed, error) {
	var r *incident.Signed
	err := s.view(func(txn *badger.Txn) error {
		var err error
		r, err = getRecord(txn, id)
		return err
	})
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	return r, err
}

// Has reports whether the record is stored.
func (s *Store) Has(id incident.ID) (bool, error) { return s.hasRecord(id) }

// Counts returns how many records of each kind are stored (every known
// kind, and each unknown kind held).
func (s *Store) Counts() (map[incident.Kind]int, error) {
	kinds, err := s.Kinds()
	if err != nil {
		return nil, err
	}
	return s.countKinds(kinds)
}

// CountNewer returns how many records of each kind this build does not
// know are stored (a newer build's records it keeps and passes on).
func (s *Store) CountNewer() (map[incident.Kind]int, error) {
	kinds, err := s.Kinds()
	if err != nil {
		return nil, err
	}
	return s.countKinds(kinds[len(incident.Kinds):])
}

// countKinds counts the records of each of kinds from index keys alone.
func (s *Store) countKinds(kinds []incident.Kind) (map[incident.Kind]int, error) {
	out := map[incident.Kind]int{}
	err := s.view(func(txn *badger.Txn) error {
		for _, k := range kinds {
			n := 0
			if err := scanPrefix(txn, kindPrefix(k), false, func([]byte) error { n++; return nil }); err != nil {
				return err
			}
			out[k] = n
		}
		return nil
	})
	return out, err
}

// ByKind returns the stored records of kind k in claimed-time order.
func (s *Store) ByKind(k incident.Kind) ([]*incident.Signed, error) {
	return s.recordsUnder(kindPrefix(k))
}

// recordsUnder returns the records whose IDs end the index keys under
// prefix, in key order.
func (s *Store) recordsUnder(prefix []byte) ([]*incident.Signed, error) {
	var out []*incident.Signed
	err := s.view(func(txn *badger.Txn) error {
		var err error
		out, err = recordsUnder(txn, prefix)
		return err
	})
	return out, err
}

func recordsUnder(txn *badger.Txn, prefix []byte) ([]*incident.Signed, error) {
	var out []*incident.Signed
	err := scanPrefix(txn, prefix, false, func(k []byte) error {
		var id incident.ID
		copy(id[:], k[len(k)-32:])
		r, err := getRecord(txn, id)
		if err != nil {
			return err
		}
		out = append(out, r)
		return nil
	})
	return out, err
}

// Related returns the records that target id (amends, retractions,
// reviews), in no particular order.
func (s *Store) Related(id incident.ID) ([]*incident.Signed, error) {
	var out []*incident.Signed
	err := s.view(func(txn *badger.Txn) error {
		var err error
		out, err = related(txn, id)
		return err
	})
	return out, err
}

func related(txn *badger.Txn, id incident.ID) ([]*incident.Signed, error) {
	return recordsUnder(txn, key(tTarget, id[:]))
}

// Now returns the store's clock reading.
func (s *Store) Now() time.Time { return s.opts.Now() }

// ByAuthor returns the records author signed, in claimed-time order.
func (s *Store) ByAuthor(a incident.Author) ([]*incident.Signed, error) {
	return s.recordsUnder(key(tAuthor, a[:]))
}

// Kinds returns the kinds of the records stored: this build's kinds in
// incident.Kinds order (present or not), then kinds it does not know (a
// newer build's records it holds and forwards), by name. Unknown kinds are
// found by seeking from one kind's index to the next, so the cost is one
// seek per kind, not a scan.
func (s *Store) Kinds() ([]incident.Kind, error) {
	out := append([]incident.Kind(nil), incident.Kinds...)
	err := s.view(func(txn *badger.Txn) error {
		o := badger.DefaultIteratorOptions
		o.PrefetchValues = false
		o.Prefix = key(tKind)
		it := txn.NewIterator(o)
		defer it.Close()
		for it.Seek(o.Prefix); it.ValidForPrefix(o.Prefix); {
			rest := it.Item().Key()[len(o.Prefix):]
			end := bytes.IndexByte(rest, 0)
			if end < 0 {
				it.Next()
				continue
			}
			k := incident.Kind(rest[:end])
			if !k.Known() {
				out = append(out, k)
			}
			// The next kind: past every key of this one (kind names hold
			// no byte 0 or 1, so "kind\x01" sorts after "kind\x00…").
			it.Seek(append(key(tKind, []byte(k)), 1))
		}
		return nil
	})
	return out, err
}

// IDsOfKind returns the IDs of the stored records of kind k, in
// claimed-time order, reading index keys only (no record is decoded).
func (s *Store) IDsOfKind(k incident.Kind) ([]incident.ID, error) {
	var out []incident.ID
	err := s.view(func(txn *badger.Txn) error {
		return scanPrefix(txn, kindPrefix(k), false, func(key []byte) error {
			var id incident.ID
			copy(id[:], key[len(key)-32:])
			out = append(out, id)
			return nil
		})
	})
	return out, err
}
