package scene

import (
	"bytes"

	"github.com/vigil-mesh/vigil/incident/mbtiles"
	"github.com/vigil-mesh/vigil/incident/mbtiles/mbtilestest"
)

// practicePlaces are the practice mission's regional capitals and
// towns (incident/demo/world.go's regions, urban districts first).
var practicePlaces = []mbtilestest.Place{
	{Lat: 12.20, Lon: -30.10, Urban: true}, {Lat: 12.00, Lon: -27.40, Urban: true},
	{Lat: 9.60, Lon: -30.40, Urban: true}, {Lat: 9.50, Lon: -27.20, Urban: true},
	{Lat: 12.15, Lon: -30.05}, {Lat: 11.95, Lon: -27.35}, {Lat: 9.55, Lon: -30.35}, {Lat: 9.45, Lon: -27.15},
	{Lat: 12.55, Lon: -29.70}, {Lat: 11.75, Lon: -29.60}, {Lat: 12.40, Lon: -27.00}, {Lat: 11.55, Lon: -27.80},
	{Lat: 9.90, Lon: -30.80}, {Lat: 9.15, Lon: -29.90}, {Lat: 9.85, Lon: -26.75}, {Lat: 9.05, Lon: -27.60},
	{Lat: 10.80, Lon: -28.70}, {Lat: 10.60, Lon: -30.20}, {Lat: 10.70, Lon: -27.10},
}

// PracticeBounds is the synthetic basemap's extent: the practice
// mission's country with some sea around it.
var PracticeBounds = mbtiles.Bounds{West: -31.6, South: 8.4, East: -25.6, North: 13.3}

// Basemap is a synthetic MBTiles basemap of the practice mission's
// made-up country (zoom 5 to 9, about 150 tiles): roads between its
// towns, woods, a river and a coast. No real geography is in it.
func Basemap() ([]byte, error) {
	tiles := mbtilestest.Synthetic(practicePlaces, PracticeBounds, 5, 9)
	meta := map[string]string{"name": "Practice country (synthetic)", "format": "png", "bounds": PracticeBounds.String(),
		"attribution": "Synthetic tiles, made for the practice mission"}
	var b bytes.Buffer
	err := mbtilestest.Write(&b, meta, tiles, mbtilestest.Options{})
	return b.Bytes(), err
}
