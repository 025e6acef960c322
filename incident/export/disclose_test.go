package export_test

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/export"
	"github.com/vigil-mesh/vigil/incident/store"
)

// A sealed mission: an observer's sealed report with a photo, and a
// sealed report without files, moved to the coordinator.
type sealedWorld struct {
	coord, obs     *store.Store
	report, second incident.ID
	photo          []byte
	photoSum       [32]byte // plaintext
	cipherSum      [32]byte // what the report names
}

const sealedTitle = "Ballot box NEEDLE-7 carried out by two men"

func newSealedWorld(t testing.TB) *sealedWorld { t.Helper(); return newSealedWorldBlob(t, true) }

// newSealedWorldBlob: with blob false, the photo never reaches the
// coordinator.
func newSealedWorldBlob(t testing.TB, blob bool) *sealedWorld {
	t.Helper()
	w := &sealedWorld{}
	w.coord, w.obs = missionPair(t, "Sealed mission", true)
	w.photo = append([]byte("\xff\xd8\xff\xe0JFIF PHOTO-PLAINTEXT-MARKER "), bytes.Repeat([]byte("pixels "), 900)...)
	w.photoSum = sha256.Sum256(w.photo)
	ct, key, rec, err := incident.SealFile(w.photo, "box.jpg", "image/jpeg")
	if err != nil {
		t.Fatal(err)
	}
	copy(w.cipherSum[:], key.Cipher)
	if err := w.obs.PutBlob(w.cipherSum, ct); err != nil {
		t.Fatal(err)
	}
	if _, err := w.obs.Put(incident.KindAttachment, rec); err != nil {
		t.Fatal(err)
	}
	r, err := w.obs.PutSealed(incident.KindReport, nil, incident.ReportPayload{Category: "polling.violence", Severity: 4,
		Occurred: time.Now().UnixMilli(), Title: sealedTitle, Attachments: [][]byte{key.Cipher}, Files: []incident.FileKey{key}})
	if err != nil {
		t.Fatal(err)
	}
	w.report = r.ID
	r, err = w.obs.PutSealed(incident.KindReport, nil, incident.ReportPayload{Category: "other", Severity: 1,
		Occurred: time.Now().UnixMilli(), Title: "queue is long"})
	if err != nil {
		t.Fatal(err)
	}
	w.second = r.ID
	for _, k := range incident.Kinds {
		recs, _ := w.obs.ByKind(k)
		for _, r := range recs {
			if res := w.coord.Add(r.Raw, "test"); res.Outcome == store.Rejected {
				t.Fatal(res.Err)
			}
		}
	}
	if !blob {
		return w
	}
	if err := w.coord.PutBlob(w.cipherSum, ct); err != nil {
		t.Fatal(err)
	}
	return w
}

func (w *sealedWorld) export(t testing.TB, disclose bool) ([]byte, export.Result) {
	t.Helper()
	var buf bytes.Buffer
	res, err := export.FromStore(w.coord, &buf, export.Request{Format: "evidence", DiscloseKeys: disclose})
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), res
}

func verifyPkg(t testing.TB, pkg []byte) *export.Report {
	t.Helper()
	rep, err := export.Verify(bytes.NewReader(pkg), nil)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// badLines returns the verdicts that failed, as verify prints them.
func badLines(rep *export.Report) []string {
	var out []string
	for _, v := range rep.Verdicts {
		if !v.OK {
			out = append(out, v.String())
		}
	}
	return out
}

// unzip returns a package's entries.
func unzip(t testing.TB, pkg []byte) map[string][]byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(pkg), int64(len(pkg)))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, f := range zr.File {
		rc, _ := f.Open()
		out[f.Name], _ = io.ReadAll(rc)
		rc.Close()
	}
	return out
}

// repack rewrites a package as its exporter could: edit changes the
// entries (nil removes one), then the manifest is recomputed and signed
// again with signer. What verify catches after repack, it catches from
// the exporter itself.
func repack(t testing.TB, pkg []byte, signer *incident.Signer, edit func(files map[string][]byte)) []byte {
	t.Helper()
	files := unzip(t, pkg)
	var man export.Manifest
	if err := json.Unmarshal(files["manifest.json"], &man); err != nil {
		t.Fatal(err)
	}
	edit(files)
	meta := map[string]export.ManifestFile{}
	for _, f := range man.Files {
		meta[f.Path] = f
	}
	man.Files = nil
	var names []string
	for name, data := range files {
		if name == "manifest.json" || name == "manifest.sig" || data == nil {
			continue
		}
		names = append(names, name)
	}
	sort.Strings(names)
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, name := range names {
		f := meta[name]
		if strings.HasPrefix(name, "keys/") && f.ID == "" {
			f.ID = strings.TrimSuffix(strings.TrimPrefix(name, "keys/"), ".key")
		}
		sum := sha256.Sum256(files[name])
		f.Path, f.SHA256, f.Size = name, hex.EncodeToString(sum[:]), len(files[name])
		man.Files = append(man.Files, f)
		hw, _ := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Store})
		hw.Write(files[name])
	}
	mb, _ := json.MarshalIndent(man, "", " ")
	hw, _ := zw.CreateHeader(&zip.FileHeader{Name: "manifest.json", Method: zip.Store})
	hw.Write(mb)
	hw, _ = zw.CreateHeader(&zip.FileHeader{Name: "manifest.sig", Method: zip.Store})
	hw.Write(signer.SignBytes(append([]byte("vigil/evidence/v1\x00"), mb...)))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func (w *sealedWorld) photoEntry() string {
	return "files/" + hex.EncodeToString(w.photoSum[:]) + ".jpg"
}

func TestEvidenceWithoutDisclosureHidesSealedContent(t *testing.T) {
	w := newSealedWorld(t)
	pkg, res := w.export(t, false)
	if res.Disclosed != 0 || res.Undisclosed != 2 || res.MissingFiles != 0 {
		t.Fatalf("result %+v: want 2 undisclosed, nothing disclosed or missing", res)
	}
	for _, secret := range [][]byte{[]byte(sealedTitle), []byte("NEEDLE-7"), []byte("PHOTO-PLAINTEXT-MARKER"), []byte("box.jpg"), w.photo[:64]} {
		if bytes.Contains(pkg, secret) {
			t.Fatalf("the package holds %q in clear", secret)
		}
	}
	files := unzip(t, pkg)
	for name := range files {
		if strings.HasPrefix(name, "keys/") || strings.HasPrefix(name, "files/") {
			t.Fatalf("undisclosed package holds %s", name)
		}
	}
	if !bytes.Contains(files["manifest.json"], []byte(`"vigil-evidence/1"`)) {
		t.Fatalf("a package that discloses nothing stays format 1:\n%s", files["manifest.json"])
	}
	rep := verifyPkg(t, pkg)
	if rep.Bad() != 0 {
		t.Fatalf("bad: %v", badLines(rep))
	}
	v := *verdictOf(rep, w.report.String())
	if v.Sealed != export.SealedNotDisclosed || !strings.Contains(v.String(), "content not checked") {
		t.Fatalf("sealed report without a key: %q", v)
	}
	if rep.NotDisclosed() != 2 || rep.Opened() != 0 {
		t.Fatalf("not disclosed %d, opened %d; want 2, 0", rep.NotDisclosed(), rep.Opened())
	}
}

func TestEvidenceDisclosedVerifies(t *testing.T) {
	w := newSealedWorld(t)
	pkg, res := w.export(t, true)
	if res.Disclosed != 2 || res.OpenedFiles != 1 || res.Undisclosed != 0 {
		t.Fatalf("result %+v: want 2 disclosed, 1 opened file", res)
	}
	files := unzip(t, pkg)
	if !bytes.Equal(files[w.photoEntry()], w.photo) {
		t.Fatalf("no opened photo at %s; %d entries", w.photoEntry(), len(files))
	}
	if !bytes.Contains(files["manifest.json"], []byte(`"vigil-evidence/2"`)) {
		t.Fatal("a disclosing package is format 2")
	}
	if k := files["keys/"+w.report.String()+".key"]; len(k) != 32 {
		t.Fatalf("key entry %q", k)
	}
	rep := verifyPkg(t, pkg)
	if rep.Bad() != 0 {
		t.Fatalf("bad: %v", badLines(rep))
	}
	for _, id := range []incident.ID{w.report, w.second} {
		v := *verdictOf(rep, id.String())
		if v.Sealed != export.SealedOpened || !strings.Contains(v.String(), "sealed content checked") {
			t.Fatalf("disclosed record: %q", v)
		}
	}
	if rep.Opened() != 2 || rep.MissingFiles() != 0 {
		t.Fatalf("opened %d, missing %d", rep.Opened(), rep.MissingFiles())
	}
}

func TestEvidenceTamperedPlaintextCaught(t *testing.T) {
	w := newSealedWorld(t)
	pkg, _ := w.export(t, true)
	fake := append([]byte(nil), w.photo...)
	fake[100] ^= 1
	fakeSum := sha256.Sum256(fake)
	cases := []struct {
		name, want string
		pkg        []byte
	}{
		{"changed in the zip", "zip: checksum error", func() []byte {
			i := bytes.Index(pkg, w.photo)
			out := append([]byte(nil), pkg...)
			out[i+100] ^= 1
			return out
		}()},
		{"changed, manifest signed again", "opened file does not match the hash it is named by", repack(t, pkg, w.coord.Signer(), func(f map[string][]byte) {
			f[w.photoEntry()] = fake
		})},
		{"swapped under its own hash", "is not the plaintext of any file", repack(t, pkg, w.coord.Signer(), func(f map[string][]byte) {
			f[w.photoEntry()] = nil
			f["files/"+hex.EncodeToString(fakeSum[:])+".jpg"] = fake
		})},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rep := verifyPkg(t, c.pkg)
			bad := badLines(rep)
			if len(bad) == 0 || !strings.Contains(strings.Join(bad, "\n"), c.want) {
				t.Fatalf("want a BAD line with %q, got %v", c.want, bad)
			}
		})
	}
}

func TestEvidenceTamperedKeyCaught(t *testing.T) {
	w := newSealedWorld(t)
	pkg, _ := w.export(t, true)
	files := unzip(t, pkg)
	k1, k2 := "keys/"+w.report.String()+".key", "keys/"+w.second.String()+".key"
	flip := append([]byte(nil), files[k1]...)
	if flip[0] == '0' {
		flip[0] = '1'
	} else {
		flip[0] = '0'
	}
	genesis, _ := w.coord.Mission()
	cases := []struct {
		name, want string
		edit       func(f map[string][]byte)
	}{
		{"one digit changed", "does not open record", func(f map[string][]byte) { f[k1] = flip }},
		// Another record's key: age's header MAC binds the key to the
		// signed ciphertext, so it opens nothing else.
		{"another record's key", "does not open record", func(f map[string][]byte) { f[k1], f[k2] = f[k2], f[k1] }},
		{"a key for a record the package lacks", "which the package does not hold", func(f map[string][]byte) {
			f["keys/"+incident.IDOf([]byte("elsewhere")).String()+".key"] = files[k1]
		}},
		{"a key for a clear record", "which is not sealed", func(f map[string][]byte) {
			f["keys/"+genesis.ID.String()+".key"] = files[k1]
		}},
		{"huge", "malformed", func(f map[string][]byte) { f[k1] = bytes.Repeat([]byte("a"), 1<<20) }},
		{"not hex", "malformed", func(f map[string][]byte) { f[k1] = []byte(strings.Repeat("zz", 16)) }},
		{"upper case", "malformed", func(f map[string][]byte) { f[k1] = bytes.ToUpper(files[k1]) }},
		{"misnamed", "not named keys/<record ID>.key", func(f map[string][]byte) { f["keys/x.key"] = files[k1] }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rep := verifyPkg(t, repack(t, pkg, w.coord.Signer(), c.edit))
			bad := badLines(rep)
			if len(bad) == 0 || !strings.Contains(strings.Join(bad, "\n"), c.want) {
				t.Fatalf("want a BAD line with %q, got %v", c.want, bad)
			}
			for _, b := range bad {
				if len(b) > 600 {
					t.Fatalf("a BAD line echoes the entry: %.200q…", b)
				}
			}
		})
	}
	// The untouched package, repacked, still verifies: the cases fail
	// for their edit, not for the repacking.
	if rep := verifyPkg(t, repack(t, pkg, w.coord.Signer(), func(map[string][]byte) {})); rep.Bad() != 0 {
		t.Fatalf("repacked as is: %v", badLines(rep))
	}
}

func TestEvidenceMissingFileReported(t *testing.T) {
	// Sealed: the coordinator never received the photo.
	w := newSealedWorldBlob(t, false)
	pkg, res := w.export(t, true)
	if res.MissingFiles != 1 || res.OpenedFiles != 0 {
		t.Fatalf("result %+v: want 1 missing file, none opened", res)
	}
	rep := verifyPkg(t, pkg)
	if rep.Bad() != 0 {
		t.Fatalf("a missing file is a note, not a failure: %v", badLines(rep))
	}
	v := *verdictOf(rep, w.report.String())
	if len(v.MissingFiles) != 1 || v.MissingFiles[0] != hex.EncodeToString(w.cipherSum[:]) || !strings.Contains(v.String(), "1 attached file not in the package") {
		t.Fatalf("report line: %q", v)
	}
	if rep.MissingFiles() != 1 {
		t.Fatalf("missing %d", rep.MissingFiles())
	}

	// Clear: the file was taken out of a package (signed again).
	e := newEvWorld(t)
	name := "attachments/" + hex.EncodeToString(e.att[:])
	rep = verifyPkg(t, repack(t, e.pkg, e.coord.Signer(), func(f map[string][]byte) { f[name] = nil }))
	v = *verdictOf(rep, e.before.String())
	if !v.OK || len(v.MissingFiles) != 1 {
		t.Fatalf("report whose file left the package: %q", v)
	}
}

func TestEvidenceFormat1RefusesDisclosures(t *testing.T) {
	w := newSealedWorld(t)
	pkg, _ := w.export(t, true)
	p1 := repack(t, pkg, w.coord.Signer(), func(f map[string][]byte) {
		f["manifest.json"] = nil
	})
	// repack keeps the manifest's format: set it to 1 by hand.
	files := unzip(t, p1)
	var man export.Manifest
	json.Unmarshal(files["manifest.json"], &man)
	man.Format = export.EvidenceFormat
	mb, _ := json.MarshalIndent(man, "", " ")
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, data := range files {
		if name == "manifest.json" || name == "manifest.sig" {
			continue
		}
		hw, _ := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Store})
		hw.Write(data)
	}
	hw, _ := zw.CreateHeader(&zip.FileHeader{Name: "manifest.json", Method: zip.Store})
	hw.Write(mb)
	hw, _ = zw.CreateHeader(&zip.FileHeader{Name: "manifest.sig", Method: zip.Store})
	hw.Write(w.coord.Signer().SignBytes(append([]byte("vigil/evidence/v1\x00"), mb...)))
	zw.Close()
	rep := verifyPkg(t, buf.Bytes())
	if bad := strings.Join(badLines(rep), "\n"); !strings.Contains(bad, "disclosed content in a vigil-evidence/1 package") {
		t.Fatalf("format 1 with keys: %s", bad)
	}
	// A format this build does not know is refused by name.
	man.Format = "vigil-evidence/3"
	mb, _ = json.MarshalIndent(man, "", " ")
	buf.Reset()
	zw = zip.NewWriter(&buf)
	hw, _ = zw.CreateHeader(&zip.FileHeader{Name: "manifest.json", Method: zip.Store})
	hw.Write(mb)
	zw.Close()
	if _, err := export.Verify(bytes.NewReader(buf.Bytes()), nil); err == nil || !strings.Contains(err.Error(), `format "vigil-evidence/3"`) {
		t.Fatalf("newer format: %v", err)
	}
}

// A coordinator the mission revoked cannot vouch for a package: its
// device refuses to export, and verify calls a package it signed after
// the revocation BAD (each record still verifies on its own line).
func TestEvidenceRevokedExporter(t *testing.T) {
	w := newSealedWorld(t)
	c2 := openStore(t)
	a := c2.Author()
	code, err := w.coord.Invite(store.InviteRequest{Role: incident.RoleCoordinator, For: &a})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c2.Join(code); err != nil {
		t.Fatal(err)
	}
	copyAll := func(from, to *store.Store) {
		for _, k := range incident.Kinds {
			recs, _ := from.ByKind(k)
			for _, r := range recs {
				to.Add(r.Raw, "test")
			}
		}
	}
	copyAll(c2, w.coord)
	if _, err := w.coord.Put(incident.KindRevoke, incident.RevokePayload{Member: a[:], Reason: "laptop seized"}); err != nil {
		t.Fatal(err)
	}
	copyAll(w.coord, c2)
	var buf bytes.Buffer
	if _, err := export.FromStore(c2, &buf, export.Request{Format: "evidence", DiscloseKeys: true}); err == nil || !strings.Contains(err.Error(), "revoked") {
		t.Fatalf("a revoked coordinator exported: %v", err)
	}
	ms, _ := c2.Mission()
	ev := export.Evidence{Mission: ms, Signer: c2.Signer(), Now: time.Now()}
	for _, k := range incident.Kinds {
		recs, _ := c2.ByKind(k)
		ev.Records = append(ev.Records, recs...)
	}
	if err := export.WriteEvidence(&buf, ev); err != nil {
		t.Fatal(err)
	}
	rep := verifyPkg(t, buf.Bytes())
	if m := verdictOf(rep, "manifest"); m == nil || m.OK || !strings.Contains(m.Reason, "revoked") {
		t.Fatalf("manifest by a revoked coordinator: %+v", m)
	}
}

// FuzzEvidenceKey: whatever a package's exporter puts in a key entry, or
// names it, verify never panics, and only the real key of the record
// passes.
func FuzzEvidenceKey(f *testing.F) {
	w := newSealedWorld(f)
	pkg, _ := w.export(f, true)
	name := "keys/" + w.report.String() + ".key"
	real := unzip(f, pkg)[name]
	f.Add(name, real)
	f.Add(name, []byte(strings.Repeat("0", 32)))
	f.Add("keys/"+w.second.String()+".key", real)
	f.Add("keys/.key", []byte{})
	f.Add("keys/"+w.report.String(), bytes.Repeat([]byte{0xff}, 64))
	f.Fuzz(func(t *testing.T, entry string, key []byte) {
		if !strings.HasPrefix(entry, "keys/") || strings.ContainsAny(entry, "\x00\\") || len(entry) > 200 {
			return
		}
		rep := verifyPkg(t, repack(t, pkg, w.coord.Signer(), func(files map[string][]byte) {
			files[name] = nil
			files[entry] = key
		}))
		if rep.Bad() == 0 && (entry != name || !bytes.Equal(key, real)) {
			t.Fatalf("entry %q with key %q verified", entry, key)
		}
	})
}
