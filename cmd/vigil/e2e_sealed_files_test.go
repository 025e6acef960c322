package main

import (
	"bytes"
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The whole path of a photo in a sealed mission, on the command line:
// an observer attaches it, a carrier carries the members' bundle it
// cannot read, the coordinator saves the photo under its name, byte for
// byte. A bundle made too small for the photo says so.
func TestSealedPhotoOnTheCommandLine(t *testing.T) {
	t.Parallel()
	coord, _, _ := sealedMission(t, "coordinator")
	obs, _, _ := member(t, "observer", invite(t, coord, "--role", "observer"))
	car, _, _ := member(t, "carrier", invite(t, coord, "--role", "carrier"))
	// A member who joined by code and met nobody: its first members'
	// bundle opens with the coordinator's key; the coordinator's bundle
	// back opens with its own key and hands it the epoch secret.
	fresh := membersBundle(t, coord)
	_, errs, code := runVigil(t, obs, nil, "bundle", "import", fresh)
	wantFailure(t, "a members' bundle made before the coordinator knew this device", "", errs, code, 1, "give a coordinator a bundle from this device first")
	carryMembers(t, obs, coord)
	carryMembers(t, car, coord)
	carryMembers(t, coord, obs)
	carryMembers(t, coord, car)

	photo := make([]byte, 90<<10)
	rand.Read(photo)
	copy(photo, "\xff\xd8\xff\xe0\x00\x10JFIF")
	dir := t.TempDir()
	src := filepath.Join(dir, "ballot-box-PS-0042.jpg")
	if err := os.WriteFile(src, photo, 0o600); err != nil {
		t.Fatal(err)
	}
	id := mustID(t, obs, nil, "report", "add", "--category", "polling.violence", "--severity", "4",
		"--title", "Seal broken on the ballot box", "--attach", src)
	if r := showReport(t, obs, id); !r.Sealed {
		t.Fatal("a report of a real mission is not sealed by default")
	}
	// Too small a stick: the records go, the photo is left out, and the
	// export says so.
	small := filepath.Join(t.TempDir(), "small.vgb")
	_, errs, code = runVigil(t, obs, nil, "bundle", "export", "--out", small, "--max-size", "40KB")
	if code != 0 || !strings.Contains(errs, "Left out 1 attachment file") {
		t.Fatalf("a bundle too small for the photo: exit %d\n%s", code, errs)
	}
	stick := membersBundle(t, obs)
	if data := mustRead(t, stick); bytes.Contains(data, photo[2000:2064]) || bytes.Contains(data, []byte("ballot-box")) {
		t.Fatal("the bundle carries the photo or its name in the clear")
	}
	if sum := importBundle(t, car, stick); sum.FilesStored != 1 {
		t.Fatalf("the carrier did not keep the photo's ciphertext: %+v", sum)
	}
	// The carrier cannot read the report, so it knows of no file to save.
	carDir := filepath.Join(t.TempDir(), "car")
	out, errs, code := runVigil(t, car, nil, "attachment", "save", id, "--out", carDir)
	if saved, _ := os.ReadDir(carDir); len(saved) > 0 || strings.Contains(out+errs, "ballot-box") {
		t.Fatalf("the carrier saved a sealed report's photo: exit %d\n%s%s", code, out, errs)
	}
	if sum := carryMembers(t, car, coord); sum.FilesStored != 1 {
		t.Fatalf("the coordinator did not get the photo: %+v", sum)
	}
	saved := filepath.Join(t.TempDir(), "evidence")
	got := mustRun(t, coord, nil, "attachment", "save", id, "--out", saved)
	if got != filepath.Join(saved, "ballot-box-PS-0042.jpg") {
		t.Fatalf("attachment save printed %q", got)
	}
	if data := mustRead(t, got); !bytes.Equal(data, photo) {
		t.Fatal("the coordinator's copy of the photo differs from the observer's")
	}
	// Saving again never overwrites.
	if again := mustRun(t, coord, nil, "attachment", "save", id, "--out", saved); again != filepath.Join(saved, "ballot-box-PS-0042 (2).jpg") {
		t.Fatalf("a second save printed %q", again)
	}
}
