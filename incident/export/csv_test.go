package export

import (
	"bytes"
	"encoding/csv"
	"errors"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/vigil-mesh/vigil/incident"
)

func TestAppendIDAndTime(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 1000 {
		var id incident.ID
		for k := range id {
			id[k] = byte(rng.Uint32())
		}
		if i == 0 {
			id = incident.ID{}
		}
		b, _ := id.AppendText([]byte("x"))
		if got, want := string(b), "x"+id.String(); got != want {
			t.Fatalf("AppendText = %q, want %q", got, want)
		}
	}
	for _, ms := range []int64{0, 1, -1, 1764056415123, -62135596800000, 253402300799999, 253402300800000, math.MaxInt64 / 1000, math.MinInt64 / 1000, rng.Int64()} {
		if got, want := string(appendTime(nil, ms)), incident.FormatTime(ms); got != want {
			t.Errorf("appendTime(%d) = %q, want %q", ms, got, want)
		}
	}
}

func TestAppendMicro(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	ms := []int64{0, 1, -1, 5, -5, 999999, 1000000, -1000000, 1000001, 180000000, -180000000, 36821987, -1292123,
		123456789012345, 999999999999999, 1000000000000000, -999999999999999, math.MaxInt64, math.MinInt64}
	for range 100000 {
		ms = append(ms, rng.Int64N(400_000_000)-200_000_000)
	}
	for range 10000 {
		ms = append(ms, int64(rng.Uint64()))
	}
	for _, m := range ms {
		if got, want := string(appendMicro(nil, &m)), strconv.FormatFloat(float64(m)/1e6, 'f', -1, 64); got != want {
			t.Fatalf("appendMicro(%d) = %q, want %q", m, got, want)
		}
	}
}

// csvField is what encoding/csv writes for one field (comma, CRLF).
func csvField(s string) []byte {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.UseCRLF = true
	w.Write([]string{s})
	w.Flush()
	return bytes.TrimSuffix(b.Bytes(), []byte("\r\n"))
}

// FuzzCSVField: a field is written byte for byte as encoding/csv writes it.
func FuzzCSVField(f *testing.F) {
	for _, s := range []string{"", "plain", `"`, `a"b`, "a,b", "\r", "\n", "\r\n", "a\rb\nc", " x", "\tx", "\u00a0x",
		"\u3000x", "\u0085x", "\x85x", "\xc2", `\.`, `\.x`, `\.;`, ";", "a;b", "; x", " ;x", "a;\"b", "=1+1", strings.Repeat("long ", 10) + ",", strings.Repeat("long ", 10) + "\"", "日本語", "العربية"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want := csvField(s)
		if got := appendCSVField(nil, s); !bytes.Equal(got, want) {
			t.Fatalf("string %q: got %q, want %q", s, got, want)
		}
		// Joined fields (the flags) are quoted as a whole.
		if got := appendCSVJoined(nil, strings.Split(s, ";")); !bytes.Equal(got, want) {
			t.Fatalf("joined %q: got %q, want %q", s, got, want)
		}
	})
}

// errWriter fails every write.
type errWriter struct{ n int }

func (w *errWriter) Write(p []byte) (int, error) { w.n++; return 0, errShort }

var errShort = errors.New("write failed")

func TestCSVWriteError(t *testing.T) {
	w := &errWriter{}
	cw, err := NewCSV(w, true)
	if err != nil {
		t.Fatal(err)
	}
	it := Item{View: incident.ReportView{Status: incident.StatusUnreviewed}}
	var werr error
	for range 2000 {
		if werr = cw.Write(&it); werr != nil {
			break
		}
	}
	if werr != errShort || cw.Close() != errShort || w.n != 1 {
		t.Fatalf("Write: %v, Close: %v, %d writes; want the writer's error, once", werr, cw.Close(), w.n)
	}
}

// randomView is a view with random text (quotes, commas, line breaks,
// spaces, non-ASCII) in every field and random absent values.
func randomView(rng *rand.Rand) incident.ReportView {
	pieces := []string{"a", "b", ",", `"`, "\r", "\n", " ", "\t", ";", "é", "日", "\u00a0", `\.`, "=", "", "<", "&", "\u2028", "\xff", "\x01"}
	text := func() string {
		s := ""
		for range rng.IntN(6) {
			s += pieces[rng.IntN(len(pieces))]
		}
		return s
	}
	micro := func() *int64 {
		if rng.IntN(3) == 0 {
			return nil
		}
		v := rng.Int64N(400_000_001) - 200_000_000
		return &v
	}
	v := incident.ReportView{Created: rng.Int64N(4e12) - 1e12, Sealed: rng.IntN(4) == 0, Opened: rng.IntN(2) == 0,
		Status: text(), Conflict: rng.IntN(2) == 0, Retracted: rng.IntN(2) == 0, RetractReason: text(), Amendments: rng.IntN(3),
		Report: incident.ReportPayload{Category: text(), Severity: uint64(rng.IntN(3)), Occurred: rng.Int64N(4e12) - 1e12,
			Station: text(), Area: text(), Lat: micro(), Lon: micro(), Precision: uint64(rng.IntN(2) * rng.IntN(500)),
			Title: text(), Description: text(), Channel: text(), Harm: text(), Reach: uint64(rng.IntN(2) * rng.IntN(1e6)), Source: text()}}
	for k := range v.ID {
		v.ID[k], v.Author[k] = byte(rng.Uint32()), byte(rng.IntN(2))
	}
	for range rng.IntN(3) {
		v.Flags = append(v.Flags, text())
		v.Report.Attachments = append(v.Report.Attachments, bytes.Repeat([]byte{byte(rng.Uint32())}, rng.IntN(40)))
	}
	return v
}

// The CSV writer prints a view's columns itself; they must be what the
// Columns print from the view's JSON form.
func TestCSVViewLikeColumns(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	items := goldenItems(t)
	for range 3000 {
		items = append(items, Item{View: randomView(rng)})
	}
	for i := range items {
		j := items[i].View.JSON(false)
		got, want := goldenCSV(t, items[i:i+1], false, ""), goldenCSV(t, []Item{{Public: &j, Observer: items[i].Observer, ReviewNote: items[i].ReviewNote}}, false, "")
		if !bytes.Equal(got, want) {
			t.Fatalf("view %d: CSV row\n %q, from its columns\n %q", i, got, want)
		}
	}
}
