package mbtiles_test

import (
	"math/rand/v2"
	"testing"

	"github.com/vigil-mesh/vigil/incident/mbtiles/mbtilestest"
)

// benchFile is n tiles of size bytes each (incompressible, as PNG and
// JPEG tiles are), zoom 14 and up, in 4096-byte pages as QGIS writes.
func benchFile(b *testing.B, n, size int) []byte {
	r := rand.New(rand.NewPCG(1, 2))
	tiles := make([]mbtilestest.Tile, n)
	for i := range tiles {
		data := make([]byte, size-r.IntN(size/2))
		for j := range data {
			data[j] = byte(r.Uint32())
		}
		tiles[i] = mbtilestest.Tile{Z: 14, X: 8000 + i%200, Y: 7000 + i/200, Data: data}
	}
	return write(b, map[string]string{"name": "bench"}, tiles, mbtilestest.Options{})
}

// BenchmarkOpen lists 2,000 tiles of up to 12 KiB (a city district to
// zoom 16): the cost of the first map drawn after unlock.
func BenchmarkOpen(b *testing.B) {
	f := benchFile(b, 2000, 12<<10)
	b.SetBytes(int64(len(f)))
	b.ResetTimer()
	for range b.N {
		if _, err := open(b, f); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTile reads one tile's bytes by its coordinates.
func BenchmarkTile(b *testing.B) {
	f := benchFile(b, 2000, 12<<10)
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
