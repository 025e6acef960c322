package incident

import (
	"encoding/binary"
	"math"
	"unicode/utf8"
)

// DecodeOwn is DecodeStored for a record read back from this device's
// own store under its ID, for the scans that read every record (an
// export of a million reports): it neither checks the canonical form
// again (a second encoding per record), nor hashes the ID (id is the
// store's key, which is the hash of raw), nor copies raw. The record's
// Raw, and its byte fields, are raw itself: the caller leaves raw as it
// is while the record is in use. The payload is decoded the same way
// (Signed.DecodePayload), except where it holds fields a newer build
// added, which take the checked path that lists them. The envelope is
// checked field by field as DecodeStored checks it, and anything that
// is not this build's envelope in canonical form is DecodeStored's to
// decode, so the result and the errors are DecodeStored's.
// Never use it for bytes that came from outside, or for a record whose
// ID was not checked when it was stored.
//
// The envelope and the report payload are read by hand (readOwn), not
// with fxamacker/cbor, which decodes everything else: its reflective
// decoding into structs, with the second encoding that proves the form
// canonical, was most of the CPU an export of the store spent, five
// times a bare iteration of the same records (vigil-bench,
// export.csv_from_store). The reader takes only the one layout this
// build writes, and hands anything else to the library's path, so it
// never decides what is valid: equivalence with DecodeStored is tested
// on every recorded format case and on damaged inputs (own_test.go).
func DecodeOwn(raw []byte, id ID) (*Signed, error) {
	if len(raw) > MaxRecordBytes {
		return DecodeStored(raw)
	}
	s := &Signed{Raw: raw, ID: id, own: true}
	if !s.Record.readOwn(raw) {
		return DecodeStored(raw) // a newer envelope, or damage: said as DecodeStored says it
	}
	if err := s.checkEnvelope(); err != nil {
		return nil, err
	}
	return s, nil
}

// readOwn reads an envelope as Record's canonical encoding lays it out:
// a map of keys 1 to 8 in order, each of its type, the optional ones
// (mission, sealed, signature) absent or not empty. It reads nothing
// else (false), and leaves the slices in raw. The payload must be one
// well-formed item; the checks of what it holds are the payload's.
func (r *Record) readOwn(raw []byte) bool {
	major, pairs, n, ok := CBORHead(raw)
	if !ok || major != 5 || pairs > 8 {
		return false
	}
	b := raw[n:]
	last := uint64(0)
	var have uint16
	for range pairs {
		km, k, n, ok := CBORHead(b)
		if !ok || km != 0 || k <= last || k > 8 || n != 1 {
			return false
		}
		last = k
		have |= 1 << k
		b = b[n:]
		vm, arg, n, ok := CBORHead(b)
		if !ok {
			return false
		}
		switch k {
		case 1: // version
			if vm != 0 {
				return false
			}
			r.Version = arg
			b = b[n:]
		case 5: // created
			if arg > math.MaxInt64 {
				return false
			}
			switch vm {
			case 0:
				r.Created = int64(arg)
			case 1:
				r.Created = -1 - int64(arg)
			default:
				return false
			}
			b = b[n:]
		case 6: // the payload: one item, as it is
			size, ok := cborItemSize(b, 0)
			if !ok {
				return false
			}
			r.Payload = b[:size:size]
			b = b[size:]
		default: // strings
			if arg > uint64(len(b)-n) {
				return false
			}
			v := b[n : n+int(arg) : n+int(arg)]
			b = b[n+int(arg):]
			switch {
			case k == 4:
				if vm != 3 || !utf8.Valid(v) {
					return false
				}
				r.Kind = ownKind(v)
			case vm != 2 || (arg == 0 && k != 3): // omitempty: an empty one is not written
				return false
			case k == 2:
				r.Mission = v
			case k == 3:
				r.Author = v
			case k == 7:
				r.Sealed = v
			case k == 8:
				r.Sig = v
			}
		}
	}
	// Version, author, kind, creation time and payload are always written.
	const required = 1<<1 | 1<<3 | 1<<4 | 1<<5 | 1<<6
	return len(b) == 0 && have&required == required
}

// ownKind is kind k, one of this build's without a new string.
func ownKind(k []byte) Kind {
	for _, known := range Kinds {
		if string(known) == string(k) {
			return known
		}
	}
	return Kind(k)
}

// CBORHead reads a CBOR item's head: its major type, its argument, and
// the head's length, in the shortest form only (as canonical CBOR
// writes it); not an indefinite length or a float. For the readers of
// what this device wrote itself (here, and the store's tuple heads),
// which hand anything else to fxamacker/cbor.
func CBORHead(b []byte) (major byte, arg uint64, n int, ok bool) {
	if len(b) == 0 {
		return 0, 0, 0, false
	}
	major, info := b[0]>>5, b[0]&0x1f
	switch {
	case info < 24:
		return major, uint64(info), 1, true
	case info == 24 && len(b) >= 2 && b[1] >= 24:
		return major, uint64(b[1]), 2, true
	case info == 25 && len(b) >= 3:
		v := uint64(binary.BigEndian.Uint16(b[1:]))
		return major, v, 3, v > math.MaxUint8
	case info == 26 && len(b) >= 5:
		v := uint64(binary.BigEndian.Uint32(b[1:]))
		return major, v, 5, v > math.MaxUint16
	case info == 27 && len(b) >= 9:
		v := binary.BigEndian.Uint64(b[1:])
		return major, v, 9, v > math.MaxUint32
	}
	return 0, 0, 0, false
}

// cborItemSize is the length of the item b starts with: integers,
// strings, arrays, maps and simple values, nested no deeper than
// decMode allows; false for anything else (tags, floats, indefinite
// lengths, deep nesting), which the full decoder then judges.
func cborItemSize(b []byte, depth int) (int, bool) {
	if depth > 8 { // within decMode's nesting limit, the envelope's level counted

		return 0, false
	}
	major, arg, n, ok := CBORHead(b)
	if !ok {
		return 0, false
	}
	switch major {
	case 0, 1:
		return n, true
	case 2, 3: // text is checked where the payload is decoded, as DecodeStored leaves it
		if arg > uint64(len(b)-n) {
			return 0, false
		}
		return n + int(arg), true
	case 4, 5:
		items := arg
		if major == 5 {
			if arg > 64 {
				return 0, false
			}
			items *= 2
		} else if arg > MaxListLen {
			return 0, false
		}
		at := n
		for range items {
			size, ok := cborItemSize(b[at:], depth+1)
			if !ok {
				return 0, false
			}
			at += size
		}
		return at, true
	case 7:
		return n, n == 1 && arg >= 20 && arg <= 22 // false, true, null
	}
	return 0, false
}

// readOwn reads a report payload as its canonical encoding lays it out
// (keys in order, each of its type, no field a newer build added, no
// files: a sealed report's keys take decMode), giving exactly what
// decMode gives; false for anything else, which decMode then decodes.
// Strings are copied out of data.
func (p *ReportPayload) readOwn(data []byte) bool {
	major, pairs, n, ok := CBORHead(data)
	if !ok || major != 5 || pairs > 64 {
		return false
	}
	b := data[n:]
	last := uint64(0)
	for range pairs {
		km, k, n, ok := CBORHead(b)
		if !ok || km != 0 || k <= last || k > 15 {
			return false
		}
		last = k
		b = b[n:]
		vm, arg, n, ok := CBORHead(b)
		if !ok {
			return false
		}
		switch k {
		case 2, 8, 14: // unsigned
			if vm != 0 {
				return false
			}
			switch k {
			case 2:
				p.Severity = arg
			case 8:
				p.Precision = arg
			default:
				p.Reach = arg
			}
			b = b[n:]
		case 3, 6, 7: // signed
			if arg > math.MaxInt64 || vm > 1 {
				return false
			}
			v := int64(arg)
			if vm == 1 {
				v = -1 - v
			}
			switch k {
			case 3:
				p.Occurred = v
			case 6:
				p.Lat = &v
			default:
				p.Lon = &v
			}
			b = b[n:]
		case 11: // attachments: byte strings
			if vm != 4 || arg == 0 || arg > MaxListLen {
				return false
			}
			b = b[n:]
			list := make([][]byte, arg)
			for i := range list {
				em, size, n, ok := CBORHead(b)
				if !ok || em != 2 || size > uint64(len(b)-n) {
					return false
				}
				list[i] = append([]byte{}, b[n:n+int(size)]...)
				b = b[n+int(size):]
			}
			p.Attachments = list
		default: // text
			if vm != 3 || arg > uint64(len(b)-n) || !utf8.Valid(b[n:n+int(arg)]) {
				return false
			}
			s := string(b[n : n+int(arg)])
			b = b[n+int(arg):]
			switch k {
			case 1:
				p.Category = s
			case 4:
				p.Station = s
			case 5:
				p.Area = s
			case 9:
				p.Title = s
			case 10:
				p.Description = s
			case 12:
				p.Channel = s
			case 13:
				p.Harm = s
			case 15:
				p.Source = s
			}
		}
	}
	return len(b) == 0
}
