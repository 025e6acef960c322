package main

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"
	"github.com/fxamacker/cbor/v2"

	"github.com/vigil-mesh/vigil/bench/gen"
	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/export"
	"github.com/vigil-mesh/vigil/incident/store"
	"github.com/vigil-mesh/vigil/incident/vault"
)

// phoneBadger is the store's phone profile (incident/store/store.go,
// badgerOptions, unexported there), for the raw Badger replica and for
// reading a closed store's tables.
func phoneBadger(dir string, key []byte) badger.Options {
	return badger.DefaultOptions(dir).
		WithEncryptionKey(key).
		WithSyncWrites(false).
		WithLogger(nil).
		WithCompression(options.ZSTD).
		WithMemTableSize(8 << 20).
		WithNumMemtables(2).
		WithBlockCacheSize(8 << 20).
		WithIndexCacheSize(4 << 20).
		WithValueLogFileSize(64 << 20).
		WithBaseTableSize(2 << 20).
		WithNumLevelZeroTables(2).
		WithNumLevelZeroTablesStall(4).
		WithNumCompactors(2).
		WithValueThreshold(256)
}

// diskUsage sums a closed store's data files by kind.
type diskUsage struct {
	SST, VLog, Other int64
}

func (d diskUsage) total() int64 { return d.SST + d.VLog + d.Other }

func measureDisk(dir string) (diskUsage, error) {
	var d diskUsage
	err := filepath.WalkDir(dir, func(p string, e os.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		info, err := e.Info()
		if err != nil {
			return err
		}
		switch filepath.Ext(p) {
		case ".sst":
			d.SST += info.Size()
		case ".vlog":
			d.VLog += info.Size()
		default:
			d.Other += info.Size()
		}
		return nil
	})
	return d, err
}

// tableBytes opens a closed store's database read-only with its key
// (vault.Unlock with the passphrase) and sums key and value bytes per key
// table (incident/store/keys.go: r records, i/v report indexes, k/a kind
// and author orders, u quotas, m meta, …).
func tableBytes(home string) (map[string]int64, error) {
	key, err := vault.Unlock(home, gen.Passphrase)
	if err != nil {
		return nil, err
	}
	db, err := badger.Open(phoneBadger(store.DataDir(home), key).WithReadOnly(true))
	if err != nil {
		return nil, err
	}
	defer db.Close()
	out := map[string]int64{}
	err = db.View(func(txn *badger.Txn) error {
		o := badger.DefaultIteratorOptions
		o.PrefetchValues = false
		it := txn.NewIterator(o)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			item := it.Item()
			k := item.Key()
			if len(k) == 0 {
				continue
			}
			out[string(k[0])] += int64(len(k)) + item.ValueSize()
		}
		return nil
	})
	return out, err
}

// replicaTuple is the store's index tuple (incident/store/index.go),
// which carries the admin area and severity for CountReports.
type replicaTuple struct {
	Occurred int64  `cbor:"1,keyasint"`
	Category string `cbor:"2,keyasint"`
	Station  string `cbor:"3,keyasint"`
	Status   string `cbor:"5,keyasint"`
	Area     string `cbor:"6,keyasint,omitempty"`
	Severity uint64 `cbor:"7,keyasint,omitempty"`
	ID       []byte `cbor:"9,keyasint"`
}

func be64(v int64) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(v)^(1<<63))
	return b[:]
}

func rkey(table byte, parts ...[]byte) []byte {
	k := []byte{table, '/'}
	for _, p := range parts {
		k = append(k, p...)
	}
	return k
}

func be32(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }

func indexKey(index, value string, occ int64, seq uint32) []byte {
	return rkey('i', []byte(index), []byte{0}, []byte(value), []byte{0}, be64(occ), be32(seq))
}

// buildReplica writes a raw Badger database with the store's layout for
// reports (incident/store/keys.go, layout 2): records, kind and author
// orders (the kind order's value is the report's number), the five report
// indexes ending in that number and the tuples under it, with the same
// phone-profile options and encryption (key), then closes it so it is read
// from disk like the store.
func buildReplica(dir string, key []byte, raws [][]byte) error {
	db, err := badger.Open(phoneBadger(dir, key))
	if err != nil {
		return err
	}
	wb := db.NewWriteBatch()
	for i, raw := range raws {
		seq := uint32(i)
		// The records were verified when they were signed; reading them
		// without the signature check keeps the set-up short.
		var rec incident.Record
		if err := incident.UnmarshalCanonical(raw, &rec); err != nil {
			wb.Cancel()
			db.Close()
			return err
		}
		var rp incident.ReportPayload
		if err := incident.UnmarshalCanonical(rec.Payload, &rp); err != nil {
			wb.Cancel()
			db.Close()
			return err
		}
		id := incident.IDOf(raw)
		var a incident.Author
		copy(a[:], rec.Author)
		t := replicaTuple{Occurred: rp.Occurred, Category: rp.Category, Station: rp.Station,
			Status: incident.StatusUnreviewed, Area: rp.Area, Severity: rp.Severity, ID: id[:]}
		tb, err := cbor.Marshal(t)
		if err != nil {
			wb.Cancel()
			db.Close()
			return err
		}
		sets := [][2][]byte{
			{rkey('r', id[:]), raw},
			{rkey('k', []byte(rec.Kind), []byte{0}, be64(rec.Created), id[:]), be32(seq)},
			{rkey('a', a[:], be64(rec.Created), id[:]), nil},
			{indexKey("time", "", t.Occurred, seq), nil},
			{indexKey("author", string(a[:]), t.Occurred, seq), nil},
			{indexKey("status", t.Status, t.Occurred, seq), nil},
			{indexKey("category", t.Category, t.Occurred, seq), nil},
			{indexKey("station", t.Station, t.Occurred, seq), nil},
			{rkey('v', be32(seq)), tb},
		}
		for _, kv := range sets {
			if err := wb.Set(kv[0], kv[1]); err != nil {
				wb.Cancel()
				db.Close()
				return err
			}
		}
	}
	if err := wb.Flush(); err != nil {
		db.Close()
		return err
	}
	return db.Close()
}

type countKey struct{ category, area string }

// rawDashboard is the baseline query: Scan's own index walk (keys only,
// the time index) reading each report's tuple, decoding it, applying the
// family filter and counting by category and area, on the replica.
func rawDashboard(db *badger.DB, family string) (map[countKey]int, error) {
	counts := map[countKey]int{}
	prefix := rkey('i', []byte("time"), []byte{0}, []byte{0})
	err := db.View(func(txn *badger.Txn) error {
		o := badger.DefaultIteratorOptions
		o.PrefetchValues = false
		o.Prefix = prefix
		it := txn.NewIterator(o)
		defer it.Close()
		for it.Seek(prefix); it.ValidForPrefix(prefix); it.Next() {
			k := it.Item().Key()
			item, err := txn.Get(rkey('v', k[len(k)-4:]))
			if err != nil {
				return err
			}
			v, err := item.ValueCopy(nil)
			if err != nil {
				return err
			}
			var t replicaTuple
			if err := cbor.Unmarshal(v, &t); err != nil {
				return err
			}
			if incident.FamilyOf(t.Category) != family {
				continue
			}
			counts[countKey{t.Category, t.Area}]++
		}
		return nil
	})
	return counts, err
}

// vigilDashboard is the same query through the store's count API:
// CountReports with a family filter, grouped by category and area.
func vigilDashboard(st *store.Store, family string) (map[countKey]int, error) {
	groups, err := st.CountReports(store.Filter{Category: family}, store.ByCategory, store.ByArea)
	if err != nil {
		return nil, err
	}
	counts := make(map[countKey]int, len(groups))
	for g, n := range groups {
		counts[countKey{g.Category, g.Area}] += n
	}
	return counts, nil
}

func sameCounts(a, b map[countKey]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// timeAlternating runs each fn once to warm caches, then reps rounds of
// every fn in turn, and returns each one's median duration. Alternating
// gives a measurement and its baseline the same share of whatever else
// the machine is doing.
func timeAlternating(reps int, fns ...func() error) ([]time.Duration, error) {
	ds := make([][]time.Duration, len(fns))
	for _, fn := range fns {
		if err := fn(); err != nil {
			return nil, err
		}
	}
	for range reps {
		for k, fn := range fns {
			start := time.Now()
			if err := fn(); err != nil {
				return nil, err
			}
			ds[k] = append(ds[k], time.Since(start))
		}
	}
	out := make([]time.Duration, len(fns))
	for k := range ds {
		sort.Slice(ds[k], func(i, j int) bool { return ds[k][i] < ds[k][j] })
		out[k] = ds[k][len(ds[k])/2]
	}
	return out, nil
}

// sink is where exports write: a buffered discard that counts bytes.
type sink struct{ n int64 }

func (s *sink) Write(p []byte) (int, error) { s.n += int64(len(p)); return len(p), nil }

// exportCSV writes items with Vigil's CSV writer.
func exportCSV(w io.Writer, items []export.Item) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	cw, err := export.NewCSV(bw, false)
	if err != nil {
		return err
	}
	for i := range items {
		if err := cw.Write(&items[i]); err != nil {
			return err
		}
	}
	if err := cw.Close(); err != nil {
		return err
	}
	return bw.Flush()
}

// exportGeoJSON writes items with Vigil's GeoJSON writer.
func exportGeoJSON(w io.Writer, items []export.Item) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	gw, err := export.NewGeoJSON(bw)
	if err != nil {
		return err
	}
	for i := range items {
		if err := gw.Write(&items[i]); err != nil {
			return err
		}
	}
	if err := gw.Close(); err != nil {
		return err
	}
	return bw.Flush()
}

// csvRows returns the rows Vigil's writer produces (header included), by
// reading its output back: the baseline writes exactly these strings.
func csvRows(items []export.Item) ([][]string, error) {
	var b bytes.Buffer
	if err := exportCSV(&b, items); err != nil {
		return nil, err
	}
	return csv.NewReader(&b).ReadAll()
}

// baselineCSV writes prepared rows with encoding/csv alone.
func baselineCSV(w io.Writer, rows [][]string) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	cw := csv.NewWriter(bw)
	cw.UseCRLF = true
	for _, r := range rows {
		if err := cw.Write(r); err != nil {
			return err
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return err
	}
	return bw.Flush()
}

// geoFeature is a GeoJSON feature as Vigil writes it, read back.
type geoFeature struct {
	Type     string `json:"type"`
	ID       string `json:"id"`
	Geometry struct {
		Type        string     `json:"type"`
		Coordinates [2]float64 `json:"coordinates"`
	} `json:"geometry"`
	Properties map[string]any `json:"properties"`
}

// geoFeatures returns the features Vigil's writer produces, read back.
func geoFeatures(items []export.Item) ([]geoFeature, error) {
	var b bytes.Buffer
	if err := exportGeoJSON(&b, items); err != nil {
		return nil, err
	}
	var fc struct {
		Features []geoFeature `json:"features"`
	}
	if err := json.Unmarshal(b.Bytes(), &fc); err != nil {
		return nil, err
	}
	return fc.Features, nil
}

// baselineGeoJSON writes prepared features with encoding/json alone, in
// the same collection framing.
func baselineGeoJSON(w io.Writer, fs []geoFeature) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	if _, err := io.WriteString(bw, `{"type":"FeatureCollection","features":[`); err != nil {
		return err
	}
	for i := range fs {
		b, err := json.Marshal(&fs[i])
		if err != nil {
			return err
		}
		sep := ",\n"
		if i == 0 {
			sep = "\n"
		}
		bw.WriteString(sep)
		bw.Write(b)
	}
	if _, err := io.WriteString(bw, "\n]}\n"); err != nil {
		return err
	}
	return bw.Flush()
}

// loadItems reads every report's view from the store: the prepared input
// of the export measurements.
func loadItems(st *store.Store) ([]export.Item, error) {
	var items []export.Item
	err := st.Scan(store.Filter{}, func(v incident.ReportView) error {
		items = append(items, export.Item{View: v})
		return nil
	})
	return items, err
}

func describeTables(t map[string]int64) string {
	keys := make([]string, 0, len(t))
	for k := range t {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s/=%d", k, t[k]))
	}
	return strings.Join(parts, " ")
}
