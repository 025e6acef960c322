package store

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/dgraph-io/badger/v4"
)

// A laptop store left by a crash with the log of a memtable larger than
// the laptop profile's (written when laptop memtables were Badger's 64
// MiB) opens: the log is replayed whole, as Badger cannot replay it into
// a smaller memtable.
func TestLaptopReplaysLargerMemtableLog(t *testing.T) {
	defer func(v int64) { laptopMemTable = v }(laptopMemTable)
	laptopMemTable = 8 << 20
	dir, crash := t.TempDir(), t.TempDir()
	key := bytes.Repeat([]byte{9}, 32)
	db, err := badger.Open(badgerOptions(dir, key, LaptopProfile).WithMemTableSize(32 << 20))
	if err != nil {
		t.Fatal(err)
	}
	val := bytes.Repeat([]byte{'v'}, 1024)
	const n = 16384 // 16 MiB in the memtable's log: twice the profile's memtable
	for i := 0; i < n; i += 256 {
		txn := db.NewTransaction(true)
		for j := i; j < i+256; j++ {
			if err := txn.Set(fmt.Appendf(nil, "k%05d", j), val); err != nil {
				t.Fatal(err)
			}
		}
		if err := txn.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Sync(); err != nil {
		t.Fatal(err)
	}
	// The crash: the folder as it is on disk now, memtable log included.
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	logs := 0
	for _, e := range entries {
		if filepath.Ext(e.Name()) == ".mem" {
			logs++
		}
		copyFile(t, filepath.Join(dir, e.Name()), filepath.Join(crash, e.Name()))
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if logs == 0 {
		t.Fatal("no memtable log to replay")
	}
	o := badgerOptions(crash, key, LaptopProfile)
	if o.MemTableSize < 32<<20 {
		t.Errorf("memtable of %d B for a 32 MiB memtable's log", o.MemTableSize)
	}
	db, err = badger.Open(o)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.View(func(txn *badger.Txn) error {
		for j := range n {
			if _, err := txn.Get(fmt.Appendf(nil, "k%05d", j)); err != nil {
				return fmt.Errorf("k%05d: %w", j, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// With no log left, the profile's own size.
	if o := badgerOptions(t.TempDir(), key, LaptopProfile); o.MemTableSize != laptopMemTable {
		t.Errorf("memtable of %d B in a new store", o.MemTableSize)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}
