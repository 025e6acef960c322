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

// Write writes raws as a bundle of mission made at created, encrypted
// with age to recipients when there are any.
func Write(w io.Writer, mission incident.ID, created time.Time, raws [][]byte, recipients ...age.Recipient) error {
	dst := w
	var enc io.WriteCloser
	if len(recipients) > 0 {
		var err error
		if enc, err = age.Encrypt(w, recipients...); err != nil {
			return err
		}
		dst = enc
	}
	bw, err := NewWriter(dst, mission, created.UnixMilli(), len(raws))
	if err != nil {
		return err
	}
	for _, r := range raws {
		if err := bw.Add(r); err != nil {
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
		all := append([]age.Identity{st.AgeIdentity()}, ids...)
		r, err := age.Decrypt(bytes.NewReader(data), all...)
		if err != nil {
			return sum, fmt.Errorf("%s: %w (%v)", name, ErrCannotOpen, err)
		}
		if data, err = io.ReadAll(io.LimitReader(r, MaxBytes+1)); err != nil {
			return sum, fmt.Errorf("%s: %w", name, err)
		}
	}
	hdr, raws, err := Parse(data)
	if err != nil {
		return sum, fmt.Errorf("%s: %w", name, err)
	}
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
	return sum, nil
}
