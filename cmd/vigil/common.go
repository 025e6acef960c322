package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/term"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/store"
	"github.com/vigil-mesh/vigil/incident/vault"
)

// defaultHome is the OS user data folder: $XDG_DATA_HOME/vigil or
// ~/.local/share/vigil on Linux, ~/Library/Application Support/Vigil on
// macOS, %AppData%\Vigil on Windows.
func defaultHome() (string, error) {
	switch runtime.GOOS {
	case "darwin", "ios":
		h, err := os.UserHomeDir()
		if err != nil {
			return "", err
		}
		return filepath.Join(h, "Library", "Application Support", "Vigil"), nil
	case "windows":
		d, err := os.UserConfigDir()
		if err != nil {
			return "", err
		}
		return filepath.Join(d, "Vigil"), nil
	}
	if x := os.Getenv("XDG_DATA_HOME"); x != "" {
		return filepath.Join(x, "vigil"), nil
	}
	h, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("no home folder to keep the store in: %w (use --home)", err)
	}
	return filepath.Join(h, ".local", "share", "vigil"), nil
}

// passphrase returns the store passphrase: $VIGIL_PASSPHRASE, then
// --passphrase-file, then a prompt on the terminal.
func (c *cli) passphrase(prompt string) ([]byte, error) {
	if p := c.getenv("VIGIL_PASSPHRASE"); p != "" {
		return []byte(p), nil
	}
	if c.passphraseFile != "" {
		return readSecretFile(c.path(c.passphraseFile))
	}
	return c.prompt(prompt, false)
}

// newStorePassphrase returns the passphrase for a store being created:
// $VIGIL_PASSPHRASE, then --passphrase-file, else a prompt (twice) after
// intro. Each source is held to vault's rule for a new passphrase, so a
// three-letter one is refused here as in the app; unchanged says what the
// refusal left undone ("no store was created").
func (c *cli) newStorePassphrase(intro, unchanged string) ([]byte, error) {
	var p []byte
	var err error
	from := "the new passphrase"
	switch {
	case c.getenv("VIGIL_PASSPHRASE") != "":
		from = "the new passphrase in $VIGIL_PASSPHRASE"
		p, err = c.passphrase("")
	case c.passphraseFile != "":
		from = "the new passphrase in " + c.passphraseFile
		p, err = c.passphrase("")
	default:
		fmt.Fprintln(c.stderr, intro)
		p, err = c.prompt("New passphrase", true)
	}
	if err != nil {
		return nil, err
	}
	if err := checkNewPassphrase(from, p, unchanged); err != nil {
		return nil, err
	}
	return p, nil
}

// passphraseRefused is a new passphrase that breaks vault's rule, worded
// for the command line; it unwraps to the *vault.PassphraseError.
type passphraseRefused struct {
	msg string
	err error
}

func (e *passphraseRefused) Error() string { return e.msg }
func (e *passphraseRefused) Unwrap() error { return e.err }

// checkNewPassphrase applies vault.CheckNewPassphrase, the rule the app
// applies too, to p, a passphrase being chosen. what names it in the
// message ("the bundle passphrase in F"); unchanged says what the refusal
// left undone. The message never holds the passphrase.
func checkNewPassphrase(what string, p []byte, unchanged string) error {
	err := vault.CheckNewPassphrase(p)
	var pe *vault.PassphraseError
	if !errors.As(err, &pe) {
		return err
	}
	var why string
	switch pe.Fault {
	case vault.TooShort:
		why = fmt.Sprintf("has fewer than %d characters", pe.Min)
	case vault.OnlySpaces:
		why = "is only spaces"
	case vault.OneCharRepeated:
		why = "is one character repeated"
	default:
		why = "is refused"
	}
	return &passphraseRefused{
		msg: fmt.Sprintf("%s %s: choose at least %d characters, not all spaces nor one repeated (a few words are easiest to remember); %s",
			what, why, pe.Min, unchanged),
		err: err,
	}
}

// path is p as the user meant it: a relative path resolves in the
// caller's folder, also when the command runs inside the process that
// holds the home (whose own folder may be anywhere).
func (c *cli) path(p string) string {
	if p == "" || p == "-" || filepath.IsAbs(p) || c.dir == "" {
		return p
	}
	return filepath.Join(c.dir, p)
}

func readSecretFile(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("passphrase file: %w", err)
	}
	b = bytes.TrimRight(b, "\r\n")
	if len(b) == 0 {
		return nil, fmt.Errorf("passphrase file %s is empty", path)
	}
	return b, nil
}

// prompt reads a secret from the terminal; confirm asks twice.
func (c *cli) prompt(prompt string, confirm bool) ([]byte, error) {
	f, ok := c.stdin.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return nil, errors.New("no passphrase: set VIGIL_PASSPHRASE or pass --passphrase-file (standard input is not a terminal)")
	}
	fmt.Fprint(c.stderr, prompt+": ")
	p, err := term.ReadPassword(int(f.Fd()))
	fmt.Fprintln(c.stderr)
	if err != nil {
		return nil, err
	}
	if len(p) == 0 {
		return nil, errors.New("the passphrase is empty")
	}
	if confirm {
		fmt.Fprint(c.stderr, "Again: ")
		q, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(c.stderr)
		if err != nil {
			return nil, err
		}
		if !bytes.Equal(p, q) {
			return nil, errors.New("the passphrases differ")
		}
	}
	return p, nil
}

func (c *cli) storeOptions() store.Options {
	return store.Options{Now: c.now, KDF: buildKDF, KeepAll: c.keepAll}
}

// open unlocks the store.
func (c *cli) open() (*store.Store, error) {
	if !store.Initialised(c.home) {
		return nil, fmt.Errorf("%w (home %s)", store.ErrNotInitialised, c.home)
	}
	p, err := c.passphrase("Passphrase for " + c.home)
	if err != nil {
		return nil, err
	}
	return store.Open(c.home, p, c.storeOptions())
}

// withStore runs fn on the unlocked store and closes it.
func (c *cli) withStore(fn func(s *store.Store) error) error {
	if c.shared != nil {
		return fn(c.shared)
	}
	s, err := c.open()
	if err != nil {
		return err
	}
	err = fn(s)
	if cerr := s.Close(); err == nil {
		err = cerr
	}
	return err
}

// newFlags returns a flag set whose errors become usage errors.
func newFlags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

// parse parses flags and allows positional arguments anywhere.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, &helpRequest{fs}
			}
			return nil, usagef("%s: %v", fs.Name(), err)
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// setFlags returns the names of the flags given on the command line.
func setFlags(fs *flag.FlagSet) map[string]bool {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	return set
}

// multi is a repeatable string flag.
type multi []string

func (m *multi) String() string     { return strings.Join(*m, ",") }
func (m *multi) Set(v string) error { *m = append(*m, v); return nil }

// parseTime reads T: RFC 3339, a date, or a duration back from now.
func (c *cli) parseTime(flagName, s string) (time.Time, error) {
	if s == "" || s == "now" {
		return c.now(), nil
	}
	if d, err := time.ParseDuration(s); err == nil {
		if d < 0 {
			return time.Time{}, usagef("--%s: %q: give a duration back from now without a sign, or an RFC 3339 time", flagName, s)
		}
		return c.now().Add(-d), nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, usagef("--%s: %q is not an RFC 3339 time (2026-11-25T08:30:00Z) or a duration (2h)", flagName, s)
}

// checkUTF8 rejects command-line text that is not UTF-8, naming the flag.
func checkUTF8(values map[string]string) error {
	for name, v := range values {
		if !utf8.ValidString(v) {
			return fmt.Errorf("--%s: not valid UTF-8", name)
		}
	}
	return nil
}

func parseDegrees(name, s string) (*int64, error) {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return nil, usagef("--%s: %q is not a number", name, s)
	}
	return incident.Micro(f), nil
}

// printJSON writes one JSON object on a line.
// printEach prints a listing: each item as a JSON line (asJSON) with
// --json, else as a text line; none goes to stderr when the text listing
// is empty.
func printEach[T any](c *cli, list []T, asJSON func(T) any, line func(T) string, none string) error {
	for _, v := range list {
		if c.json {
			if err := c.printJSON(asJSON(v)); err != nil {
				return err
			}
			continue
		}
		fmt.Fprintln(c.stdout, line(v))
	}
	if !c.json && len(list) == 0 {
		fmt.Fprintln(c.stderr, none)
	}
	return nil
}

func (c *cli) printJSON(v any) error {
	enc := json.NewEncoder(c.stdout)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// helpRequest: -h or --help on a command; its flags are printed and the
// command exits 0.
type helpRequest struct{ fs *flag.FlagSet }

func (h *helpRequest) Error() string { return "help" }

func (h *helpRequest) text() string {
	return flagsHelp(h.fs)
}

// positionals are the arguments a command takes besides its flags, for
// its usage line.
var positionals = map[string]string{
	"mission join": "CODE", "mission revoke": "MEMBER", "mission confirm": "MEMBER",
	"mission invite cancel": "INVITE_ID", "mission cancel": "INVITE_ID",
	"report show": "ID", "report amend": "ID", "report retract": "ID", "review": "ID",
	"bundle import": "FILE", "verify": "FILE", "restore": "FILE",
	"form import": "FILE.xlsx", "form show": "ID",
	"sms encode": "ID", "sms import": "FILE", "sms key": "share|rotate",
}

// valueNames are the value placeholders help shows for flag types.
var valueNames = map[string]string{"string": "TEXT", "int": "N", "uint": "N", "int64": "N", "float": "F", "float64": "F", "duration": "DUR"}

// flagsHelp is a command's help, generated from the FlagSet its parser
// uses: the usage line and every flag with its value and default.
func flagsHelp(fs *flag.FlagSet) string {
	var b strings.Builder
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	line := "vigil " + fs.Name()
	if a := positionals[fs.Name()]; a != "" {
		line += " " + a
	}
	if n == 0 {
		fmt.Fprintf(&b, "Usage: %s (no flags)\n", line)
	} else {
		fmt.Fprintf(&b, "Usage: %s [flags]\n", line)
	}
	fs.VisitAll(func(f *flag.Flag) {
		name, usage := flag.UnquoteUsage(f)
		if strings.ContainsRune(name, ' ') {
			// A quoted command in the usage, not a value name: name the
			// value by its type.
			plain := *f
			plain.Usage = strings.ReplaceAll(f.Usage, "`", "")
			name, _ = flag.UnquoteUsage(&plain)
			usage = f.Usage
		}
		left := "--" + f.Name
		if v, ok := valueNames[name]; ok {
			name = v
		}
		if name != "" {
			left += " " + strings.ToUpper(name)
		}
		def := ""
		if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" && f.DefValue != "[]" {
			def = fmt.Sprintf(" (default %s)", f.DefValue)
		}
		fmt.Fprintf(&b, "  %-24s %s%s\n", left, usage, def)
	})
	b.WriteString("Global flags, before or after the command: --home DIR, --json, --passphrase-file FILE.\n")
	return b.String()
}
