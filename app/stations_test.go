package app

import (
	"os"
	"slices"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/vigil-mesh/vigil/incident/act"
)

// The station picker lists the registry in force, finds a station by
// any part of its code or name, and takes a code the registry lacks,
// saying so; codes are kept in their normal form.
func TestStationPickerRegistry(t *testing.T) {
	a := test.NewTempApp(t)
	h, _ := missionHomes(t)
	ui := newTestUI(t, a, h, true, testPass)

	// The stations signed on their own, until an import is in force.
	if got, _ := ui.be.Stations(); len(got) != 3 {
		t.Fatalf("loose stations: %+v", got)
	}
	data, err := os.ReadFile("../incident/act/testdata/stations.csv")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := act.New(storeOf(ui)).ImportStations(act.StationImport{Name: "stations.csv", Data: data}); err != nil {
		t.Fatal(err)
	}
	got, err := ui.be.Stations()
	if err != nil || len(got) != 30 || got[6].Code != "PS-0007" || !slices.Equal(got[6].Admin, []string{"Calvera", "Ros Tamin", "Belmar"}) {
		t.Fatalf("the registry in force: %d stations, %v", len(got), err)
	}
	if f := filterStations(got, "ps 7"); len(f) != 0 {
		t.Fatalf("\"ps 7\" is no part of a code: %+v", f)
	}
	if f := filterStations(got, "0007"); len(f) != 1 || f[0].Code != "PS-0007" {
		t.Fatalf("by code: %+v", f)
	}
	if f := filterStations(got, "ros tamin"); len(f) != 5 {
		t.Fatalf("by place: %d", len(f))
	}
	if f := filterStations(got, "HEALTH centre"); len(f) == 0 || !strings.Contains(f[0].Name, "Health Centre") {
		t.Fatalf("by name: %+v", f)
	}

	ui.showStationPicker(false)
	code := entry(t, ui, T("station.code"))
	code.SetText("ps 0007")
	if !strings.Contains(allText(ui), "✅ PS-0007 — Belmar Secondary School (Calvera / Ros Tamin / Belmar)") {
		t.Fatalf("a known code is not named:\n%s", allText(ui))
	}
	code.SetText("ps-0999")
	if !strings.Contains(allText(ui), T("station.not_in_registry", map[string]any{"Code": "PS-0999"})) {
		t.Fatalf("an unknown code is not flagged:\n%s", allText(ui))
	}
	tap(t, ui, T("station.use"))
	if s := ui.station(); s != "PS-0999" {
		t.Fatalf("the station kept: %q (a code missing from the registry is accepted, in its normal form)", s)
	}
}
