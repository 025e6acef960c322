// Package demo creates practice missions: a new home whose device founds a
// mission in the fictional Republic of Marenta, with coordinators,
// observers and carriers under bird pseudonyms, a registry of 300 polling
// stations and a whole polling day of check-ins, reports, amendments,
// retractions, reviews, three alerts (one acknowledged, one resolved, one
// not answered yet) and the coordinators' notices to the field.
//
// Every record is signed and stored exactly as a real mission's would be
// (members redeem coordinator-signed tokens, reviews target reports, and
// so on), so a practice home exercises the same code paths as a real one.
// The store is marked practice (meta "practice" = "1") and the mission's
// name says PRACTICE.
package demo

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/store"
)

// DefaultSeed is the seed Generate uses when Options.Seed is zero.
const DefaultSeed uint64 = 20261125

// MissionName is the practice mission's name.
const MissionName = "PRACTICE — Marenta general election"

// Country is the fictional country the practice mission observes.
const Country = "Republic of Marenta"

// MetaPractice is the store meta setting Generate sets to "1" (the
// genesis is marked as practice too, so joined devices see it).
const MetaPractice = store.MetaPractice

// ErrNotEmpty says the folder given as a practice home already holds files.
var ErrNotEmpty = errors.New("a practice mission needs a new or empty folder")

// Options tune Generate. The zero value is documented field by field.
type Options struct {
	// Seed picks the data set. Zero means DefaultSeed. The same seed and
	// day give the same stations, members (with the same keys), reports and
	// reviews; record IDs also depend on the home's own device key and
	// mission nonce, which the store draws at random.
	Seed uint64
	// Day is the polling day; only its date counts (times are on that
	// date, UTC). Zero means the day before Store.Now's UTC date, so the
	// whole day lies in the past and no record is flagged future_time.
	Day time.Time
	// Store is passed to store.Init (KDF, logger, memory profile). Its Now
	// (default time.Now) is the device's clock; Generate dates the device
	// and the mission genesis ten days before the polling day.
	Store store.Options
}

// Summary says what Generate created.
type Summary struct {
	Home    string          `json:"home"`
	Mission incident.ID     `json:"mission"`
	Name    string          `json:"name"`
	Country string          `json:"country"`
	Founder incident.Author `json:"founder"` // the home's device
	// FounderName is the device's pseudonym in the mission.
	FounderName string `json:"founder_name"`
	Day         string `json:"day"` // YYYY-MM-DD
	Seed        uint64 `json:"seed"`

	Regions   int `json:"regions"`
	Districts int `json:"districts"`
	Stations  int `json:"stations"`

	Coordinators int `json:"coordinators"` // the founder included
	Observers    int `json:"observers"`
	Carriers     int `json:"carriers"`

	// Records counts the stored records by kind, the genesis included: it
	// equals the store's Counts.
	Records map[incident.Kind]int `json:"records"`

	Reports   int `json:"reports"`
	Amended   int `json:"amended"`   // reports with at least one amendment
	Retracted int `json:"retracted"` // reports withdrawn by their author
	Reviewed  int `json:"reviewed"`  // reports with at least one review
	Conflicts int `json:"conflicts"` // reports whose coordinators disagree
	Checkins  int `json:"checkins"`
	Alerts    int `json:"alerts"`
}

// Generate creates a practice mission in home, which must not exist yet or
// be an empty folder (an existing store is refused with an error wrapping
// store.ErrExists, other files with ErrNotEmpty). The home's device becomes
// the founding coordinator. On error, whatever Generate created in home is
// removed again. It takes a few seconds, most of them in the passphrase
// key derivation.
func Generate(home string, passphrase []byte, opts Options) (Summary, error) {
	if home == "" {
		return Summary{}, errors.New("no home folder given for the practice mission")
	}
	if len(passphrase) == 0 {
		return Summary{}, errors.New("the passphrase is empty")
	}
	if opts.Seed == 0 {
		opts.Seed = DefaultSeed
	}
	now := opts.Store.Now
	if now == nil {
		now = time.Now
	}
	day := pollingDay(opts.Day, now())
	if store.Initialised(home) {
		return Summary{}, fmt.Errorf("%w in %s: a practice mission needs a new home", store.ErrExists, home)
	}
	existed, err := checkEmpty(home)
	if err != nil {
		return Summary{}, err
	}

	// The device and the genesis are dated before the polling day, as a
	// real mission's would be; afterwards the store reads the real clock
	// (it only uses it for flags).
	founded := day.Add(-10*24*time.Hour + 9*time.Hour + 12*time.Minute)
	setup := true
	so := opts.Store
	so.Now = func() time.Time {
		if setup {
			return founded
		}
		return now()
	}
	sum, err := generate(home, passphrase, so, opts.Seed, day, &setup)
	if err != nil {
		if rerr := removeCreated(home, existed); rerr != nil {
			err = fmt.Errorf("%w (and removing the half-built home failed: %v)", err, rerr)
		}
		return Summary{}, err
	}
	return sum, nil
}

func generate(home string, passphrase []byte, so store.Options, seed uint64, day time.Time, setup *bool) (sum Summary, err error) {
	st, err := store.Init(home, passphrase, so)
	if err != nil {
		return sum, err
	}
	defer func() {
		if cerr := st.Close(); err == nil && cerr != nil {
			err = cerr
		}
	}()
	w := newWorld(seed)
	if _, err := st.CreateMissionWith(store.MissionSpec{Name: MissionName, Label: w.founder.label, Practice: true}); err != nil {
		return sum, err
	}
	*setup = false
	if err := st.SetName(w.founder.name); err != nil {
		return sum, err
	}
	// Marked before the records go in, so a reader never sees the mission
	// without the mark.
	if err := st.SetMeta(MetaPractice, []byte("1")); err != nil {
		return sum, err
	}
	ms, err := st.Mission()
	if err != nil {
		return sum, err
	}
	w.founder.signer = st.Signer()
	w.founder.recipient = st.AgeIdentity().Recipient().String()
	plan, err := build(w, ms.Genesis, day)
	if err != nil {
		return sum, err
	}
	raws := make([][]byte, len(plan.records))
	for i, r := range plan.records {
		raws[i] = r.Raw
	}
	results, err := st.AddMany(raws, "demo", nil)
	if err != nil {
		return sum, err
	}
	for i, r := range results {
		if r.Outcome != store.Accepted {
			return sum, fmt.Errorf("practice record %d (%s %s) was %s: %v", i, plan.records[i].Kind, r.ID, r.Outcome, r.Err)
		}
	}
	counts, err := st.Counts()
	if err != nil {
		return sum, err
	}
	sum = plan.summary
	sum.Home, sum.Mission, sum.Name, sum.Country = home, ms.ID, MissionName, Country
	sum.Founder, sum.FounderName = st.Author(), w.founder.name
	sum.Day, sum.Seed = day.Format(time.DateOnly), seed
	sum.Records = counts
	return sum, nil
}

// pollingDay returns midnight UTC of the practice polling day.
func pollingDay(day, now time.Time) time.Time {
	if day.IsZero() {
		n := now.UTC()
		return time.Date(n.Year(), n.Month(), n.Day()-1, 0, 0, 0, 0, time.UTC)
	}
	y, m, d := day.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// checkEmpty refuses a folder that holds anything; it reports whether the
// folder exists.
func checkEmpty(home string) (existed bool, err error) {
	entries, err := os.ReadDir(home)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("practice home %s: %w", home, err)
	}
	if len(entries) > 0 {
		return true, fmt.Errorf("%w; %s holds %d entries (%s, …)", ErrNotEmpty, home, len(entries), entries[0].Name())
	}
	return true, nil
}

// removeCreated undoes a failed Generate: the whole folder when Generate
// made it, else what it put in the (previously empty) folder.
func removeCreated(home string, existed bool) error {
	if !existed {
		return os.RemoveAll(home)
	}
	entries, err := os.ReadDir(home)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if err := os.RemoveAll(filepath.Join(home, e.Name())); err != nil {
			return err
		}
	}
	return nil
}
