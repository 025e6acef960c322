package mbtilestest

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"math"

	"github.com/vigil-mesh/vigil/incident/mbtiles"
)

// Place is a town of a synthetic basemap.
type Place struct {
	Lat, Lon float64
	// Urban places get a built-up area and a street grid.
	Urban bool
}

// Colours of the synthetic map, close to OpenStreetMap's standard style
// so that a screenshot reads as a map.
var (
	colSea    = color.NRGBA{0xaa, 0xd3, 0xdf, 0xff}
	colLand   = color.NRGBA{0xf2, 0xef, 0xe9, 0xff}
	colWood   = color.NRGBA{0xc8, 0xdf, 0xb0, 0xff}
	colTown   = color.NRGBA{0xe0, 0xdb, 0xd6, 0xff}
	colRoad   = color.NRGBA{0xfc, 0xd6, 0xa4, 0xff}
	colCasing = color.NRGBA{0xc4, 0x9a, 0x6c, 0xff}
	colStreet = color.NRGBA{0xff, 0xff, 0xff, 0xff}
	colRiver  = color.NRGBA{0x8c, 0xc0, 0xd6, 0xff}
)

// Synthetic renders a made-up land of PNG tiles over bounds from zoom
// minZ to maxZ: sea around a coast drawn about the bounds, woods, a
// river, towns (built-up areas with street grids for urban ones) and
// main roads joining each place to its nearest neighbours. It is
// synthetic: no real geography, made for tests and screenshots.
func Synthetic(places []Place, b mbtiles.Bounds, minZ, maxZ int) []Tile {
	var out []Tile
	roads := roadNet(places)
	for z := minZ; z <= maxZ; z++ {
		x0, x1 := int(mbtiles.TileX(b.West, z)), int(mbtiles.TileX(b.East, z))
		y0, y1 := int(mbtiles.TileY(b.North, z)), int(mbtiles.TileY(b.South, z))
		for x := x0; x <= x1; x++ {
			for y := y0; y <= y1; y++ {
				out = append(out, Tile{Z: z, X: x, Y: y, Data: renderTile(places, roads, b, z, x, y)})
			}
		}
	}
	return out
}

type segment struct{ a, b [2]float64 } // lat, lon

// roadNet joins the places by a minimum spanning tree (the shortest
// roads that connect them all), and each to its nearest neighbour.
func roadNet(places []Place) []segment {
	var out []segment
	if len(places) < 2 {
		return nil
	}
	dist := func(i, j int) float64 {
		return math.Hypot(places[i].Lat-places[j].Lat, places[i].Lon-places[j].Lon)
	}
	in := make([]bool, len(places))
	in[0] = true
	seen := map[[2]int]bool{}
	add := func(i, j int) {
		k := [2]int{min(i, j), max(i, j)}
		if !seen[k] {
			seen[k] = true
			out = append(out, segment{[2]float64{places[i].Lat, places[i].Lon}, [2]float64{places[j].Lat, places[j].Lon}})
		}
	}
	for n := 1; n < len(places); n++ {
		bi, bj, bd := -1, -1, math.Inf(1)
		for i := range places {
			if !in[i] {
				continue
			}
			for j := range places {
				if !in[j] && dist(i, j) < bd {
					bi, bj, bd = i, j, dist(i, j)
				}
			}
		}
		in[bj] = true
		add(bi, bj)
	}
	for i := range places {
		best, bd := -1, math.Inf(1)
		for j := range places {
			if i != j && dist(i, j) < bd {
				best, bd = j, dist(i, j)
			}
		}
		add(i, best)
	}
	return out
}

func renderTile(places []Place, roads []segment, b mbtiles.Bounds, z, tx, ty int) []byte {
	const size = 256
	img := image.NewNRGBA(image.Rect(0, 0, size, size))
	// Pixel positions at this zoom, for widths in pixels.
	px := func(lat, lon float64) (float64, float64) {
		return (mbtiles.TileX(lon, z) - float64(tx)) * size, (mbtiles.TileY(lat, z) - float64(ty)) * size
	}
	type seg struct{ ax, ay, bx, by float64 }
	var rs []seg
	for _, r := range roads {
		ax, ay := px(r.a[0], r.a[1])
		bx, by := px(r.b[0], r.b[1])
		rs = append(rs, seg{ax, ay, bx, by})
	}
	pxPerDeg := size * math.Exp2(float64(z)) / 360
	cLat, cLon := (b.North+b.South)/2, (b.West+b.East)/2
	rLat, rLon := (b.North-b.South)/2*1.05, (b.East-b.West)/2*1.02
	for py := 0; py < size; py++ {
		lat := mbtiles.TileLat(float64(ty)+(float64(py)+0.5)/size, z)
		for pxi := 0; pxi < size; pxi++ {
			lon := mbtiles.TileLon(float64(tx)+(float64(pxi)+0.5)/size, z)
			fx, fy := float64(pxi)+0.5, float64(py)+0.5
			// The coast: an ellipse about the bounds, wavy.
			dy, dx := (lat-cLat)/rLat, (lon-cLon)/rLon
			wave := 0.06*math.Sin(lon*5.3) + 0.05*math.Cos(lat*7.1+lon*2)
			var c color.NRGBA
			switch {
			case dx*dx+dy*dy > 1+wave:
				c = colSea
			case math.Sin(lat*3.7+0.5)*math.Cos(lon*3.1)+0.6*math.Sin(lat*8.3-lon*6.1)+0.25*math.Sin(lat*31+lon*27) > 0.95:
				c = colWood
			default:
				c = colLand
			}
			// A river winding west to east.
			riverLat := cLat - rLat*0.35 + 0.18*math.Sin(lon*2.4)
			if c != colSea && math.Abs(lat-riverLat)*pxPerDeg < 1.5+float64(z)/6 {
				c = colRiver
			}
			for _, p := range places {
				if c == colSea {
					break
				}
				d := math.Hypot(lat-p.Lat, (lon-p.Lon)*math.Cos(p.Lat*math.Pi/180))
				r := 0.045
				if p.Urban {
					r = 0.13
				}
				if d < r {
					c = colTown
					// Streets every 0.01° in a town, once wide enough
					// apart to see.
					if p.Urban && 0.01*pxPerDeg > 6 {
						gx := math.Abs(math.Remainder(lon-p.Lon, 0.01)) * pxPerDeg
						gy := math.Abs(math.Remainder(lat-p.Lat, 0.01)) * pxPerDeg
						if gx < 1 || gy < 1 {
							c = colStreet
						}
					}
				}
			}
			if c != colSea {
				w := 1.2 + float64(z)/4
				for _, s := range rs {
					d := segDist(fx, fy, s.ax, s.ay, s.bx, s.by)
					if d < w {
						c = colRoad
						break
					}
					if d < w+1 {
						c = colCasing
					}
				}
			}
			img.SetNRGBA(pxi, py, c)
		}
	}
	var buf bytes.Buffer
	_ = png.Encode(&buf, img)
	return buf.Bytes()
}

// segDist is the distance from (x, y) to the segment a–b.
func segDist(x, y, ax, ay, bx, by float64) float64 {
	vx, vy := bx-ax, by-ay
	l := vx*vx + vy*vy
	t := 0.0
	if l > 0 {
		t = math.Max(0, math.Min(1, ((x-ax)*vx+(y-ay)*vy)/l))
	}
	return math.Hypot(x-ax-t*vx, y-ay-t*vy)
}
