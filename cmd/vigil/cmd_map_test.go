package main

import (
	"bytes"
	"encoding/json"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-mesh/vigil/incident/mbtiles/mbtilestest"
)

// mbtilesFile writes a small basemap (zoom 0 to 2) to a temporary file.
func mbtilesFile(t *testing.T) string {
	t.Helper()
	var pngb bytes.Buffer
	if err := png.Encode(&pngb, image.NewGray(image.Rect(0, 0, 4, 4))); err != nil {
		t.Fatal(err)
	}
	var tiles []mbtilestest.Tile
	for z := 0; z <= 2; z++ {
		for x := 0; x < 1<<z; x++ {
			for y := 0; y < 1<<z; y++ {
				tiles = append(tiles, mbtilestest.Tile{Z: z, X: x, Y: y, Data: pngb.Bytes()})
			}
		}
	}
	var f bytes.Buffer
	meta := map[string]string{"name": "World", "format": "png", "attribution": "Test tiles", "bounds": "-180,-85,180,85"}
	if err := mbtilestest.Write(&f, meta, tiles, mbtilestest.Options{}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "world.mbtiles")
	if err := os.WriteFile(path, f.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// vigil map load checks and keeps a basemap and prints what it holds;
// a file that is none is refused with the reason and keeps the one held;
// show and remove say what they did.
func TestMapLoadShowRemove(t *testing.T) {
	t.Parallel()
	home, _, _ := newMission(t, "maps")
	_, errs, code := runVigil(t, home, nil, "map", "show")
	if code != 0 || !strings.Contains(errs, "No basemap") {
		t.Fatalf("before a load: exit %d %q", code, errs)
	}
	file := mbtilesFile(t)
	out, errs, code := runVigil(t, home, nil, "map", "load", file)
	if code != 0 || !strings.Contains(out, "name         World") || !strings.Contains(out, "zooms        0 1 2") ||
		!strings.Contains(out, "tiles        21 (png") || !strings.Contains(out, "attribution  Test tiles") || !strings.Contains(errs, "encrypted") {
		t.Fatalf("load: exit %d\n%s%s", code, out, errs)
	}
	bad := filepath.Join(t.TempDir(), "notes.mbtiles")
	if err := os.WriteFile(bad, []byte("these are notes, not tiles"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, errs, code = runVigil(t, home, nil, "map", "load", bad)
	wantFailure(t, "a file that is no basemap", out, errs, code, exitError, "notes.mbtiles is not a basemap", "nothing was loaded")
	var in struct {
		Name  string `json:"name"`
		Tiles int    `json:"tiles"`
		Zooms []int  `json:"zooms"`
	}
	if err := json.Unmarshal([]byte(mustRun(t, home, nil, "--json", "map", "show")), &in); err != nil || in.Name != "World" || in.Tiles != 21 {
		t.Fatalf("show --json after a refused load: %+v %v", in, err)
	}
	if _, errs, _ := runVigil(t, home, nil, "map", "remove"); !strings.Contains(errs, "Basemap removed") {
		t.Fatalf("remove: %q", errs)
	}
	if _, errs, _ := runVigil(t, home, nil, "map", "remove"); !strings.Contains(errs, "No basemap to remove") {
		t.Fatalf("second remove: %q", errs)
	}
}
