package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"

	"golang.org/x/term"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/act"
	"github.com/vigil-mesh/vigil/incident/store"
	"github.com/vigil-mesh/vigil/incident/vault"
)

func (c *cli) cmdInit(args []string) error {
	fs := newFlags("init")
	name := fs.String("name", "", "a name for this device, shown to your coordinators")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if err := checkUTF8(map[string]string{"name": *name}); err != nil {
		return err
	}
	if len(*name) > incident.MaxLabelLen {
		return fmt.Errorf("--name: %d bytes, limit %d", len(*name), incident.MaxLabelLen)
	}
	if store.Initialised(c.home) && !store.Wiped(c.home) {
		return fmt.Errorf("%w in %s", store.ErrExists, c.home)
	}
	pass, err := c.newStorePassphrase("Choose a passphrase for this device's store. Without it nothing in the store can be read.",
		"no store was created")
	if err != nil {
		return err
	}
	s, err := store.Init(c.home, pass, c.storeOptions())
	if err != nil {
		return err
	}
	defer s.Close()
	if *name != "" {
		if err := s.SetName(*name); err != nil {
			return err
		}
	}
	if c.json {
		return c.printJSON(map[string]any{"author": s.Author().String(), "home": c.home})
	}
	fmt.Fprintln(c.stdout, s.Author())
	fmt.Fprintf(c.stderr, "Store created in %s. Next: `vigil mission create --name NAME` or `vigil mission join CODE`.\n", c.home)
	return nil
}

func (c *cli) cmdPassphrase(args []string) error {
	if len(args) == 0 || args[0] != "change" {
		return usagef("passphrase: want `passphrase change [--duress]`")
	}
	fs := newFlags("passphrase change")
	duress := fs.Bool("duress", false, "set a duress passphrase instead: entering it at unlock silently destroys the store and opens an empty one")
	newFile := fs.String("new-passphrase-file", "", "read the new passphrase from this file (else $VIGIL_NEW_PASSPHRASE, else a prompt)")
	if _, err := parse(fs, args[1:]); err != nil {
		return err
	}
	old, err := c.passphrase("Current passphrase")
	if err != nil {
		return err
	}
	var next []byte
	kind := "new"
	if *duress {
		kind = "duress"
	}
	from := "the " + kind + " passphrase"
	switch {
	case c.getenv("VIGIL_NEW_PASSPHRASE") != "":
		from += " in $VIGIL_NEW_PASSPHRASE"
		next = []byte(c.getenv("VIGIL_NEW_PASSPHRASE"))
	case *newFile != "":
		from += " in " + *newFile
		next, err = readSecretFile(*newFile)
	case *duress:
		next, err = c.prompt("Duress passphrase", true)
	default:
		next, err = c.prompt("New passphrase", true)
	}
	if err != nil {
		return err
	}
	// The rule for a new passphrase, before the store is even opened; the
	// current one is taken as it is (an older build took any).
	if err := checkNewPassphrase(from, next, "nothing was changed"); err != nil {
		return err
	}
	s, err := store.Open(c.home, old, c.storeOptions())
	if err != nil {
		return err
	}
	defer s.Close()
	if *duress {
		if err := s.SetDuress(old, next); errors.Is(err, vault.ErrDuressIsReal) {
			return errors.New("the duress passphrase is the store's own passphrase: choose another; nothing was changed")
		} else if err != nil {
			return err
		}
		fmt.Fprintln(c.stderr, "Duress passphrase set. Entering it at unlock destroys this store without a word and opens an empty one.")
		return nil
	}
	if err := s.ChangePassphrase(old, next); err != nil {
		return err
	}
	fmt.Fprintln(c.stderr, "Passphrase changed.")
	return nil
}

func wipeFlags() (*flag.FlagSet, *bool) {
	fs := newFlags("wipe")
	yes := fs.Bool("yes", false, "destroy without asking (needed when standard input is not a terminal)")
	return fs, yes
}

// confirmWipe asks on a terminal for the word WIPE; without a terminal it
// needs --yes. It returns nil when the wipe may go ahead. A wipe needs no
// passphrase (a panic wipe must be quick), only this confirmation.
func (c *cli) confirmWipe(args []string) error {
	fs, yes := wipeFlags()
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if *yes {
		return nil
	}
	if !c.stdinTerminal() {
		return errors.New("wipe destroys this device's store for good: pass --yes to confirm (standard input is not a terminal); nothing was destroyed")
	}
	fmt.Fprintf(c.stderr, "This destroys the store in %s for good: its reports, keys and mission membership can never be read again.\nType WIPE to destroy it, anything else to keep it: ", c.home)
	line, _ := bufio.NewReader(c.stdin).ReadString('\n')
	if strings.TrimSpace(line) != "WIPE" {
		return errors.New("wipe not confirmed (the answer was not WIPE); nothing was destroyed")
	}
	return nil
}

// stdinTerminal reports whether standard input is a terminal a person
// can answer on.
func (c *cli) stdinTerminal() bool {
	if c.terminal != nil {
		return c.terminal()
	}
	f, ok := c.stdin.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

func (c *cli) cmdWipe(args []string) error {
	if err := c.confirmWipe(args); err != nil {
		return err
	}
	removed, err := store.Wipe(c.home)
	if err != nil {
		return err
	}
	if c.control != nil {
		// Inside a running node: it must stop now; its store is unreadable.
		c.control.requestStop()
	}
	if !removed {
		fmt.Fprintln(c.stderr, "Store key destroyed. A running node still holds the data folder; its files can no longer be read.")
	} else {
		fmt.Fprintln(c.stderr, "Store key destroyed and data removed. Nothing that was in this store can be read again.")
	}
	return nil
}

// cmdForget is the quick delete: `vigil forget --held`.
func (c *cli) cmdForget(args []string) error {
	fs := newFlags("forget")
	held := fs.Bool("held", false, "delete the records this device wrote that custody_receipts coordinators hold")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if !*held {
		return usagef("forget: give --held (the records this device wrote that coordinators hold); `vigil wipe` destroys everything")
	}
	return c.withStore(func(s *store.Store) error {
		deleted, kept, err := act.New(s).ForgetHeld()
		if err != nil {
			return err
		}
		if c.json {
			return c.printJSON(map[string]int{"deleted": deleted, "kept": kept})
		}
		fmt.Fprintf(c.stdout, "Deleted %s that coordinators hold; %s kept until coordinators hold them.\n",
			incident.Plural(deleted, "record"), incident.Plural(kept, "record"))
		return nil
	})
}

type statusJSON struct {
	Home        string         `json:"home"`
	Author      string         `json:"author"`
	Recipient   string         `json:"recipient"` // age recipient: encrypted bundles --to this device
	Name        *string        `json:"name"`
	Mission     *string        `json:"mission"`
	MissionName *string        `json:"mission_name"`
	Role        *string        `json:"role"`
	Running     bool           `json:"running"`
	PeerID      *string        `json:"peer_id"`
	Listen      []string       `json:"listen"`
	Peers       []peerJSON     `json:"peers"`
	Records     map[string]int `json:"records"`
	// NewerRecords: the records held of kinds this build does not know,
	// by kind (also in Records): a newer Vigil's, kept and passed on.
	NewerRecords map[string]int `json:"newer_records"`
	Quarantined  int            `json:"quarantined"`
	Practice     bool           `json:"practice"`
	// DuplicateInvites: invites redeemed by more than one device that no
	// coordinator has confirmed one redemption of (`mission confirm`).
	DuplicateInvites int `json:"duplicate_invites"`
	// Coordinators in good standing: with one, losing that device loses
	// every sealed report (status warns on a real mission).
	Coordinators int `json:"coordinators"`
	// SMSInboxHeld: whether this device holds the SMS inbox key in force
	// (null when the mission takes no SMS).
	SMSInboxHeld *bool `json:"sms_inbox_held"`
	// Space: how much room the store takes and what it keeps (a phone
	// drops what enough coordinators hold: custody).
	Space *store.Space `json:"space"`
}

func (c *cli) cmdStatus(args []string) error {
	if _, err := parse(newFlags("status"), args); err != nil {
		return err
	}
	return c.withStore(func(s *store.Store) error {
		st := statusJSON{Home: c.home, Author: s.Author().String(), Recipient: s.AgeIdentity().Recipient().String(), Listen: []string{}, Peers: c.peerList(), Records: map[string]int{}, NewerRecords: map[string]int{}}
		if c.daemon != nil {
			st.Running = true
			n := c.daemon.Engine.Node()
			id := n.ID().String()
			st.PeerID = &id
			for _, a := range n.Addrs() {
				st.Listen = append(st.Listen, a.String())
			}
		}
		if n := s.Name(); n != "" {
			st.Name = &n
		}
		st.Practice = s.Practice()
		if ms, err := s.Mission(); err == nil {
			id, name := ms.ID.String(), ms.Mission.Name
			st.Mission, st.MissionName = &id, &name
			if role, ok := ms.Role(s.Author()); ok {
				st.Role = &role
			}
			st.DuplicateInvites = len(ms.Duplicates())
			st.Coordinators = ms.Coordinators()
		}
		if st.Coordinators == 1 && !st.Practice && st.Role != nil && *st.Role == incident.RoleCoordinator {
			fmt.Fprintln(c.stderr, "Warning: this mission has one coordinator, this device. Sealed reports are readable by coordinators only: "+
				"if this device is lost or seized, nobody can read them, or revoke it. Invite a second coordinator "+
				"(`vigil mission invite --role coordinator --for AUTHOR`).")
		}
		if inForce, held := act.New(s).SMSInboxHeld(); inForce {
			st.SMSInboxHeld = &held
			if !held && st.Role != nil && *st.Role == incident.RoleCoordinator {
				fmt.Fprintln(c.stderr, "Warning: this device does not hold the mission's SMS inbox key, so it cannot read what observers seal for SMS. "+
					"A coordinator who holds it runs `vigil sms key share`; if nobody does, `vigil sms key rotate` makes a new one.")
			}
		}
		if st.DuplicateInvites > 0 && st.Role != nil && *st.Role == incident.RoleCoordinator {
			what := incident.Plural(st.DuplicateInvites, "invite") + " " + incident.Verb(st.DuplicateInvites, "was", "were")
			fmt.Fprintf(c.stderr, "%s redeemed by more than one device; those devices are refused until you confirm one: "+
				"`vigil mission members` flags them duplicate_token, `vigil mission confirm MEMBER` keeps one.\n", what)
		}
		counts, err := s.Counts()
		if err != nil {
			return err
		}
		for k, n := range counts {
			st.Records[string(k)] = n
			if !k.Known() && n > 0 {
				st.NewerRecords[string(k)] = n
			}
		}
		if st.Quarantined, err = s.QuarantineCount(); err != nil {
			return err
		}
		if sp, err := act.New(s).Space(); err == nil {
			st.Space = &sp
		}
		if c.json {
			return c.printJSON(st)
		}
		w := c.stdout
		fmt.Fprintf(w, "home      %s\n", st.Home)
		fmt.Fprintf(w, "author    %s\n", st.Author)
		fmt.Fprintf(w, "recipient %s (for bundles encrypted to this device)\n", st.Recipient)
		if st.Name != nil {
			fmt.Fprintf(w, "name      %s\n", *st.Name)
		}
		if st.Mission == nil {
			fmt.Fprintln(w, "mission   none yet: `vigil mission create --name NAME` or `vigil mission join CODE`")
		} else {
			fmt.Fprintf(w, "mission   %s (%s)\n", *st.MissionName, *st.Mission)
			if st.Practice {
				fmt.Fprintln(w, "          PRACTICE mission: training data, not a real election")
			}
			role := "not a member yet"
			if st.Role != nil {
				role = *st.Role
			}
			fmt.Fprintf(w, "role      %s\n", role)
		}
		if st.Running {
			fmt.Fprintf(w, "node      running as %s, %s\n", *st.PeerID, incident.Plural(len(st.Peers), "peer"))
			for _, a := range st.Listen {
				fmt.Fprintf(w, "          %s\n", a)
			}
		} else {
			fmt.Fprintf(w, "node      not running (`vigil node` starts it)\n")
		}
		var kinds []string
		for k := range st.Records {
			if st.Records[k] > 0 {
				kinds = append(kinds, k)
			}
		}
		sort.Strings(kinds)
		fmt.Fprintf(w, "records  ")
		if len(kinds) == 0 {
			fmt.Fprint(w, " none")
		}
		for _, k := range kinds {
			fmt.Fprintf(w, " %s=%d", k, st.Records[k])
		}
		fmt.Fprintln(w)
		if len(st.NewerRecords) > 0 {
			fmt.Fprintf(w, "newer     %s: kept and passed on\n", newerSummary(st.NewerRecords))
		}
		if st.Space != nil {
			fmt.Fprintf(w, "space     %s\n", act.SpaceSummary(*st.Space))
		}
		if st.Quarantined > 0 {
			fmt.Fprintf(w, "waiting   %s %s for members or reports not yet received\n", incident.Plural(st.Quarantined, "record"), incident.Verb(st.Quarantined, "waits", "wait"))
		}
		return nil
	})
}

// newerSummary says how many records need a newer Vigil, by kind: "3
// records need a newer Vigil (notice: 2, tally: 1)".
func newerSummary(byKind map[string]int) string {
	kinds := make([]string, 0, len(byKind))
	total := 0
	for k, n := range byKind {
		kinds = append(kinds, k)
		total += n
	}
	sort.Strings(kinds)
	parts := make([]string, len(kinds))
	for i, k := range kinds {
		parts[i] = fmt.Sprintf("%s: %d", k, byKind[k])
	}
	if total == 1 {
		return fmt.Sprintf("1 record needs a newer Vigil (%s)", strings.Join(parts, ", "))
	}
	return fmt.Sprintf("%s %s a newer Vigil (%s)", incident.Plural(total, "record"), incident.Verb(total, "needs", "need"), strings.Join(parts, ", "))
}
