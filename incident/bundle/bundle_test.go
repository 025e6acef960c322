package bundle

import (
	"bytes"
	"errors"
	"testing"

	"github.com/vigil-mesh/vigil/incident"
)

func sample(t testing.TB, n int) (incident.ID, [][]byte, []byte) {
	t.Helper()
	mission := incident.IDOf([]byte("mission"))
	var recs [][]byte
	for i := 0; i < n; i++ {
		recs = append(recs, bytes.Repeat([]byte{byte(i)}, 10+i))
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

func FuzzParse(f *testing.F) {
	_, _, data := sample(f, 3)
	f.Add(data)
	f.Add([]byte{})
	f.Add(Magic)
	f.Fuzz(func(t *testing.T, b []byte) {
		h, recs, err := Parse(b)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error not ErrCorrupt: %v", err)
			}
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
