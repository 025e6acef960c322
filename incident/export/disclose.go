package export

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path"
	"strings"

	"github.com/vigil-mesh/vigil/incident"
)

// What an evidence package in format 2 discloses of its sealed records,
// and how verify checks it. A disclosed file key opens the one sealed
// record it is named by; the body must pass incident.OpenPlain against
// that record (valid fields, the envelope's kind and target), so a key
// cannot vouch for a body the signed ciphertext does not hold. A disclosed
// report then carries its files' keys and hashes itself (FileKey): each
// ciphertext the package holds must open to the plaintext the report
// hashes, and each opened copy (files/) must be the plaintext of a file a
// disclosed report names.

// disclosedKey is one keys/<id>.key entry.
type disclosedKey struct {
	path string
	id   incident.ID
	key  []byte
	bad  string // why the entry cannot be used, when it cannot
}

// plainCopy is one files/ entry, named by its content's hash.
type plainCopy struct {
	path string
	sum  [32]byte
	size int
}

// keyHexLen is the length of a keys/ entry: a 16-byte file key in hex.
const keyHexLen = 2 * incident.FileKeySize

// compactKeyHexLen is the length of a keys/ entry for a record sealed for
// SMS: its 32-byte compact seal key in hex.
const compactKeyHexLen = 2 * incident.CompactKeySize

func (v *verifier) readKey(f ManifestFile, data []byte) {
	k := disclosedKey{path: f.Path}
	name, ok := strings.CutSuffix(strings.TrimPrefix(f.Path, "keys/"), ".key")
	id, err := incident.ParseID(name)
	switch {
	case !ok || err != nil:
		k.bad = "not named keys/<record ID>.key"
	case f.ID != "" && f.ID != name:
		k.bad = fmt.Sprintf("the manifest names record %s for it", f.ID)
	case len(data) != keyHexLen && len(data) != compactKeyHexLen:
		// The length only: the bytes are the package's, not to be echoed.
		k.bad = fmt.Sprintf("malformed: a disclosed key is %d hex digits (a %d-byte age file key) or %d (a compact seal's key), this entry is %d bytes",
			keyHexLen, incident.FileKeySize, compactKeyHexLen, len(data))
	default:
		k.key = make([]byte, len(data)/2)
		if _, err := hex.Decode(k.key, data); err != nil || !bytes.Equal(bytes.ToLower(data), data) {
			k.key, k.bad = nil, "malformed: a disclosed key is lower-case hex digits"
		}
	}
	k.id = id
	v.keys = append(v.keys, k)
}

func (v *verifier) readPlain(p string, data []byte, sum [32]byte) {
	base := path.Base(p)
	if i := strings.IndexByte(base, '.'); i >= 0 {
		base = base[:i]
	}
	if path.Dir(p) != "files" || base != hex.EncodeToString(sum[:]) {
		v.extra = append(v.extra, Verdict{ID: p, Reason: "opened file does not match the hash it is named by"})
		return
	}
	v.plain = append(v.plain, plainCopy{path: p, sum: sum, size: len(data)})
}

// judgeContent checks what the package discloses of sealed records, and
// notes, on each report and amendment, the files it names that the
// package lacks. It runs once the records are judged.
func (v *verifier) judgeContent() {
	opened := map[incident.ID]any{}
	tried := map[incident.ID]bool{} // a key was disclosed, whether or not it opened
	for _, k := range v.keys {
		bad := func(reason string) { v.extra = append(v.extra, Verdict{ID: k.path, Reason: reason}) }
		if k.bad != "" {
			bad(k.bad)
			continue
		}
		e := v.byID[k.id]
		switch {
		case e == nil || e.rec == nil:
			bad(fmt.Sprintf("discloses a key for record %s, which the package does not hold", k.id))
			continue
		case len(e.rec.Sealed) == 0:
			bad(fmt.Sprintf("discloses a key for record %s, which is not sealed", k.id))
			continue
		case !e.verdict.OK:
			continue // the record's own line says why
		}
		if tried[k.id] {
			bad(fmt.Sprintf("a second key for record %s", k.id))
			continue
		}
		tried[k.id] = true
		p, err := incident.OpenWithFileKey(e.rec, k.key)
		if err != nil {
			bad(fmt.Sprintf("does not open record %s: %v", k.id, err))
			continue
		}
		opened[k.id] = p
	}
	v.opened = opened
	// The plaintext hash of every sealed file a disclosed report names,
	// with its size: what an opened copy must match.
	sealedFiles := map[[32]byte]uint64{}
	for _, e := range v.order {
		if e.rec == nil || !e.verdict.OK {
			continue
		}
		var p any
		if len(e.rec.Sealed) > 0 {
			if p = opened[e.rec.ID]; p == nil {
				if !tried[e.rec.ID] { // else its key's line says why
					e.verdict.Sealed = SealedNotDisclosed
				}
				continue
			}
			e.verdict.Sealed = SealedOpened
		} else if e.rec.Kind == incident.KindReport || e.rec.Kind == incident.KindAmend || e.rec.Kind == incident.KindTally {
			var err error
			if p, err = e.rec.DecodePayload(); err != nil {
				continue
			}
		}
		var rp *incident.ReportPayload
		switch x := p.(type) {
		case *incident.ReportPayload:
			rp = x
		case *incident.AmendPayload:
			rp = &x.Report
		case *incident.TallyPayload:
			rp = x.FileSet()
		default:
			continue
		}
		for _, h := range rp.Attachments {
			if len(h) != sha256.Size {
				continue // Validate refused it
			}
			var sum [32]byte
			copy(sum[:], h)
			k, sealedFile := rp.FileKeyFor(h)
			ct, held := v.held[sum]
			switch {
			case !held && !(sealedFile && v.hasPlain(k.Hash)):
				e.verdict.MissingFiles = append(e.verdict.MissingFiles, hex.EncodeToString(h))
			case held && sealedFile:
				if _, err := incident.OpenFile(ct, k); err != nil {
					v.extra = append(v.extra, Verdict{ID: "attachments/" + hex.EncodeToString(h),
						Reason: fmt.Sprintf("file of %s %s: %v", e.rec.Kind, e.rec.ID, err)})
				}
			}
			if sealedFile {
				var ps [32]byte
				copy(ps[:], k.Hash)
				sealedFiles[ps] = k.Size
			}
		}
	}
	for _, c := range v.plain {
		size, ok := sealedFiles[c.sum]
		switch {
		case !ok:
			v.extra = append(v.extra, Verdict{ID: c.path, Reason: "is not the plaintext of any file that a report or tally whose key the package discloses names (changed, swapped or unexplained)"})
		case uint64(c.size) != size:
			v.extra = append(v.extra, Verdict{ID: c.path, Reason: fmt.Sprintf("is %d bytes, its report says %d", c.size, size)})
		}
	}
}

func (v *verifier) hasPlain(h []byte) bool {
	for _, c := range v.plain {
		if bytes.Equal(c.sum[:], h) {
			return true
		}
	}
	return false
}
