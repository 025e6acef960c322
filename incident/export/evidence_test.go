package export_test

import (
	"archive/zip"
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"path"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/export"
	"github.com/vigil-mesh/vigil/incident/store"
	"github.com/vigil-mesh/vigil/incident/vault"
)

var cheap = vault.KDFParams{Time: 1, MemoryKiB: 64, Threads: 1}

type evWorld struct {
	coord, obs *store.Store
	before     incident.ID // a report the checkpoint covers
	after      incident.ID // a report added after it
	att        [32]byte
	pkg        []byte
}

// openStore is a fresh store in a temporary folder, closed when the test
// ends.
func openStore(t testing.TB) *store.Store {
	t.Helper()
	s, err := store.Init(t.TempDir(), []byte("pw"), store.Options{KDF: &cheap})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// missionPair is a coordinator's store with a new mission of name, and
// an observer's store that joined it.
func missionPair(t testing.TB, name string, sealed bool) (coord, obs *store.Store) {
	t.Helper()
	coord, obs = openStore(t), openStore(t)
	if _, err := coord.CreateMission(name, "desk", sealed); err != nil {
		t.Fatal(err)
	}
	code, err := coord.Invite(store.InviteRequest{Role: incident.RoleObserver})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := obs.Join(code); err != nil {
		t.Fatal(err)
	}
	return coord, obs
}

func newEvWorld(t *testing.T) *evWorld {
	t.Helper()
	w := &evWorld{}
	w.coord, w.obs = missionPair(t, "Evidence mission", false)
	data := []byte("photo of the tally sheet")
	w.att = sha256.Sum256(data)
	if err := w.obs.PutBlob(w.att, data); err != nil {
		t.Fatal(err)
	}
	if _, err := w.obs.Put(incident.KindAttachment, incident.AttachmentPayload{Hash: w.att[:], Size: uint64(len(data)), Mime: "image/jpeg"}); err != nil {
		t.Fatal(err)
	}
	r, err := w.obs.Put(incident.KindReport, incident.ReportPayload{Category: "polling.tally_discrepancy", Severity: 3,
		Occurred: time.Now().UnixMilli(), Title: "Tally differs from the count", Attachments: [][]byte{w.att[:]}})
	if err != nil {
		t.Fatal(err)
	}
	w.before = r.ID
	w.move(t)
	if _, _, err := w.coord.Checkpoint(); err != nil {
		t.Fatal(err)
	}
	r, err = w.obs.Put(incident.KindReport, incident.ReportPayload{Category: "other", Severity: 1, Occurred: time.Now().UnixMilli(), Title: "later"})
	if err != nil {
		t.Fatal(err)
	}
	w.after = r.ID
	w.move(t)
	w.pkg = w.export(t, w.coord.Signer())
	return w
}

// move copies every record and blob the observer holds to the coordinator.
func (w *evWorld) move(t *testing.T) {
	for _, k := range incident.Kinds {
		recs, _ := w.obs.ByKind(k)
		for _, r := range recs {
			if res := w.coord.Add(r.Raw, "test"); res.Outcome == store.Rejected {
				t.Fatal(res.Err)
			}
		}
	}
	if data, err := w.obs.Blob(w.att); err == nil {
		_ = w.coord.PutBlob(w.att, data)
	}
}

func (w *evWorld) export(t *testing.T, signer *incident.Signer) []byte {
	t.Helper()
	ms, _ := w.coord.Mission()
	ev := export.Evidence{Mission: ms, Signer: signer, Now: time.Now(), Attachments: map[[32]byte][]byte{}}
	for _, k := range incident.Kinds {
		recs, _ := w.coord.ByKind(k)
		ev.Records = append(ev.Records, recs...)
		if k == incident.KindCheckpoint {
			for _, cp := range recs {
				list, err := w.coord.Covered(cp.ID)
				if err != nil {
					t.Fatal(err)
				}
				ev.Checkpoints = append(ev.Checkpoints, export.CheckpointCover{Record: cp, Covered: list})
			}
		}
	}
	data, _ := w.coord.Blob(w.att)
	ev.Attachments[w.att] = data
	var buf bytes.Buffer
	if err := export.WriteEvidence(&buf, ev); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func verify(t *testing.T, pkg []byte) *export.Report {
	t.Helper()
	rep, err := export.Verify(bytes.NewReader(pkg), nil)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func verdictOf(rep *export.Report, id string) *export.Verdict {
	for i := range rep.Verdicts {
		if rep.Verdicts[i].ID == id {
			return &rep.Verdicts[i]
		}
	}
	return nil
}

// rezip rewrites a package through edit (name → content; nil deletes).
func rezip(t *testing.T, pkg []byte, edit func(files map[string][]byte)) []byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(pkg), int64(len(pkg)))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	var order []string
	for _, f := range zr.File {
		rc, _ := f.Open()
		b, _ := io.ReadAll(rc)
		rc.Close()
		files[f.Name] = b
		order = append(order, f.Name)
	}
	edit(files)
	known := map[string]bool{}
	for _, n := range order {
		known[n] = true
	}
	for n := range files {
		if !known[n] {
			order = append(order, n)
		}
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, name := range order {
		b, ok := files[name]
		if !ok || b == nil {
			continue
		}
		fw, _ := zw.Create(name)
		fw.Write(b)
	}
	zw.Close()
	return buf.Bytes()
}

func TestEvidenceVerifies(t *testing.T) {
	w := newEvWorld(t)
	rep := verify(t, w.pkg)
	if rep.Format != "evidence" || rep.Bad() != 0 {
		t.Fatalf("a fresh package fails: %+v", rep.Verdicts)
	}
	if v := verdictOf(rep, w.before.String()); v == nil || !strings.HasPrefix(v.Covered, "covered by checkpoint") {
		t.Fatalf("the report made before the checkpoint: %+v", v)
	}
	if v := verdictOf(rep, w.after.String()); v == nil || v.Covered != "no checkpoint covers it" {
		t.Fatalf("the report added after the checkpoint: %+v", v)
	}
	if v := verdictOf(rep, "manifest"); v == nil || !v.OK {
		t.Fatalf("manifest verdict %+v", v)
	}
}

func TestEvidenceTampering(t *testing.T) {
	w := newEvWorld(t)
	recPath := "records/" + w.before.String() + ".cbor"
	cases := []struct {
		name string
		edit func(files map[string][]byte)
		want string // ID of the item that must be BAD
	}{
		{"changed byte in a record", func(f map[string][]byte) { f[recPath][len(f[recPath])/2] ^= 1 }, w.before.String()},
		{"removed record", func(f map[string][]byte) { delete(f, recPath) }, w.before.String()},
		{"swapped attachment", func(f map[string][]byte) {
			f["attachments/"+hex.EncodeToString(w.att[:])] = []byte("another photo")
		}, "attachments/" + hex.EncodeToString(w.att[:])},
		{"added file", func(f map[string][]byte) { f["records/extra.cbor"] = []byte("x") }, "records/extra.cbor"},
		{"manifest altered", func(f map[string][]byte) {
			f["manifest.json"] = bytes.Replace(f["manifest.json"], []byte("Evidence mission"), []byte("Evidence mission!"), 1)
		}, "manifest"},
		{"manifest re-signed by an outsider", func(f map[string][]byte) {
			var m export.Manifest
			json.Unmarshal(f["manifest.json"], &m)
			_, priv, _ := ed25519.GenerateKey(nil)
			outsider, _ := incident.NewSigner(priv.Seed())
			m.Exporter = outsider.Author().String()
			mb, _ := json.MarshalIndent(m, "", " ")
			f["manifest.json"] = mb
			f["manifest.sig"] = outsider.SignBytes(append([]byte("vigil/evidence/v1\x00"), mb...))
		}, "manifest"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rep := verify(t, rezip(t, w.pkg, c.edit))
			if rep.Bad() == 0 {
				t.Fatal("tampered package verifies")
			}
			found := false
			for _, v := range rep.Verdicts {
				if v.ID == c.want && !v.OK {
					found = true
				}
			}
			if !found {
				t.Fatalf("no BAD verdict names %s: %+v", c.want, rep.Verdicts)
			}
		})
	}
}

// A checkpoint whose covered list was changed no longer matches its root.
func TestEvidenceCheckpointListTampered(t *testing.T) {
	w := newEvWorld(t)
	rep := verify(t, rezip(t, w.pkg, func(f map[string][]byte) {
		for name, b := range f {
			if strings.HasPrefix(name, "checkpoints/") {
				f[name] = b[:len(b)-32] // drop one covered ID
			}
		}
	}))
	if rep.Bad() == 0 {
		t.Fatal("a changed checkpoint list verifies")
	}
}

// A package signed by an observer is refused: only coordinators export.
func TestEvidenceSignedByObserver(t *testing.T) {
	w := newEvWorld(t)
	rep := verify(t, w.export(t, w.obs.Signer()))
	if v := verdictOf(rep, "manifest"); v == nil || v.OK {
		t.Fatalf("observer-signed manifest: %+v", v)
	}
}

// rezipAs writes a package's entries again as ordinary tools do: with
// folder entries, names under prefix, compressed, plus the extra entries.
func rezipAs(t *testing.T, pkg []byte, prefix string, extra map[string][]byte) []byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(pkg), int64(len(pkg)))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	folders := map[string]bool{}
	for _, f := range zr.File {
		if dir := path.Dir(f.Name); dir != "." && !folders[dir] {
			folders[dir] = true
			zw.Create(prefix + dir + "/")
		}
		rc, _ := f.Open()
		b, _ := io.ReadAll(rc)
		rc.Close()
		fw, _ := zw.CreateHeader(&zip.FileHeader{Name: prefix + f.Name, Method: zip.Deflate})
		fw.Write(b)
	}
	for name, b := range extra {
		fw, _ := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate})
		fw.Write(b)
	}
	zw.Close()
	return buf.Bytes()
}

// A package unpacked and zipped again by ordinary tools (folder entries,
// "./" names, compression) still verifies; one in which a name appears
// twice is refused, whichever copy is genuine.
func TestEvidenceRezipped(t *testing.T) {
	w := newEvWorld(t)
	for _, prefix := range []string{"", "./"} {
		if rep := verify(t, rezipAs(t, w.pkg, prefix, nil)); rep.Bad() != 0 {
			t.Errorf("re-zipped with prefix %q: %+v", prefix, rep.Verdicts)
		}
	}
	recPath := "records/" + w.before.String() + ".cbor"
	dup := rezipAs(t, w.pkg, "", map[string][]byte{recPath: []byte("a second copy")})
	if _, err := export.Verify(bytes.NewReader(dup), nil); err == nil || !strings.Contains(err.Error(), "appears twice") {
		t.Errorf("a duplicated entry: %v", err)
	}
}

// Entries whose declared sizes add up past the limit are refused before
// anything is unpacked: three entries that say 1000 MiB each (a zip bomb
// of zeros declares its sizes honestly) cost a few KiB, not gigabytes.
func TestEvidenceUnpackLimit(t *testing.T) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for i := 0; i < 3; i++ {
		fw, err := zw.CreateRaw(&zip.FileHeader{Name: fmt.Sprintf("attachments/%d", i), Method: zip.Store,
			CompressedSize64: 4, UncompressedSize64: 1000 << 20})
		if err != nil {
			t.Fatal(err)
		}
		fw.Write([]byte("zero"))
	}
	zw.Close()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := export.Verify(bytes.NewReader(buf.Bytes()), nil)
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	if err == nil || !strings.Contains(err.Error(), "unpacks to more than") {
		t.Fatalf("a zip bomb: %v", err)
	}
	t.Logf("%d-byte zip declaring 3000 MiB refused; allocated %d KiB while verifying", buf.Len(), (after.TotalAlloc-before.TotalAlloc)>>10)
}
