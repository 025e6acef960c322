package store

import (
	"encoding/binary"

	"github.com/vigil-mesh/vigil/incident"
)

// Key layout (version 5, see layoutVersion). Every key starts with a
// one-letter table name.
//
//	m/<name>                       meta: device keys, mission, secret, layout, seq
//	r/<id>                         signed record encoding
//	k/<kind>\0<created:8><id>      records by kind and claimed time (→ seq, for reports)
//	a/<author:32><created:8><id>   records by author and claimed time
//	t/<target:32><id>              records that target a report → kind
//	i/<index>\0<value>\0<occ:8><seq:4> report indexes (see indexes below)
//	v/<seq:4>                      a report's indexed tuple (with its ID), to update indexes
//	A/<hash:32><created:8><id>     attachment records by content hash (attachments.go)
//	P/<hash:32><index:8>           attachment chunks, of a download or a complete file (blob.go)
//	B/<hash:32>                    size:8: the chunks of <hash> are complete and checked
//	S/<counter>[\0<value>]         count:8: the report summary (summary.go)
//	H/a<author:32>, H/s<station>   when last heard from (heard.go)
//
// A report's seq is a number this store gives it when it stores it
// (m/seq holds the next), so the five index entries and the tuple key
// repeat 4 bytes instead of the 32-byte ID. Layout 1 (no m/layout) had
// i/…<occ:8><id:32> entries with the author index keyed by the author's
// text form, and v/<id> tuples; Open migrates it (migrate.go). Layout 2
// had no A/ entries; Open writes them (layout 3). Layout 3 kept a complete
// attachment whole under b/<hash>; Open rewrites it as chunks (layout 4).
// Layout 4 had no S/ and H/ keys, and tuples without the summary's fields;
// Open makes the tuples again and counts them (layout 5).
//
//	q/<dep:32|id>/<id>             quarantine: records waiting for dep (quarantine.go)
//	Q/<id>                         quarantine membership → dep
//	W/<arrived:8><id>              quarantine by arrival → dep, author, size
//	N/<author:32>                  quarantine usage per author key
//	n/<source>                     quarantine usage per source: written by
//	                               builds before N/, deleted on open
//	u/<author:32>                  per-author quota usage in the mission
//	                               (quota.go; u/<author:32><day:8>, per
//	                               claimed day, is an older build's,
//	                               deleted when the author is next counted)
//	d/<name>                       drafts
//	f/<level:1><id>                a record a device at format level <level>
//	                               cannot store (Signed.ReadableAt), for every
//	                               level below incident.FormatLevel
//	L/<id>                         the author's readable copy of its own sealed
//	                               record, until a coordinator's receipt (seal.go)
//	O/<id>                         a sealed record's body as this device's age
//	                               identity opened it: the opened-plaintext
//	                               cache (opened.go)
//	X/<id>                         this device's age identity cannot open
//	                               sealed record id: no open is tried (opened.go)
//	R/<id><author:32>              author holds id: custody (custody.go)
//	l/<id>                         → created: id is live (fewer than
//	                               custody_receipts coordinators hold it)
//	U/<id>                         no receipt of this device lists id yet
//	G/<id>                         dropped by this bounded device
//
// f/ is written when a record is stored. Stores written before it hold no
// f/ keys, and need none: the builds before format level 1 stored only
// records readable at level 0 (they rejected everything else), so there is
// nothing to migrate.
const (
	tMeta       = 'm'
	tRecord     = 'r'
	tKind       = 'k'
	tAuthor     = 'a'
	tTarget     = 't'
	tIndex      = 'i'
	tView       = 'v'
	tQuarantine = 'q'
	tQMember    = 'Q'
	tQSource    = 'n'
	tQWaiting   = 'W'
	tQAuthor    = 'N'
	tQuota      = 'u'
	tDraft      = 'd'
	tUnreadable = 'f'
)

func key(table byte, parts ...[]byte) []byte {
	n := 2
	for _, p := range parts {
		n += len(p)
	}
	k := make([]byte, 0, n)
	k = append(k, table, '/')
	for _, p := range parts {
		k = append(k, p...)
	}
	return k
}

func be64(v int64) []byte {
	var b [8]byte
	// Flip the sign bit so negative times sort before positive ones.
	binary.BigEndian.PutUint64(b[:], uint64(v)^(1<<63))
	return b[:]
}

func unbe64(b []byte) int64 { return int64(binary.BigEndian.Uint64(b) ^ (1 << 63)) }

func metaKey(name string) []byte { return key(tMeta, []byte(name)) }

func recordKey(id incident.ID) []byte { return key(tRecord, id[:]) }

func kindKey(k incident.Kind, created int64, id incident.ID) []byte {
	return key(tKind, []byte(k), []byte{0}, be64(created), id[:])
}

func kindPrefix(k incident.Kind) []byte { return key(tKind, []byte(k), []byte{0}) }

func authorKey(a incident.Author, created int64, id incident.ID) []byte {
	return key(tAuthor, a[:], be64(created), id[:])
}

func targetKey(target, id incident.ID) []byte { return key(tTarget, target[:], id[:]) }

// Report indexes, each ordered by occurred time.
const (
	idxTime     = "time"
	idxCategory = "category"
	idxStation  = "station"
	idxAuthor   = "author"
	idxStatus   = "status"
	// idxLocated holds the readable incidents with coordinates, by when
	// they occurred (tuple.When): the dashboard's map reads the latest.
	idxLocated = "located"
)

func indexPrefix(index, value string) []byte {
	return key(tIndex, []byte(index), []byte{0}, []byte(value), []byte{0})
}

func indexKey(index, value string, occurred int64, seq uint32) []byte {
	return binary.BigEndian.AppendUint32(append(indexPrefix(index, value), be64(occurred)...), seq)
}

// indexSuffix is the length of what follows an index key's prefix.
const indexSuffix = 8 + 4

// seqOfIndexKey returns the occurred time and seq at the end of an index key.
func seqOfIndexKey(k []byte) (int64, uint32) {
	return unbe64(k[len(k)-12 : len(k)-4]), binary.BigEndian.Uint32(k[len(k)-4:])
}

func be32(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }

func viewKey(seq uint32) []byte { return key(tView, be32(seq)) }

// layoutVersion is the key layout this code writes (m/layout).
const layoutVersion = 5

// Layout 1's report index keys and tuple key, for the migration.
func indexKeyV1(index, value string, occurred int64, id incident.ID) []byte {
	return append(indexPrefix(index, value), append(be64(occurred), id[:]...)...)
}

func viewKeyV1(id incident.ID) []byte { return key(tView, id[:]) }

func unreadableKey(level int, id incident.ID) []byte {
	return key(tUnreadable, []byte{byte(level)}, id[:])
}

func quotaKey(a incident.Author) []byte { return key(tQuota, a[:]) }
