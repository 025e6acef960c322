package bundle

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
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
// passphrase (its first recipient stanza is scrypt's).
func isPassphraseFile(data []byte) bool {
	return bytes.HasPrefix(data, append(bytes.Clone(ageHeader), "-> scrypt "...))
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

// Import stores the valid records of a bundle file in st: it decrypts an
// age-encrypted file with this device's key or one of ids (a passphrase's
// scrypt identity), parses and checks it, refuses another mission's
// bundle, and adds the records under the quarantine source "bundle:" +
// name, calling progress (if not nil) as they go in. Every error return
// means nothing was stored; records the store refuses one by one are
// counted in the Summary instead (a record of a newer schema version among
// them, with an *incident.NewerError: this build cannot check it, the file
// is not at fault).
func Import(st *store.Store, name string, data []byte, ids []age.Identity, progress func(done, total int)) (Summary, error) {
	var sum Summary
	if len(data) > MaxBytes {
		return sum, fmt.Errorf("%s is larger than %d bytes", name, MaxBytes)
	}
	if bytes.HasPrefix(data, ageHeader) {
		all := append([]age.Identity{st.AgeIdentity()}, epochIdentities(st)...)
		all = append(all, ids...)
		r, err := age.Decrypt(bytes.NewReader(data), all...)
		if err != nil {
			if held, _, _ := st.HeldEpochs(); len(held) == 0 && !isPassphraseFile(data) {
				// The likely case: a members' bundle made before its
				// maker knew this device, which has met nobody since it
				// joined.
				return sum, fmt.Errorf("%s: %w: if it is a bundle for the mission's members, this device has not received "+
					"their key yet: give a coordinator a bundle from this device first (or meet any member over a network), "+
					"then ask for a new bundle", name, ErrCannotOpen)
			}
			return sum, fmt.Errorf("%s: %w (%v)", name, ErrCannotOpen, err)
		}
		if data, err = io.ReadAll(io.LimitReader(r, MaxBytes+1)); err != nil {
			return sum, fmt.Errorf("%s: %w", name, err)
		}
	}
	hdr, contents, err := ParseContents(data)
	if err != nil {
		return sum, fmt.Errorf("%s: %w", name, err)
	}
	raws, files := contents.Records, contents.Files
	ms, err := st.Mission()
	if err != nil {
		return sum, err
	}
	if hdr.Mission != ms.ID {
		return sum, fmt.Errorf("%s: %w: it is a bundle of mission %s; this device belongs to %s (%q)",
			name, ErrOtherMission, hdr.Mission, ms.ID, ms.Mission.Name)
	}
	var report func(int)
	if progress != nil {
		report = func(done int) { progress(done, len(raws)) }
	}
	results, err := st.AddMany(raws, "bundle:"+name, report)
	if err != nil {
		return sum, err
	}
	sum.Records = len(raws)
	released := map[incident.ID]bool{}
	for _, r := range results {
		for _, id := range r.Released {
			released[id] = true
		}
	}
	for i, r := range results {
		switch {
		case r.Outcome == store.Accepted, r.Outcome == store.Quarantined && released[r.ID]:
			// A record released by a later one of the same bundle ends
			// up stored: it counts as accepted.
			sum.Accepted++
			delete(released, r.ID)
			// The store checked its signature as it accepted it.
			if rec, err := incident.DecodeStored(raws[i]); err == nil && len(rec.Newer()) > 0 {
				sum.Newer++
			}
		case r.Outcome == store.Duplicate:
			sum.Duplicate++
		case r.Outcome == store.Quarantined:
			sum.Quarantined++
		case r.Outcome == store.Rejected:
			sum.Rejected++
			sum.Rejections = append(sum.Rejections, Rejection{ID: r.ID, Err: r.Err})
		}
	}
	// What is left was waiting from earlier imports or syncs.
	sum.Released = len(released)
	if err := storeFiles(st, files, &sum); err != nil {
		return sum, err
	}
	storeSecrets(st, contents.Secrets, &sum)
	return sum, nil
}

// storeFiles keeps the files of a bundle that an attachment record held
// here names and whose content is missing, within the mission's
// attachment budget. Other files are set aside: a bundle cannot fill a
// store with content no record asks for.
func storeFiles(st *store.Store, files []File, sum *Summary) error {
	sum.Files = len(files)
	if len(files) == 0 {
		return nil
	}
	ms, err := st.Mission()
	if err != nil {
		return err
	}
	held, err := st.BlobBytes()
	if err != nil {
		return err
	}
	for _, f := range files {
		if st.HasBlob(f.Hash) {
			sum.FilesHeld++
			continue
		}
		named, err := st.AttachmentsOf(f.Hash)
		if err != nil {
			return err
		}
		switch {
		case len(named) == 0 || held+uint64(len(f.Data)) > ms.AttachmentBudget():
			sum.FilesIgnored++
		default:
			if err := st.PutBlob(f.Hash, f.Data); err != nil {
				return err
			}
			held += uint64(len(f.Data))
			sum.FilesStored++
		}
	}
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
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte("vigil/bundle/v1\x00"))
	mac.Write(mission[:])
	return incident.AgeIdentityFrom(mac.Sum(nil))
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
