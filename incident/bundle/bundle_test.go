package bundle

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/vigil-mesh/vigil/incident"
)

func sample(t testing.TB, n int) (incident.ID, [][]byte, []byte) {
	t.Helper()
	mission := incident.IDOf([]byte("mission"))
	var recs [][]byte
	for i := 0; i < n; i++ {
		recs = append(recs, bytes.Repeat([]byte{byte(i)}, MinRecordBytes+i))
	}
	var buf bytes.Buffer
	w, err := NewWriter(&buf, mission, 1700000000000, n)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if err := w.Add(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return mission, recs, buf.Bytes()
}

func TestRoundTrip(t *testing.T) {
	mission, recs, data := sample(t, 5)
	h, got, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	if h.Mission != mission || h.Count != 5 || h.Created != 1700000000000 {
		t.Fatalf("header %+v", h)
	}
	for i := range recs {
		if !bytes.Equal(got[i], recs[i]) {
			t.Fatalf("record %d differs", i)
		}
	}
}

// Every single-byte change and every truncation rejects the whole file.
func TestDamageRejectsWholeFile(t *testing.T) {
	_, _, data := sample(t, 3)
	for i := range data {
		bad := append([]byte(nil), data...)
		bad[i] ^= 0x01
		if _, recs, err := Parse(bad); !errors.Is(err, ErrCorrupt) || recs != nil {
			t.Fatalf("flip at %d: err %v, %d records", i, err, len(recs))
		}
	}
	for n := 0; n < len(data); n++ {
		if _, recs, err := Parse(data[:n]); !errors.Is(err, ErrCorrupt) || recs != nil {
			t.Fatalf("truncated to %d: err %v", n, err)
		}
	}
	if _, _, err := Parse(append(append([]byte(nil), data...), 0)); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("trailing byte: %v", err)
	}
}

func TestWriterCountMismatch(t *testing.T) {
	var buf bytes.Buffer
	w, _ := NewWriter(&buf, incident.ID{}, 0, 2)
	_ = w.Add([]byte("x"))
	if err := w.Close(); err == nil {
		t.Fatal("closed a bundle with fewer records than announced")
	}
}

func TestReadLimit(t *testing.T) {
	_, _, data := sample(t, 3)
	if _, _, err := Read(bytes.NewReader(data), int64(len(data)-1)); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("over limit: %v", err)
	}
	if _, _, err := Read(bytes.NewReader(data), int64(len(data))); err != nil {
		t.Fatal(err)
	}
}

// v2 writes sample records, two files and a secret.
func v2(t testing.TB) (incident.ID, Contents, []byte) {
	mission, raws, _ := sample(t, 3)
	c := Contents{Records: raws, Files: []File{{Data: []byte("photo one")}, {Data: bytes.Repeat([]byte{7}, 70<<10)}},
		Secrets: []Secret{{Secret: [32]byte{9}}}}
	for i := range c.Files {
		c.Files[i].Hash = sha256.Sum256(c.Files[i].Data)
	}
	c.Secrets[0].Epoch[0] = 1
	var buf bytes.Buffer
	w, err := NewFileWriter(&buf, mission, 1234, len(raws), len(c.Files), len(c.Secrets))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range raws {
		w.Add(r)
	}
	for _, f := range c.Files {
		w.AddFile(f.Hash, f.Data)
	}
	for _, s := range c.Secrets {
		w.AddSecret(s)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return mission, c, buf.Bytes()
}

// A bundle with files and secrets reads back whole; a file that does not
// match its hash damages the whole bundle; a version this build does not
// know is named as a newer Vigil's, not as damage.
func TestVersion2(t *testing.T) {
	mission, want, data := v2(t)
	h, got, err := ParseContents(data)
	if err != nil || h.Mission != mission || h.Files != 2 || !reflect.DeepEqual(got, want) {
		t.Fatalf("round trip: %+v %v", h, err)
	}
	if binary.BigEndian.Uint16(data[8:]) != 2 {
		t.Fatal("a bundle with files is not version 2")
	}
	_, recs, err := Parse(data)
	if err != nil || len(recs) != 3 {
		t.Fatalf("Parse of a version 2 bundle: %d records, %v", len(recs), err)
	}
	frames := 0
	if _, err := Frames(bytes.NewReader(data), MaxBytes, func(b [][]byte) error { frames += len(b); return nil }); err != nil || frames != 3 {
		t.Fatalf("Frames of a version 2 bundle: %d, %v", frames, err)
	}
	// Alter a byte of the second file and fix the checksum: the file no
	// longer matches its hash.
	bad := bytes.Clone(data)
	bad[len(bad)-32-64-10] ^= 1
	sum := sha256.Sum256(bad[:len(bad)-32])
	copy(bad[len(bad)-32:], sum[:])
	if _, _, err := ParseContents(bad); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "hash") {
		t.Errorf("altered file: %v", err)
	}
	newer := bytes.Clone(data)
	binary.BigEndian.PutUint16(newer[8:], 3)
	sum = sha256.Sum256(newer[:len(newer)-32])
	copy(newer[len(newer)-32:], sum[:])
	if _, _, err := ParseContents(newer); !errors.Is(err, ErrNewer) {
		t.Errorf("version 3: %v", err)
	}
}

func FuzzParse(f *testing.F) {
	_, _, data := sample(f, 3)
	f.Add(data)
	f.Add([]byte{})
	f.Add(Magic)
	_, _, withFiles := v2(f)
	f.Add(withFiles)
	for _, h := range hostile() {
		f.Add(h)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if _, _, err := ParseContents(b); err != nil && !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrNewer) {
			t.Fatalf("error neither ErrCorrupt nor ErrNewer: %v", err)
		}
		h, recs, err := Parse(b)
		if err != nil || h.Files > 0 {
			return
		}
		// A bundle that parses re-encodes to the same bytes.
		var buf bytes.Buffer
		w, err := NewWriter(&buf, h.Mission, h.Created, len(recs))
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			if err := w.Add(r); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(buf.Bytes(), b) {
			t.Fatal("re-encoding differs")
		}
	})
}

// hostile are small versions of the files made to cost their reader:
// many frames too short to be records, many garbage frames long enough,
// a count far past the frames, a frame that claims the limit.
func hostile() [][]byte {
	raw := func(count uint32, frames ...[]byte) []byte {
		b := append([]byte(nil), Magic...)
		b = binary.BigEndian.AppendUint16(b, 1)
		b = binary.BigEndian.AppendUint16(b, 0)
		b = append(b, make([]byte, 40)...)
		b = binary.BigEndian.AppendUint32(b, count)
		for _, f := range frames {
			b = binary.BigEndian.AppendUint32(b, uint32(len(f)))
			b = append(b, f...)
		}
		sum := sha256.Sum256(b)
		return append(b, sum[:]...)
	}
	repeat := func(n int, f []byte) [][]byte {
		out := make([][]byte, n)
		for i := range out {
			out[i] = f
		}
		return out
	}
	return [][]byte{
		raw(10_000, repeat(10_000, []byte{1})...),
		raw(600, repeat(600, bytes.Repeat([]byte{0xa5}, MinRecordBytes))...),
		raw(MaxRecords, bytes.Repeat([]byte{7}, MinRecordBytes)),
		append(raw(1), 0xff, 0xff, 0xff, 0xff),
	}
}

// FuzzCheckWalk reads bundles in two passes through readers that return
// a byte at a time or half of what is asked: Check and Walk agree with
// Parse, Walk hands on no batch larger than the limits, and Frames never
// hands on more records than the header announces.
func FuzzCheckWalk(f *testing.F) {
	_, _, data := sample(f, 3)
	f.Add(data)
	_, _, withFiles := v2(f)
	f.Add(withFiles)
	for _, h := range hostile() {
		f.Add(h)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		h, want, perr := ParseContents(b)
		c, err := Check(iotest.HalfReader(bytes.NewReader(b)), int64(len(b)))
		if (err == nil) != (perr == nil) {
			t.Fatalf("Check %v, Parse %v", err, perr)
		}
		if err == nil {
			var recs [][]byte
			var files []File
			err := c.Walk(iotest.OneByteReader(bytes.NewReader(b)), func(batch [][]byte) error {
				if len(batch) == 0 || len(batch) > BatchRecords {
					t.Fatalf("batch of %d records", len(batch))
				}
				recs = append(recs, batch...)
				return nil
			}, func(f File) error {
				files = append(files, f)
				return nil
			})
			if err != nil || c.Header != h || len(recs) != len(want.Records) || len(files) != len(want.Files) {
				t.Fatalf("Walk: %v; %d records, %d files; want %d, %d", err, len(recs), len(files), len(want.Records), len(want.Files))
			}
		}
		n := 0
		fh, _ := Frames(bytes.NewReader(b), int64(len(b)), func(batch [][]byte) error { n += len(batch); return nil })
		if n > fh.Count {
			t.Fatalf("Frames handed on %d records of %d", n, fh.Count)
		}
	})
}
