package bundle_test

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/bundle"
	"github.com/vigil-mesh/vigil/incident/store"
	"github.com/vigil-mesh/vigil/incident/vault"
	"github.com/vigil-mesh/vigil/internal/testrec"
)

func newStore(t *testing.T) *store.Store {
	t.Helper()
	s, err := store.Init(t.TempDir(), []byte("pass"), store.Options{KDF: &vault.KDFParams{Time: 1, MemoryKiB: 64, Threads: 1}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// A coordinator's bundle goes to a second device of the same mission:
// plain, to a passphrase, and to the other device's key; what cannot be
// opened, what is damaged and what belongs to another mission store
// nothing.
func TestSelectWriteImport(t *testing.T) {
	src := newStore(t)
	if _, err := src.CreateMission("Bundle mission", "HQ", false); err != nil {
		t.Fatal(err)
	}
	if _, err := src.Put(incident.KindReport, incident.ReportPayload{Category: "polling.late_opening", Severity: 2, Title: "Opened late", Occurred: time.Now().Add(-48 * time.Hour).UnixMilli()}); err != nil {
		t.Fatal(err)
	}
	// A new mission holds its genesis and its first secret epoch: both
	// are mission records, which Select carries whatever the date.
	raws, err := bundle.Select(src, time.Time{})
	if err != nil || len(raws) != 3 {
		t.Fatalf("Select(all) = %d records, %v; want genesis, epoch and report", len(raws), err)
	}
	if raws, _ := bundle.Select(src, time.Now().Add(time.Hour)); len(raws) != 2 {
		t.Fatalf("Select(since the future) = %d records; want the genesis and the epoch only", len(raws))
	}
	ms, _ := src.Mission()

	// The receiving device: the same mission (it holds the genesis).
	dst := newStore(t)
	if _, err := bundle.Import(dst, "x", nil, nil, nil); err == nil {
		t.Fatal("an empty file imported")
	}
	scrypt, _ := age.NewScryptRecipient("stick passphrase")
	scrypt.SetWorkFactor(10) // age's 18 costs seconds per try under -race; the format is the same
	for _, tc := range []struct {
		name       string
		recipients []age.Recipient
		ids        func() []age.Identity
		wantErr    error
	}{
		{"to a passphrase, none given", []age.Recipient{scrypt}, func() []age.Identity { return nil }, bundle.ErrCannotOpen},
		{"to a wrong passphrase", []age.Recipient{scrypt}, func() []age.Identity { id, _ := age.NewScryptIdentity("wrong"); return []age.Identity{id} }, bundle.ErrCannotOpen},
	} {
		var buf bytes.Buffer
		if err := bundle.Write(&buf, ms.ID, time.Now(), raws, tc.recipients...); err != nil {
			t.Fatal(err)
		}
		if _, err := bundle.Import(dst, tc.name, buf.Bytes(), tc.ids(), nil); !errors.Is(err, tc.wantErr) {
			t.Errorf("%s: err = %v, want %v", tc.name, err, tc.wantErr)
		}
	}
	if n, _ := dst.Counts(); n[incident.KindReport] != 0 {
		t.Fatal("a refused bundle stored records")
	}

	// Another mission's bundle is refused whole.
	other := newStore(t)
	if _, err := other.CreateMission("Other mission", "HQ", false); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := bundle.Write(&buf, ms.ID, time.Now(), raws); err != nil {
		t.Fatal(err)
	}
	if _, err := bundle.Import(other, "foreign", buf.Bytes(), nil, nil); !errors.Is(err, bundle.ErrOtherMission) {
		t.Errorf("foreign bundle: err = %v, want ErrOtherMission", err)
	}
	// A damaged file is refused whole.
	cut := buf.Bytes()[:buf.Len()-10]
	if _, err := bundle.Import(other, "cut", cut, nil, nil); err == nil || errors.Is(err, bundle.ErrOtherMission) {
		t.Errorf("damaged bundle: err = %v", err)
	}

	// Encrypted to the passphrase and opened with it: the founder's own
	// device (which holds the mission) counts all three records as held.
	buf.Reset()
	if err := bundle.Write(&buf, ms.ID, time.Now(), raws, scrypt); err != nil {
		t.Fatal(err)
	}
	id, _ := age.NewScryptIdentity("stick passphrase")
	var calls int
	sum, err := bundle.Import(src, "stick", buf.Bytes(), []age.Identity{id}, func(done, total int) {
		calls++
		if total != 3 || done > total {
			t.Errorf("progress(%d, %d)", done, total)
		}
	})
	if err != nil || sum.Records != 3 || sum.Duplicate != 3 || sum.Accepted != 0 || calls == 0 {
		t.Fatalf("re-import: %+v, %v, %d progress calls", sum, err, calls)
	}
}

// Records a newer Vigil wrote travel in bundles: Select carries the kinds
// this build does not know, Import stores them and counts what needs a
// newer Vigil, and a record of a newer schema version is refused with
// that reason while the rest of the bundle goes in.
func TestImportNewerRecords(t *testing.T) {
	src := newStore(t)
	if _, err := src.CreateMission("Newer mission", "HQ", false); err != nil {
		t.Fatal(err)
	}
	ms, _ := src.Mission()
	put := func(kind incident.Kind, payload any) *incident.Signed {
		t.Helper()
		rec, err := src.Signer().Sign(ms.ID, kind, time.Now(), payload)
		if err != nil {
			t.Fatal(err)
		}
		if res := src.Add(rec.Raw, "newer build"); res.Outcome != store.Accepted {
			t.Fatalf("Add(%s) = %v %v", kind, res.Outcome, res.Err)
		}
		return rec
	}
	put("bulletin", map[uint64]any{1: "Stations close at 18:00"})
	put(incident.KindReport, map[uint64]any{1: "polling.late_opening", 2: uint64(2), 3: time.Now().UnixMilli(), 9: "Opened late", 16: "form-7"})
	if _, err := src.Put(incident.KindCheckin, incident.CheckinPayload{Status: "arrived"}); err != nil {
		t.Fatal(err)
	}
	raws, err := bundle.Select(src, time.Time{})
	if err != nil || len(raws) != 5 {
		t.Fatalf("Select = %d records, %v; want genesis, epoch 1 (written with the mission), report, checkin and bulletin", len(raws), err)
	}
	v2 := testrec.NewerVersion(t, src.Signer(), ms.ID)
	var buf bytes.Buffer
	if err := bundle.Write(&buf, ms.ID, time.Now(), append(raws, v2)); err != nil {
		t.Fatal(err)
	}

	dst := newStore(t)
	code, err := src.Invite(store.InviteRequest{Role: incident.RoleObserver})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dst.Join(code); err != nil {
		t.Fatal(err)
	}
	sum, err := bundle.Import(dst, "stick", buf.Bytes(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	// The joined device holds the genesis but not the epoch record: the
	// epoch is accepted with the report, checkin and bulletin.
	if sum.Records != 6 || sum.Accepted != 4 || sum.Duplicate != 1 || sum.Newer != 2 || sum.Rejected != 1 {
		t.Fatalf("summary %+v; want 4 accepted (2 needing a newer Vigil), the genesis held, 1 rejected", sum)
	}
	if err := sum.Rejections[0].Err; !incident.IsNewer(err) || incident.IsRejected(err) || sum.Rejections[0].ID != incident.IDOf(v2) {
		t.Fatalf("rejection %v %v; want the version %d record, as needing a newer Vigil", sum.Rejections[0].ID, err, incident.SchemaVersion+1)
	}
	if n, _ := dst.Counts(); n["bulletin"] != 1 || n[incident.KindReport] != 1 || n[incident.KindEpoch] != 1 {
		t.Fatalf("stored %v", n)
	}
}

// A bundle's files are kept only where a record held here names them: a
// file nobody asked for is set aside, and a file that is named is stored.
func TestImportKeepsOnlyNamedFiles(t *testing.T) {
	src, dst := newStore(t), newStore(t)
	if _, err := src.CreateMission("Files", "HQ", false); err != nil {
		t.Fatal(err)
	}
	photo := []byte("a photo of the tally sheet")
	sum := sha256.Sum256(photo)
	if err := src.PutBlob(sum, photo); err != nil {
		t.Fatal(err)
	}
	if _, err := src.Put(incident.KindAttachment, incident.AttachmentPayload{Hash: sum[:], Size: uint64(len(photo)), Mime: "image/jpeg"}); err != nil {
		t.Fatal(err)
	}
	raws, err := bundle.Select(src, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	junk := bytes.Repeat([]byte("filler "), 1000)
	ms, _ := src.Mission()
	var buf bytes.Buffer
	w, _ := bundle.NewFileWriter(&buf, ms.ID, time.Now().UnixMilli(), len(raws), 2, 0)
	for _, r := range raws {
		w.Add(r)
	}
	w.AddFile(sum, photo)
	w.AddFile(sha256.Sum256(junk), junk)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	// dst joins the mission, then imports the founder's records and files.
	code, err := src.Invite(store.InviteRequest{Role: incident.RoleObserver})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dst.Join(code); err != nil {
		t.Fatal(err)
	}
	s, err := bundle.Import(dst, "stick.vgb", buf.Bytes(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if s.Files != 2 || s.FilesStored != 1 || s.FilesIgnored != 1 {
		t.Fatalf("files: %+v", s)
	}
	if got, err := dst.Blob(sum); err != nil || !bytes.Equal(got, photo) {
		t.Fatalf("the named file: %v", err)
	}
	if dst.HasBlob(sha256.Sum256(junk)) {
		t.Fatal("a file no record names was stored")
	}
}
