package app

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/media/mediatest"
)

// An observer's sealed photo reaches the coordinator's laptop on a USB
// stick; the report's detail lists it, shows it and saves it where the
// coordinator picks, byte for byte.
func TestCoordinatorOpensSealedPhoto(t *testing.T) {
	a := test.NewTempApp(t)
	coordHome, code := missionHomes(t)
	obs := newTestUI(t, a, joinedObserver(t, code), true, testPass)
	// A phone's photo: EXIF time, GPS position, camera and serial.
	photo := bytes.NewBuffer(mediatest.PNG(t, mediatest.Default))
	att, err := obs.be.AttachFile("queue.png", photo.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	id, err := obs.be.Submit(incident.ReportPayload{Category: "polling.late_opening", Severity: 2, Title: "Queue outside", Occurred: time.Now().Add(-20 * time.Minute).UnixMilli()}, []Attachment{att}, true)
	if err != nil {
		t.Fatal(err)
	}
	var stick bytes.Buffer
	if _, err := obs.be.ExportBundle(BundleRequest{}, &stick); err != nil {
		t.Fatal(err)
	}
	coord := newTestUI(t, a, coordHome, false, testPass)
	if sum, err := coord.be.ImportBundle("stick.vgb", stick.Bytes(), nil, nil); err != nil || sum.FilesStored != 1 {
		t.Fatalf("import: %+v %v", sum, err)
	}
	coord.showReport(id, nil)
	if !strings.Contains(allText(coord), "📎 queue.png") {
		t.Fatalf("the report does not list its photo:\n%s", allText(coord))
	}
	// Its capture record, sealed with the report, opened here: what the
	// photo's EXIF says, attached with no peer in reach.
	if want := "📷 2026:12:06 07:41:09+03:00 · -1.3131, 36.7879 · Tecno Spark 10 · " + T("capture.no_peers"); !strings.Contains(allText(coord), want) {
		t.Fatalf("the report does not show its photo's capture %q:\n%s", want, allText(coord))
	}
	shots := os.Getenv("VIGIL_SCREENSHOTS")
	if shots != "" {
		scrollTo(coord, func(o fyne.CanvasObject) bool {
			return strings.HasPrefix(textOf(o), "📎 queue.png")
		})
		saveShotAt(t, coord, filepath.Join(shots, "desktop-report-sealed-photo.png"), 1)
	}
	path := filepath.Join(t.TempDir(), "saved.png")
	useFiles(coord, path)
	tap(t, coord, T("file.save"))
	if got, err := os.ReadFile(path); err != nil || !bytes.Equal(got, photo.Bytes()) {
		t.Fatalf("the saved photo differs from the observer's (%v)", err)
	}
	// The copy to publish holds none of it.
	public := filepath.Join(t.TempDir(), "public.png")
	useFiles(coord, public)
	tap(t, coord, T("file.save_public"))
	if got, err := os.ReadFile(public); err != nil || bytes.Contains(got, []byte(mediatest.Default.Serial)) || bytes.Contains(got, []byte("eXIf")) {
		t.Fatalf("the copy to publish keeps the photo's metadata (%v)", err)
	}
	tap(t, coord, T("file.view"))
	if n := len(coord.win.Canvas().Overlays().List()); n == 0 {
		t.Fatal("viewing the photo opened nothing")
	}
	if shots != "" {
		saveShotAt(t, coord, filepath.Join(shots, "desktop-report-sealed-photo-view.png"), 1)
	}
}
