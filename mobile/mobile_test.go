package mobile

import (
	"testing"
	"time"
)

type fakeDaemon struct{ pauses, resumes int }

func (f *fakeDaemon) Background() { f.pauses++ }
func (f *fakeDaemon) Resume()     { f.resumes++ }

func TestLifecyclePausesAndResumes(t *testing.T) {
	var e *fakeDaemon
	clock := time.Unix(1000, 0)
	l := &Lifecycle{Daemon: func() Daemon {
		if e == nil {
			return nil
		}
		return e
	}, Now: func() time.Time { return clock }}
	// No daemon yet (no mission): nothing to pause, nothing to resume.
	l.Background()
	l.Foreground()
	if l.Paused() {
		t.Fatal("paused without a daemon")
	}
	e = &fakeDaemon{}
	l.Background()
	l.Background()
	if !l.Paused() || e.pauses != 1 {
		t.Fatalf("paused %v, %d pauses", l.Paused(), e.pauses)
	}
	clock = clock.Add(90 * time.Second)
	l.Foreground()
	l.Foreground()
	if l.Paused() || e.resumes != 1 {
		t.Fatalf("paused %v, %d resumes", l.Paused(), e.resumes)
	}
	if l.Away() != 90*time.Second {
		t.Fatalf("away %v", l.Away())
	}
	// A daemon started while in the background is resumed, not another.
	l.Background()
	old := e
	e = &fakeDaemon{}
	l.Foreground()
	if old.resumes != 2 || e.resumes != 0 {
		t.Fatalf("resumed the wrong engine: old %d new %d", old.resumes, e.resumes)
	}
}

func TestHome(t *testing.T) {
	if h, err := Home("/data/data/org.vigilmesh.vigil/files"); err != nil || h != "/data/data/org.vigilmesh.vigil/files/vigil" {
		t.Fatalf("%q %v", h, err)
	}
	for _, bad := range []string{"", "relative/dir", "/sdcard/Download", "/storage/emulated/0/vigil"} {
		if _, err := Home(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	var l MulticastLock = NoMulticastLock{}
	if err := l.Acquire(); err != nil {
		t.Fatal(err)
	}
	l.Release()
}
