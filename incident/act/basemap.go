package act

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"filippo.io/age"

	"github.com/vigil-mesh/vigil/incident/mbtiles"
	"github.com/vigil-mesh/vigil/incident/store"
)

// MaxBasemapBytes bounds a basemap file: a city to zoom 17, or a
// province to zoom 13, in JPEG tiles, is a few hundred MiB at most, and
// a phone keeps it beside the store.
const MaxBasemapBytes = 1 << 30

// basemapFile is the basemap in the home's maps folder: the MBTiles file
// encrypted to this device's sealing key (age, in 64 KiB chunks that are
// decrypted one at a time as tiles are read). A map of a region tells
// where the mission works, so it is kept as unreadable as the store: the
// key is inside the store, unlocked by the passphrase and destroyed by a
// wipe (docs/security.md).
const basemapFile = "basemap.mbtiles.age"

// BasemapLoad asks to load a basemap.
type BasemapLoad struct {
	// Name is the file's name as the person chose it, for messages.
	Name string
	// From is the MBTiles file, read once, as a stream.
	From io.Reader
}

// BasemapInfo describes the basemap this device holds.
type BasemapInfo struct {
	mbtiles.Info
	// Bytes is the size of the MBTiles file.
	Bytes int64 `json:"bytes"`
}

// Basemap is an open basemap: its tiles, read and decrypted as drawn.
type Basemap struct {
	*mbtiles.Map
	Bytes int64
	f     *os.File
}

// Close closes the basemap's file.
func (b *Basemap) Close() error { return b.f.Close() }

// Describe says what the open basemap holds.
func (b *Basemap) Describe() BasemapInfo { return BasemapInfo{Info: b.Info(), Bytes: b.Bytes} }

// LoadBasemap checks an MBTiles file and keeps it, encrypted, as this
// device's basemap, replacing the one it held. A file that is not a
// raster MBTiles basemap (damaged, vector tiles, no tiles, over the
// limits) is refused and the basemap held before stays. The basemap is
// this device's alone: it is not sent to other members.
func (d *Desk) LoadBasemap(req BasemapLoad) (BasemapInfo, error) {
	dir := store.MapsDir(d.st.Home())
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return BasemapInfo{}, failed(err)
	}
	// Run last: a refused first load leaves no folder behind (one that
	// holds a basemap stays).
	defer os.Remove(dir)
	tmp, err := os.CreateTemp(dir, ".loading-*")
	if err != nil {
		return BasemapInfo{}, failed(err)
	}
	defer os.Remove(tmp.Name()) // gone once renamed, or when refused
	defer tmp.Close()
	n, err := encryptTo(tmp, req.From, d.st.AgeIdentity().Recipient())
	switch {
	case errors.Is(err, errBasemapTooLarge):
		return BasemapInfo{}, &Error{Code: Invalid, Field: "file", Msg: fmt.Sprintf("%s is over %d MiB: export a smaller area or fewer zoom levels", req.Name, MaxBasemapBytes>>20)}
	case err != nil:
		return BasemapInfo{}, failed(err)
	}
	if err := tmp.Sync(); err != nil {
		return BasemapInfo{}, failed(err)
	}
	m, _, err := openBasemap(tmp, d.st.AgeIdentity())
	if err != nil {
		return BasemapInfo{}, basemapRefused(req.Name, err)
	}
	// One tile of the widest zoom must decode: a file of tiles in a
	// format this build cannot draw is refused now, not found out on the
	// map.
	if err := firstTileDecodes(m); err != nil {
		return BasemapInfo{}, basemapRefused(req.Name, err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dir, basemapFile)); err != nil {
		return BasemapInfo{}, failed(err)
	}
	return BasemapInfo{Info: m.Info(), Bytes: n}, nil
}

func basemapRefused(name string, err error) error {
	return &Error{Code: BadFile, Field: "file", Msg: fmt.Sprintf("%s is not a basemap Vigil can draw (an MBTiles file of PNG, JPEG or WebP tiles): %v; nothing was loaded", name, err), Cause: err}
}

func failed(err error) error { return &Error{Code: Failed, Msg: err.Error(), Cause: err} }

var errBasemapTooLarge = errors.New("basemap over the limit")

// encryptTo copies at most MaxBasemapBytes of r to w, encrypted to rcp.
func encryptTo(w io.Writer, r io.Reader, rcp age.Recipient) (int64, error) {
	aw, err := age.Encrypt(w, rcp)
	if err != nil {
		return 0, err
	}
	n, err := io.Copy(aw, io.LimitReader(r, MaxBasemapBytes+1))
	if err != nil {
		return n, err
	}
	if n > MaxBasemapBytes {
		return n, errBasemapTooLarge
	}
	return n, aw.Close()
}

// openBasemap opens the encrypted basemap in f; size is the MBTiles
// file's.
func openBasemap(f *os.File, id age.Identity) (m *mbtiles.Map, size int64, err error) {
	st, err := f.Stat()
	if err != nil {
		return nil, 0, err
	}
	ra, size, err := age.DecryptReaderAt(f, st.Size(), id)
	if err != nil {
		return nil, 0, fmt.Errorf("it does not decrypt with this device's key (%w)", err)
	}
	m, err = mbtiles.Open(ra, size)
	return m, size, err
}

func firstTileDecodes(m *mbtiles.Map) error {
	z := m.Info().Zooms[0]
	b := m.Info().Bounds
	// A tile under the middle of the bounds, else any of the zoom.
	x, y := int(mbtiles.TileX((b.West+b.East)/2, z)), int(mbtiles.TileY((b.South+b.North)/2, z))
	if !m.Has(z, x, y) {
		var ok bool
		if x, y, ok = m.AnyTile(z); !ok {
			return nil
		}
	}
	_, err := m.Image(z, x, y)
	return err
}

// OpenBasemap opens this device's basemap for drawing; nil (and no
// error) when it holds none. The caller closes it.
func (d *Desk) OpenBasemap() (*Basemap, error) {
	f, err := os.Open(filepath.Join(store.MapsDir(d.st.Home()), basemapFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, failed(err)
	}
	m, size, err := openBasemap(f, d.st.AgeIdentity())
	if err != nil {
		f.Close()
		return nil, &Error{Code: BadFile, Msg: "the basemap on this device cannot be read: " + err.Error() + "; remove it and load it again", Cause: err}
	}
	return &Basemap{Map: m, f: f, Bytes: size}, nil
}

// BasemapInfo describes this device's basemap; nil when it holds none.
func (d *Desk) BasemapInfo() (*BasemapInfo, error) {
	b, err := d.OpenBasemap()
	if b == nil || err != nil {
		return nil, err
	}
	defer b.Close()
	in := b.Describe()
	return &in, nil
}

// RemoveBasemap removes this device's basemap; false when it held none.
func (d *Desk) RemoveBasemap() (bool, error) {
	err := os.Remove(filepath.Join(store.MapsDir(d.st.Home()), basemapFile))
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, failed(err)
	}
	_ = os.Remove(store.MapsDir(d.st.Home())) // only when empty
	return true, nil
}
