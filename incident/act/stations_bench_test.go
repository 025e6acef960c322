package act

import (
	"bytes"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/vigil-mesh/vigil/incident"
)

// importBenchStations is the registry BenchmarkImportStations imports: a large
// country's polling stations.
const importBenchStations = 20_000

// benchRegistry is a registry file of n stations, as an electoral
// commission's list converts: admin paths, voters, coordinates, a third
// in the quick-count sample.
func benchRegistry(tb testing.TB, n int) []byte {
	tb.Helper()
	rows := make([]incident.StationPayload, n)
	for i := range rows {
		region, district := i/5000, i/250
		p := incident.StationPayload{Code: fmt.Sprintf("KE-%03d-%05d", district, i), Name: fmt.Sprintf("Station %d Primary School", i),
			Admin:      []string{fmt.Sprintf("Region %d", region), fmt.Sprintf("District %d", district), fmt.Sprintf("Ward %d", i/25)},
			Registered: uint64(300 + i%1200), Lat: incident.Micro(-4 + float64(i%1000)/250), Lon: incident.Micro(34 + float64(i/1000)/5)}
		if i%3 == 0 {
			p.Tags = []string{incident.TagPVT, fmt.Sprintf("stratum=region-%d", region)}
		}
		rows[i] = p
	}
	var buf bytes.Buffer
	if err := incident.WriteStationsCSV(&buf, rows); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// BenchmarkImportStations imports a registry of importBenchStations stations
// on a coordinator's store (the phone profile, as every test store):
// parse, sign 20,001 records, write and sync them. It prints one
// BENCHJSON line (the suite's format, bench/README.md) with the time
// and allocations of one import.
func BenchmarkImportStations(b *testing.B) {
	coord, _ := mission(b)
	data := benchRegistry(b, importBenchStations)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	n := 0
	for b.Loop() {
		res, err := coord.ImportStations(StationImport{Name: "registry.csv", Data: data})
		if err != nil || res.Stations != importBenchStations {
			b.Fatalf("%+v %v", res, err)
		}
		n++
	}
	elapsed := time.Since(start)
	runtime.ReadMemStats(&after)
	if list, err := coord.Stations(StationQuery{}); err != nil || list.Total != importBenchStations {
		b.Fatalf("after the imports: %d stations, %v", list.Total, err)
	}
	printBenchJSON(map[string]any{
		"name":   "station_import",
		"params": map[string]any{"stations": importBenchStations, "csv_bytes": len(data), "imports": n},
		"value":  float64(elapsed.Milliseconds()) / float64(n), "unit": "ms",
		"allocs_per_import": (after.Mallocs - before.Mallocs) / uint64(n),
		"bytes_per_import":  (after.TotalAlloc - before.TotalAlloc) / uint64(n),
	})
}
