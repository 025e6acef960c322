package store

import (
	"encoding/binary"

	"github.com/vigil-mesh/vigil/incident"
)

// Key layout. Every key starts with a one-letter table name.
//
//	m/<name>                       meta: device keys, mission, secret
//	r/<id>                         signed record encoding
//	k/<kind>\0<created:8>/<id>     records by kind and claimed time
//	a/<author:32><created:8><id>   records by author and claimed time
//	t/<target:32><id>              records that target a report → kind
//	i/<index>\0<value>\0<occ:8><id> report indexes (see indexes below)
//	v/<id>                         a report's indexed tuple, to update indexes
//	q/<dep:32|id>/<id>             quarantine: records waiting for dep
//	Q/<id>                         quarantine membership → dep
//	n/<source>                     quarantine usage per source
//	u/<author:32><day:8>           per-author quota usage per claimed day
//	d/<name>                       drafts
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
	tQuota      = 'u'
	tDraft      = 'd'
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
)

func indexPrefix(index, value string) []byte {
	return key(tIndex, []byte(index), []byte{0}, []byte(value), []byte{0})
}

func indexKey(index, value string, occurred int64, id incident.ID) []byte {
	return append(indexPrefix(index, value), append(be64(occurred), id[:]...)...)
}

// idOfIndexKey returns the occurred time and ID at the end of an index key.
func idOfIndexKey(k []byte) (int64, incident.ID) {
	var id incident.ID
	copy(id[:], k[len(k)-32:])
	return unbe64(k[len(k)-40 : len(k)-32]), id
}

func quotaKey(a incident.Author, day int64) []byte { return key(tQuota, a[:], be64(day)) }
