package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/skip2/go-qrcode"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/act"
	"github.com/vigil-mesh/vigil/incident/store"
)

// missionSubcommands is the list the mission errors name.
const missionSubcommands = "create, invite, invites, join, members, revoke, confirm, cancel or config"

func (c *cli) cmdMission(args []string) error {
	if len(args) == 0 {
		return usagef("mission: want %s", missionSubcommands)
	}
	switch args[0] {
	case "create":
		return c.missionCreate(args[1:])
	case "invite":
		if len(args) > 1 && args[1] == "cancel" {
			return c.missionCancel("mission invite cancel", args[2:])
		}
		return c.missionInvite(args[1:])
	case "invites":
		return c.missionInvites(args[1:])
	case "cancel":
		return c.missionCancel("mission cancel", args[1:])
	case "join":
		return c.missionJoin(args[1:])
	case "members":
		return c.missionMembers(args[1:])
	case "revoke":
		return c.missionRevoke(args[1:])
	case "confirm":
		return c.missionConfirm(args[1:])
	case "config":
		return c.missionConfig(args[1:])
	}
	return usagef("mission: unknown subcommand %q (want %s)", args[0], missionSubcommands)
}

func (c *cli) missionCreate(args []string) error {
	fs := newFlags("mission create")
	name := fs.String("name", "", "the mission's name (seen by members only)")
	label := fs.String("label", "", "your label as founding coordinator")
	seal := fs.Bool("seal-by-default", false, "seal reports to the coordinators (the default for a real mission; kept for older scripts)")
	noSeal := fs.Bool("no-seal", false, "every member reads every report: a seized phone then reveals the whole mission (practice missions never seal)")
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
	return c.withActions(func(a act.Actions) error {
		spec := store.MissionSpec{Name: *name, Label: *label, SealByDefault: *seal, NoSeal: *noSeal, Practice: *practice}
		id, err := a.CreateMission(spec)
		if err != nil {
			return err
		}
		sealed := act.SealsByDefault(spec)
		if c.json {
			return c.printJSON(map[string]any{"mission": id.String(), "name": *name, "practice": *practice, "sealed": sealed})
		}
		fmt.Fprintln(c.stdout, id)
		fmt.Fprintf(c.stderr, "Mission %q created; you are its founding coordinator. Next: `vigil mission invite --role observer`.\n", *name)
		if sealed {
			fmt.Fprintln(c.stderr, "Reports are sealed to the coordinators: other members' phones carry them only as ciphertext. Your keys are the only way to read them: keep a backup (`vigil backup --out FILE`) and invite a second coordinator.")
		}
		return nil
	})
}

func (c *cli) missionInvite(args []string) error {
	fs := newFlags("mission invite")
	role := fs.String("role", "", "observer, carrier or coordinator")
	label := fs.String("label", "", "a label for the new member (a pseudonym)")
	expires := fs.String("expires", "", "how long the invite can be redeemed, e.g. 72h (default: no limit)")
	forKey := fs.String("for", "", "coordinator invites: the new coordinator's device key (their `vigil status` author), or the label of a member being made coordinator")
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
	req := act.InviteRequest{Role: *role, Label: *label, For: *forKey, Bootstrap: boot}
	if *expires != "" {
		d, err := time.ParseDuration(*expires)
		if err != nil || d <= 0 {
			return usagef("--expires: %q is not a positive duration (72h)", *expires)
		}
		req.Expires = d
	}
	return c.withActions(func(a act.Actions) error {
		inv, err := a.Invite(req)
		if err != nil {
			return err
		}
		if *qr != "" {
			// Written here, by the caller, owner-only like every file
			// Vigil writes: the code admits whoever holds it.
			png, err := qrcode.Encode(inv.Code, qrcode.Medium, 768)
			if err == nil {
				err = writeAtomic(c.path(*qr), func(f *os.File) error { _, err := f.Write(png); return err })
			}
			if err != nil {
				return fmt.Errorf("--qr: %w", err)
			}
		}
		// The invite's ID is its invite key, which the code carries: what
		// `mission invites` lists and `mission invite cancel` takes.
		var inviteID *string
		if !inv.ID.IsZero() {
			s := inv.ID.String()
			inviteID = &s
		}
		if c.json {
			return c.printJSON(map[string]any{"code": inv.Code, "role": *role, "label": *label, "qr": nullIfEmpty(*qr), "invite": inviteID})
		}
		fmt.Fprintln(c.stdout, inv.Code)
		fmt.Fprintf(c.stderr, "Give this %s invite to one person only, over a channel you trust. Whoever holds it can join.\n", *role)
		if inviteID != nil {
			fmt.Fprintf(c.stderr, "Invite %s; to cancel it: `vigil mission invite cancel %s`.\n", *inviteID, *inviteID)
		}
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
	if _, err := incident.DecodeInvite(code); err != nil {
		return err
	}
	return c.withActions(func(a act.Actions) error {
		j, err := a.Join(code)
		if err != nil {
			return err
		}
		if c.json {
			return c.printJSON(map[string]any{"member": j.Member.String(), "mission": j.Mission.String(),
				"mission_name": j.MissionName, "role": j.Role})
		}
		fmt.Fprintln(c.stdout, j.Member)
		fmt.Fprintf(c.stderr, "Joined mission %q (%s) as %s.\n", j.MissionName, j.Mission, j.Role)
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
	// Standing: whether the member is admitted to a hello: ok, revoked,
	// invite_void (its invite was cancelled, revoked or closed) or
	// duplicate (its invite was redeemed by another device too and no
	// coordinator has confirmed one).
	Standing string `json:"standing"`
}

// standingName is the word `mission members --json` gives for
// MissionState.Standing's answer.
func standingName(err error) string {
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, incident.ErrRevoked):
		return "revoked"
	case errors.Is(err, incident.ErrInviteVoid):
		return "invite_void"
	case errors.Is(err, incident.ErrDuplicate):
		return "duplicate"
	case errors.Is(err, incident.ErrNotMember):
		return "not_member"
	}
	return "unknown"
}

// memberFlags are an enrollment's flags: founder, duplicate_token,
// revoked, and the invite flags (invite_revoked, invite_closed) that the
// author's records carry.
func memberFlags(ms *incident.MissionState, m incident.Member) []string {
	flags := []string{}
	if m.Record.IsZero() {
		flags = append(flags, "founder")
	}
	if ms.DuplicateToken(m) {
		flags = append(flags, incident.FlagDuplicateToken)
	}
	if len(ms.Revocations(m.Author)) > 0 {
		flags = append(flags, "revoked")
	}
	if f := ms.InviteFlag(m.Author); f != "" {
		flags = append(flags, f)
	}
	return flags
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
			flags := memberFlags(ms, m)
			j := memberJSON{Author: m.Author.String(), Role: m.Role, Label: nullIfEmpty(m.Label),
				Created: incident.FormatTime(m.Created), Flags: flags, Standing: standingName(ms.Standing(m.Author))}
			if !m.Record.IsZero() {
				r, is := m.Record.String(), m.Issuer.String()
				j.Record, j.Issuer = &r, &is
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

// missionRevoke revokes a member (store.Revoke): their invite goes with
// them, and a new secret epoch starts that their device never receives.
func (c *cli) missionRevoke(args []string) error {
	fs := newFlags("mission revoke")
	reason := fs.String("reason", "", "why (seen by members)")
	none := fs.Bool("accept-none", false, "accept none of the member's records (default: accept every record of theirs this device holds now)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("mission revoke: want one MEMBER (an author key, a member record ID or a label)")
	}
	if err := checkUTF8(map[string]string{"reason": *reason}); err != nil {
		return err
	}
	return c.withActions(func(a act.Actions) error {
		rev, err := a.Revoke(pos[0], *reason, *none)
		if err != nil {
			return err
		}
		if rev.Already {
			// Idempotent: nothing was written, and that is a success.
			if c.json {
				return c.printJSON(map[string]any{"id": nil, "already_revoked": true, "member": rev.Member.String(), "revocation": idOrNil(rev.Existing)})
			}
			fmt.Fprintf(c.stderr, "%s is already revoked (revocation %s); nothing was written.\n", rev.Member, rev.Existing)
			return nil
		}
		if c.json {
			if jerr := c.printJSON(map[string]any{"id": rev.ID.String(), "member": rev.Member.String(), "accepted": rev.Accepted, "epoch": idOrNil(rev.Epoch)}); jerr != nil {
				return jerr
			}
		} else {
			fmt.Fprintln(c.stdout, rev.ID)
			fmt.Fprintf(c.stderr, "Revoked %s; %d of their records stay confirmed, anything else they sign is flagged unconfirmed.\n", rev.Member, rev.Accepted)
			fmt.Fprintln(c.stderr, "Their invite cannot be redeemed again: any other device that uses it is refused and flagged invite_revoked.")
		}
		if rev.EpochFailed != "" {
			// The revocation is stored; the new epoch is not.
			return &partialError{fmt.Sprintf("revoked, but the new secret epoch failed: %s; the revocation %s is stored: run the same `vigil mission revoke` again to start the epoch", rev.EpochFailed, rev.ID)}
		}
		if !c.json {
			fmt.Fprintf(c.stderr, "A new secret epoch started (number %d, record %s): connected members receive it at once, the others when they next meet one; the revoked device never does.\n",
				rev.EpochNumber, rev.Epoch)
		}
		return nil
	})
}

// inviteJSON is one line of `mission invites --json`.
type inviteJSON struct {
	Invite  string  `json:"invite"`
	Role    string  `json:"role"`
	Label   *string `json:"label"`
	Created string  `json:"created"`
	Expires *string `json:"expires"`
	// Status: unused, expired (unused and past its expiry), redeemed,
	// duplicate (redeemed by several devices, none confirmed), revoked (a
	// device that redeemed it was revoked: the invite is void) or
	// cancelled.
	Status     string   `json:"status"`
	RedeemedBy []string `json:"redeemed_by"`
	Confirmed  *string  `json:"confirmed"` // the redeemer a coordinator confirmed
	Text       string   `json:"text"`      // the status as `mission invites` prints it
}

// inviteStatus describes an issued invite from the mission state.
func inviteStatus(ms *incident.MissionState, inv store.IssuedInvite, now time.Time) inviteJSON {
	j := inviteJSON{Invite: inv.ID.String(), Role: inv.Role, Label: nullIfEmpty(inv.Label),
		Created: incident.FormatTime(inv.Created), RedeemedBy: []string{}}
	if inv.Expires != 0 {
		e := incident.FormatTime(inv.Expires)
		j.Expires = &e
	}
	var names []string
	var revoked []string
	for _, a := range inv.RedeemedBy {
		j.RedeemedBy = append(j.RedeemedBy, a.String())
		names = append(names, a.String())
		if len(ms.Revocations(a)) > 0 {
			revoked = append(revoked, a.String())
		}
		for _, m := range ms.MembersOf(a) {
			if m.Invite == inv.ID && ms.RedemptionConfirmed(m) {
				c := a.String()
				j.Confirmed = &c
			}
		}
	}
	by := strings.Join(names, ", ")
	switch {
	case inv.Cancelled:
		j.Status, j.Text = "cancelled", "cancelled"
		if len(names) > 0 {
			j.Text += " (redeemed by " + by + ")"
		}
	case len(revoked) > 0:
		j.Status, j.Text = "revoked", "void: revoked with "+strings.Join(revoked, ", ")
	case len(names) == 0 && inv.Expires != 0 && now.UnixMilli() > inv.Expires:
		j.Status, j.Text = "expired", "unused, expired"
	case len(names) == 0:
		j.Status, j.Text = "unused", "unused"
	case len(names) == 1:
		j.Status, j.Text = "redeemed", "redeemed by "+by
	case j.Confirmed != nil:
		j.Status = "redeemed"
		others := fmt.Sprintf("%d other devices", len(names)-1)
		if len(names) == 2 {
			others = "1 other device"
		}
		j.Text = fmt.Sprintf("redeemed by %s (confirmed; %s closed out)", *j.Confirmed, others)
	default:
		j.Status = "duplicate"
		j.Text = fmt.Sprintf("used by %s: %s (confirm one: `vigil mission confirm MEMBER`)", incident.Plural(len(names), "device"), by)
	}
	return j
}

// missionInvites lists the invites this device issued (store.Invites).
func (c *cli) missionInvites(args []string) error {
	pos, err := parse(newFlags("mission invites"), args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return usagef("mission invites: takes no arguments")
	}
	return c.withStore(func(s *store.Store) error {
		list, err := s.Invites()
		if err != nil {
			return err
		}
		ms, err := s.Mission()
		if err != nil {
			return err
		}
		if len(list) == 0 && !c.json {
			fmt.Fprintln(c.stderr, "This device has issued no invites (`vigil mission invite --role observer` makes one).")
		}
		for _, inv := range list {
			j := inviteStatus(ms, inv, c.now())
			if c.json {
				if err := c.printJSON(j); err != nil {
					return err
				}
				continue
			}
			label, expires := "-", "never"
			if j.Label != nil {
				label = *j.Label
			}
			if j.Expires != nil {
				expires = *j.Expires
			}
			fmt.Fprintf(c.stdout, "%-52s  %-11s  %-20s  %s  %-20s  %s\n", j.Invite, j.Role, label, j.Created, expires, j.Text)
		}
		return nil
	})
}

// missionCancel cancels an invite by its ID (store.CancelInvite): nobody
// can redeem it any more, and a device that already did is refused.
func (c *cli) missionCancel(name string, args []string) error {
	fs := newFlags(name)
	reason := fs.String("reason", "", "why (seen by members)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("%s: want one INVITE_ID (`vigil mission invites` lists them)", name)
	}
	if err := checkUTF8(map[string]string{"reason": *reason}); err != nil {
		return err
	}
	return c.withActions(func(a act.Actions) error {
		cn, err := a.CancelInvite(pos[0], *reason)
		if err != nil && cn.ID.IsZero() {
			return fmt.Errorf("%s: %w; nothing was cancelled", name, err)
		}
		if c.json {
			if jerr := c.printJSON(map[string]any{"id": cn.ID.String(), "invite": cn.Invite.String(), "redeemed": cn.Redeemed}); jerr != nil || err == nil {
				return jerr
			}
		} else {
			msg := fmt.Sprintf("Invite %s cancelled: nobody can redeem it now.", cn.Invite)
			if cn.Redeemed > 0 {
				msg += fmt.Sprintf(" The %s that redeemed it %s refused and %s records flagged invite_revoked.", incident.Plural(cn.Redeemed, "other device"), incident.Verb(cn.Redeemed, "is", "are"), incident.Verb(cn.Redeemed, "its", "their"))
			}
			if perr := c.printID(cn.ID, msg); perr != nil || err == nil {
				return perr
			}
		}
		return &partialError{fmt.Sprintf("%v; run the same command again to start the epoch", err)}
	})
}

// missionConfirm confirms one member's redemption of an invite that
// several devices used, or with --all every single redemption
// (store.Confirm): the invite is then closed to every other device.
func (c *cli) missionConfirm(args []string) error {
	fs := newFlags("mission confirm")
	all := fs.Bool("all", false, "confirm every invite redeemed by exactly one device (closes invites from before invite keys)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	switch {
	case *all && len(pos) != 0:
		return usagef("mission confirm: give one MEMBER or --all, not both")
	case !*all && len(pos) != 1:
		return usagef("mission confirm: want one MEMBER (an author key, a member record ID or a label), or --all")
	}
	member := ""
	if !*all {
		member = pos[0]
	}
	return c.withActions(func(a act.Actions) error {
		cf, err := a.Confirm(member)
		if err != nil {
			if *all {
				return fmt.Errorf("mission confirm --all: %w", err)
			}
			return err
		}
		if *all {
			msg := fmt.Sprintf("Confirmed %s: %s closed to every other device.", incident.Plural(cf.Confirmed, "redemption"), incident.Verb(cf.Confirmed, "that invite is", "each of those invites is"))
			if cf.Waiting > 0 {
				msg += fmt.Sprintf(" %s used by several devices still %s for a choice: `vigil mission confirm MEMBER`.", incident.Plural(cf.Waiting, "invite"), incident.Verb(cf.Waiting, "waits", "wait"))
			}
			if c.json {
				return c.printJSON(map[string]any{"id": cf.ID.String(), "confirmed": cf.Confirmed})
			}
			return c.printID(cf.ID, msg)
		}
		if c.json {
			return c.printJSON(map[string]any{"id": cf.ID.String(), "member": cf.Member.String()})
		}
		return c.printID(cf.ID, fmt.Sprintf("Confirmed %s's redemption of their invite; any other device that redeemed it is refused and its records flagged invite_closed.", cf.Member))
	})
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
	return c.withActions(func(a act.Actions) error {
		cr, err := a.Configure(pos)
		if err != nil {
			return fmt.Errorf("mission config set: %w", err)
		}
		return c.printID(cr.ID, fmt.Sprintf("Mission configuration signed (%s); it reaches members with the next sync or bundle.", incident.Plural(len(settings), "setting")))
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
