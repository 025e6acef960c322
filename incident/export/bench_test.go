package export_test

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"io"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/vigil-mesh/vigil/bench/gen"
	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/export"
)

// The export writers over prepared views, against the standard library
// writing the same prepared rows: the isolated form of vigil-bench's
// export.csv and export.geojson measurements (which build a store first).
// Compare the reports/s of a writer with its baseline:
//
//	go test -bench 'CSV|GeoJSON' -run X ./incident/export/

// benchItems are n views shaped like vigil-bench's: gen's payloads by 200
// authors, a few reviewed, amended or flagged.
func benchItems(n int) []export.Item {
	rng := rand.New(rand.NewPCG(20261125, 1))
	w := gen.NewWorld(20261125)
	authors := make([]incident.Author, 200)
	for i := range authors {
		for k := range authors[i] {
			authors[i][k] = byte(rng.Uint32())
		}
	}
	t0 := time.Date(2026, 11, 25, 6, 0, 0, 0, time.UTC)
	items := make([]export.Item, n)
	for i := range items {
		at := t0.Add(time.Duration(rng.Int64N(int64(14 * time.Hour)))).Truncate(time.Millisecond)
		v := incident.ReportView{Author: authors[rng.IntN(len(authors))], Created: at.UnixMilli(),
			Report: w.Payload(rng, at), Status: incident.StatusUnreviewed}
		for k := range v.ID {
			v.ID[k] = byte(rng.Uint32())
		}
		if rng.IntN(10) == 0 {
			v.Status = incident.ReviewStatuses[rng.IntN(len(incident.ReviewStatuses))]
		}
		if rng.IntN(20) == 0 {
			v.Amendments = 1
		}
		if rng.IntN(50) == 0 {
			v.Flags = []string{incident.FlagFutureTime}
		}
		v.History = []incident.Event{{ID: v.ID, Kind: incident.KindReport, Author: v.Author, Created: v.Created}}
		items[i] = export.Item{View: v}
	}
	return items
}

// discard counts bytes, as vigil-bench's sink does.
type discard struct{ n int64 }

func (d *discard) Write(p []byte) (int, error) { d.n += int64(len(p)); return len(p), nil }

func writeCSV(w io.Writer, items []export.Item) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	cw, err := export.NewCSV(bw, false)
	if err != nil {
		return err
	}
	for i := range items {
		if err := cw.Write(&items[i]); err != nil {
			return err
		}
	}
	if err := cw.Close(); err != nil {
		return err
	}
	return bw.Flush()
}

func writeGeoJSON(w io.Writer, items []export.Item) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	gw, err := export.NewGeoJSON(bw)
	if err != nil {
		return err
	}
	for i := range items {
		if err := gw.Write(&items[i]); err != nil {
			return err
		}
	}
	if err := gw.Close(); err != nil {
		return err
	}
	return bw.Flush()
}

func perReport(b *testing.B, n int) {
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "reports/s")
}

const benchReports = 20000

func BenchmarkCSV(b *testing.B) {
	items := benchItems(benchReports)
	var out bytes.Buffer
	if err := writeCSV(&out, items); err != nil {
		b.Fatal(err)
	}
	rows, err := csv.NewReader(&out).ReadAll()
	if err != nil {
		b.Fatal(err)
	}
	b.Run("vigil", func(b *testing.B) {
		for b.Loop() {
			if err := writeCSV(&discard{}, items); err != nil {
				b.Fatal(err)
			}
		}
		perReport(b, len(items))
	})
	b.Run("encoding-csv", func(b *testing.B) {
		for b.Loop() {
			bw := bufio.NewWriterSize(&discard{}, 64<<10)
			cw := csv.NewWriter(bw)
			cw.UseCRLF = true
			for _, r := range rows {
				cw.Write(r)
			}
			cw.Flush()
			bw.Flush()
		}
		perReport(b, len(items))
	})
}

func BenchmarkGeoJSON(b *testing.B) {
	items := benchItems(benchReports)
	var out bytes.Buffer
	if err := writeGeoJSON(&out, items); err != nil {
		b.Fatal(err)
	}
	var fc struct {
		Features []struct {
			Type     string `json:"type"`
			ID       string `json:"id"`
			Geometry struct {
				Type        string     `json:"type"`
				Coordinates [2]float64 `json:"coordinates"`
			} `json:"geometry"`
			Properties map[string]any `json:"properties"`
		} `json:"features"`
	}
	if err := json.Unmarshal(out.Bytes(), &fc); err != nil {
		b.Fatal(err)
	}
	b.Run("vigil", func(b *testing.B) {
		for b.Loop() {
			if err := writeGeoJSON(&discard{}, items); err != nil {
				b.Fatal(err)
			}
		}
		perReport(b, len(items))
	})
	b.Run("encoding-json", func(b *testing.B) {
		for b.Loop() {
			bw := bufio.NewWriterSize(&discard{}, 64<<10)
			bw.WriteString(`{"type":"FeatureCollection","features":[`)
			for i := range fc.Features {
				j, _ := json.Marshal(&fc.Features[i])
				if i > 0 {
					bw.WriteString(",\n")
				} else {
					bw.WriteString("\n")
				}
				bw.Write(j)
			}
			bw.WriteString("\n]}\n")
			bw.Flush()
		}
		perReport(b, len(items))
	})
}
