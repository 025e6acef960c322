package app

import (
	"container/list"
	"image"
	"image/color"
	"image/draw"
	"regexp"
	"strings"
	"sync"

	xdraw "golang.org/x/image/draw"

	"github.com/vigil-mesh/vigil/incident/mbtiles"
)

// tileSource is what a map draws under its dots: an open basemap
// (act.Basemap), or a test's.
type tileSource interface {
	Info() mbtiles.Info
	Image(z, x, y int) (image.Image, error)
	FitZoom(w, h, width, height float64, tileSize, maxTiles int) (int, bool)
}

const (
	// tileSize is a tile's width in the map's units when shown at its
	// own zoom: 256, as web maps draw them.
	tileSize = 256
	// maxVisibleTiles bounds the tiles one map draws: a zoom that would
	// need more is not used (a phone decodes only what it shows).
	maxVisibleTiles = 48
	// cachedTiles bounds the decoded tiles kept between draws (256 KiB
	// each for a 256-pixel tile: 12 MiB).
	cachedTiles = 48
)

// tileKey names a decoded tile of one basemap.
type tileKey struct {
	src     tileSource
	z, x, y int
}

// tileCache keeps the latest decoded tiles, least recently drawn
// dropped first: a dashboard refreshed every few seconds decodes its
// tiles once.
type tileCache struct {
	mu    sync.Mutex
	max   int
	order *list.List // of tileKey, most recent first
	items map[tileKey]*list.Element
	imgs  map[tileKey]image.Image // nil: the basemap holds no such tile, or it does not decode
}

var decodedTiles = &tileCache{max: cachedTiles, order: list.New(), items: map[tileKey]*list.Element{}, imgs: map[tileKey]image.Image{}}

func (c *tileCache) get(src tileSource, z, x, y int) image.Image {
	k := tileKey{src, z, x, y}
	c.mu.Lock()
	if e, ok := c.items[k]; ok {
		c.order.MoveToFront(e)
		img := c.imgs[k]
		c.mu.Unlock()
		return img
	}
	c.mu.Unlock()
	img, err := src.Image(z, x, y)
	if err != nil {
		img = nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.items[k]; !ok {
		c.items[k] = c.order.PushFront(k)
		c.imgs[k] = img
		for c.order.Len() > c.max {
			old := c.order.Remove(c.order.Back()).(tileKey)
			delete(c.items, old)
			delete(c.imgs, old)
		}
	}
	return img
}

// drop forgets src's tiles: its basemap was replaced or removed.
func (c *tileCache) drop(src tileSource) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for e := c.order.Front(); e != nil; {
		next := e.Next()
		if k := e.Value.(tileKey); k.src == src {
			c.order.Remove(e)
			delete(c.items, k)
			delete(c.imgs, k)
		}
		e = next
	}
}

// mercatorView places an extent of the world (in zoom-0 tile units,
// TileX and TileY) centred on a view of width by height units.
type mercatorView struct {
	minX, minY    float64 // the extent's north-west corner
	scale         float64 // view units per world unit
	offX, offY    float64 // where the extent's corner lands
	width, height float64
}

func newMercatorView(minX, minY, maxX, maxY, width, height float64) mercatorView {
	scale := min(width/(maxX-minX), height/(maxY-minY))
	return mercatorView{minX: minX, minY: minY, scale: scale, width: width, height: height,
		offX: (width - (maxX-minX)*scale) / 2, offY: (height - (maxY-minY)*scale) / 2}
}

// at is where lat, lon falls in the view.
func (v mercatorView) at(lat, lon float64) (float64, float64) {
	return v.offX + (mbtiles.TileX(lon, 0)-v.minX)*v.scale, v.offY + (mbtiles.TileY(lat, 0)-v.minY)*v.scale
}

// drawTiles composes zoom z's tiles under the view into an image of
// w by h pixels (k pixels a view unit), on bg where the basemap has no
// tile. Only the tiles in view are decoded.
func drawTiles(src tileSource, v mercatorView, z, w, h int, bg color.Color) image.Image {
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(dst, dst.Bounds(), image.NewUniform(bg), image.Point{}, draw.Src)
	k := float64(w) / v.width
	n := float64(int(1) << z)
	// The world units of the view's corners, and so the tiles in view.
	wx0, wy0 := v.minX-v.offX/v.scale, v.minY-v.offY/v.scale
	wx1, wy1 := wx0+v.width/v.scale, wy0+v.height/v.scale
	x0, x1 := max(0, int(wx0*n)), min(int(n)-1, int(wx1*n))
	y0, y1 := max(0, int(wy0*n)), min(int(n)-1, int(wy1*n))
	for x := x0; x <= x1; x++ {
		for y := y0; y <= y1; y++ {
			img := decodedTiles.get(src, z, x, y)
			if img == nil {
				continue
			}
			px0 := (v.offX + (float64(x)/n-v.minX)*v.scale) * k
			py0 := (v.offY + (float64(y)/n-v.minY)*v.scale) * k
			px1 := (v.offX + (float64(x+1)/n-v.minX)*v.scale) * k
			py1 := (v.offY + (float64(y+1)/n-v.minY)*v.scale) * k
			r := image.Rect(int(px0), int(py0), int(px1+0.999), int(py1+0.999))
			xdraw.ApproxBiLinear.Scale(dst, r, img, img.Bounds(), draw.Over, nil)
		}
	}
	return dst
}

var htmlTag = regexp.MustCompile(`<[^>]*>`)

// attributionText is a basemap's attribution as plain text: MBTiles
// files often carry it as HTML links.
func attributionText(s string) string {
	s = htmlTag.ReplaceAllString(s, "")
	s = strings.NewReplacer("&copy;", "©", "&amp;", "&", "&nbsp;", " ").Replace(s)
	return strings.Join(strings.Fields(s), " ")
}
