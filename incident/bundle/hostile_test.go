package bundle_test

import (
	"bytes"
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/bundle"
	"github.com/vigil-mesh/vigil/incident/store"
	"github.com/vigil-mesh/vigil/internal/testrec"
)

// allocated runs f and returns the bytes it allocated and the growth of
// the heap in use.
func allocated(f func()) (total, inuse uint64) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	inuse = 0
	if after.HeapInuse > before.HeapInuse {
		inuse = after.HeapInuse - before.HeapInuse
	}
	return after.TotalAlloc - before.TotalAlloc, inuse
}

func joined(t *testing.T) (src, dst *store.Store) {
	t.Helper()
	src, dst = newStore(t), newStore(t)
	if _, err := src.CreateMission("Hostile files", "HQ", false); err != nil {
		t.Fatal(err)
	}
	code, err := src.Invite(store.InviteRequest{Role: incident.RoleObserver})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dst.Join(code); err != nil {
		t.Fatal(err)
	}
	return src, dst
}

func stored(t *testing.T, st *store.Store) int {
	t.Helper()
	n, err := st.Counts()
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, c := range n {
		total += c
	}
	return total
}

// A bundle of a million one-byte frames (4.8 MiB) is refused by its first
// frame, too short to hold a record, before anything is stored, plain or
// encrypted; reading it costs a buffer, not an entry per frame (it cost
// 690 MiB when every frame was kept).
func TestImportMillionTinyFrames(t *testing.T) {
	_, dst := joined(t)
	ms, _ := dst.Mission()
	data := testrec.Frames(ms.ID, 1_000_000, 1)
	var enc bytes.Buffer
	w, err := age.Encrypt(&enc, dst.AgeIdentity().Recipient())
	if err != nil {
		t.Fatal(err)
	}
	w.Write(data)
	w.Close()
	before := stored(t, dst)
	for _, tc := range []struct {
		name string
		file []byte
	}{{"plain", data}, {"encrypted", enc.Bytes()}} {
		var err error
		total, inuse := allocated(func() { _, err = bundle.Import(dst, "tiny.vgb", tc.file, nil, nil) })
		if !errors.Is(err, bundle.ErrCorrupt) || !strings.Contains(err.Error(), "frame 0: 1 bytes, too short to hold a record") {
			t.Fatalf("%s: %v", tc.name, err)
		}
		t.Logf("%s: %.1f MiB file refused (%v); allocated %d KiB, heap grew %d KiB",
			tc.name, float64(len(tc.file))/(1<<20), err, total>>10, inuse>>10)
		if total > 16<<20 {
			t.Errorf("%s: allocated %d MiB to refuse it", tc.name, total>>20)
		}
	}
	if n := stored(t, dst); n != before {
		t.Fatalf("stored %d records", n-before)
	}
}

// Frames long enough to be records but holding none are judged one batch
// at a time: the store rejects each, the summary names the first
// MaxRejections, and memory stays that of a batch.
func TestImportGarbageFrames(t *testing.T) {
	_, dst := joined(t)
	ms, _ := dst.Mission()
	const n = 20_000
	data := testrec.Frames(ms.ID, n, bundle.MinRecordBytes)
	var sum bundle.Summary
	var err error
	total, inuse := allocated(func() { sum, err = bundle.Import(dst, "garbage.vgb", data, nil, nil) })
	if err != nil || sum.Records != n || sum.Rejected != n || len(sum.Rejections) != bundle.MaxRejections {
		t.Fatalf("summary %d records, %d rejected, %d named; %v", sum.Records, sum.Rejected, len(sum.Rejections), err)
	}
	t.Logf("%d garbage frames (%.1f MiB): allocated %d MiB in all, heap grew %d KiB", n, float64(len(data))/(1<<20), total>>20, inuse>>10)
	if inuse > 64<<20 {
		t.Errorf("heap grew %d MiB", inuse>>20)
	}
}

// A record that waits for one in a later batch is released by it: the
// import counts both as accepted, and nothing is left waiting.
func TestImportAcrossBatches(t *testing.T) {
	src, dst := joined(t)
	ms, _ := src.Mission()
	report, err := src.Put(incident.KindReport, incident.ReportPayload{Category: "polling.late_opening", Severity: 2, Title: "Opened late", Occurred: time.Now().UnixMilli()})
	if err != nil {
		t.Fatal(err)
	}
	review, err := src.Put(incident.KindReview, incident.ReviewPayload{Target: report.ID.Bytes(), Status: "verified"})
	if err != nil {
		t.Fatal(err)
	}
	raws := [][]byte{review.Raw}
	for i := range bundle.BatchRecords + 10 {
		c, err := src.Put(incident.KindCheckin, incident.CheckinPayload{Status: "arrived", Station: string(rune('A' + i%26))})
		if err != nil {
			t.Fatal(err)
		}
		raws = append(raws, c.Raw)
	}
	raws = append(raws, report.Raw)
	var buf bytes.Buffer
	if err := bundle.Write(&buf, ms.ID, time.Now(), raws); err != nil {
		t.Fatal(err)
	}
	var last int
	sum, err := bundle.Import(dst, "stick.vgb", buf.Bytes(), nil, func(done, total int) {
		if done < last || total != len(raws) {
			t.Errorf("progress(%d, %d) after %d", done, total, last)
		}
		last = done
	})
	if err != nil || sum.Accepted != len(raws) || sum.Quarantined != 0 || sum.Released != 0 || last != len(raws) {
		t.Fatalf("summary %+v, %v, progress to %d", sum, err, last)
	}
}

// A damaged encrypted bundle (a byte of its payload changed) is damage,
// not a file this device cannot open.
func TestImportDamagedEncrypted(t *testing.T) {
	src, dst := joined(t)
	ms, _ := src.Mission()
	raws, err := bundle.Select(src, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := bundle.Write(&buf, ms.ID, time.Now(), raws, dst.AgeIdentity().Recipient()); err != nil {
		t.Fatal(err)
	}
	bad := buf.Bytes()
	bad[len(bad)-40] ^= 1
	if _, err := bundle.Import(dst, "stick.vgb", bad, nil, nil); !errors.Is(err, bundle.ErrCorrupt) || errors.Is(err, bundle.ErrCannotOpen) {
		t.Fatalf("damaged encrypted bundle: %v", err)
	}
}
