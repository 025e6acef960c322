package incident

import (
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

const registryFile = "act/testdata/stations.csv"

func readFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The real-format registry reads whole: codes, admin paths, voters,
// microdegrees, tags; a byte order mark, CRLF and the columns in another
// order read the same; what WriteStationsCSV writes reads back equal.
func TestParseStationsCSV(t *testing.T) {
	data := readFile(t, registryFile)
	got, err := ParseStationsCSV(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 30 {
		t.Fatalf("%d stations, want 30", len(got))
	}
	first := got[0]
	if first.Code != "PS-0001" || first.Name != "Old Harbour Health Centre" ||
		!reflect.DeepEqual(first.Admin, []string{"Calvera", "Calvera City", "Old Harbour"}) || first.Area != "Calvera City" ||
		first.Registered != 1198 || *first.Lat != 12_244_325 || *first.Lon != -30_219_130 ||
		!reflect.DeepEqual(first.Tags, []string{"pvt", "stratum=urban"}) || first.Stratum() != "urban" {
		t.Fatalf("first row: %+v", first)
	}
	if got[4].Lat != nil || got[5].Name != `"St. Teodor's" Primary School, Annex` {
		t.Fatalf("rows 5 and 6: %+v %+v", got[4], got[5])
	}

	// Excel's way: a BOM, CRLF, the columns reordered and capitalised.
	rows, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var excel bytes.Buffer
	excel.WriteString("\ufeff")
	w := csv.NewWriter(&excel)
	w.UseCRLF = true
	for i, f := range rows {
		f = []string{f[6], f[4], f[5], f[3], f[2], f[1], f[0]}
		if i == 0 {
			f = []string{"Tags", "LAT", "lon", "registered", " admin", "name", "code"}
		}
		_ = w.Write(f)
	}
	w.Flush()
	again, err := ParseStationsCSV(&excel)
	if err != nil || !reflect.DeepEqual(again, got) {
		t.Fatalf("BOM, CRLF, reordered: %v\n%+v", err, again)
	}

	var out bytes.Buffer
	if err := WriteStationsCSV(&out, got); err != nil {
		t.Fatal(err)
	}
	back, err := ParseStationsCSV(&out)
	if err != nil || !reflect.DeepEqual(back, got) {
		t.Fatalf("written and read back: %v", err)
	}
}

// Each bad file is refused whole, naming the line and what is wrong.
func TestParseStationsCSVBad(t *testing.T) {
	for name, want := range map[string]string{
		"missing-column":    `line 1: missing column "tags"`,
		"extra-column":      `line 1: unknown column "polling_hours"`,
		"duplicate-code":    "line 4: code: PS-0001 is the code of line 2 too",
		"bad-registered":    `line 2: registered: "1 198" is not a whole number`,
		"bad-number":        `line 3: lat: "12°14′N" is not a number`,
		"out-of-range":      "line 2: lon: 212.24 is out of range",
		"lat-without-lon":   "line 2: lon: is empty: lat without lon",
		"name-too-long":     "line 2: name: is 259 bytes, limit 200",
		"short-row":         "line 3: 6 fields, the header has 7",
		"empty-code":        "line 2: code: is empty",
		"empty-admin-level": `line 2: admin: "Calvera//Old Harbour" has an empty level`,
		"two-strata":        "line 2: tags: 2 strata",
		"header-only":       "line 2: no stations",
		"empty":             "line 1: the file is empty",
		"broken-quote":      "line 2: extraneous or missing \" in quoted-field",
	} {
		t.Run(name, func(t *testing.T) {
			got, err := ParseStationsCSV(bytes.NewReader(readFile(t, filepath.Join("act/testdata/bad", name+".csv"))))
			var ce *StationsCSVError
			if !errors.As(err, &ce) || got != nil {
				t.Fatalf("got %d stations, error %v", len(got), err)
			}
			if !strings.Contains(err.Error(), want) {
				t.Fatalf("error %q does not say %q", err, want)
			}
		})
	}
}

// endless is a registry file that never ends: the header, then rows or
// one field forever. It counts what was read of it.
type endless struct {
	row  []byte
	n    int64
	head bool
}

func (e *endless) Read(p []byte) (int, error) {
	if !e.head {
		e.head = true
		n := copy(p, strings.Join(StationsCSVHeader, ",")+"\n")
		e.n += int64(n)
		return n, nil
	}
	n := 0
	for n < len(p) {
		n += copy(p[n:], e.row)
	}
	e.n += int64(n)
	return n, nil
}

// A file of too many rows, or too many bytes, is refused where the
// reading gets past the limit: never read whole.
func TestParseStationsCSVTooBig(t *testing.T) {
	rows := &endless{row: []byte("X,,,,,,\n")} // every row the same code: errors, counted not kept
	_, err := ParseStationsCSV(rows)
	if err == nil || !strings.Contains(err.Error(), "more than 200000 stations") {
		t.Fatalf("endless rows: %v", err)
	}
	if rows.n > 4<<20 {
		t.Fatalf("read %d bytes of an endless file", rows.n)
	}
	field := &endless{row: []byte("xxxxxxxxxxxxxxxx")} // one field that never ends
	_, err = ParseStationsCSV(field)
	if err == nil || !strings.Contains(err.Error(), "over 64 MiB") {
		t.Fatalf("an endless field: %v", err)
	}
	if field.n > MaxStationsCSVBytes+1<<20 {
		t.Fatalf("read %d bytes of an endless field", field.n)
	}
}

// FuzzStationsCSV: any input either yields stations that every device
// would accept (normal codes, no code twice, within the limits) and that
// write and read back equal, or a StationsCSVError naming lines.
func FuzzStationsCSV(f *testing.F) {
	f.Add(readFile(f, registryFile))
	entries, _ := os.ReadDir("act/testdata/bad")
	for _, e := range entries {
		f.Add(readFile(f, filepath.Join("act/testdata/bad", e.Name())))
	}
	f.Add([]byte("\ufeffcode,name,admin,registered,lat,lon,tags\r\nps 1,A,\"R/D\",0,0,0,pvt\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := ParseStationsCSV(bytes.NewReader(data))
		if err != nil {
			var ce *StationsCSVError
			if !errors.As(err, &ce) || ce.Total == 0 || len(ce.Rows) == 0 || got != nil {
				t.Fatalf("an error that names no line: %v", err)
			}
			for _, r := range ce.Rows {
				if r.Line < 1 {
					t.Fatalf("a problem at line %d: %v", r.Line, r)
				}
			}
			return
		}
		if len(got) == 0 || len(got) > MaxRegistryStations {
			t.Fatalf("%d stations", len(got))
		}
		seen := map[string]bool{}
		for i := range got {
			p := &got[i]
			if err := ValidateStation(p); err != nil {
				t.Fatalf("station %d is invalid: %v", i, err)
			}
			if NormalizeCode(p.Code) != p.Code || seen[p.Code] {
				t.Fatalf("code %q: not normal, or twice", p.Code)
			}
			seen[p.Code] = true
		}
		var out bytes.Buffer
		if err := WriteStationsCSV(&out, got); err != nil {
			t.Fatal(err)
		}
		back, err := ParseStationsCSV(io.Reader(&out))
		if err != nil || !reflect.DeepEqual(back, got) {
			t.Fatalf("written and read back: %v\n%+v\n%+v", err, got, back)
		}
	})
}
