package main

import (
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

var (
	fyneOnce sync.Once
	fyneBin  string
	fyneErr  error
)

// fyneBinary builds the binary with the Fyne app linked in, as users run
// it (the other e2e tests use the headless build).
func fyneBinary(t *testing.T) string {
	t.Helper()
	fyneOnce.Do(func() {
		bin := filepath.Join(workDir, "vigil-fyne")
		out, err := exec.Command("go", "build", "-buildvcs=false", "-o", bin, ".").CombinedOutput()
		if err != nil {
			fyneErr = err
			t.Logf("%s", out)
			return
		}
		fyneBin = bin
	})
	if fyneErr != nil {
		t.Skipf("the Fyne build is not available here: %v", fyneErr)
	}
	return fyneBin
}

// TestNoLocaleNoise: under a C locale, with or without a charset, or with
// none set, no command prints Fyne's "Error parsing user locale".
func TestNoLocaleNoise(t *testing.T) {
	bin := fyneBinary(t)
	for _, lang := range []string{"C.UTF-8", "C.utf8", "C", "POSIX", ""} {
		home := filepath.Join(t.TempDir(), "home")
		for _, args := range [][]string{{"help"}, {"status"}, {"report", "add", "--help"}} {
			cmd := exec.Command(bin, append([]string{"--home", home}, args...)...)
			cmd.Env = childEnv([]string{"LANG=" + lang, "LC_ALL=", "LC_MESSAGES=", "LANGUAGE="})
			var stderr strings.Builder
			cmd.Stderr = &stderr
			_ = cmd.Run()
			if s := stderr.String(); strings.Contains(s, "Fyne error") || strings.Contains(strings.ToLower(s), "user locale") {
				t.Errorf("LANG=%q vigil %s: locale noise on stderr:\n%s", lang, strings.Join(args, " "), s)
			}
		}
	}
}
