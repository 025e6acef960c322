package mbtiles

import "math"

// Web Mercator (EPSG:3857) in tile units: at zoom z the world is 2^z
// tiles a side, column 0 at 180°W and row 0 at the north edge (XYZ).

// maxLat is where Web Mercator's square world ends.
const maxLat = 85.0511287798066

// TileX is longitude lon as a fractional tile column at zoom z.
func TileX(lon float64, z int) float64 {
	return (lon + 180) / 360 * math.Exp2(float64(z))
}

// TileY is latitude lat as a fractional tile row at zoom z (clamped to
// Web Mercator's ±85.05°).
func TileY(lat float64, z int) float64 {
	lat = math.Max(-maxLat, math.Min(maxLat, lat))
	phi := lat * math.Pi / 180
	return (1 - math.Log(math.Tan(phi)+1/math.Cos(phi))/math.Pi) / 2 * math.Exp2(float64(z))
}

// TileLon is the longitude of fractional column x at zoom z.
func TileLon(x float64, z int) float64 {
	return x/math.Exp2(float64(z))*360 - 180
}

// TileLat is the latitude of fractional row y at zoom z.
func TileLat(y float64, z int) float64 {
	n := math.Pi - 2*math.Pi*y/math.Exp2(float64(z))
	return 180 / math.Pi * math.Atan(math.Sinh(n))
}

// FitZoom chooses the zoom level of the file to draw an extent of w by h
// world units (TileX and TileY at zoom 0) on a view of width by height
// pixels, tileSize pixels a tile: the level whose tiles come closest to
// their own size on screen, no more than maxTiles of them visible. ok is
// false when no level of the file fits.
func (m *Map) FitZoom(w, h, width, height float64, tileSize, maxTiles int) (z int, ok bool) {
	if w <= 0 || h <= 0 || width <= 0 || height <= 0 {
		return 0, false
	}
	// Pixels per world unit at the scale the view needs, and the zoom at
	// which a tile would show at its own size.
	scale := math.Min(width/w, height/h)
	ideal := math.Log2(scale / float64(tileSize))
	best, bestD := -1, math.Inf(1)
	for _, zz := range m.info.Zooms {
		tilePx := scale / math.Exp2(float64(zz))
		visible := (math.Ceil(width/tilePx) + 1) * (math.Ceil(height/tilePx) + 1)
		if visible > float64(maxTiles) {
			continue
		}
		if d := math.Abs(float64(zz) - ideal); d < bestD {
			best, bestD = zz, d
		}
	}
	return best, best >= 0
}
