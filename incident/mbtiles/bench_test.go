package mbtiles_test

import (
	"bytes"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/vigil-mesh/vigil/incident/mbtiles"
	"github.com/vigil-mesh/vigil/incident/mbtiles/mbtilestest"
)

// benchFile is n tiles of size bytes each (incompressible, as PNG and
// JPEG tiles are), zoom 14 and up, in 4096-byte pages as QGIS writes.
func benchFile(b *testing.B, n, size int, o mbtilestest.Options) []byte {
	r := rand.New(rand.NewPCG(1, 2))
	tiles := make([]mbtilestest.Tile, n)
	for i := range tiles {
		data := make([]byte, size-r.IntN(size/2))
		for j := range data {
			data[j] = byte(r.Uint32())
		}
		tiles[i] = mbtilestest.Tile{Z: 14, X: 8000 + i%200, Y: 7000 + i/200, Data: data}
	}
	return write(b, map[string]string{"name": "bench"}, tiles, o)
}

// BenchmarkOpen lists 2,000 tiles of up to 12 KiB (a city district to
// zoom 16): the cost of the first map drawn after unlock, from the index
// on the tiles' coordinates and, for a file without one, from the tiles
// table. The pages read are what matters on a phone, where each is
// decrypted: the index's few, or every leaf page of the table.
func BenchmarkOpen(b *testing.B) {
	for _, c := range []struct {
		name string
		o    mbtilestest.Options
	}{{"index", mbtilestest.Options{}}, {"table", mbtilestest.Options{NoIndex: true}}} {
		b.Run(c.name, func(b *testing.B) {
			f := benchFile(b, 2000, 12<<10, c.o)
			r := &countingReader{r: bytes.NewReader(f)}
			b.SetBytes(int64(len(f)))
			b.ResetTimer()
			for range b.N {
				if _, err := mbtiles.Open(r, int64(len(f))); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(r.reads)/float64(b.N), "pages/op")
		})
	}
}

// countingReader counts the reads (pages) made through it.
type countingReader struct {
	r     io.ReaderAt
	reads int
}

func (c *countingReader) ReadAt(p []byte, off int64) (int, error) {
	c.reads++
	return c.r.ReadAt(p, off)
}

// BenchmarkTile reads one tile's bytes by its coordinates.
func BenchmarkTile(b *testing.B) {
	f := benchFile(b, 2000, 12<<10, mbtilestest.Options{})
	m, err := open(b, f)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := range b.N {
		if _, err := m.Tile(14, 8000+i%200, 7000+(i/200)%10); err != nil {
			b.Fatal(err)
		}
	}
}
