package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/skip2/go-qrcode"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/store"
)

func (c *cli) cmdMission(args []string) error {
	if len(args) == 0 {
		return usagef("mission: want create, invite, join, members, revoke or config")
	}
	switch args[0] {
	case "create":
		return c.missionCreate(args[1:])
	case "invite":
		return c.missionInvite(args[1:])
	case "join":
		return c.missionJoin(args[1:])
	case "members":
		return c.missionMembers(args[1:])
	case "revoke":
		return c.missionRevoke(args[1:])
	case "config":
		return c.missionConfig(args[1:])
	}
	return usagef("mission: unknown subcommand %q (want create, invite, join, members, revoke or config)", args[0])
}

func (c *cli) missionCreate(args []string) error {
	fs := newFlags("mission create")
	name := fs.String("name", "", "the mission's name (seen by members only)")
	label := fs.String("label", "", "your label as founding coordinator")
	seal := fs.Bool("seal-by-default", false, "seal reports to the coordinators by default")
	practice := fs.Bool("practice", false, "a training mission: every member's device and every export marks it as practice")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if *name == "" {
		return usagef("mission create: --name is required")
	}
	if err := checkUTF8(map[string]string{"name": *name, "label": *label}); err != nil {
		return err
	}
	return c.withStore(func(s *store.Store) error {
		id, err := s.CreateMissionWith(store.MissionSpec{Name: *name, Label: *label, SealByDefault: *seal, Practice: *practice})
		if err != nil {
			return err
		}
		if c.json {
			return c.printJSON(map[string]any{"mission": id.String(), "name": *name, "practice": *practice})
		}
		fmt.Fprintln(c.stdout, id)
		fmt.Fprintf(c.stderr, "Mission %q created; you are its founding coordinator. Next: `vigil mission invite --role observer`.\n", *name)
		return nil
	})
}

func (c *cli) missionInvite(args []string) error {
	fs := newFlags("mission invite")
	role := fs.String("role", "", "observer, carrier or coordinator")
	label := fs.String("label", "", "a label for the new member (a pseudonym)")
	expires := fs.String("expires", "", "how long the invite can be redeemed, e.g. 72h (default: no limit)")
	forKey := fs.String("for", "", "coordinator invites: the new coordinator's device key (their `vigil status` author)")
	qr := fs.String("qr", "", "also write the invite as a QR code to this PNG file")
	var boot multi
	fs.Var(&boot, "bootstrap", "an address new members should try first (repeatable)")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if *role == "" {
		return usagef("mission invite: --role is required (observer, carrier or coordinator)")
	}
	if err := checkUTF8(map[string]string{"label": *label}); err != nil {
		return err
	}
	req := store.InviteRequest{Role: *role, Label: *label, Bootstrap: boot}
	if *expires != "" {
		d, err := time.ParseDuration(*expires)
		if err != nil || d <= 0 {
			return usagef("--expires: %q is not a positive duration (72h)", *expires)
		}
		req.Expires = c.now().Add(d)
	}
	if *forKey != "" && *role != incident.RoleCoordinator {
		return usagef("--for binds coordinator invites; %s invite is redeemed by whoever holds it", incident.Article(*role))
	}
	if *forKey != "" {
		a, err := incident.ParseAuthor(*forKey)
		if err != nil {
			return usagef("--for: %v", err)
		}
		req.For = &a
	}
	return c.withStore(func(s *store.Store) error {
		code, err := s.Invite(req)
		if err != nil {
			return err
		}
		if *qr != "" {
			if err := qrcode.WriteFile(code, qrcode.Medium, 768, *qr); err != nil {
				return fmt.Errorf("--qr: %w", err)
			}
		}
		if c.json {
			return c.printJSON(map[string]any{"code": code, "role": *role, "label": *label, "qr": nullIfEmpty(*qr)})
		}
		fmt.Fprintln(c.stdout, code)
		fmt.Fprintf(c.stderr, "Give this %s invite to one person only, over a channel you trust. Whoever holds it can join.\n", *role)
		return nil
	})
}

func nullIfEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func (c *cli) missionJoin(args []string) error {
	pos, err := parse(newFlags("mission join"), args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("mission join: want one invite CODE (or - to read it from standard input)")
	}
	code := pos[0]
	if code == "-" {
		b, err := io.ReadAll(io.LimitReader(c.stdin, 1<<20))
		if err != nil {
			return err
		}
		code = strings.TrimSpace(string(b))
	}
	// Check the code before asking for the passphrase: a bad code is the
	// common mistake.
	inv, err := incident.DecodeInvite(code)
	if err != nil {
		return err
	}
	return c.withStore(func(s *store.Store) error {
		id, err := s.Join(code)
		if err != nil {
			return err
		}
		if c.json {
			return c.printJSON(map[string]any{"member": id.String(), "mission": inv.GenesisRecord.ID.String(),
				"mission_name": inv.Mission.Name, "role": inv.Token.Role})
		}
		fmt.Fprintln(c.stdout, id)
		fmt.Fprintf(c.stderr, "Joined mission %q (%s) as %s.\n", inv.Mission.Name, inv.GenesisRecord.ID, inv.Token.Role)
		return nil
	})
}

type memberJSON struct {
	Author  string   `json:"author"`
	Role    string   `json:"role"`
	Label   *string  `json:"label"`
	Record  *string  `json:"record"`
	Issuer  *string  `json:"issuer"`
	Created string   `json:"created"`
	Flags   []string `json:"flags"`
}

func (c *cli) missionMembers(args []string) error {
	if _, err := parse(newFlags("mission members"), args); err != nil {
		return err
	}
	return c.withStore(func(s *store.Store) error {
		ms, err := s.Mission()
		if err != nil {
			return err
		}
		for _, m := range ms.Members() {
			j := memberJSON{Author: m.Author.String(), Role: m.Role, Label: nullIfEmpty(m.Label),
				Created: incident.FormatTime(m.Created), Flags: []string{}}
			if !m.Record.IsZero() {
				r, is := m.Record.String(), m.Issuer.String()
				j.Record, j.Issuer = &r, &is
			} else {
				j.Flags = append(j.Flags, "founder")
			}
			if ms.DuplicateToken(m) {
				j.Flags = append(j.Flags, incident.FlagDuplicateToken)
			}
			if len(ms.Revocations(m.Author)) > 0 {
				j.Flags = append(j.Flags, "revoked")
			}
			if c.json {
				if err := c.printJSON(j); err != nil {
					return err
				}
				continue
			}
			label := m.Label
			if label == "" {
				label = "-"
			}
			fmt.Fprintf(c.stdout, "%-52s  %-11s  %-20s  %s\n", j.Author, j.Role, label, strings.Join(j.Flags, ","))
		}
		return nil
	})
}

func (c *cli) missionRevoke(args []string) error {
	fs := newFlags("mission revoke")
	reason := fs.String("reason", "", "why (seen by members)")
	none := fs.Bool("accept-none", false, "accept none of the member's records (default: accept every record of theirs this device holds now)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("mission revoke: want one MEMBER (an author key or a member record ID)")
	}
	if err := checkUTF8(map[string]string{"reason": *reason}); err != nil {
		return err
	}
	return c.withStore(func(s *store.Store) error {
		ms, err := s.Mission()
		if err != nil {
			return err
		}
		target, err := resolveMember(ms, pos[0])
		if err != nil {
			return err
		}
		if target == ms.Founder {
			return fmt.Errorf("%s founded the mission and cannot be revoked", target)
		}
		var accepted [][]byte
		if !*none {
			recs, err := s.ByAuthor(target)
			if err != nil {
				return err
			}
			for _, r := range recs {
				accepted = append(accepted, r.ID.Bytes())
			}
		}
		if len(accepted) > incident.MaxListLen {
			return fmt.Errorf("%s has %d records, more than a revocation can list (%d); use --accept-none and review their records", target, len(accepted), incident.MaxListLen)
		}
		rec, err := s.Put(incident.KindRevoke, incident.RevokePayload{Member: target[:], Accepted: accepted, Reason: *reason})
		if err != nil {
			return err
		}
		if c.json {
			return c.printJSON(map[string]any{"id": rec.ID.String(), "member": target.String(), "accepted": len(accepted)})
		}
		fmt.Fprintln(c.stdout, rec.ID)
		fmt.Fprintf(c.stderr, "Revoked %s; %d of their records stay confirmed, anything else they sign is flagged unconfirmed.\n", target, len(accepted))
		return nil
	})
}

// resolveMember reads an author key or a member record ID.
func resolveMember(ms *incident.MissionState, s string) (incident.Author, error) {
	if a, err := incident.ParseAuthor(s); err == nil {
		if _, ok := ms.Role(a); !ok {
			return a, fmt.Errorf("%s is not a member of this mission", a)
		}
		return a, nil
	}
	id, err := incident.ParseID(s)
	if err != nil {
		return incident.Author{}, usagef("%q is neither an author key nor a member record ID", s)
	}
	for _, m := range ms.Members() {
		if m.Record == id {
			return m.Author, nil
		}
	}
	return incident.Author{}, fmt.Errorf("no member record %s", id)
}

// missionConfig is `mission config set` and `mission config show`.
func (c *cli) missionConfig(args []string) error {
	if isHelp(args) {
		fmt.Fprint(c.stdout, "vigil mission config set KEY=VALUE...   (coordinators)\nvigil mission config show\n\n"+configKeysHelp())
		return nil
	}
	if len(args) == 0 {
		return usagef("mission config: want set KEY=VALUE... or show")
	}
	switch args[0] {
	case "set":
		return c.missionConfigSet(args[1:])
	case "show":
		return c.missionConfigShow(args[1:])
	}
	return usagef("mission config: unknown subcommand %q (want set or show)", args[0])
}

// configKeysHelp lists the settings this build knows, from
// incident.ConfigKeys, so the help says what the code accepts.
func configKeysHelp() string {
	var b strings.Builder
	b.WriteString("Mission settings (mission config set KEY=VALUE...; a newer Vigil may know more):\n")
	for _, k := range incident.ConfigKeys {
		name := k.Name
		if strings.HasSuffix(name, ".") {
			name += "FAMILY.NAME"
		}
		fmt.Fprintf(&b, "  %s=%s\n", name, k.Value)
		line := "     "
		for _, w := range strings.Fields(k.Help) {
			if len(line)+1+len(w) > 78 && len(line) > 5 {
				b.WriteString(line + "\n")
				line = "     "
			}
			line += " " + w
		}
		b.WriteString(line + "\n")
	}
	return b.String()
}

// missionConfigSet signs one config record assigning the settings given.
// Every argument is checked before the store is opened: one bad argument
// is a one-line error naming its key, and nothing is signed.
func (c *cli) missionConfigSet(args []string) error {
	pos, err := parse(newFlags("mission config set"), args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return usagef("mission config set: want KEY=VALUE... (`vigil mission config --help` lists the settings)")
	}
	for _, a := range pos {
		if !utf8.ValidString(a) {
			key, _, _ := strings.Cut(a, "=")
			return fmt.Errorf("mission config set: %s: not valid UTF-8", strings.ToValidUTF8(key, "?"))
		}
	}
	settings, err := incident.ParseSettings(pos)
	if err != nil {
		return fmt.Errorf("mission config set: %w", err)
	}
	return c.withStore(func(s *store.Store) error {
		ms, err := s.Mission()
		if err != nil {
			return err
		}
		role, ok := ms.Role(s.Author())
		if !ok {
			return fmt.Errorf("mission config set: this device is not yet a member of mission %q", ms.Mission.Name)
		}
		if !incident.Allowed(role, incident.KindConfig) {
			return fmt.Errorf("mission config set: only coordinators change the mission configuration; this device is %s", incident.Article(role))
		}
		rec, err := s.Put(incident.KindConfig, ms.NewConfig(settings))
		if err != nil {
			return fmt.Errorf("mission config set: %w", err)
		}
		return c.printID(rec.ID, fmt.Sprintf("Mission configuration signed (%d settings); it reaches members with the next sync or bundle.", len(settings)))
	})
}

// settingJSON is one line of `mission config show --json`.
type settingJSON struct {
	Key       string         `json:"key"`
	Value     string         `json:"value"`
	Known     bool           `json:"known"`
	Problem   *string        `json:"problem"`
	By        string         `json:"by"`
	ByLabel   *string        `json:"by_label"`
	At        string         `json:"at"`
	Record    string         `json:"record"`
	Conflicts []conflictJSON `json:"conflicts"`
}

// conflictJSON is another value of a setting, written concurrently.
type conflictJSON struct {
	Value   string  `json:"value"`
	Problem *string `json:"problem"`
	By      string  `json:"by"`
	ByLabel *string `json:"by_label"`
	At      string  `json:"at"`
	Record  string  `json:"record"`
}

// missionConfigShow prints every setting of the mission: its value, who
// set it and when, and the values set concurrently. Every member may read
// it.
func (c *cli) missionConfigShow(args []string) error {
	pos, err := parse(newFlags("mission config show"), args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return usagef("mission config show: takes no arguments")
	}
	return c.withStore(func(s *store.Store) error {
		ms, err := s.Mission()
		if err != nil {
			return err
		}
		label := func(a incident.Author) string {
			m, _ := ms.Member(a)
			return m.Label
		}
		for _, st := range ms.Settings() {
			if c.json {
				j := settingJSON{Key: st.Key, Value: st.Value, Known: st.Known, Problem: nullIfEmpty(st.Problem),
					By: st.By.String(), ByLabel: nullIfEmpty(label(st.By)), At: incident.FormatTime(st.At),
					Record: st.Record.String(), Conflicts: []conflictJSON{}}
				for _, o := range st.Conflicts {
					j.Conflicts = append(j.Conflicts, conflictJSON{Value: o.Value, Problem: nullIfEmpty(o.Problem),
						By: o.By.String(), ByLabel: nullIfEmpty(label(o.By)), At: incident.FormatTime(o.At), Record: o.Record.String()})
				}
				if err := c.printJSON(j); err != nil {
					return err
				}
				continue
			}
			who := func(o incident.Setting) string {
				if l := label(o.By); l != "" {
					return fmt.Sprintf("%s (%s)", l, o.By.Short())
				}
				return o.By.Short()
			}
			fmt.Fprintf(c.stdout, "%s = %s\n", st.Key, settingValueText(st))
			fmt.Fprintf(c.stdout, "    set by %s at %s\n", who(st), incident.FormatTime(st.At))
			for _, o := range st.Conflicts {
				fmt.Fprintf(c.stdout, "    conflict: %s, set by %s at %s\n", settingValueText(o), who(o), incident.FormatTime(o.At))
			}
		}
		return nil
	})
}

// settingValueText is a setting's value for people: sizes also in binary
// units, and what this build cannot do with it.
func settingValueText(st incident.Setting) string {
	v := st.Value
	if v == "" || strings.ContainsAny(v, " \t\"'") || strings.TrimFunc(v, unicode.IsGraphic) != "" {
		v = strconv.Quote(v)
	}
	k, _ := incident.LookupConfigKey(st.Key)
	switch {
	case !st.Known:
		v += " (needs a newer Vigil)"
	case st.Problem != "":
		v += " (this build cannot read it: " + st.Problem + ")"
	case k.Size:
		if n, err := strconv.ParseUint(st.Value, 10, 64); err == nil {
			v += " (" + incident.FormatSize(n) + ")"
		}
	}
	return v
}
