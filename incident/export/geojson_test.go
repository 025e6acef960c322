package export

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/vigil-mesh/vigil/incident"
)

// marshalFeature is the GeoJSON writer's former body: a property map
// through json.Marshal. The writer must print the same bytes.
func marshalFeature(j *incident.ReportJSON) ([]byte, error) {
	props := make(map[string]any, len(Columns))
	for _, c := range Columns {
		props[c.Name] = c.value(&Item{Public: j}, j)
	}
	props["severity"], props["lat"], props["lon"] = j.Severity, *j.Lat, *j.Lon
	props["conflict"], props["retracted"], props["sealed"] = j.Conflict, j.Retracted, j.Sealed
	props["amendments"], props["flags"] = j.Amendments, j.Flags
	type geometry struct {
		Type        string     `json:"type"`
		Coordinates [2]float64 `json:"coordinates"`
	}
	return json.Marshal(struct {
		Type       string         `json:"type"`
		ID         string         `json:"id"`
		Geometry   geometry       `json:"geometry"`
		Properties map[string]any `json:"properties"`
	}{"Feature", j.ID, geometry{"Point", [2]float64{*j.Lon, *j.Lat}}, props})
}

func geoFeature(t *testing.T, j incident.ReportJSON) []byte {
	t.Helper()
	var b bytes.Buffer
	g, _ := NewGeoJSON(&b)
	b.Reset()
	if err := g.Write(&Item{Public: &j}); err != nil {
		t.Fatal(err)
	}
	return bytes.TrimPrefix(b.Bytes(), []byte("\n"))
}

func TestGeoJSONLikeMarshal(t *testing.T) {
	items := goldenItems(t)
	items = append(items, goldenPublic(items, PublicOptions{})...)
	rng := rand.New(rand.NewPCG(11, 12))
	for range 2000 {
		items = append(items, Item{View: randomView(rng)})
	}
	n := 0
	for i := range items {
		j := items[i].Row()
		if j.Lat == nil || j.Lon == nil {
			continue
		}
		n++
		want, err := marshalFeature(&j)
		if err != nil {
			t.Fatal(err)
		}
		if got := geoFeature(t, j); !bytes.Equal(got, want) {
			t.Fatalf("feature %d:\n got %s\nwant %s", i, got, want)
		}
		// Absent values and odd numbers.
		j.Severity, j.Flags, j.Precision, j.Reach, j.Title = nil, nil, nil, nil, nil
		for _, f := range []float64{0, math.Copysign(0, -1), 1e-7, -1e-7, 1e21, 123456789e20, 1e-300, 5e-324, math.MaxFloat64} {
			j.Lat, j.Lon = &f, &f
			want, _ := marshalFeature(&j)
			if got := geoFeature(t, j); !bytes.Equal(got, want) {
				t.Fatalf("feature %d with %g:\n got %s\nwant %s", i, f, got, want)
			}
		}
	}
	if n < 500 {
		t.Fatalf("only %d features compared", n)
	}
	nan := math.NaN()
	j := items[0].Row()
	j.Lat, j.Lon = &nan, &nan
	var b bytes.Buffer
	g, _ := NewGeoJSON(&b)
	if err := g.Write(&Item{Public: &j}); err == nil {
		t.Fatal("NaN coordinates written without an error")
	}
}

// FuzzJSONString: strings are escaped as json.Marshal escapes them.
func FuzzJSONString(f *testing.F) {
	for _, s := range []string{"", "plain", `"\`, "<a href='x'>&amp;</a>", "\x00\x01\b\f\n\r\t\x1f\x7f", "\u2028\u2029",
		"\xff", "\xe2\x80", "日本語 العربية", "\U0001F5F3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, _ := json.Marshal(s)
		if got := appendJSONString(nil, s); !bytes.Equal(got, want) {
			t.Fatalf("%q: got %s, want %s", s, got, want)
		}
	})
}

// FuzzJSONFloat: finite floats print as json.Marshal prints them.
func FuzzJSONFloat(f *testing.F) {
	for _, v := range []float64{0, 1, -1.5, 1e-6, 9.99e-7, 1e20, 1e21, 36.821987} {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, v float64) {
		want, err := json.Marshal(v)
		if err != nil {
			return
		}
		if got := appendJSONFloat(nil, v); !bytes.Equal(got, want) {
			t.Fatalf("%v: got %s, want %s", v, got, want)
		}
	})
}
