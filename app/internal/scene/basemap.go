package scene

import (
	"bytes"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/vigil-mesh/vigil/incident/act"
	"github.com/vigil-mesh/vigil/incident/mbtiles"
	"github.com/vigil-mesh/vigil/incident/mbtiles/mbtilestest"
	"github.com/vigil-mesh/vigil/incident/store"
)

// LoadBasemap loads a synthetic basemap of the practice mission's
// made-up country into home, as `vigil map load` would (the screenshots
// of a map over a basemap): its places are where the mission's stations
// are (a town for each place named in their admin paths, built up with
// streets for a compact district), joined by roads, with woods, a river
// and a coast around them, zoom 5 to 8. No real geography is in it.
func LoadBasemap(home string) error {
	st, err := store.Open(home, []byte(Passphrase), StoreOptions())
	if err != nil {
		return err
	}
	defer st.Close()
	d := act.New(st)
	list, err := d.Stations(act.StationQuery{})
	if err != nil {
		return err
	}
	places, bounds := stationPlaces(list)
	if len(places) == 0 {
		return fmt.Errorf("the practice mission has no located station")
	}
	meta := map[string]string{"name": "Practice country (synthetic)", "format": "png", "bounds": bounds.String(),
		"attribution": "Synthetic tiles, made for the practice mission"}
	var f bytes.Buffer
	if err := mbtilestest.Write(&f, meta, mbtilestest.Synthetic(places, bounds, 5, 8), mbtilestest.Options{}); err != nil {
		return err
	}
	_, err = d.LoadBasemap(act.BasemapLoad{Name: "practice.mbtiles", From: &f})
	return err
}

// stationPlaces makes a place of each admin unit's stations (their mean
// position), urban where a district's stations lie close together, and
// the extent of them all with room for a coast.
func stationPlaces(list act.StationList) ([]mbtilestest.Place, mbtiles.Bounds) {
	type acc struct {
		lat, lon, lat2, lon2 float64
		n                    int
	}
	units := map[string]*acc{}
	b := mbtiles.Bounds{West: 180, South: 90, East: -180, North: -90}
	for _, v := range list.Stations {
		s := v.Station
		if s.Lat == nil || s.Lon == nil || len(s.Admin) == 0 {
			continue
		}
		lat, lon := float64(*s.Lat)/1e6, float64(*s.Lon)/1e6
		b.West, b.East = math.Min(b.West, lon), math.Max(b.East, lon)
		b.South, b.North = math.Min(b.South, lat), math.Max(b.North, lat)
		for depth := 2; depth <= len(s.Admin); depth++ {
			k := strings.Join(s.Admin[:depth], "/")
			a := units[k]
			if a == nil {
				a = &acc{}
				units[k] = a
			}
			a.lat, a.lon, a.lat2, a.lon2, a.n = a.lat+lat, a.lon+lon, a.lat2+lat*lat, a.lon2+lon*lon, a.n+1
		}
	}
	keys := make([]string, 0, len(units))
	for k := range units {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []mbtilestest.Place
	for _, k := range keys {
		a := units[k]
		n := float64(a.n)
		mlat, mlon := a.lat/n, a.lon/n
		spread := math.Sqrt(math.Max(0, a.lat2/n-mlat*mlat) + math.Max(0, a.lon2/n-mlon*mlon))
		district := strings.Count(k, "/") == 1
		out = append(out, mbtilestest.Place{Lat: mlat, Lon: mlon, Urban: district && spread < 0.06})
	}
	const margin = 0.7
	b.West, b.East, b.South, b.North = b.West-margin, b.East+margin, b.South-margin, b.North+margin
	return out, b
}
