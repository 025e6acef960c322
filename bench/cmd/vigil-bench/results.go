package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
)

// Result is one measurement, as results.json holds it and the table
// prints it. Baseline, Ratio and Met are null when a measurement has no
// baseline or no target.
type Result struct {
	Name   string         `json:"name"`
	Params map[string]any `json:"params"`
	Value  float64        `json:"value"`
	Unit   string         `json:"unit"`
	// Baseline is measured in the same run (or, where the issue defines
	// it so, computed from the same data: d × 32 bytes, record bytes ×
	// nodes).
	Baseline     *float64 `json:"baseline"`
	BaselineName string   `json:"baseline_name,omitempty"`
	// Ratio is Value / Baseline.
	Ratio  *float64 `json:"ratio"`
	Target string   `json:"target,omitempty"`
	Met    *bool    `json:"met"`
	Note   string   `json:"note,omitempty"`
}

func f64(v float64) *float64 { return &v }
func boolp(v bool) *bool     { return &v }

// withBaseline sets the baseline and the ratio.
func (r Result) withBaseline(name string, v float64) Result {
	r.BaselineName = name
	r.Baseline = f64(v)
	if v != 0 {
		r.Ratio = f64(r.Value / v)
	}
	return r
}

// Results collects measurements and prints each one as it comes, with a
// BENCHJSON line for machines.
type Results struct {
	list []Result
	out  io.Writer
}

func (rs *Results) add(r Result) {
	if r.Params == nil {
		r.Params = map[string]any{}
	}
	rs.list = append(rs.list, r)
	b, _ := json.Marshal(r)
	fmt.Fprintf(rs.out, "BENCHJSON %s\n", b)
}

// Meta describes the run.
type Meta struct {
	Started  string  `json:"started"`
	Seconds  float64 `json:"seconds"`
	Quick    bool    `json:"quick"`
	Large    bool    `json:"large"`
	Go       string  `json:"go"`
	OS       string  `json:"os"`
	CPUs     int     `json:"cpus"`
	CPUModel string  `json:"cpu_model,omitempty"`
	Reports  int     `json:"reports"`
	Seed     uint64  `json:"seed"`
	Record   any     `json:"record_data,omitempty"`
	// Load averages (1, 5, 15 min) from /proc/loadavg when the run
	// started and ended: other work on the machine slows measurements
	// and baselines alike, which ratios absorb better than absolute
	// numbers.
	LoadStart string   `json:"loadavg_start,omitempty"`
	LoadEnd   string   `json:"loadavg_end,omitempty"`
	Errors    []string `json:"errors,omitempty"`
}

// write saves {"meta": …, "results": […]} atomically.
func (rs *Results) write(path string, meta Meta) error {
	b, err := json.MarshalIndent(struct {
		Meta    Meta     `json:"meta"`
		Results []Result `json:"results"`
	}{meta, rs.list}, "", "  ")
	if err != nil {
		return err
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// table prints every measurement: value, baseline, ratio, target, met.
func (rs *Results) table(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "measurement\tparameters\tvalue\tbaseline\tratio\ttarget\tmet")
	fmt.Fprintln(tw, "-----------\t----------\t-----\t--------\t-----\t------\t---")
	for _, r := range rs.list {
		base := "—"
		if r.Baseline != nil {
			base = human(*r.Baseline, r.Unit)
			if r.BaselineName != "" {
				base += " (" + r.BaselineName + ")"
			}
		}
		ratio := "—"
		if r.Ratio != nil {
			ratio = strconv.FormatFloat(*r.Ratio, 'f', ratioDigits(*r.Ratio), 64)
		}
		met := "—"
		if r.Met != nil {
			met = map[bool]string{true: "yes", false: "NO"}[*r.Met]
		}
		target := r.Target
		if target == "" {
			target = "—"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Name, params(r.Params), human(r.Value, r.Unit), base, ratio, target, met)
	}
	tw.Flush()
	var missed []string
	for _, r := range rs.list {
		if r.Met != nil && !*r.Met {
			missed = append(missed, r.Name+" "+params(r.Params))
		}
	}
	n := 0
	for _, r := range rs.list {
		if r.Met != nil {
			n++
		}
	}
	fmt.Fprintf(w, "\n%d measurements, %d with a target: %d met, %d missed\n", len(rs.list), n, n-len(missed), len(missed))
	for _, m := range missed {
		fmt.Fprintf(w, "  missed: %s\n", m)
	}
}

func ratioDigits(v float64) int {
	switch a := math.Abs(v); {
	case a == 0:
		return 0
	case a < 0.01:
		return 4
	case a < 10:
		return 2
	default:
		return 1
	}
}

// params prints parameters in a stable order, leaving out the long ones.
func params(p map[string]any) string {
	keys := make([]string, 0, len(p))
	for k := range p {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		if strings.HasPrefix(k, "_") {
			continue
		}
		v := p[k]
		if f, ok := v.(float64); ok {
			v = strconv.FormatFloat(f, 'f', -1, 64)
		}
		parts = append(parts, fmt.Sprintf("%s=%v", k, v))
	}
	return strings.Join(parts, " ")
}

// human prints a value with its unit, scaled where that helps.
func human(v float64, unit string) string {
	switch unit {
	case "B":
		switch {
		case v >= 10<<20:
			return fmt.Sprintf("%.1f MiB", v/(1<<20))
		case v >= 10<<10:
			return fmt.Sprintf("%.1f KiB", v/(1<<10))
		}
		return fmt.Sprintf("%.0f B", v)
	case "MiB":
		return fmt.Sprintf("%.1f MiB", v)
	case "s":
		if v < 1 {
			return fmt.Sprintf("%.1f ms", v*1000)
		}
		return fmt.Sprintf("%.2f s", v)
	case "records/s", "reports/s", "verifies/s":
		if v >= 1e6 {
			return fmt.Sprintf("%.2fM %s", v/1e6, unit)
		}
		if v >= 1e4 {
			return fmt.Sprintf("%.1fk %s", v/1e3, unit)
		}
		return fmt.Sprintf("%.0f %s", v, unit)
	case "x", "":
		return strconv.FormatFloat(v, 'f', ratioDigits(v), 64) + unit
	}
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return fmt.Sprintf("%.0f %s", v, unit)
	}
	return fmt.Sprintf("%.2f %s", v, unit)
}
