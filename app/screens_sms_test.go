package app

import (
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/vigil-mesh/vigil/app/internal/scene"
	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/act"
	"github.com/vigil-mesh/vigil/incident/store"
)

// TestScreenshotsSMS writes the phone screenshots of "Send by SMS" over
// the practice mission once a coordinator set its SMS number: an
// observer's report with the action, and the sheet that says what a
// text leaves behind before it opens the messaging app.
//
//	VIGIL_SCREENSHOTS=$PWD/docs/screenshots go test -run ScreenshotsSMS ./app
func TestScreenshotsSMS(t *testing.T) {
	out := os.Getenv("VIGIL_SCREENSHOTS")
	if out == "" {
		t.Skip("set VIGIL_SCREENSHOTS to a folder to write screenshots")
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	homes, err := scene.Build(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	smsScene(t, homes)
	a := test.NewTempApp(t)
	ob := New(a, &Home{Dir: homes.Observer, Store: scene.StoreOptions(), NoNetwork: true},
		Options{Phone: true, RefreshEvery: -1, Now: func() time.Time { return scene.Now }, inline: true})
	ob.win.Resize(fyne.NewSize(400, 820))
	ob.unlock([]byte(scene.Passphrase))
	ob.wait()
	t.Cleanup(ob.Close)
	ob.openURL = func(*url.URL) error { return nil }

	id, err := ob.be.Submit(incident.ReportPayload{Category: "polling.intimidation", Severity: 3,
		Title: "Party agents sent out before the count", Station: "PS-0107", Occurred: scene.Now.Add(-50 * time.Minute).UnixMilli(),
		Description: "The presiding officer asked every party agent to leave the hall at 18:05."}, nil, true)
	if err != nil {
		t.Fatal(err)
	}
	ob.showMyReport(id)
	scrollTo(ob, func(o fyne.CanvasObject) bool { return textOf(o) == T("sms.send") })
	saveShot(t, ob, filepath.Join(out, "phone-sms-report.png"))
	tap(t, ob, T("sms.send"))
	saveShot(t, ob, filepath.Join(out, "phone-sms-sheet.png"))
	closeDialog(t, ob, T("action.close"))

	// An alert in a mission that takes SMS: the offer to text it at once.
	ob.pop()
	tap(t, ob, T("home.alert"))
	test.Type(entry(t, ob, T("alert.note")), "Men with sticks at the gate")
	tap(t, ob, T("alert.send"))
	saveShot(t, ob, filepath.Join(out, "phone-sms-alert-offer.png"))
}

// smsScene sets the practice mission's SMS number and sealing (so an
// alert is sealed for SMS too), as a coordinator
// does (act.Desk.Configure, which makes the inbox key), and carries the
// config to the observer.
func smsScene(t *testing.T, homes scene.Homes) {
	t.Helper()
	coord, err := store.Open(homes.Coordinator, []byte(scene.Passphrase), scene.StoreOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer coord.Close()
	if _, err := act.New(coord).Configure([]string{"sms_number=+254 700 111 222", "seal_by_default=true"}); err != nil {
		t.Fatal(err)
	}
	obs, err := store.Open(homes.Observer, []byte(scene.Passphrase), scene.StoreOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer obs.Close()
	carry(t, coord, obs)
}
