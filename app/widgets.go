package app

import (
	"fmt"
	"image"
	"image/color"
	"io"
	"math"
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/vigil-mesh/vigil/incident/mbtiles"
)

// tile is a large tappable pictogram with a label: the category-first
// form and the check-in row are made of them.
type tile struct {
	widget.BaseWidget
	icon     string
	text     string
	sub      string
	accent   color.Color
	vertical bool
	selected bool
	onTap    func()

	bg *canvas.Rectangle
}

func newTile(icon, text string, accent color.Color, vertical bool, tap func()) *tile {
	t := &tile{icon: icon, text: text, accent: accent, vertical: vertical, onTap: tap}
	t.ExtendBaseWidget(t)
	return t
}

// Tapped runs the tile's action.
func (t *tile) Tapped(*fyne.PointEvent) {
	if t.onTap != nil {
		t.onTap()
	}
}

func (t *tile) setSelected(on bool) {
	t.selected = on
	t.Refresh()
}

func (t *tile) CreateRenderer() fyne.WidgetRenderer {
	t.bg = canvas.NewRectangle(theme.Color(theme.ColorNameButton))
	t.bg.CornerRadius = theme.InputRadiusSize() * 2
	t.bg.StrokeWidth = 2
	strip := canvas.NewRectangle(t.accent)
	strip.SetMinSize(fyne.NewSize(6, 6))
	ic := canvas.NewText(t.icon, theme.Color(theme.ColorNameForeground))
	ic.TextSize = 30
	label := widget.NewLabel(t.text)
	label.Wrapping = fyne.TextWrapWord
	label.TextStyle.Bold = true
	var body fyne.CanvasObject
	if t.vertical {
		ic.TextSize = 40
		label.Alignment = fyne.TextAlignCenter
		parts := []fyne.CanvasObject{container.NewCenter(ic), label}
		if t.sub != "" {
			s := note(t.sub)
			s.Segments[0].(*widget.TextSegment).Style.Alignment = fyne.TextAlignCenter
			parts = append(parts, s)
		}
		body = container.NewBorder(strip, nil, nil, nil, container.NewVBox(parts...))
	} else {
		center := fyne.CanvasObject(label)
		if t.sub != "" {
			center = container.NewVBox(label, note(t.sub))
		}
		body = container.NewBorder(nil, nil, container.NewHBox(strip, container.NewCenter(ic)), nil, center)
	}
	r := &tileRenderer{t: t, objects: []fyne.CanvasObject{t.bg, container.NewPadded(body)}}
	r.Refresh()
	return r
}

type tileRenderer struct {
	t       *tile
	objects []fyne.CanvasObject
}

func (r *tileRenderer) Layout(s fyne.Size) {
	for _, o := range r.objects {
		o.Resize(s)
		o.Move(fyne.NewPos(0, 0))
	}
}

// MinSize is the content's, and never narrower than the label's longest
// word: a wrapping label alone would let a narrow screen squeeze a tile
// until it breaks a word in the middle.
func (r *tileRenderer) MinSize() fyne.Size {
	m := r.objects[1].MinSize()
	word := float32(0)
	for _, w := range strings.Fields(r.t.text) {
		word = max(word, fyne.MeasureText(w, theme.TextSize(), fyne.TextStyle{Bold: true}).Width)
	}
	// The label's inner padding, the tile's padding, and the accent strip
	// and icon beside a horizontal tile's label.
	extra := 2*theme.InnerPadding() + 2*theme.Padding()
	if !r.t.vertical {
		extra += 6 + 40 + 2*theme.Padding()
	}
	return m.Max(fyne.NewSize(word+extra, 0))
}
func (r *tileRenderer) Objects() []fyne.CanvasObject { return r.objects }
func (r *tileRenderer) Destroy()                     {}
func (r *tileRenderer) Refresh() {
	r.t.bg.FillColor = theme.Color(theme.ColorNameButton)
	if r.t.selected {
		r.t.bg.StrokeColor = theme.Color(theme.ColorNamePrimary)
		r.t.bg.StrokeWidth = 3
	} else {
		r.t.bg.StrokeColor = theme.Color(theme.ColorNameInputBorder)
		r.t.bg.StrokeWidth = 1
	}
	r.t.bg.Refresh()
}

// heading is a bold section title.
func heading(text string) *widget.Label {
	l := widget.NewLabel(text)
	l.TextStyle.Bold = true
	l.SizeName = theme.SizeNameSubHeadingText
	return l
}

// noteLabel is secondary text: wrapped, in the theme's placeholder
// colour (Fyne's low-importance label colour is too faint to read
// outdoors).
type noteLabel struct {
	widget.RichText
}

func note(text string) *noteLabel {
	n := &noteLabel{}
	n.Wrapping = fyne.TextWrapWord
	n.Scroll = container.ScrollNone
	n.Segments = []widget.RichTextSegment{&widget.TextSegment{Text: text,
		Style: widget.RichTextStyle{ColorName: theme.ColorNamePlaceHolder, Inline: true, SizeName: theme.SizeNameText}}}
	n.ExtendBaseWidget(n)
	return n
}

// SetText replaces the note's text.
func (n *noteLabel) SetText(s string) {
	n.Segments[0].(*widget.TextSegment).Text = s
	n.Refresh()
}

// Text is the note's text.
func (n *noteLabel) Text() string { return n.Segments[0].(*widget.TextSegment).Text }

// wrapLabel is a label that wraps.
func wrapLabel(text string) *widget.Label {
	l := widget.NewLabel(text)
	l.Wrapping = fyne.TextWrapWord
	return l
}

// card frames content on a tinted background.
func card(content fyne.CanvasObject) fyne.CanvasObject {
	bg := canvas.NewRectangle(theme.Color(theme.ColorNameInputBackground))
	bg.CornerRadius = theme.InputRadiusSize() * 2
	return container.NewStack(bg, container.NewPadded(content))
}

// badge is a small coloured label.
func badge(text string, c color.Color) fyne.CanvasObject {
	bg := canvas.NewRectangle(c)
	bg.CornerRadius = 6
	t := canvas.NewText(" "+text+" ", color.White)
	t.TextStyle.Bold = true
	t.TextSize = theme.CaptionTextSize() + 1
	return container.NewStack(bg, container.New(layout.NewCustomPaddedLayout(2, 2, 4, 4), t))
}

// barLayout draws its first object as a bar filling frac of the width.
type barLayout struct{ frac float32 }

func (l *barLayout) Layout(objs []fyne.CanvasObject, s fyne.Size) {
	h := s.Height * 0.6
	for _, o := range objs {
		o.Resize(fyne.NewSize(float32(math.Max(2, float64(s.Width*l.frac))), h))
		o.Move(fyne.NewPos(0, (s.Height-h)/2))
	}
}
func (l *barLayout) MinSize([]fyne.CanvasObject) fyne.Size { return fyne.NewSize(60, 20) }

// splitLayout gives its first object frac of the width and the second
// the rest: labels of a bar chart stay aligned whatever their length.
type splitLayout struct{ frac float32 }

func (l *splitLayout) Layout(objs []fyne.CanvasObject, s fyne.Size) {
	lw := s.Width * l.frac
	objs[0].Move(fyne.NewPos(0, 0))
	objs[0].Resize(fyne.NewSize(lw, s.Height))
	pad := theme.Padding()
	objs[1].Move(fyne.NewPos(lw+pad, 0))
	objs[1].Resize(fyne.NewSize(s.Width-lw-pad, s.Height))
}

func (l *splitLayout) MinSize(objs []fyne.CanvasObject) fyne.Size {
	return fyne.NewSize(80+objs[1].MinSize().Width, fyne.Max(objs[0].MinSize().Height, objs[1].MinSize().Height))
}

// bars is a horizontal bar chart: one row per count, label, bar, number.
func bars(counts []Count, label func(string) string, col func(string) color.Color, narrow bool) fyne.CanvasObject {
	max := 0
	for _, c := range counts {
		if c.N > max {
			max = c.N
		}
	}
	grid := container.NewVBox()
	if len(counts) == 0 {
		return note(T("dash.nothing_yet"))
	}
	for _, c := range counts {
		frac := float32(0)
		if max > 0 {
			frac = float32(c.N) / float32(max)
		}
		bar := canvas.NewRectangle(col(c.Key))
		bar.CornerRadius = 3
		if c.N == 0 {
			bar.FillColor = color.Transparent
		}
		n := widget.NewLabel(strconv.Itoa(c.N))
		n.TextStyle.Monospace = true
		l := widget.NewLabel(label(c.Key))
		l.Truncation = fyne.TextTruncateEllipsis
		row := container.NewBorder(nil, nil, nil, n, container.New(&barLayout{frac}, bar))
		if narrow {
			// On a phone the label gets its own line: category names are
			// long and truncated ones say nothing.
			l.Truncation = fyne.TextTruncateOff
			l.Wrapping = fyne.TextWrapWord
			grid.Add(container.NewVBox(l, row))
			continue
		}
		grid.Add(container.New(&splitLayout{frac: 0.42}, l, row))
	}
	return grid
}

// timelineChart draws reports per hour as columns.
type timelineChart struct {
	widget.BaseWidget
	hours []HourCount
}

func newTimelineChart(h []HourCount) *timelineChart {
	c := &timelineChart{hours: h}
	c.ExtendBaseWidget(c)
	return c
}

func (c *timelineChart) CreateRenderer() fyne.WidgetRenderer {
	r := &timelineRenderer{c: c}
	r.build()
	return r
}

type timelineRenderer struct {
	c       *timelineChart
	cols    []*canvas.Rectangle
	labels  []*canvas.Text
	nums    []*canvas.Text
	axis    *canvas.Line
	objects []fyne.CanvasObject
}

func (r *timelineRenderer) build() {
	r.objects = nil
	r.cols, r.labels, r.nums = nil, nil, nil
	r.axis = canvas.NewLine(theme.Color(theme.ColorNameSeparator))
	r.objects = append(r.objects, r.axis)
	for _, h := range r.c.hours {
		col := canvas.NewRectangle(theme.Color(theme.ColorNamePrimary))
		r.cols = append(r.cols, col)
		lbl := canvas.NewText(h.Hour.Format("15h"), theme.Color(theme.ColorNameForeground))
		lbl.TextSize = theme.CaptionTextSize()
		lbl.Alignment = fyne.TextAlignCenter
		r.labels = append(r.labels, lbl)
		num := canvas.NewText("", theme.Color(theme.ColorNameForeground))
		if h.N > 0 {
			num.Text = strconv.Itoa(h.N)
		}
		num.TextSize = theme.CaptionTextSize()
		num.Alignment = fyne.TextAlignCenter
		r.nums = append(r.nums, num)
		r.objects = append(r.objects, col, lbl, num)
	}
}

func (r *timelineRenderer) Layout(s fyne.Size) {
	n := len(r.cols)
	if n == 0 {
		return
	}
	max := 1
	for _, h := range r.c.hours {
		if h.N > max {
			max = h.N
		}
	}
	labelH := theme.CaptionTextSize() + 6
	plotH := s.Height - 2*labelH
	w := s.Width / float32(n)
	gap := float32(math.Min(4, float64(w)/4))
	// Label every k-th hour so labels never overlap.
	k := int(math.Ceil(float64(32) / float64(w)))
	if k < 1 {
		k = 1
	}
	for i, col := range r.cols {
		h := plotH * float32(r.c.hours[i].N) / float32(max)
		col.Resize(fyne.NewSize(w-gap, h))
		col.Move(fyne.NewPos(float32(i)*w+gap/2, labelH+plotH-h))
		r.nums[i].Resize(fyne.NewSize(w, labelH))
		r.nums[i].Move(fyne.NewPos(float32(i)*w, labelH+plotH-h-labelH))
		r.nums[i].Hidden = w < 18
		r.labels[i].Resize(fyne.NewSize(w*float32(k), labelH))
		r.labels[i].Move(fyne.NewPos(float32(i)*w-w*float32(k-1)/2, labelH+plotH+2))
		r.labels[i].Hidden = i%k != 0
	}
	r.axis.Position1 = fyne.NewPos(0, labelH+plotH)
	r.axis.Position2 = fyne.NewPos(s.Width, labelH+plotH)
}

func (r *timelineRenderer) MinSize() fyne.Size { return fyne.NewSize(200, 160) }
func (r *timelineRenderer) Objects() []fyne.CanvasObject {
	return r.objects
}
func (r *timelineRenderer) Destroy() {}
func (r *timelineRenderer) Refresh() {
	r.build()
	r.Layout(r.c.Size())
	canvas.Refresh(r.c)
}

// mapPlot is an offline map: report locations drawn over the device's
// basemap (an MBTiles file the mission loads, in Web Mercator) when it
// covers them, else on a lat/lon grid in an equirectangular projection
// scaled to the reports' extent. No tile server is needed, nor any
// network.
type mapPlot struct {
	widget.BaseWidget
	points   []Point
	stations []Station
	onTap    func(Point)
	// emptyText is what an empty map says (default: no report has a
	// location yet).
	emptyText string
	// base is drawn under the dots when it covers them all; nil: none.
	base tileSource
}

func newMapPlot(points []Point, stations []Station, tap func(Point)) *mapPlot {
	m := &mapPlot{points: points, stations: stations, onTap: tap, emptyText: T("dash.map_empty")}
	m.ExtendBaseWidget(m)
	return m
}

// located calls fn with every point and every located station.
func (m *mapPlot) located(fn func(lat, lon float64)) {
	for _, p := range m.points {
		fn(p.Lat, p.Lon)
	}
	for _, s := range m.stations {
		if s.Lat != nil && s.Lon != nil {
			fn(float64(*s.Lat)/1e6, float64(*s.Lon)/1e6)
		}
	}
}

// bounds returns the extent to show: every point and station, padded.
func (m *mapPlot) bounds() (minLat, maxLat, minLon, maxLon float64, ok bool) {
	minLat, minLon = 90, 180
	maxLat, maxLon = -90, -180
	m.located(func(lat, lon float64) {
		ok = true
		minLat, maxLat = math.Min(minLat, lat), math.Max(maxLat, lat)
		minLon, maxLon = math.Min(minLon, lon), math.Max(maxLon, lon)
	})
	if !ok {
		return
	}
	padLat := math.Max((maxLat-minLat)*0.08, 0.01)
	padLon := math.Max((maxLon-minLon)*0.08, 0.01)
	return minLat - padLat, maxLat + padLat, minLon - padLon, maxLon + padLon, true
}

// covered reports whether the basemap's bounds hold every point and
// station: a map half on tiles and half on nothing would mislead.
func (m *mapPlot) covered() bool {
	if m.base == nil {
		return false
	}
	b, in := m.base.Info().Bounds, true
	m.located(func(lat, lon float64) { in = in && b.Contains(lat, lon) })
	return in
}

// baseView is the Web Mercator view of the points' extent (the
// basemap's own when there is no point) on a plot of size s, and the
// zoom of the basemap to draw; ok is false when the map is the grid (no
// basemap, points outside it, or no zoom of the file fits the view).
func (m *mapPlot) baseView(s fyne.Size) (v mercatorView, z int, ok bool) {
	if m.base == nil || s.Width <= 0 || s.Height <= 0 {
		return v, 0, false
	}
	minLat, maxLat, minLon, maxLon, any := m.bounds()
	if !any {
		b := m.base.Info().Bounds
		minLat, maxLat, minLon, maxLon = b.South, b.North, b.West, b.East
	} else if !m.covered() {
		return v, 0, false
	}
	minX, maxX := mbtiles.TileX(minLon, 0), mbtiles.TileX(maxLon, 0)
	minY, maxY := mbtiles.TileY(maxLat, 0), mbtiles.TileY(minLat, 0)
	v = newMercatorView(minX, minY, maxX, maxY, float64(s.Width), float64(s.Height))
	// The zoom is chosen in pixels: a phone's screen has two or three a
	// unit, and tiles of its own zoom would show blurred.
	px := float64(1)
	if c := fyne.CurrentApp().Driver().CanvasForObject(m); c != nil && c.Scale() > 0 {
		px = float64(c.Scale())
	}
	z, ok = m.base.FitZoom(maxX-minX, maxY-minY, float64(s.Width)*px, float64(s.Height)*px, tileSize, maxVisibleTiles)
	return v, z, ok
}

// Tapped opens the nearest report within reach of the tap.
func (m *mapPlot) Tapped(e *fyne.PointEvent) {
	if m.onTap == nil {
		return
	}
	proj, ok := m.projection(m.Size())
	if !ok {
		return
	}
	best, bestD := -1, float32(20*20)
	for i, p := range m.points {
		pos := proj(p.Lat, p.Lon)
		dx, dy := pos.X-e.Position.X, pos.Y-e.Position.Y
		if d := dx*dx + dy*dy; d < bestD {
			best, bestD = i, d
		}
	}
	if best >= 0 {
		m.onTap(m.points[best])
	}
}

// projection maps lat/lon to positions in a plot of size s: Web Mercator
// over a basemap, else equirectangular keeping the aspect ratio true at
// the middle latitude.
func (m *mapPlot) projection(s fyne.Size) (func(lat, lon float64) fyne.Position, bool) {
	minLat, maxLat, minLon, maxLon, ok := m.bounds()
	if !ok {
		return nil, false
	}
	if v, _, based := m.baseView(s); based {
		return func(lat, lon float64) fyne.Position {
			x, y := v.at(lat, lon)
			return fyne.NewPos(float32(x), float32(y))
		}, true
	}
	k := math.Cos((minLat + maxLat) / 2 * math.Pi / 180)
	wDeg, hDeg := (maxLon-minLon)*k, maxLat-minLat
	scale := math.Min(float64(s.Width)/wDeg, float64(s.Height)/hDeg)
	offX := (float64(s.Width) - wDeg*scale) / 2
	offY := (float64(s.Height) - hDeg*scale) / 2
	return func(lat, lon float64) fyne.Position {
		return fyne.NewPos(float32(offX+(lon-minLon)*k*scale), float32(offY+(maxLat-lat)*scale))
	}, true
}

func (m *mapPlot) CreateRenderer() fyne.WidgetRenderer {
	r := &mapRenderer{m: m}
	r.build()
	return r
}

type mapRenderer struct {
	m        *mapPlot
	bg       *canvas.Rectangle
	tiles    *canvas.Raster
	grid     []*canvas.Line
	gridText []*canvas.Text
	stations []*canvas.Circle
	dots     []*canvas.Circle
	empty    *canvas.Text
	// attribution credits the basemap's makers; outside says why a
	// basemap is not drawn.
	attrBg  *canvas.Rectangle
	attr    *canvas.Text
	outside *canvas.Text
	objects []fyne.CanvasObject

	// The view and zoom the tiles are drawn at, set by Layout.
	view mercatorView
	zoom int
}

func (r *mapRenderer) build() {
	r.bg = canvas.NewRectangle(theme.Color(theme.ColorNameInputBackground))
	r.bg.CornerRadius = 6
	bg := theme.Color(theme.ColorNameInputBackground)
	r.tiles = canvas.NewRaster(func(w, h int) image.Image {
		if r.m.base == nil || r.view.width <= 0 {
			return image.NewUniform(color.Transparent)
		}
		return drawTiles(r.m.base, r.view, r.zoom, w, h, bg)
	})
	r.tiles.Hidden = true
	r.objects = []fyne.CanvasObject{r.bg, r.tiles}
	r.grid, r.gridText, r.stations, r.dots = nil, nil, nil, nil
	for i := 0; i < 10; i++ {
		l := canvas.NewLine(theme.Color(theme.ColorNameSeparator))
		l.StrokeWidth = 1
		t := canvas.NewText("", theme.Color(theme.ColorNamePlaceHolder))
		t.TextSize = theme.CaptionTextSize() - 1
		r.grid = append(r.grid, l)
		r.gridText = append(r.gridText, t)
		r.objects = append(r.objects, l, t)
	}
	for range r.m.stations {
		c := canvas.NewCircle(color.Transparent)
		c.StrokeColor = colorMuted
		c.StrokeWidth = 1
		r.stations = append(r.stations, c)
		r.objects = append(r.objects, c)
	}
	for _, p := range r.m.points {
		col := severityColor(p.Severity)
		if p.Color != nil {
			col = p.Color
		}
		c := canvas.NewCircle(withAlpha(col, 0xc0))
		c.StrokeColor = col
		c.StrokeWidth = 1
		r.dots = append(r.dots, c)
		r.objects = append(r.objects, c)
	}
	r.empty = canvas.NewText(r.m.emptyText, theme.Color(theme.ColorNamePlaceHolder))
	r.empty.Alignment = fyne.TextAlignCenter
	// The attribution in dark grey on a pale band, as web maps show it,
	// whatever the theme: it sits on the tiles.
	r.attrBg = canvas.NewRectangle(color.NRGBA{0xff, 0xff, 0xff, 0xc0})
	r.attr = canvas.NewText("", color.NRGBA{0x33, 0x33, 0x33, 0xff})
	r.attr.TextSize = theme.CaptionTextSize() - 1
	r.attr.Alignment = fyne.TextAlignTrailing
	r.outside = canvas.NewText(T("map.outside"), theme.Color(theme.ColorNamePlaceHolder))
	r.outside.TextSize = theme.CaptionTextSize()
	r.outside.Alignment = fyne.TextAlignTrailing
	if r.m.base != nil {
		r.attr.Text = attributionText(r.m.base.Info().Attribution)
	}
	r.objects = append(r.objects, r.empty, r.attrBg, r.attr, r.outside)
}

func withAlpha(c color.Color, a uint8) color.Color {
	r, g, b, _ := c.RGBA()
	return color.NRGBA{R: uint8(r >> 8), G: uint8(g >> 8), B: uint8(b >> 8), A: a}
}

func (r *mapRenderer) Layout(s fyne.Size) {
	r.bg.Resize(s)
	proj, ok := r.m.projection(s)
	r.empty.Hidden = ok
	r.empty.Move(fyne.NewPos(0, s.Height/2-10))
	r.empty.Resize(fyne.NewSize(s.Width, 20))
	for _, l := range r.grid {
		l.Hidden = true
	}
	for _, t := range r.gridText {
		t.Hidden = true
	}
	view, zoom, based := r.m.baseView(s)
	r.layoutBase(s, view, zoom, based, ok)
	if !ok {
		for _, c := range append(r.stations, r.dots...) {
			c.Hidden = true
		}
		return
	}
	if !based {
		r.layoutGrid(s, proj)
	}
	for k, st := range r.m.stations {
		c := r.stations[k]
		c.Hidden = st.Lat == nil || st.Lon == nil
		if c.Hidden {
			continue
		}
		p := proj(float64(*st.Lat)/1e6, float64(*st.Lon)/1e6)
		c.Move(fyne.NewPos(p.X-3, p.Y-3))
		c.Resize(fyne.NewSize(6, 6))
	}
	for k, pt := range r.m.points {
		p := proj(pt.Lat, pt.Lon)
		d := float32(8 + 2*pt.Severity)
		r.dots[k].Hidden = false
		r.dots[k].Move(fyne.NewPos(p.X-d/2, p.Y-d/2))
		r.dots[k].Resize(fyne.NewSize(d, d))
	}
}

// layoutBase shows the tiles and their attribution when the map is
// drawn over the basemap, and says so when a basemap does not cover the
// points.
func (r *mapRenderer) layoutBase(s fyne.Size, view mercatorView, zoom int, based, points bool) {
	changed := view != r.view || zoom != r.zoom
	r.view, r.zoom = view, zoom
	r.tiles.Hidden = !based
	r.tiles.Move(fyne.NewPos(0, 0))
	r.tiles.Resize(s)
	if based && changed {
		r.tiles.Refresh()
	}
	caption := theme.CaptionTextSize() + 4
	r.attr.Hidden = !based || r.attr.Text == ""
	r.attrBg.Hidden = r.attr.Hidden
	if !r.attr.Hidden {
		w := fyne.MeasureText(r.attr.Text, r.attr.TextSize, r.attr.TextStyle).Width + 8
		r.attrBg.Move(fyne.NewPos(s.Width-w, s.Height-caption))
		r.attrBg.Resize(fyne.NewSize(w, caption))
		r.attr.Move(fyne.NewPos(s.Width-w, s.Height-caption))
		r.attr.Resize(fyne.NewSize(w-4, caption))
	}
	r.outside.Hidden = based || r.m.base == nil || !points
	r.outside.Move(fyne.NewPos(0, 2))
	r.outside.Resize(fyne.NewSize(s.Width-6, caption))
}

// layoutGrid draws a graticule at round steps: 4 or 5 lines each way.
func (r *mapRenderer) layoutGrid(s fyne.Size, proj func(lat, lon float64) fyne.Position) {
	minLat, maxLat, minLon, maxLon, _ := r.m.bounds()
	i := 0
	step := niceStep((maxLat - minLat) / 4)
	for lat := math.Ceil(minLat/step) * step; lat <= maxLat && i < 5; lat += step {
		p := proj(lat, minLon)
		r.grid[i].Position1, r.grid[i].Position2 = fyne.NewPos(0, p.Y), fyne.NewPos(s.Width, p.Y)
		r.grid[i].Hidden = false
		r.gridText[i].Text = strconv.FormatFloat(lat, 'f', decimals(step), 64) + "°"
		r.gridText[i].Move(fyne.NewPos(4, p.Y-theme.CaptionTextSize()-2))
		r.gridText[i].Hidden = false
		i++
	}
	j := 5
	step = niceStep((maxLon - minLon) / 4)
	for lon := math.Ceil(minLon/step) * step; lon <= maxLon && j < 10; lon += step {
		p := proj(maxLat, lon)
		r.grid[j].Position1, r.grid[j].Position2 = fyne.NewPos(p.X, 0), fyne.NewPos(p.X, s.Height)
		r.grid[j].Hidden = false
		r.gridText[j].Text = strconv.FormatFloat(lon, 'f', decimals(step), 64) + "°"
		r.gridText[j].Move(fyne.NewPos(p.X+2, s.Height-theme.CaptionTextSize()-4))
		r.gridText[j].Hidden = false
		j++
	}
}

// niceStep rounds a grid step to 1, 2 or 5 times a power of ten.
func niceStep(raw float64) float64 {
	if raw <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if raw <= m*p {
			return m * p
		}
	}
	return 10 * p
}

func decimals(step float64) int {
	d := 0
	for step < 1 && d < 6 {
		step *= 10
		d++
	}
	return d
}

func (r *mapRenderer) MinSize() fyne.Size           { return fyne.NewSize(240, 220) }
func (r *mapRenderer) Objects() []fyne.CanvasObject { return r.objects }
func (r *mapRenderer) Destroy()                     {}
func (r *mapRenderer) Refresh() {
	r.build()
	r.Layout(r.m.Size())
	canvas.Refresh(r.m)
}

// plural picks a count text like "3 reports".
func countText(key string, n int) string { return TN(key, n) }

// shortID shortens a record ID for display.
func shortID(s string) string {
	if len(s) > 14 {
		return s[:6] + "…" + s[len(s)-6:]
	}
	return s
}

// formatReach prints a reach bucket.
func formatReach(n uint64) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprintf("~%d", n)
}

// readPicked reads the file a file dialog returned, at most limit+1 bytes
// (so a caller can tell a file over its limit). ok is false when the user
// cancelled, or when the read failed, whose error it shows.
func (ui *UI) readPicked(rc fyne.URIReadCloser, err error, limit int64) (name string, data []byte, ok bool) {
	if err != nil {
		ui.showError(err)
		return "", nil, false
	}
	if rc == nil {
		return "", nil, false
	}
	defer rc.Close()
	if data, err = io.ReadAll(io.LimitReader(rc, limit+1)); err != nil {
		ui.showError(err)
		return "", nil, false
	}
	return rc.URI().Name(), data, true
}
