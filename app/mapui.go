package app

import (
	"errors"
	"fmt"
	"strings"
	"sync"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/vigil-mesh/vigil/incident/act"
)

// basemapState is the basemap the maps draw: looked up once (opening it
// lists its tiles, which reads the file's tile table), then handed to
// every map until one is loaded or removed.
type basemapState struct {
	mu    sync.Mutex
	known bool
	bm    *act.Basemap
}

func (s *basemapState) get() (*act.Basemap, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.bm, s.known
}

func (s *basemapState) set(bm *act.Basemap) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.bm, s.known = bm, true
}

// forget drops the basemap known and its decoded tiles: the next map
// asks the backend again.
func (s *basemapState) forget() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.bm != nil {
		decodedTiles.drop(s.bm)
	}
	s.bm, s.known = nil, false
}

// withBasemap calls fn with the device's basemap (nil when none): at
// once when it is known, else once it is open, opened in the background
// (the first look lists its tiles, which reads the file's tile table).
func (ui *UI) withBasemap(fn func(*act.Basemap)) {
	if bm, known := ui.basemap.get(); known {
		fn(bm)
		return
	}
	var bm *act.Basemap
	ui.background(func() (err error) {
		bm, err = ui.be.Basemap()
		return err
	}, func(err error) {
		if err != nil {
			// A basemap that no longer opens: the maps are the grid, and
			// the map panel offers to load one again.
			bm = nil
		}
		ui.basemap.set(bm)
		fn(bm)
	})
}

// newMap is a map of points and stations over the device's basemap when
// it has one.
func (ui *UI) newMap(points []Point, stations []Station, tap func(Point)) *mapPlot {
	m := newMapPlot(points, stations, tap)
	ui.withBasemap(func(bm *act.Basemap) {
		if bm != nil {
			m.base = bm
			m.Refresh()
		}
	})
	return m
}

// basemapTools is the map panel's line about the basemap: its name and
// zoom levels, or how to get one; load and remove.
func (ui *UI) basemapTools() fyne.CanvasObject {
	box := container.NewVBox()
	ui.withBasemap(func(bm *act.Basemap) {
		load := widget.NewButtonWithIcon(T("map.load"), theme.FolderOpenIcon(), ui.loadBasemap)
		if bm == nil {
			box.Objects = []fyne.CanvasObject{note(T("map.none")), container.NewHBox(load, layout.NewSpacer())}
			box.Refresh()
			return
		}
		in := bm.Info()
		name := in.Name
		if name == "" {
			name = T("map.unnamed")
		}
		remove := widget.NewButtonWithIcon(T("map.remove"), theme.DeleteIcon(), ui.removeBasemap)
		buttons := fyne.CanvasObject(container.NewHBox(load, remove, layout.NewSpacer()))
		if ui.opts.Phone {
			// One above the other: side by side they are wider than a
			// phone in French, Portuguese and Swahili.
			buttons = container.NewVBox(load, remove)
		}
		box.Objects = []fyne.CanvasObject{note(T("map.loaded", map[string]any{"Name": name, "Min": in.Zooms[0], "Max": in.Zooms[len(in.Zooms)-1]})),
			buttons}
		box.Refresh()
	})
	return box
}

// loadBasemap asks for an MBTiles file and loads it (act.Desk.LoadBasemap),
// streamed from the picked file: a basemap can be hundreds of MiB.
func (ui *UI) loadBasemap() {
	ui.chooseOpen([]string{".mbtiles"}, func(rc fyne.URIReadCloser, err error) {
		if err != nil {
			ui.showError(err)
			return
		}
		if rc == nil {
			return
		}
		name := rc.URI().Name()
		var in act.BasemapInfo
		ui.toast(T("map.loading", map[string]any{"Name": name}))
		ui.background(func() (err error) {
			defer rc.Close()
			in, err = ui.be.LoadBasemap(name, rc)
			return err
		}, func(err error) {
			if err != nil {
				ui.showError(basemapError(err))
				return
			}
			ui.basemap.forget()
			ui.toast(T("map.load_done", map[string]any{"Name": in.Name, "N": in.Tiles}))
			ui.redrawMaps()
		})
	})
}

// removeBasemap removes the basemap after asking.
func (ui *UI) removeBasemap() {
	ui.confirm(T("map.remove"), T("map.remove_confirm"), T("map.remove"), func() {
		ui.background(ui.be.RemoveBasemap, func(err error) {
			if err != nil {
				ui.showError(err)
				return
			}
			ui.basemap.forget()
			ui.redrawMaps()
		})
	})
}

// redrawMaps draws the screens with maps again after the basemap changed.
func (ui *UI) redrawMaps() {
	if ui.dash != nil {
		ui.dash.refresh()
	}
}

// basemapError words a refused basemap: what kind of file is wanted,
// then act's reason.
func basemapError(err error) error {
	var ae *act.Error
	if errors.As(err, &ae) && (ae.Code == act.BadFile || ae.Code == act.Invalid) {
		return fmt.Errorf("%s\n\n%s", T("map.load_bad"), strings.TrimSpace(ae.Msg))
	}
	return err
}
