package export

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"hash/crc32"
	"testing"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/bundle"
	"github.com/vigil-mesh/vigil/internal/testrec"
)

// FuzzVerify feeds arbitrary files to Verify (JSONL, bundle and evidence
// readers): it must never panic, and a file that is not a readable export
// is an error or a verdict, never a silent OK.
func FuzzVerify(f *testing.F) {
	m := newPaperMission(f, "Fuzz mission").standard()
	var jsonl bytes.Buffer
	jw, _ := NewJSONL(&jsonl, m.deps)
	for i := range m.items {
		jw.Write(&m.items[i])
	}
	f.Add(jsonl.Bytes())
	// A newer Vigil's record (a kind this build does not know) on its
	// JSONL line and in a bundle.
	notice := m.accept(m.sign(m.observer, "bulletin", map[uint64]any{1: "Stations close at 18:00"}))
	var newer bytes.Buffer
	nw, _ := NewJSONL(&newer, m.deps)
	nw.Newer(notice)
	nw.Write(&m.items[0])
	f.Add(newer.Bytes())
	raws := [][]byte{}
	for _, d := range m.deps {
		raws = append(raws, d.Raw)
	}
	var b bytes.Buffer
	bundle.Write(&b, m.ms.ID, paperT0, append(raws, notice.Raw, m.items[0].Record))
	f.Add(b.Bytes())
	// The observation tables' JSON Lines (tally, response and station
	// lines with their records).
	ow := newObsWorld(f)
	for _, table := range []string{RecordsTallies, RecordsChecklists, RecordsStations} {
		var tb bytes.Buffer
		if _, err := ow.obs(false).WriteJSONL(table, &tb, ow.deps, "", true); err != nil {
			f.Fatal(err)
		}
		f.Add(tb.Bytes())
	}
	f.Add([]byte("{}\n"))
	f.Add(append(append([]byte(nil), bundle.Magic...), make([]byte, 80)...))
	f.Add([]byte("PK\x03\x04"))
	for _, h := range hostileFiles(f) {
		f.Add(h)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		rep, err := Verify(bytes.NewReader(data), nil)
		if err != nil {
			return
		}
		if !bytes.Equal(data, jsonl.Bytes()) && len(rep.Verdicts) > 0 && rep.Bad() == 0 && rep.Mission.IsZero() {
			t.Fatalf("verdicts all OK without a mission: %+v", rep.Verdicts)
		}
	})
}

// FuzzParseQRText: the QR payload parser never panics.
func FuzzParseQRText(f *testing.F) {
	f.Add("VIGIL1:AAAA")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		_, _ = ParseQRText(s)
	})
}

// hostileFiles are small versions of the files made to cost a verifier:
// a chain of enrollments newest first, many frames too short to be
// records, more garbage frames than verify names, a zip that holds a name
// twice, and one whose entry inflates past its declared size.
func hostileFiles(tb testing.TB) [][]byte {
	zipOf := func(write func(zw *zip.Writer)) []byte {
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		write(zw)
		zw.Close()
		return buf.Bytes()
	}
	dup := zipOf(func(zw *zip.Writer) {
		for range 2 {
			w, _ := zw.Create("manifest.json")
			w.Write([]byte(`{"format":"vigil-evidence/1"}`))
		}
	})
	liar := zipOf(func(zw *zip.Writer) {
		var z bytes.Buffer
		fl, _ := flate.NewWriter(&z, flate.BestCompression)
		fl.Write(make([]byte, 1<<16))
		fl.Close()
		w, _ := zw.CreateRaw(&zip.FileHeader{Name: "manifest.json", Method: zip.Deflate, CRC32: crc32.ChecksumIEEE(make([]byte, 2)),
			CompressedSize64: uint64(z.Len()), UncompressedSize64: 2})
		w.Write(z.Bytes())
	})
	return [][]byte{chainedBundle(tb, 30), testrec.Frames(incident.ID{}, 10_000, 1), testrec.Frames(incident.ID{}, MaxUndecodable+20, bundle.MinRecordBytes), dup, liar}
}
