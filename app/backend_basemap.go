package app

import (
	"io"

	"github.com/vigil-mesh/vigil/incident/act"
)

// Basemap is the open basemap (act.Desk.OpenBasemap): the backend opens
// it once (listing its tiles reads the whole tile table) and hands the
// same one to every map until a basemap is loaded or removed.
func (b *StoreBackend) Basemap() (*act.Basemap, error) {
	b.bmMu.Lock()
	defer b.bmMu.Unlock()
	if b.bmOpened {
		return b.bm, nil
	}
	bm, err := b.desk.OpenBasemap()
	if err != nil {
		return nil, err
	}
	b.bm, b.bmOpened = bm, true
	return bm, nil
}

// LoadBasemap checks and keeps an MBTiles file as this device's basemap
// (act.Desk.LoadBasemap).
func (b *StoreBackend) LoadBasemap(name string, r io.Reader) (act.BasemapInfo, error) {
	in, err := b.desk.LoadBasemap(act.BasemapLoad{Name: name, From: r})
	if err == nil {
		b.forgetBasemap()
	}
	return in, err
}

// RemoveBasemap removes this device's basemap (act.Desk.RemoveBasemap).
func (b *StoreBackend) RemoveBasemap() error {
	b.forgetBasemap()
	_, err := b.desk.RemoveBasemap()
	return err
}

// forgetBasemap closes the open basemap: the next map opens the file
// anew. A map still drawing from the old one reads a closed file and
// shows its dots.
func (b *StoreBackend) forgetBasemap() {
	b.bmMu.Lock()
	defer b.bmMu.Unlock()
	if b.bm != nil {
		_ = b.bm.Close()
	}
	b.bm, b.bmOpened = nil, false
}
