package bundle

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"filippo.io/age"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/store"
)

// What `vigil bundle` and the app's USB-stick screen both do with a store:
// choose the records, write them (encrypted or not), and import a file
// with the same checks and the same counts.

// MaxBytes bounds a bundle read into memory.
const MaxBytes = 1 << 30

// ErrCannotOpen means a bundle is encrypted and none of the identities
// given (this device's key, a passphrase) opens it.
var ErrCannotOpen = errors.New("the bundle is encrypted and this device cannot open it")

// ErrOtherMission means a bundle belongs to another mission.
var ErrOtherMission = errors.New("the bundle belongs to another mission")

// isPassphraseFile reports whether an age file is encrypted with a
// passphrase (its first recipient stanza is scrypt's), from its first
// bytes.
func isPassphraseFile(lead []byte) bool {
	return bytes.HasPrefix(lead, append(bytes.Clone(ageHeader), "-> scrypt "...))
}

// ageHeader starts every age-encrypted file.
var ageHeader = []byte("age-encryption.org/v1\n")

// Select returns the signed records a bundle of st carries: every mission
// record (genesis, configs, members, revocations), and the others claimed
// at or after since (the zero time: all), records of kinds this build
// does not know included.
func Select(st *store.Store, since time.Time) ([][]byte, error) {
	kinds, err := st.Kinds()
	if err != nil {
		return nil, err
	}
	var raws [][]byte
	for _, k := range kinds {
		recs, err := st.ByKind(k)
		if err != nil {
			return nil, err
		}
		for _, r := range recs {
			if k.MissionKind() || since.IsZero() || r.Created >= since.UnixMilli() {
				raws = append(raws, r.Raw)
			}
		}
	}
	return raws, nil
}

// Pick is what a bundle of a store carries: its records, and the files
// that fit the size budget.
type Pick struct {
	Records [][]byte
	Files   []Wanted
	// LeftOut counts the attachment files this device holds that the
	// budget left out, and their bytes.
	LeftOut      int
	LeftOutBytes int64
	// Missing counts the files the records name that this device does
	// not hold (they have not reached it yet).
	Missing int
}

// Wanted names a file by content hash and size.
type Wanted struct {
	Hash [32]byte
	Size int64
}

// ErrOverBudget: the records alone do not fit the size asked for.
var ErrOverBudget = errors.New("the records alone are larger than the size budget")

// Choose picks what a bundle of st carries: Select's records, and the
// content of their attachments, in record order, while the whole file
// stays within maxBytes (0: MaxBytes). A file that does not fit is left
// out and counted; a smaller one after it may still go.
func Choose(st *store.Store, since time.Time, maxBytes int64) (Pick, error) {
	if maxBytes <= 0 || maxBytes > MaxBytes {
		maxBytes = MaxBytes
	}
	raws, err := Select(st, since)
	if err != nil {
		return Pick{}, err
	}
	pick := Pick{Records: raws}
	size := int64(Overhead)
	for _, r := range raws {
		size += RecordFrameSize(len(r))
	}
	if size > maxBytes {
		return Pick{}, fmt.Errorf("%w: %d bytes of records, budget %d", ErrOverBudget, size, maxBytes)
	}
	seen := map[[32]byte]bool{}
	for _, raw := range raws {
		a := attachmentOf(raw)
		if a == nil || seen[a.Hash] {
			continue
		}
		seen[a.Hash] = true
		if !st.HasBlob(a.Hash) {
			pick.Missing++
			continue
		}
		if size+FileFrameSize(int(a.Size)) > maxBytes {
			pick.LeftOut++
			pick.LeftOutBytes += a.Size
			continue
		}
		size += FileFrameSize(int(a.Size))
		pick.Files = append(pick.Files, *a)
	}
	return pick, nil
}

// attachmentOf returns the file an attachment record names, nil for other
// records.
func attachmentOf(raw []byte) *Wanted {
	rec, err := incident.DecodeStored(raw)
	if err != nil || rec.Kind != incident.KindAttachment {
		return nil
	}
	p, err := rec.DecodePayload()
	ap, ok := p.(*incident.AttachmentPayload)
	if err != nil || !ok || len(ap.Hash) != 32 {
		return nil
	}
	w := &Wanted{Size: int64(ap.Size)}
	copy(w.Hash[:], ap.Hash)
	return w
}

// WritePick writes a pick as a bundle of mission made at created, reading
// each file from st as it goes (one file in memory at a time), encrypted
// with age to recipients when there are any. secrets go only into a
// bundle encrypted for the mission's members (ForMembers).
func WritePick(w io.Writer, st *store.Store, mission incident.ID, created time.Time, pick Pick, secrets []Secret, recipients ...age.Recipient) error {
	if len(secrets) > 0 && len(recipients) == 0 {
		return errors.New("bundle: epoch secrets never go into an unencrypted bundle")
	}
	return write(w, mission, created, pick.Records, pick.Files, secrets, st.Blob, recipients)
}

// Write writes raws as a bundle of mission made at created, encrypted
// with age to recipients when there are any.
func Write(w io.Writer, mission incident.ID, created time.Time, raws [][]byte, recipients ...age.Recipient) error {
	return write(w, mission, created, raws, nil, nil, nil, recipients)
}

func write(w io.Writer, mission incident.ID, created time.Time, raws [][]byte, files []Wanted, secrets []Secret,
	load func([32]byte) ([]byte, error), recipients []age.Recipient) error {
	dst := w
	var enc io.WriteCloser
	if len(recipients) > 0 {
		var err error
		if enc, err = age.Encrypt(w, recipients...); err != nil {
			return err
		}
		dst = enc
	}
	bw, err := NewFileWriter(dst, mission, created.UnixMilli(), len(raws), len(files), len(secrets))
	if err != nil {
		return err
	}
	for _, r := range raws {
		if err := bw.Add(r); err != nil {
			return err
		}
	}
	for _, f := range files {
		data, err := load(f.Hash)
		if err != nil {
			return fmt.Errorf("attachment %x: %w", f.Hash[:6], err)
		}
		if err := bw.AddFile(f.Hash, data); err != nil {
			return err
		}
	}
	for _, sec := range secrets {
		if err := bw.AddSecret(sec); err != nil {
			return err
		}
	}
	if err := bw.Close(); err != nil {
		return err
	}
	if enc != nil {
		return enc.Close()
	}
	return nil
}

// Summary is what an import did.
type Summary struct {
	Records     int // in the file
	Accepted    int // new, now stored
	Duplicate   int // already held
	Quarantined int // kept aside until what they depend on arrives
	Rejected    int
	Released    int // earlier-waiting records these let in
	// Newer counts the accepted records that need a newer Vigil to read
	// whole (a kind or fields this build does not know): stored, and
	// passed on to other devices, like any other.
	Newer      int
	Rejections []Rejection
	// Files the bundle carried: stored now, held already, or set aside
	// (no record on this device names them, or the mission's attachment
	// budget is spent).
	Files        int
	FilesStored  int
	FilesHeld    int
	FilesIgnored int
	// Secrets counts the epoch secrets this device received.
	Secrets int
}

// Rejection is one record an import refused, and why.
type Rejection struct {
	ID  incident.ID
	Err error
}

// rejectionJSON is a Rejection in JSON: the reason in words (a control
// socket carries summaries between processes).
type rejectionJSON struct {
	ID     incident.ID `json:"id"`
	Reason string      `json:"reason"`
}

// MarshalJSON writes the rejection with its reason in words.
func (r Rejection) MarshalJSON() ([]byte, error) {
	reason := ""
	if r.Err != nil {
		reason = r.Err.Error()
	}
	return json.Marshal(rejectionJSON{r.ID, reason})
}

// UnmarshalJSON reads a rejection; its Err carries the reason's words.
func (r *Rejection) UnmarshalJSON(b []byte) error {
	var j rejectionJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	r.ID, r.Err = j.ID, errors.New(j.Reason)
	return nil
}

// MaxRejections bounds Summary.Rejections; Rejected counts them all.
const MaxRejections = 256

// Import is ImportFrom over a file read into memory.
func Import(st *store.Store, name string, data []byte, ids []age.Identity, progress func(done, total int)) (Summary, error) {
	return ImportFrom(st, name, bytes.NewReader(data), int64(len(data)), ids, progress)
}

// ImportFrom stores the valid records of a bundle file of size bytes in
// st: it decrypts an age-encrypted file with this device's key or one of
// ids (a passphrase's scrypt identity), checks the whole file (Check),
// refuses another mission's bundle, then reads it again (Checked.Walk) and
// adds its records in batches under the quarantine source "bundle:" +
// name, calling progress (if not nil) as they go in. An encrypted file is
// decrypted as it is read, both times (its key is unwrapped once): no
// plaintext is kept, in memory or on disk, beyond a batch. Every error
// return before the first record is added means nothing was stored (a
// damaged file, another mission's, one this device cannot open); an error
// after (the store failed, or the file changed between the two readings)
// leaves the batches added so far, each record judged on its own as
// always, so importing the file again is safe. Records the store refuses
// one by one are counted in the Summary instead (a record of a newer
// schema version among them, with an *incident.NewerError: this build
// cannot check it, the file is not at fault).
func ImportFrom(st *store.Store, name string, src io.ReaderAt, size int64, ids []age.Identity, progress func(done, total int)) (Summary, error) {
	var sum Summary
	if size > MaxBytes {
		return sum, fmt.Errorf("%s is larger than %d bytes", name, MaxBytes)
	}
	plain, err := open(st, name, src, size, ids)
	if err != nil {
		return sum, err
	}
	r, err := plain()
	if err != nil {
		return sum, fmt.Errorf("%s: %w", name, err)
	}
	chk, err := Check(r, MaxBytes)
	if err != nil {
		return sum, fmt.Errorf("%s: %w", name, err)
	}
	if r, err = plain(); err != nil {
		return sum, fmt.Errorf("%s: %w", name, err)
	}
	ms, err := st.Mission()
	if err != nil {
		return sum, err
	}
	if hdr := chk.Header; hdr.Mission != ms.ID {
		return sum, fmt.Errorf("%s: %w: it is a bundle of mission %s; this device belongs to %s (%q)",
			name, ErrOtherMission, hdr.Mission, ms.ID, ms.Mission.Name)
	}
	total := chk.Header.Count
	// This file's records that wait in quarantine: one a later batch
	// releases ends up stored and counts as accepted (the value: it needs
	// a newer Vigil to read whole). The source's quarantine bounds it.
	waiting := map[incident.ID]bool{}
	files := &fileSink{st: st, sum: &sum}
	err = chk.Walk(r, func(raws [][]byte) error {
		done := sum.Records
		var report func(int)
		if progress != nil {
			report = func(n int) { progress(done+n, total) }
		}
		results, err := st.AddMany(raws, "bundle:"+name, report)
		if err != nil {
			return err
		}
		sum.Records += len(raws)
		for i, r := range results {
			switch r.Outcome {
			case store.Accepted:
				sum.Accepted++
				// The store checked its signature as it accepted it.
				if newer(raws[i]) {
					sum.Newer++
				}
			case store.Duplicate:
				sum.Duplicate++
			case store.Quarantined:
				sum.Quarantined++
				waiting[r.ID] = newer(raws[i])
			case store.Rejected:
				sum.Rejected++
				if len(sum.Rejections) < MaxRejections {
					sum.Rejections = append(sum.Rejections, Rejection{ID: r.ID, Err: r.Err})
				}
			}
		}
		for _, r := range results {
			for _, id := range r.Released {
				nw, ours := waiting[id]
				if !ours {
					// Waiting from earlier imports or syncs.
					sum.Released++
					continue
				}
				delete(waiting, id)
				sum.Quarantined--
				sum.Accepted++
				if nw {
					sum.Newer++
				}
			}
		}
		return nil
	}, files.put)
	if err != nil {
		return sum, fmt.Errorf("%s: %w", name, err)
	}
	storeSecrets(st, chk.Secrets, &sum)
	return sum, nil
}

// newer reports whether a record the store accepted needs a newer Vigil
// to read whole.
func newer(raw []byte) bool {
	rec, err := incident.DecodeStored(raw)
	return err == nil && len(rec.Newer()) > 0
}

// open returns a function that opens the plaintext of a bundle file from
// its start, as often as it is called: the file itself, or for an
// age-encrypted one a stream that decrypts (and authenticates) it as it
// is read, its key unwrapped once (a passphrase's scrypt runs once).
func open(st *store.Store, name string, src io.ReaderAt, size int64, ids []age.Identity) (func() (io.Reader, error), error) {
	lead := make([]byte, len(ageHeader)+len("-> scrypt "))
	n, err := src.ReadAt(lead, 0)
	if err != nil && err != io.EOF {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	lead = lead[:n]
	if !bytes.HasPrefix(lead, ageHeader) {
		return func() (io.Reader, error) { return io.NewSectionReader(src, 0, size), nil }, nil
	}
	all := append([]age.Identity{st.AgeIdentity()}, epochIdentities(st)...)
	all = append(all, ids...)
	key := &keyWatch{ids: all}
	decrypt := func() (io.Reader, error) {
		r, err := age.Decrypt(io.NewSectionReader(src, 0, size), key)
		if err != nil {
			return nil, err
		}
		return damaged{r}, nil
	}
	if _, err := decrypt(); err != nil {
		if key.fileKey != nil {
			// A key opened it: the rest of its header is damaged.
			return nil, fmt.Errorf("%s: %w: the encrypted file does not authenticate (%v)", name, ErrCorrupt, err)
		}
		if held, _, _ := st.HeldEpochs(); len(held) == 0 && !isPassphraseFile(lead) {
			// The likely case: a members' bundle made before its maker
			// knew this device, which has met nobody since it joined.
			return nil, fmt.Errorf("%s: %w: if it is a bundle for the mission's members, this device has not received "+
				"their key yet: give a coordinator a bundle from this device first (or meet any member over a network), "+
				"then ask for a new bundle", name, ErrCannotOpen)
		}
		return nil, fmt.Errorf("%s: %w (%v)", name, ErrCannotOpen, err)
	}
	return decrypt, nil
}

// keyWatch tries identities in turn, as age does, and keeps the file key
// the first that fits unwraps: the second reading of the file reuses it
// (age still checks the header's MAC with it).
type keyWatch struct {
	ids     []age.Identity
	fileKey []byte
}

func (k *keyWatch) Unwrap(stanzas []*age.Stanza) ([]byte, error) {
	if k.fileKey != nil {
		return k.fileKey, nil
	}
	for _, id := range k.ids {
		key, err := id.Unwrap(stanzas)
		if errors.Is(err, age.ErrIncorrectIdentity) {
			continue
		}
		if err != nil {
			return nil, err
		}
		k.fileKey = key
		return key, nil
	}
	return nil, age.ErrIncorrectIdentity
}

// damaged reads an encrypted file's plaintext; a chunk that does not
// authenticate, or a file cut short, is damage (ErrCorrupt), found by the
// first pass before any record is used.
type damaged struct{ r io.Reader }

func (d damaged) Read(p []byte) (int, error) {
	n, err := d.r.Read(p)
	if err != nil && err != io.EOF {
		err = fmt.Errorf("%w: the encrypted file does not authenticate (%v)", ErrCorrupt, err)
	}
	return n, err
}

// fileSink keeps the files of a bundle that an attachment record held
// here names and whose content is missing, within the mission's
// attachment budget, one at a time as Walk reads them. Other files are
// set aside: a bundle cannot fill a store with content no record asks for.
type fileSink struct {
	st     *store.Store
	sum    *Summary
	budget uint64
	held   uint64
	ready  bool
}

func (s *fileSink) put(f File) error {
	if !s.ready {
		ms, err := s.st.Mission()
		if err != nil {
			return err
		}
		if s.held, err = s.st.BlobBytes(); err != nil {
			return err
		}
		s.budget, s.ready = ms.AttachmentBudget(), true
	}
	s.sum.Files++
	if s.st.HasBlob(f.Hash) {
		s.sum.FilesHeld++
		return nil
	}
	named, err := s.st.AttachmentsOf(f.Hash)
	if err != nil {
		return err
	}
	if len(named) == 0 || s.held+uint64(len(f.Data)) > s.budget {
		s.sum.FilesIgnored++
		return nil
	}
	if err := s.st.PutBlob(f.Hash, f.Data); err != nil {
		return err
	}
	s.held += uint64(len(f.Data))
	s.sum.FilesStored++
	return nil
}

// Bundles are encrypted by default for the mission's members: with age
// to an X25519 identity every member derives from the newest epoch secret
// it holds, and to the age key of every member in good standing this
// device knows. A member who has met nobody since joining holds no epoch
// secret yet, but its own key opens the bundle, and the bundle hands it
// the epoch secrets (Contents.Secrets): carriers import such bundles and
// pass them on; a stranger who finds the stick, or a member revoked
// before the epoch began, reads nothing. age's header shows one X25519
// stanza per recipient: a finder learns the file is age's and roughly
// how many members the exporter knew, nothing else.

// epochIdentity is the age identity of one epoch's bundles.
func epochIdentity(mission incident.ID, secret []byte) (*age.X25519Identity, error) {
	return incident.EpochIdentity(mission, secret, incident.EpochBundles)
}

// Members is how a bundle is encrypted for the mission's members.
type Members struct {
	Recipients []age.Recipient
	Secrets    []Secret
}

// ForMembers returns the recipients and secrets of a bundle of st for
// the mission's members.
func ForMembers(st *store.Store) (Members, error) {
	ms, err := st.Mission()
	if err != nil {
		return Members{}, err
	}
	held, secrets, err := st.HeldEpochs()
	if err != nil {
		return Members{}, err
	}
	var out Members
	if len(held) > 0 {
		id, err := epochIdentity(ms.ID, secrets[held[0].ID])
		if err != nil {
			return Members{}, err
		}
		out.Recipients = append(out.Recipients, id.Recipient())
	}
	for _, e := range held {
		var sec Secret
		if len(secrets[e.ID]) != len(sec.Secret) || len(out.Secrets) == MaxSecrets {
			continue
		}
		sec.Epoch = e.ID
		copy(sec.Secret[:], secrets[e.ID])
		out.Secrets = append(out.Secrets, sec)
	}
	seen := map[string]bool{}
	for _, m := range ms.Members() {
		if m.Recipient == "" || seen[m.Recipient] || len(ms.Revocations(m.Author)) > 0 {
			continue
		}
		if r, err := age.ParseX25519Recipient(m.Recipient); err == nil {
			seen[m.Recipient] = true
			out.Recipients = append(out.Recipients, r)
		}
	}
	return out, nil
}

// epochIdentities open bundles of every epoch whose secret st holds.
func epochIdentities(st *store.Store) []age.Identity {
	held, secrets, err := st.HeldEpochs()
	if err != nil {
		return nil
	}
	ms, err := st.Mission()
	if err != nil {
		return nil
	}
	var out []age.Identity
	for _, e := range held {
		if id, err := epochIdentity(ms.ID, secrets[e.ID]); err == nil {
			out = append(out, id)
		}
	}
	return out
}

// storeSecrets keeps the epoch secrets a members' bundle hands over. The
// store takes a secret only for an epoch record it holds whose commitment
// the secret matches, so a bundle cannot plant one.
func storeSecrets(st *store.Store, secrets []Secret, sum *Summary) {
	for _, sec := range secrets {
		if added, err := st.AddEpochSecret(sec.Epoch, sec.Secret[:]); err == nil && added {
			sum.Secrets++
		}
	}
}
