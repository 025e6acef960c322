package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-mesh/vigil/sync/recon"
)

// The in-memory reconciliation finds exactly the planted differences,
// with Vigil's configuration and with the plain baseline.
func TestReconcileFindsDifferences(t *testing.T) {
	plain, _ := plainRecon()
	for _, newest := range []bool{false, true} {
		for _, d := range []int{0, 1, 7, 100} {
			a, b := reconPair(2000, d, newest, 1)
			for _, c := range []struct {
				name string
				cfg  recon.Config
			}{{"vigil", vigilRecon}, {"plain", plain}} {
				o, err := reconcile(a, b, c.cfg)
				if err != nil {
					t.Fatal(err)
				}
				if o.found != d {
					t.Errorf("%s newest=%v d=%d: found %d differences", c.name, newest, d, o.found)
				}
				if o.rounds < 1 || o.bytes <= 0 {
					t.Errorf("%s newest=%v d=%d: %d rounds, %d bytes", c.name, newest, d, o.rounds, o.bytes)
				}
			}
		}
	}
}

// results.json holds one object per measurement with the fields the
// issue lists, and null where there is no baseline or target.
func TestResultsFile(t *testing.T) {
	var out bytes.Buffer
	rs := &Results{out: &out}
	r := Result{Name: "x.rate", Params: map[string]any{"n": 3}, Value: 50, Unit: "records/s", Target: "ratio ≥ 0.80"}
	r = r.withBaseline("base", 100)
	r.Met = boolp(*r.Ratio >= 0.8)
	rs.add(r)
	rs.add(Result{Name: "x.info", Value: 1, Unit: "B"})
	if !strings.HasPrefix(out.String(), "BENCHJSON {") {
		t.Errorf("no BENCHJSON line: %q", out.String())
	}
	path := filepath.Join(t.TempDir(), "r.json")
	if err := rs.write(path, Meta{Quick: true}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Meta    map[string]any   `json:"meta"`
		Results []map[string]any `json:"results"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Results) != 2 {
		t.Fatalf("%d results", len(doc.Results))
	}
	for _, k := range []string{"name", "params", "value", "unit", "baseline", "ratio", "target", "met"} {
		if _, ok := doc.Results[0][k]; !ok {
			t.Errorf("result lacks %q: %v", k, doc.Results[0])
		}
	}
	if doc.Results[0]["ratio"].(float64) != 0.5 || doc.Results[0]["met"].(bool) {
		t.Errorf("ratio/met wrong: %v", doc.Results[0])
	}
	if doc.Results[1]["baseline"] != nil || doc.Results[1]["met"] != nil {
		t.Errorf("a measurement without baseline or target should say null: %v", doc.Results[1])
	}
	var table bytes.Buffer
	rs.table(&table)
	if !strings.Contains(table.String(), "1 missed") || !strings.Contains(table.String(), "x.rate") {
		t.Errorf("table:\n%s", table.String())
	}
}
