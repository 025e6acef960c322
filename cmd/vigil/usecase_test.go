//go:build !headless

package main

import (
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-mesh/vigil/app"
	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/act"
	"github.com/vigil-mesh/vigil/incident/store"
)

// useCase is one action by one member, as the command line words it and
// as the app's backend is asked it.
type useCase struct {
	name  string
	actor string // "obs" or "coord"
	args  []string
	app   func(b *app.StoreBackend) error
	// refused: a part of the refusal every adapter must give ("" for a
	// success).
	refused string
}

// adapter runs a use case and reports its outcome: success, or the
// refusal's words.
type adapter struct {
	name string
	run  func(t *testing.T, c useCase) (ok bool, words string)
	// counts are the records each home holds afterwards, by kind.
	counts func(t *testing.T, actor string) map[string]int
}

// TestUseCasesThroughEveryAdapter runs one table of use cases through the
// command line on the store, the app's backend, and the command line
// through the control socket of a node that holds the home, each on its
// own copy of the same two homes (a coordinator and an observer). Every
// adapter must give the same outcome: the same success, or the same
// refusal in the same words (incident/act's, which the command line only
// adds a hint to), and leave the same records behind.
func TestUseCasesThroughEveryAdapter(t *testing.T) {
	t.Parallel()
	coord, coordAuthor, _ := newMission(t, "uc-coord")
	obs, obsAuthor, _ := member(t, "uc-obs", invite(t, coord, "--role", "observer", "--label", "Heron"))
	late := mustID(t, obs, nil, "report", "add", "--category", "polling.late_opening", "--severity", "2", "--title", "Opened at 09:40")
	closed := mustID(t, obs, nil, "report", "add", "--category", "polling.closure", "--severity", "3", "--title", "Closed at noon")
	carry(t, obs, coord)
	lateID, _ := incident.ParseID(late)
	closedID, _ := incident.ParseID(closed)
	obsKey, _ := incident.ParseAuthor(obsAuthor)
	coordKey, _ := incident.ParseAuthor(coordAuthor)
	report := func(cat string, sev uint64, title string) incident.ReportPayload {
		return incident.ReportPayload{Category: cat, Severity: sev, Title: title, Occurred: 1}
	}

	cases := []useCase{
		{name: "observer reports", actor: "obs",
			args: []string{"report", "add", "--category", "polling.closure", "--severity", "2", "--title", "Queue turned away", "--occurred", "1970-01-01T00:00:00.001Z"},
			app: func(b *app.StoreBackend) error {
				_, err := b.Submit(report("polling.closure", 2, "Queue turned away"), nil, false)
				return err
			}},
		{name: "unknown category", actor: "obs", refused: `"weather.rain" is not a category of this mission`,
			args: []string{"report", "add", "--category", "weather.rain", "--severity", "2", "--title", "Rain", "--occurred", "1970-01-01T00:00:00.001Z"},
			app: func(b *app.StoreBackend) error {
				_, err := b.Submit(report("weather.rain", 2, "Rain"), nil, false)
				return err
			}},
		{name: "severity out of range", actor: "obs", refused: "severity",
			args: []string{"report", "add", "--category", "polling.closure", "--severity", "9", "--title", "Closed", "--occurred", "1970-01-01T00:00:00.001Z"},
			app: func(b *app.StoreBackend) error {
				_, err := b.Submit(report("polling.closure", 9, "Closed"), nil, false)
				return err
			}},
		{name: "observer reviews", actor: "obs", refused: "an observer may not sign review records",
			args: []string{"review", closed, "--status", "verified"},
			app: func(b *app.StoreBackend) error {
				return b.Review(act.Verdict{Report: closedID.String(), Status: "verified"})
			}},
		{name: "observer invites", actor: "obs", refused: "only coordinators can invite",
			args: []string{"mission", "invite", "--role", "observer"},
			app: func(b *app.StoreBackend) error {
				_, err := b.Invite(app.InviteRequest{Role: "observer"})
				return err
			}},
		{name: "observer revokes", actor: "obs", refused: "an observer may not sign revoke records",
			args: []string{"mission", "revoke", coordAuthor, "--reason", "no"},
			app:  func(b *app.StoreBackend) error { return b.Revoke(coordKey, "no") }},
		{name: "observer checks in", actor: "obs",
			args: []string{"checkin", "--status", "arrived", "--station", "PS-0042"},
			app:  func(b *app.StoreBackend) error { return b.Checkin("arrived", "PS-0042") }},
		{name: "observer alerts", actor: "obs",
			args: []string{"alert", "--note", "Crowd at the gate", "--station", "PS-0042"},
			app: func(b *app.StoreBackend) error {
				_, err := b.Alert("Crowd at the gate", "PS-0042")
				return err
			}},
		{name: "observer retracts", actor: "obs",
			args: []string{"report", "retract", late, "--reason", "wrong station"},
			app: func(b *app.StoreBackend) error {
				_, err := b.Retract(lateID, "wrong station")
				return err
			}},
		{name: "second retraction writes nothing", actor: "obs",
			args: []string{"report", "retract", late, "--reason", "again"},
			app: func(b *app.StoreBackend) error {
				_, err := b.Retract(lateID, "again")
				return err
			}},
		{name: "amend a retracted report", actor: "obs", refused: "was retracted",
			args: []string{"report", "amend", late, "--title", "Opened at 09:45"},
			app: func(b *app.StoreBackend) error {
				v, err := b.Report(lateID)
				if err != nil {
					return err
				}
				r := v.Report
				r.Title = "Opened at 09:45"
				_, err = b.Amend(lateID, r, nil)
				return err
			}},
		{name: "coordinator amends another's report", actor: "coord", refused: "only its author may amend it",
			args: []string{"report", "amend", closed, "--title", "Closed at 13:00"},
			app: func(b *app.StoreBackend) error {
				v, err := b.Report(closedID)
				if err != nil {
					return err
				}
				r := v.Report
				r.Title = "Closed at 13:00"
				_, err = b.Amend(closedID, r, nil)
				return err
			}},
		{name: "coordinator retracts another's report", actor: "coord", refused: "only its author may retract it",
			args: []string{"report", "retract", closed, "--reason", "no"},
			app: func(b *app.StoreBackend) error {
				_, err := b.Retract(closedID, "no")
				return err
			}},
		{name: "coordinator reviews", actor: "coord",
			args: []string{"review", closed, "--status", "verified", "--note", "Seen by two observers"},
			app: func(b *app.StoreBackend) error {
				return b.Review(act.Verdict{Report: closedID.String(), Status: "verified", Note: "Seen by two observers"})
			}},
		{name: "review of a report not held", actor: "coord", refused: "no report on this device has an ID starting with",
			args: []string{"review", "bafkreizzzzzzzzzz", "--status", "verified"},
			app: func(b *app.StoreBackend) error {
				_, err := b.Desk().Review(act.Verdict{Report: "bafkreizzzzzzzzzz", Status: "verified"})
				return err
			}},
		{name: "a report in the clear by SMS", actor: "obs", refused: "is not sealed: the operator would read it",
			args: []string{"sms", "encode", closed},
			app: func(b *app.StoreBackend) error {
				_, err := b.Desk().SMSText(closed)
				return err
			}},
		{name: "observer shares the SMS inbox key", actor: "obs", refused: "only coordinators hold the SMS inbox key",
			args: []string{"sms", "key", "share"},
			app: func(b *app.StoreBackend) error {
				_, err := b.Desk().SMSKey(false)
				return err
			}},
		{name: "coordinator shares an SMS inbox key never made", actor: "coord", refused: "this device holds no SMS inbox key",
			args: []string{"sms", "key", "share"},
			app: func(b *app.StoreBackend) error {
				_, err := b.Desk().SMSKey(false)
				return err
			}},
		{name: "coordinator lists the SMS senders", actor: "coord",
			args: []string{"sms", "senders"},
			app: func(b *app.StoreBackend) error {
				_, err := b.Desk().SMSSenders()
				return err
			}},
		{name: "revoke the founder", actor: "coord", refused: "founded the mission and cannot be revoked",
			args: []string{"mission", "revoke", coordAuthor, "--reason", "test"},
			app:  func(b *app.StoreBackend) error { return b.Revoke(coordKey, "test") }},
		{name: "coordinator invite for nobody", actor: "coord", refused: "a coordinator invite must name the new coordinator's device key",
			args: []string{"mission", "invite", "--role", "coordinator"},
			app: func(b *app.StoreBackend) error {
				_, err := b.Invite(app.InviteRequest{Role: "coordinator"})
				return err
			}},
		{name: "cancel something that is not an invite", actor: "coord", refused: "is a member, not an invite",
			args: []string{"mission", "invite", "cancel", obsAuthor},
			app: func(b *app.StoreBackend) error {
				_, err := b.Desk().CancelInvite(obsAuthor, "")
				return err
			}},
		{name: "revoke the observer", actor: "coord",
			args: []string{"mission", "revoke", obsAuthor, "--reason", "phone seized"},
			app:  func(b *app.StoreBackend) error { return b.Revoke(obsKey, "phone seized") }},
		{name: "second revocation writes nothing", actor: "coord",
			args: []string{"mission", "revoke", obsAuthor, "--reason", "again"},
			app:  func(b *app.StoreBackend) error { return b.Revoke(obsKey, "again") }},
		{name: "confirm a revoked member", actor: "coord", refused: "has been revoked",
			args: []string{"mission", "confirm", obsAuthor},
			app:  func(b *app.StoreBackend) error { return b.Confirm(obsKey) }},
	}

	homes := func(t *testing.T) map[string]string {
		return map[string]string{"obs": copyHome(t, obs), "coord": copyHome(t, coord)}
	}
	cliOn := func(h map[string]string) func(t *testing.T, c useCase) (bool, string) {
		return func(t *testing.T, c useCase) (bool, string) {
			_, stderr, code := runVigil(t, h[c.actor], nil, c.args...)
			return code == 0, stderr
		}
	}
	statusCounts := func(h map[string]string) func(t *testing.T, actor string) map[string]int {
		return func(t *testing.T, actor string) map[string]int {
			return status(t, h[actor]).Records
		}
	}

	local := homes(t)
	socket := homes(t)
	for _, home := range socket {
		startNode(t, home)
		if !status(t, home).Running {
			t.Fatal("no node holds the home: the commands would not go through the control socket")
		}
	}
	inApp := homes(t)
	backends := map[string]*app.StoreBackend{}
	for actor, home := range inApp {
		st, err := store.Open(home, []byte(defaultPass), store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		b := app.NewStoreBackend(st, nil)
		t.Cleanup(func() { b.Close() })
		backends[actor] = b
	}
	adapters := []adapter{
		{name: "command line", run: cliOn(local), counts: statusCounts(local)},
		{name: "control socket", run: cliOn(socket), counts: statusCounts(socket)},
		{name: "app", run: func(t *testing.T, c useCase) (bool, string) {
			err := c.app(backends[c.actor])
			if err != nil {
				return false, err.Error()
			}
			return true, ""
		}, counts: func(t *testing.T, actor string) map[string]int {
			n, err := backends[actor].Store().Counts()
			if err != nil {
				t.Fatal(err)
			}
			out := map[string]int{}
			for k, v := range n {
				out[string(k)] = v
			}
			return out
		}},
	}

	for _, c := range cases {
		var words []string
		for _, a := range adapters {
			ok, w := a.run(t, c)
			switch {
			case c.refused == "" && !ok:
				t.Errorf("%s through the %s: refused: %s", c.name, a.name, w)
			case c.refused != "" && ok:
				t.Errorf("%s through the %s: accepted, want refused (%s)", c.name, a.name, c.refused)
			case c.refused != "" && !strings.Contains(w, c.refused):
				t.Errorf("%s through the %s: refused with %q, want %q", c.name, a.name, w, c.refused)
			}
			words = append(words, strings.TrimSpace(w))
			t.Logf("%s through the %s: %v %q", c.name, a.name, ok, w)
		}
		if c.refused == "" {
			continue
		}
		// The command line words it the same with or without a node, and
		// both contain the app's words (the desk's) in full.
		if words[0] != words[1] {
			t.Errorf("%s: the command line says %q on the store and %q through the socket", c.name, words[0], words[1])
		}
		if !strings.Contains(words[0], words[2]) {
			t.Errorf("%s: the command line says %q, the app %q", c.name, words[0], words[2])
		}
	}
	// A running coordinator node signs receipts of what it holds on its
	// own: they are the node's, not an action's.
	counts := func(a adapter, actor string) map[string]int {
		n := a.counts(t, actor)
		delete(n, string(incident.KindReceipt))
		return n
	}
	for _, actor := range []string{"obs", "coord"} {
		want := counts(adapters[0], actor)
		for _, a := range adapters[1:] {
			if got := counts(a, actor); !maps.Equal(got, want) {
				t.Errorf("%s's records after the %s: %v; after the command line: %v", actor, a.name, got, want)
			}
		}
	}
}

// copyHome copies a home no process holds, so that several adapters start
// from the same records and keys.
func copyHome(t *testing.T, home string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), filepath.Base(home))
	if out, err := exec.Command("cp", "-a", home, dst).CombinedOutput(); err != nil {
		t.Fatalf("copy %s: %v\n%s", home, err, out)
	}
	if _, err := os.Stat(filepath.Join(dst, "control.sock")); err == nil {
		t.Fatalf("%s is held by a node", home)
	}
	return dst
}
