package e2e

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestWipeLeavesNothingOnTheDisk plays a seized phone's raw storage: a
// home inside a fresh ext4 image goes through init, joining with an
// invite, a report and a wipe; the image, unmounted, is then searched byte
// for byte. No report title, member label or invite code may be there, in
// a live file, a freed block or the journal: the store writes them only
// encrypted, and nothing beside it (lock file, temporary files) holds
// them in clear.
func TestWipeLeavesNothingOnTheDisk(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root (a loop-mounted ext4 image)")
	}
	for _, name := range []string{"mkfs.ext4", "mount", "umount"} {
		if _, ok := lookTool(name); !ok {
			t.Skipf("%s not found (install e2fsprogs and mount)", name)
		}
	}
	if vigilBin == "" {
		t.Fatalf("the vigil binary was not built (%s)", buildSkipped)
	}
	mkfs, _ := lookTool("mkfs.ext4")
	mountT, _ := lookTool("mount")
	umountT, _ := lookTool("umount")
	run := func(name string, args ...string) {
		t.Helper()
		if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
			t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
		}
	}

	img := filepath.Join(t.TempDir(), "phone.img")
	f, err := os.Create(img)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(96 << 20); err != nil {
		t.Fatal(err)
	}
	f.Close()
	run(mkfs, "-q", "-F", img)
	mnt := t.TempDir()
	if out, err := exec.Command(mountT, "-o", "loop", img, mnt).CombinedOutput(); err != nil {
		t.Skipf("cannot loop-mount an image here: %v: %s", err, out)
	}
	mounted := true
	t.Cleanup(func() {
		if mounted {
			_ = exec.Command(umountT, mnt).Run()
		}
	})

	// The coordinator is elsewhere; only the observer's phone is searched.
	const (
		title = "NEEDLE-title-Ballot-box-seal-broken-at-PS-0042"
		label = "NEEDLE-label-Heron-of-the-east"
	)
	coord := filepath.Join(t.TempDir(), "coord")
	vigil(t, coord, "init")
	vigil(t, coord, "mission", "create", "--name", "Disk test")
	code := strings.TrimSpace(vigil(t, coord, "mission", "invite", "--role", "observer", "--label", label))

	// A control: a file written plainly on the same disk is found by the
	// search, so the test cannot pass by reading nothing.
	const control = "CONTROL-plain-file-on-the-phone"
	if err := os.WriteFile(filepath.Join(mnt, "note.txt"), []byte(control), 0o600); err != nil {
		t.Fatal(err)
	}
	phone := filepath.Join(mnt, "vigil")
	vigil(t, phone, "init")
	vigil(t, phone, "mission", "join", code)
	vigil(t, phone, "report", "add", "--category", "polling.materials_missing", "--severity", "3", "--title", title,
		"--description", "The seal on box 3 was broken before counting.")
	vigil(t, phone, "wipe", "--yes")

	run(umountT, mnt)
	mounted = false
	raw, err := os.ReadFile(img)
	if err != nil {
		t.Fatal(err)
	}
	for what, needle := range map[string]string{"the report title": title, "the member label": label,
		"the invite code": code, "the start of the invite code": code[:min(len(code), 48)]} {
		if i := bytes.Index(raw, []byte(needle)); i >= 0 {
			t.Errorf("the wiped phone's disk holds %s in clear at byte %d", what, i)
		}
	}
	if !bytes.Contains(raw, []byte(control)) {
		t.Fatal("the search missed the plain control file: it reads nothing")
	}
}
