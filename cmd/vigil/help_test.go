package main

import (
	"bytes"
	"errors"
	"flag"
	"path/filepath"
	"strings"
	"testing"
)

// commandFlags returns the FlagSet a command line's parser uses, through
// its --help (nil for a command without one).
func commandFlags(t *testing.T, path []string) *flag.FlagSet {
	t.Helper()
	c, _, _ := demoCLI(filepath.Join(t.TempDir(), "home"))
	err := c.dispatch(append(append([]string{}, path...), "--help"))
	var help *helpRequest
	if errors.As(err, &help) {
		return help.fs
	}
	return nil
}

// TestHelpListsEveryFlag: for every command, `vigil COMMAND --help` and
// `vigil help COMMAND` exit 0 and print each flag of the FlagSet the
// parser uses; a command with subcommands prints each one's; the
// top-level help names every command and every flag.
func TestHelpListsEveryFlag(t *testing.T) {
	top := helpText
	for _, path := range commandPaths() {
		name := strings.Join(path, " ")
		if name == "gui" || name == "help" {
			continue
		}
		fs := commandFlags(t, path)
		for _, form := range [][]string{append(append([]string{}, path...), "--help"), append([]string{"help"}, path...)} {
			var out, errb bytes.Buffer
			c, _, _ := demoCLI(filepath.Join(t.TempDir(), "home"))
			c.stdout, c.stderr = &out, &errb
			if code := c.run(form); code != 0 {
				t.Errorf("vigil %s: exit %d\n%s", strings.Join(form, " "), code, errb.String())
				continue
			}
			if fs == nil {
				if out.Len() == 0 {
					t.Errorf("vigil %s printed nothing", strings.Join(form, " "))
				}
				continue
			}
			fs.VisitAll(func(f *flag.Flag) {
				if !strings.Contains(out.String(), "--"+f.Name+" ") {
					t.Errorf("vigil %s does not list --%s:\n%s", strings.Join(form, " "), f.Name, out.String())
				}
			})
		}
		if !strings.Contains(top, "  "+name+" ") && !strings.Contains(top, "  "+name+"\n") {
			t.Errorf("vigil help does not name the command %q", name)
		}
		if fs != nil {
			fs.VisitAll(func(f *flag.Flag) {
				if !strings.Contains(top, "--"+f.Name) {
					t.Errorf("vigil help does not name %s --%s", name, f.Name)
				}
			})
		}
	}
	for _, group := range []string{"mission", "report", "bundle", "passphrase"} {
		var out bytes.Buffer
		c, _, _ := demoCLI(filepath.Join(t.TempDir(), "home"))
		c.stdout = &out
		if code := c.run([]string{group, "--help"}); code != 0 {
			t.Errorf("vigil %s --help: exit %d", group, code)
		}
		for _, sub := range subcommands[group] {
			if !strings.Contains(out.String(), "vigil "+group+" "+sub) {
				t.Errorf("vigil %s --help does not show %s:\n%s", group, sub, out.String())
			}
		}
	}
}
