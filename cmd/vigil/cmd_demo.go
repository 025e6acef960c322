package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/vigil-mesh/vigil/incident/demo"
	"github.com/vigil-mesh/vigil/incident/store"
)

// cmdDemo creates a practice mission with a whole polling day of realistic
// data in a home of its own: `vigil demo [--home DIR] [--seed N] [--day
// YYYY-MM-DD]`. It prints the home's path on stdout, and on stderr what is
// in it and the commands to try next. With --print-home it only prints the
// path (scripts/run.sh asks it, so the rule lives here alone).
func (c *cli) cmdDemo(args []string) error {
	fs := newFlags("demo")
	seed := fs.Uint64("seed", demo.DefaultSeed, "picks the practice data: the same seed gives the same day (0: the default)")
	day := fs.String("day", "", "the polling day, YYYY-MM-DD (default: yesterday, UTC, so the whole day is in the past)")
	where := fs.Bool("print-home", false, "print the practice home this would use (beside the real home) and create nothing")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("demo: unexpected argument %q (the practice home goes in --home)", pos[0])
	}
	var pollingDay time.Time
	if *day != "" {
		if pollingDay, err = time.Parse(time.DateOnly, *day); err != nil {
			return usagef("--day: %q is not a date (YYYY-MM-DD)", *day)
		}
	}
	def, _ := defaultHome()
	home := practiceHome(c.home, def, c.getenv("VIGIL_HOME"))
	if *where {
		fmt.Fprintln(c.stdout, home)
		return nil
	}
	if store.Initialised(home) {
		return fmt.Errorf("%w in %s: a practice mission needs a new home (pass --home NEWDIR, or delete %s to start over)",
			store.ErrExists, home, home)
	}

	pass, err := c.newStorePassphrase(fmt.Sprintf("Choose a passphrase for the practice store in %s.", home), "no practice store was created")
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stderr, "Creating a practice mission in %s…\n", home)
	sum, err := demo.Generate(home, pass, demo.Options{Seed: *seed, Day: pollingDay, Store: c.storeOptions()})
	if err != nil {
		return err
	}
	if !pollingDay.IsZero() && pollingDay.Add(24*time.Hour).After(c.now()) {
		fmt.Fprintln(c.stderr, "Note: the polling day is not over yet by this device's clock; records dated after now are flagged future_time.")
	}
	if c.json {
		return c.printJSON(sum)
	}
	fmt.Fprintln(c.stdout, home)
	c.demoSummary(sum)
	return nil
}

// demoSummary tells the user what the practice home holds and what to try.
func (c *cli) demoSummary(s demo.Summary) {
	total := 0
	for _, n := range s.Records {
		total += n
	}
	w := c.stderr
	fmt.Fprintf(w, "Practice mission %q created in %s.\n", s.Name, s.Home)
	fmt.Fprintf(w, "  %s (fictional): %d regions, %d districts, %d polling stations (PS-0001 to PS-%04d)\n",
		s.Country, s.Regions, s.Districts, s.Stations, s.Stations)
	fmt.Fprintf(w, "  polling day %s (seed %d); this device is %s, the founding coordinator\n", s.Day, s.Seed, s.FounderName)
	fmt.Fprintf(w, "  members: %d coordinators, %d observers, %d carriers\n", s.Coordinators, s.Observers, s.Carriers)
	fmt.Fprintf(w, "  reports: %d (%d amended, %d retracted, %d reviewed, %d with conflicting reviews)\n",
		s.Reports, s.Amended, s.Retracted, s.Reviewed, s.Conflicts)
	fmt.Fprintf(w, "  check-ins: %d, alerts: %d; %d records in all\n", s.Checkins, s.Alerts, total)
	fmt.Fprintln(w, "Nothing in it is real, and it never mixes with a real mission's home. Try:")
	h := shellQuote(s.Home)
	for _, cmd := range []string{"report list", "report list --category infrastructure", "report list --status escalated",
		"mission members", "status", "gui"} {
		fmt.Fprintf(w, "  vigil --home %s %s\n", h, cmd)
	}
}

// practiceHome is where a practice mission goes: the home given, unless it
// is this user's real home (the default one or $VIGIL_HOME), in which case
// a folder beside it named with "-practice" added. A practice mission never
// lands among real data (and Generate refuses any home that holds a store).
func practiceHome(home, defaultHome, envHome string) string {
	clean := filepath.Clean(home)
	for _, real := range []string{defaultHome, envHome} {
		if real != "" && clean == filepath.Clean(real) {
			return practiceBeside(clean)
		}
	}
	return home
}

// practiceBeside is the practice home kept beside a real home: the same
// folder with "-practice" added to its name. It is the one rule for where
// practice data goes beside real data (`vigil demo` on the real home,
// `vigil node --practice-if-no-mission`, `make run`).
func practiceBeside(home string) string { return filepath.Clean(home) + "-practice" }

// shellQuote quotes a path for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && !strings.ContainsAny(s, " \t\n'\"$`\\!*?[]{}()<>|&;#~") {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
