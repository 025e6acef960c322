package store

import (
	"bytes"
	"crypto/ecdh"
	"crypto/sha256"
	"errors"
	"io"
	"runtime"
	"slices"
	"sync"

	"filippo.io/age"
	"github.com/dgraph-io/badger/v4"
	"github.com/fxamacker/cbor/v2"

	"github.com/vigil-mesh/vigil/incident"
)

// The opened-plaintext cache. Opening a sealed record with the age
// identity costs an X25519 key agreement per recipient stanza, and the
// store opens a sealed report and its sealed amends and reviews every time
// it folds the report: for a coordinator's lists and exports, most of the
// time went there. So when this device opens a record with its age
// identity, it keeps the checked body under O/<id>, and later folds read
// it instead. Every read still checks the body against its record with
// incident.OpenPlainOwn (it decodes, is of the record's kind and names
// its target; the canonical form and the payload's validity OpenPlain
// checked before the body was written), so a damaged entry is ignored
// and the record opened again, which replaces it.
//
// What the cache holds this device could read anyway: only bodies opened
// with its own age identity are cached, never an author's kept copy (L/),
// which a coordinator's receipt ends — the cache must not outlive that.
// The store is encrypted with the home key, like the identity that opens
// the records. Nothing removes an entry: a retraction does not remove
// content, a device removed from the coordinators still holds the
// identity that opened what it opened, and a wipe clears the whole store.
const tOpened = 'O' // O/<id> → the body of sealed record id, as opened with the age identity

func openedKey(id incident.ID) []byte { return key(tOpened, id[:]) }

// Records sealed for others. An observer's or carrier's device holds
// other members' sealed records and opens none of them, and a failed open
// costs as much as a good one (an X25519 agreement per recipient stanza):
// without a note, such a device paid that for every sealed record of every
// report each time it listed, showed or exported them. So when the age
// identity finds no stanza of a record addressed to it, the store writes
// X/<id>, and later folds skip the attempt.
//
// The answer never changes. The recipients are fixed in the ciphertext,
// which the record's ID covers; the age identity is made with the home
// (m/age) and never replaced, and a backup restores it with the rest.
// SealRecipients (incident/seal.go) names the mission's coordinators at
// the time of sealing: a device later enrolled as a coordinator is a
// recipient of what is sealed after that, and stays a stranger to what
// was sealed before, which it could not open anyway. Only age's
// NoIdentityMatchError writes a marker: any other failure (a damaged
// header, a body this build cannot read) may be this build's, and is
// tried again next time.
//
// The marker's value names the identity (closedMark), so that a marker
// written by any other identity is ignored rather than trusted. The
// author's kept copy (L/) is read before anything else: an observer
// cannot open its own sealed record with its identity either (it is
// sealed to the coordinators), and a marker written after a receipt
// dropped the copy is right, since the device can no longer read the
// record. A marker tells whoever holds the store and its home key nothing
// the identity beside it would not: like the cache, it is encrypted with
// the home key, and a wipe clears it.
const tClosed = 'X' // X/<id> → closedMark: this device's age identity cannot open sealed record id

func closedKey(id incident.ID) []byte { return key(tClosed, id[:]) }

// closedMark is the value of this identity's markers: the first 8 bytes
// of the SHA-256 of its recipient.
func closedMark(id *age.X25519Identity) []byte {
	h := sha256.Sum256([]byte(id.Recipient().String()))
	return h[:8]
}

// keepFunc receives what opening a record with the age identity showed,
// to write down: the body of record id, or (body nil) that the identity
// cannot open id.
type keepFunc func(id incident.ID, body []byte)

// cacheEntry is the key and value that write down what keep was given.
func (s *Store) cacheEntry(id incident.ID, body []byte) (k, v []byte) {
	if body == nil {
		return closedKey(id), s.ageMark
	}
	return openedKey(id), body
}

// opener reads sealed records this device may read: its own kept copies,
// the bodies it opened before, and anything sealed to its age identity;
// it does not try the records its identity is known not to open. keep,
// when not nil, is given each body opened with the age identity, and each
// record found not to be addressed to it. Called with s.mu held.
func (s *Store) opener(txn *badger.Txn, keep keepFunc) incident.Opener {
	return s.openerWith(txn, keep, nil, nil)
}

// bodies gives an opener the kept copy (L/) and the opened body (O/) of
// a record, read by whoever made it (bulkFold reads them in key order
// beside the records, where a lookup per report decompressed a table
// block each); ok false leaves them to the opener to look up.
type bodies func(id incident.ID) (kept, opened []byte, ok bool)

// openerWith is opener that takes the decryptions predecrypt made, and
// the bodies read beforehand.
func (s *Store) openerWith(txn *badger.Txn, keep keepFunc, pre map[incident.ID]decrypted, read bodies) incident.Opener {
	var noticeIDs []age.Identity // read at the first sealed notice
	var inboxKeys []*ecdh.PrivateKey
	inboxRead := false
	var open incident.Opener
	open = func(r *incident.Signed) (any, bool) {
		var kept, opened []byte
		ok := false
		if read != nil {
			kept, opened, ok = read(r.ID)
		}
		// Both bodies passed OpenPlain before they were written here.
		if !ok {
			kept, _ = getValue(txn, key(tKept, r.ID[:]))
		}
		if kept != nil {
			if p, err := incident.OpenPlainOwn(r, kept); err == nil {
				return p, true
			}
		}
		if !ok {
			opened, _ = getValue(txn, openedKey(r.ID))
		}
		if plain := opened; plain != nil {
			if p, err := incident.OpenPlainOwn(r, plain); err == nil {
				return p, true
			}
			// Damaged: opened again below, and the entry replaced.
		}
		if s.ageID == nil {
			return nil, false
		}
		if incident.IsCompactSeal(r.Sealed) {
			// Sealed for SMS to the inbox key (incident/smsseal.go),
			// which a coordinator holds from inbox records sealed to
			// it. Never marked closed: a coordinator may receive the
			// inbox record that opens it later.
			if !inboxRead {
				inboxRead = true
				inboxKeys = s.inboxKeys(txn, open)
			}
			return s.openCompact(r, inboxKeys, keep)
		}
		if item, err := txn.Get(closedKey(r.ID)); err == nil {
			closed := false
			_ = item.Value(func(v []byte) error { closed = bytes.Equal(v, s.ageMark); return nil })
			if closed {
				return nil, false
			}
			// Another identity's, or damaged: tried below, and replaced.
		}
		if d, ok := pre[r.ID]; ok {
			return s.opened(r, d.plain, d.err, false, keep)
		}
		s.decrypts.Add(1)
		ids := []age.Identity{s.ageID}
		// A notice to the field is sealed to the members of an epoch
		// (incident.NoticeRecipients): tried with every epoch's notice
		// key this device holds, and never marked closed, since the
		// secret that opens it may arrive later. An answer to an alert
		// (its envelope names the alert) is sealed to identities, as a
		// report is, and marked closed like one.
		_, answer := incident.NoticeTarget(r)
		field := r.Kind == incident.KindNotice && !answer
		if field {
			if noticeIDs == nil {
				noticeIDs = s.epochKeys(incident.EpochNotices)
			}
			ids = append(ids, noticeIDs...)
		}
		plain, err := decrypt(r, ids...)
		return s.opened(r, plain, err, field, keep)
	}
	return open
}

// inboxKeys are the SMS inbox keys this device holds: those in the inbox
// records open reads (sealed to this device as a coordinator).
func (s *Store) inboxKeys(txn *badger.Txn, open incident.Opener) []*ecdh.PrivateKey {
	var out []*ecdh.PrivateKey
	_ = scanPrefix(txn, kindPrefix(incident.KindInbox), false, func(k []byte) error {
		var id incident.ID
		copy(id[:], k[len(k)-32:])
		rec, err := getRecord(txn, id)
		if err != nil || rec == nil {
			return nil
		}
		if p, ok := open(rec); ok {
			if ip, ok := p.(*incident.InboxPayload); ok {
				key, err := incident.InboxKeyFromBytes(ip.Key)
				same := func(k *ecdh.PrivateKey) bool { return k.Equal(key) }
				if err == nil && !slices.ContainsFunc(out, same) { // a key shared again is one key
					out = append(out, key)
				}
			}
		}
		return nil
	})
	return out
}

// openCompact opens a compactly sealed record with the inbox keys held,
// giving keep its body.
func (s *Store) openCompact(r *incident.Signed, keys []*ecdh.PrivateKey, keep keepFunc) (any, bool) {
	for _, k := range keys {
		s.decrypts.Add(1)
		plain, p, err := incident.OpenCompact(r, k)
		if err != nil {
			continue
		}
		if keep != nil {
			keep(r.ID, plain)
		}
		return p, true
	}
	return nil, false
}

// opened finishes opening r from its decryption: the payload, and the
// cache entry keep is given (a body, or closed when no identity of this
// device matches, except for a notice to the field, whose key may come).
func (s *Store) opened(r *incident.Signed, plain []byte, err error, field bool, keep keepFunc) (any, bool) {
	if err != nil {
		var nm *age.NoIdentityMatchError
		if keep != nil && errors.As(err, &nm) && !field {
			keep(r.ID, nil)
		}
		return nil, false
	}
	p, err := incident.OpenPlain(r, plain)
	if err != nil {
		return nil, false
	}
	if keep != nil {
		keep(r.ID, unpadded(r, plain))
	}
	return p, true
}

// predecryptBatch is how many records Readable decrypts at a time.
const predecryptBatch = 1024

// decrypted is one record's decryption.
type decrypted struct {
	plain []byte
	err   error
}

// predecrypt decrypts, on every core, the sealed records among recs that
// the opener would decrypt with this device's identity (nothing cached
// of them, not marked closed), so that a coordinator's first view of
// many sealed records waits for their decryption divided by its cores.
// Notices are left to the opener (a notice to the field is tried with
// epoch keys too).
func (s *Store) predecrypt(txn *badger.Txn, recs []*incident.Signed) map[incident.ID]decrypted {
	if s.ageID == nil {
		return nil
	}
	var todo []*incident.Signed
	for _, r := range recs {
		if len(r.Sealed) == 0 || r.Kind == incident.KindNotice || incident.IsCompactSeal(r.Sealed) {
			continue
		}
		if _, err := txn.Get(key(tKept, r.ID[:])); err == nil {
			continue
		}
		if _, err := txn.Get(openedKey(r.ID)); err == nil {
			continue
		}
		if item, err := txn.Get(closedKey(r.ID)); err == nil {
			closed := false
			_ = item.Value(func(v []byte) error { closed = bytes.Equal(v, s.ageMark); return nil })
			if closed {
				continue
			}
		}
		todo = append(todo, r)
	}
	workers := min(runtime.GOMAXPROCS(0), len(todo))
	if workers < 2 {
		return nil
	}
	out := make([]decrypted, len(todo))
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(todo); i += workers {
				out[i].plain, out[i].err = decrypt(todo[i], s.ageID)
			}
		}()
	}
	wg.Wait()
	s.decrypts.Add(int64(len(todo)))
	pre := make(map[incident.ID]decrypted, len(todo))
	for i, r := range todo {
		pre[r.ID] = out[i]
	}
	return pre
}

// decrypt is the decryption half of incident.Open, which returns the
// payload only: the cache keeps the body it came from.
func decrypt(r *incident.Signed, ids ...age.Identity) ([]byte, error) {
	rd, err := age.Decrypt(bytes.NewReader(r.Sealed), ids...)
	if err != nil {
		return nil, err
	}
	return io.ReadAll(io.LimitReader(rd, incident.MaxSealedBytes))
}

// paddedBody mirrors incident's sealed body (kind, payload, padding) to
// drop the padding before the body is cached: half of a typical body is
// padding (bodies are padded to 512 B–32 KiB buckets).
type paddedBody struct {
	Kind    incident.Kind   `cbor:"1,keyasint"`
	Payload cbor.RawMessage `cbor:"2,keyasint"`
	Pad     []byte          `cbor:"3,keyasint"`
}

var (
	strictDec, _ = cbor.DecOptions{ExtraReturnErrors: cbor.ExtraDecErrorUnknownField}.DecMode()
	detEnc, _    = cbor.CoreDetEncOptions().EncMode()
)

// unpadded returns body without its padding (an empty pad, as an author's
// kept copy has), or body itself when the result is not a body
// incident.OpenPlain accepts for r (a body of another shape than
// paddedBody, from a newer build: it is cached whole).
func unpadded(r *incident.Signed, body []byte) []byte {
	var b paddedBody
	if err := strictDec.Unmarshal(body, &b); err != nil || len(b.Pad) == 0 {
		return body
	}
	b.Pad = []byte{}
	out, err := detEnc.Marshal(b)
	if err != nil {
		return body
	}
	if _, err := incident.OpenPlain(r, out); err != nil {
		return body
	}
	return out
}

// batchKeep caches opened bodies, and marks the records this device
// cannot open, in the batch that is writing: the report's indexing opens
// it (and its sealed amends and reviews) anyway. A failed cache write
// costs nothing but a later open.
func (s *Store) batchKeep(b *batch) keepFunc {
	return func(id incident.ID, body []byte) {
		if err := b.Set(s.cacheEntry(id, body)); err != nil {
			s.log.Debug("cache an opened record", "id", id, "err", err)
		}
	}
}

// readFill caches the bodies a read (a fold in a read transaction) opens,
// and marks the records it found it cannot open, in a Badger write batch of its own, committed in the background while
// the read goes on and flushed when it ends. Used with s.mu held, so no
// batch of AddMany runs meanwhile.
type readFill struct {
	s  *Store
	wb *badger.WriteBatch
}

func (f *readFill) keep(id incident.ID, body []byte) {
	if f.wb == nil {
		f.wb = f.s.db.NewWriteBatch()
	}
	if err := f.wb.Set(f.s.cacheEntry(id, body)); err != nil {
		f.s.log.Debug("cache an opened record", "id", id, "err", err)
	}
}

// flush commits what keep was given; called before the read's view ends.
func (f *readFill) flush() {
	if f.wb == nil {
		return
	}
	if err := f.wb.Flush(); err != nil {
		f.s.log.Debug("cache opened records", "err", err)
	}
	f.wb = nil
}

// epochKeys returns the identities of use (incident.EpochIdentity) of
// every epoch whose secret this device holds, newest number first; an
// empty, non-nil list when it holds none. Called with s.mu held.
func (s *Store) epochKeys(use string) []age.Identity {
	out := []age.Identity{}
	secrets, err := s.epochSecrets()
	if err != nil || s.ms == nil {
		return out
	}
	epochs := s.ms.Epochs()
	for i := len(epochs) - 1; i >= 0; i-- {
		if secret, ok := secrets[epochs[i].ID]; ok {
			if id, err := incident.EpochIdentity(s.ms.ID, secret, use); err == nil {
				out = append(out, id)
			}
		}
	}
	return out
}

// Open returns what this device reads in sealed record r (its kept copy,
// the cache, or its age identity, as the report folds open records), and
// false when r is sealed for others; a record in the clear is decoded.
func (s *Store) Open(r *incident.Signed) (any, bool) {
	if len(r.Sealed) == 0 {
		p, err := r.DecodePayload()
		return p, err == nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var p any
	var ok bool
	fill := &readFill{s: s}
	_ = s.view(func(txn *badger.Txn) error {
		defer fill.flush()
		p, ok = s.opener(txn, fill.keep)(r)
		return nil
	})
	return p, ok
}

// Readable returns the records of kind k, oldest key first, with the
// payload this device reads in each sealed one it can open (by record
// ID): the opener of reports, which caches what it opens.
func (s *Store) Readable(k incident.Kind) ([]*incident.Signed, map[incident.ID]any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var recs []*incident.Signed
	opened := map[incident.ID]any{}
	fill := &readFill{s: s}
	err := s.view(func(txn *badger.Txn) error {
		defer fill.flush()
		var err error
		if recs, err = recordsUnder(txn, kindPrefix(k)); err != nil {
			return err
		}
		// In batches, so that the decrypted bodies waiting to be
		// opened stay a few megabytes.
		for start := 0; start < len(recs); start += predecryptBatch {
			batch := recs[start:min(start+predecryptBatch, len(recs))]
			open := s.openerWith(txn, fill.keep, s.predecrypt(txn, batch), nil)
			for _, r := range batch {
				if len(r.Sealed) == 0 {
					continue
				}
				if p, ok := open(r); ok {
					opened[r.ID] = p
				}
			}
		}
		return nil
	})
	return recs, opened, err
}

// InboxKeys returns the SMS inbox keys this device holds: a
// coordinator's, from the inbox records sealed to it. Callers match them
// to the sms_inbox setting.
func (s *Store) InboxKeys() []*ecdh.PrivateKey {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*ecdh.PrivateKey
	fill := &readFill{s: s}
	_ = s.view(func(txn *badger.Txn) error {
		defer fill.flush()
		out = s.inboxKeys(txn, s.opener(txn, fill.keep))
		return nil
	})
	return out
}
