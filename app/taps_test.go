package app

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/act"
)

// MaxFieldTaps is what a new observer's first check-in and first report
// with a photo may cost, typing excluded: on election day every tap is
// taken from watching the station.
const MaxFieldTaps = 12

// tapCounter makes the taps of a test and counts them, step by step:
// the test taps only through it, so the count is what the test does.
type tapCounter struct {
	t     *testing.T
	ui    *UI
	step  string
	steps []string            // in the order begun
	taps  map[string][]string // step → what was tapped, one entry a tap
	total int
}

func newTapCounter(t *testing.T, ui *UI) *tapCounter {
	return &tapCounter{t: t, ui: ui, taps: map[string][]string{}}
}

// begin starts counting a new step (listed even if it takes no tap).
func (c *tapCounter) begin(step string) {
	c.step = step
	if _, ok := c.taps[step]; !ok {
		c.steps = append(c.steps, step)
		c.taps[step] = nil
	}
}

func (c *tapCounter) count(what string) {
	c.taps[c.step] = append(c.taps[c.step], what)
	c.total++
}

// tap taps the button or tile labelled text (counted first: what it
// opens, the file dialog, counts its own taps after it).
func (c *tapCounter) tap(text string) {
	c.t.Helper()
	c.count(text)
	tap(c.t, c.ui, text)
}

// pick selects the row of a list that holds text: one tap on the row.
func (c *tapCounter) pick(l *widget.List, rows int, text func(int) string, want string) {
	c.t.Helper()
	for i := 0; i < rows; i++ {
		if strings.Contains(text(i), want) {
			c.count("row " + want)
			l.Select(i)
			c.ui.wait()
			return
		}
	}
	c.t.Fatalf("no row %q in the list", want)
}

// pickFiles makes the app's file dialog return path. Each time the app
// opens it, it counts the two taps a person makes there: the photo,
// then "Open" (the dialog opening in the folder that holds it).
func (c *tapCounter) pickFiles(path string) {
	c.ui.chooseOpen = func(_ []string, got func(fyne.URIReadCloser, error)) {
		c.count("file dialog: " + filepath.Base(path))
		c.count("file dialog: Open")
		got(storage.Reader(storage.NewFileURI(path)))
	}
}

// breakdown is the count per step, in order.
func (c *tapCounter) breakdown() string {
	var b strings.Builder
	for _, s := range c.steps {
		fmt.Fprintf(&b, "  %-10s %2d  %s\n", s, len(c.taps[s]), strings.Join(c.taps[s], " → "))
	}
	return b.String()
}

// freshObserver makes the home of an observer that has joined code's
// mission and synced with the coordinator once (it holds the station
// registry, and its assignment where assign is set), and has chosen no
// station yet: a new observer on the morning of the election.
func freshObserver(t *testing.T, coordHome *Home, code, assign string) *Home {
	t.Helper()
	h := testHome(t)
	ob, err := h.Create([]byte(testPass))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ob.Join(code); err != nil {
		t.Fatal(err)
	}
	cb, err := coordHome.Unlock([]byte(testPass))
	if err != nil {
		t.Fatal(err)
	}
	obs, coord := ob.(*StoreBackend), cb.(*StoreBackend)
	carry(t, obs.Store(), coord.Store())
	if assign != "" {
		if _, err := coord.Desk().Assign(act.AssignRequest{Member: "Amani", Station: assign}); err != nil {
			t.Fatal(err)
		}
	}
	carry(t, coord.Store(), obs.Store())
	if err := cb.Close(); err != nil {
		t.Fatal(err)
	}
	if err := ob.Close(); err != nil {
		t.Fatal(err)
	}
	return h
}

// testPhoto writes a small JPEG, as a phone's camera leaves one, and
// returns its path and content.
func testPhoto(t *testing.T) (string, []byte) {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 64, 48))
	for x := 0; x < 64; x++ {
		for y := 0; y < 48; y++ {
			img.Set(x, y, color.RGBA{uint8(x * 4), uint8(y * 5), 90, 255})
		}
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, nil); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "IMG_0412.jpg")
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path, b.Bytes()
}

// A new observer files a check-in and a report with a photo in at most
// MaxFieldTaps taps, typing excluded (issue 20), on a phone.
//
// The count starts on the first screen after unlocking, on a device that
// has joined the mission and synced once and has no station yet; it ends
// when the report is saved. Counted: every button or tile tapped, a row
// picked in a list, and, in the file dialog, the photo and "Open" (a
// dialog that opens in the photo's folder). Not counted: typing (the
// title), and the tap that puts the cursor in a field to type.
//
// Assigned: the coordinator posted the observer to PS-0002 before the
// sync; the home opens on it. Chosen: no assignment; the observer picks
// PS-0002 from the registry on the first-run station picker.
func TestNewObserverCheckinAndReportWithPhotoTaps(t *testing.T) {
	for _, assigned := range []bool{true, false} {
		name := map[bool]string{true: "assigned", false: "chosen"}[assigned]
		t.Run(name, func(t *testing.T) {
			a := test.NewTempApp(t)
			coordHome, code := missionHomes(t)
			post := ""
			if assigned {
				post = "PS-0002"
			}
			ui := newTestUI(t, a, freshObserver(t, coordHome, code, post), true, testPass)
			c := newTapCounter(t, ui)
			photoPath, photo := testPhoto(t)
			c.pickFiles(photoPath)

			// The station: the first-run picker, unless the home opens.
			c.begin("station")
			if ui.observer == nil {
				if assigned {
					t.Errorf("the first-run station picker asks an assigned observer its station")
				}
				l, ok := find(ui, func(*widget.List) bool { return true })
				if !ok {
					t.Fatalf("neither the home nor the station picker after unlock:\n%s", allText(ui))
				}
				stations, _ := ui.be.Stations()
				c.pick(l, len(stations), func(i int) string { return stationText(stations[i]) }, "PS-0002")
				c.tap(T("station.use"))
			}
			if ui.observer == nil {
				t.Fatalf("not on the observer's home:\n%s", allText(ui))
			}
			if got := ui.station(); got != "PS-0002" {
				t.Fatalf("station %q, want PS-0002", got)
			}
			if screen := allText(ui); assigned && !strings.Contains(screen, T("home.station_assigned", map[string]any{"Code": "PS-0002"})) {
				t.Fatalf("the home does not say the station is the assigned one:\n%s", screen)
			}

			c.begin("check-in")
			c.tap(CheckinLabel("arrived"))
			if !strings.Contains(toastText(ui), "Check-in saved") {
				t.Fatalf("check-in: confirmation %q", toastText(ui))
			}

			c.begin("report")
			c.tap(T("home.new_report"))
			c.tap(FamilyLabel("polling"))
			c.tap(CategoryLabelOf("polling.materials_missing"))
			c.tap(SeverityLabel(3))
			ui.form.title.SetText("")
			test.Type(ui.form.title, "No ink at the gate")
			c.begin("photo")
			c.tap(T("form.attach"))
			if !strings.Contains(allText(ui), "IMG_0412.jpg") {
				t.Fatalf("photo not listed on the form:\n%s", allText(ui))
			}
			c.begin("save")
			c.tap(T("form.save"))
			if !strings.Contains(toastText(ui), "Report saved") || ui.form != nil {
				t.Fatalf("after save: confirmation %q, screen:\n%s", toastText(ui), allText(ui))
			}

			t.Logf("%s: %d taps (at most %d):\n%s", name, c.total, MaxFieldTaps, c.breakdown())
			if c.total > MaxFieldTaps {
				t.Errorf("%d taps, want at most %d:\n%s", c.total, MaxFieldTaps, c.breakdown())
			}

			// What the taps stored.
			acts, err := ui.be.MyActivity()
			if err != nil {
				t.Fatal(err)
			}
			var checkins []Activity
			for _, x := range acts {
				if x.Kind == incident.KindCheckin {
					checkins = append(checkins, x)
				}
			}
			if len(checkins) != 1 || checkins[0].Status != "arrived" || checkins[0].Station != "PS-0002" {
				t.Fatalf("check-ins stored: %+v", checkins)
			}
			mine, err := ui.be.MyReports()
			if err != nil || len(mine) != 1 {
				t.Fatalf("reports stored: %d, %v", len(mine), err)
			}
			r := &mine[0].View.Report
			if r.Category != "polling.materials_missing" || r.Severity != 3 || r.Title != "No ink at the gate" || r.Station != "PS-0002" {
				t.Fatalf("report stored: %+v", r)
			}
			files := ui.be.Files(r)
			if len(files) != 1 || files[0].Name != "IMG_0412.jpg" {
				t.Fatalf("files of the report: %+v", files)
			}
			if got, err := ui.be.FileContent(r, files[0]); err != nil || !bytes.Equal(got, photo) {
				t.Fatalf("the photo's content: %v", err)
			}
		})
	}
}
