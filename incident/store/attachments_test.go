package store_test

import (
	"crypto/sha256"
	"errors"
	"testing"
	"time"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/store"
)

// attach stores an attachment record for data on s, and its content.
func attach(t *testing.T, s *store.Store, name string, data []byte) (*incident.Signed, [32]byte) {
	t.Helper()
	sum := sha256.Sum256(data)
	rec := mustPut(t, s, incident.KindAttachment, incident.AttachmentPayload{Hash: sum[:], Size: uint64(len(data)),
		Mime: "image/jpeg", Name: name, Chunks: incident.ChunkHashes(data)})
	if err := s.PutBlob(sum, data); err != nil {
		t.Fatal(err)
	}
	return rec, sum
}

// names returns the names the attachment records of sum give, oldest
// first.
func names(t *testing.T, s *store.Store, sum [32]byte) []string {
	t.Helper()
	recs, err := s.AttachmentsOf(sum)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, a := range recs {
		if string(a.Hash) != string(sum[:]) {
			t.Fatalf("AttachmentsOf(%x) gave a record of %x", sum[:4], a.Hash[:4])
		}
		out = append(out, a.Name)
	}
	return out
}

func wantNames(t *testing.T, s *store.Store, sum [32]byte, want ...string) {
	t.Helper()
	got := names(t, s, sum)
	if len(got) != len(want) {
		t.Fatalf("records of %x: %q, want %q", sum[:4], got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("records of %x: %q, want %q", sum[:4], got, want)
		}
	}
}

// The attachment records of a content hash are found whether the record
// or the content arrives first; several records of one file are all
// found, oldest first; DeleteBlob keeps the content a record names.
func TestAttachmentsByHash(t *testing.T) {
	clk := newClock(time.Now().Add(-time.Hour))
	o := store.Options{Now: clk.Now}
	coord, home := initHome(t, t.TempDir(), o)
	obs, _ := initHome(t, t.TempDir(), o)
	createMission(t, coord)
	enroll(t, coord, obs, incident.RoleObserver, "kestrel")
	syncAll(t, coord, obs)

	// The record first, then the content.
	photo := []byte("\xff\xd8\xff\xe0 a queue at the school gate")
	rec, sum := attach(t, obs, "queue.jpg", photo)
	wantNames(t, coord, sum)
	mustAdd(t, obs, coord, rec.ID)
	wantNames(t, coord, sum, "queue.jpg")
	if coord.HasBlob(sum) {
		t.Fatal("content held before it came")
	}
	missing, err := coord.MissingAttachments(10)
	if err != nil || len(missing) != 1 || string(missing[0].Hash) != string(sum[:]) {
		t.Fatalf("missing: %+v, %v", missing, err)
	}
	if err := coord.PutBlob(sum, photo); err != nil {
		t.Fatal(err)
	}
	wantNames(t, coord, sum, "queue.jpg")

	// The content first (a draft's file, or a bundle's), then the record.
	other := []byte("\xff\xd8\xff\xe0 the ballot box, opened")
	rec2, sum2 := attach(t, obs, "box.jpg", other)
	if err := coord.PutBlob(sum2, other); err != nil {
		t.Fatal(err)
	}
	wantNames(t, coord, sum2)
	mustAdd(t, obs, coord, rec2.ID)
	wantNames(t, coord, sum2, "box.jpg")
	wantNames(t, coord, sum, "queue.jpg")

	// The same file attached again, by the observer later and by the
	// coordinator: every record, oldest first.
	clk.Advance(time.Minute)
	again, _ := attach(t, obs, "queue-again.jpg", photo)
	clk.Advance(time.Minute)
	attach(t, coord, "queue-desk.jpg", photo)
	mustAdd(t, obs, coord, again.ID)
	wantNames(t, coord, sum, "queue.jpg", "queue-again.jpg", "queue-desk.jpg")
	if res := coord.Add(again.Raw, "peer"); res.Outcome != store.Duplicate {
		t.Fatalf("the same record again: %s", res.Outcome)
	}
	wantNames(t, coord, sum, "queue.jpg", "queue-again.jpg", "queue-desk.jpg")

	// DeleteBlob keeps content a record names, and drops the rest.
	draft := []byte("a draft's plaintext, sealed since")
	dsum := sha256.Sum256(draft)
	if err := coord.PutBlob(dsum, draft); err != nil {
		t.Fatal(err)
	}
	for _, s := range [][32]byte{sum, sum2, dsum} {
		if err := coord.DeleteBlob(s); err != nil {
			t.Fatal(err)
		}
	}
	if !coord.HasBlob(sum) || !coord.HasBlob(sum2) {
		t.Fatal("DeleteBlob dropped content an attachment record names")
	}
	if coord.HasBlob(dsum) {
		t.Fatal("DeleteBlob kept content no record names")
	}
	if _, err := coord.Blob(dsum); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Blob of deleted content: %v", err)
	}

	// Reopened, the index is as it was.
	if err := coord.Close(); err != nil {
		t.Fatal(err)
	}
	coord = reopen(t, home, passphrase, o)
	wantNames(t, coord, sum, "queue.jpg", "queue-again.jpg", "queue-desk.jpg")
	wantNames(t, coord, sum2, "box.jpg")
	wantNames(t, coord, dsum)
}
