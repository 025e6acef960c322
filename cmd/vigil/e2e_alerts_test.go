package main

import (
	"strings"
	"testing"
	"time"
)

// An alert raised on an observer's home reaches a coordinator's home by
// bundle; the coordinator acknowledges it with a notice, and once that
// travels back the observer's `alert list` shows it acknowledged by the
// coordinator. An observer's own "notice" is refused before signing.
func TestAlertAnsweredAcrossHomes(t *testing.T) {
	t.Parallel()
	coord, coordKey, _ := newMission(t, "coordinator")
	obs, obsKey, _ := member(t, "observer", invite(t, coord, "--role", "observer", "--label", "Heron"))
	alert := mustID(t, obs, nil, "alert", "--note", "men with sticks at the gate", "--station", "PS-0042")
	if got := decodeLines[alertOut](t, mustRun(t, obs, nil, "alert", "list", "--json")); len(got) != 1 || got[0].State != "sent" {
		t.Fatalf("the observer's alert before any answer: %+v", got)
	}
	stdout, stderr, code := runVigil(t, obs, nil, "notice", "--text", "Stop reporting from PS-0042", "--severity", "4")
	wantFailure(t, "an observer's notice", stdout, stderr, code, exitError, "observer", "notice")

	carry(t, obs, coord)
	got := decodeLines[alertOut](t, mustRun(t, coord, nil, "alert", "list", "--json"))
	if len(got) != 1 || got[0].ID.String() != alert || got[0].Observer != "Heron" || got[0].Author.String() != obsKey ||
		got[0].Station != "PS-0042" || got[0].State != "sent" {
		t.Fatalf("the coordinator's alerts: %+v", got)
	}
	if out := mustRun(t, coord, nil, "alert", "list"); !strings.Contains(out, "from Heron") || !strings.Contains(out, "men with sticks") {
		t.Fatalf("alert list: %s", out)
	}
	mustID(t, coord, nil, "notice", "--ack", alert[:len("bafkrei")+12], "--text", "Seen; calling you now", "--severity", "3")

	carry(t, coord, obs)
	got = decodeLines[alertOut](t, mustRun(t, obs, nil, "alert", "list", "--json"))
	if len(got) != 1 || got[0].State != "acknowledged" || len(got[0].History) != 1 ||
		got[0].History[0].By.String() != coordKey || got[0].History[0].Note != "Seen; calling you now" {
		t.Fatalf("the observer's alert after the acknowledgement: %+v", got)
	}
	notices := decodeLines[noticeOut](t, mustRun(t, obs, nil, "notice", "list", "--json"))
	if len(notices) != 1 || !notices[0].Trusted || notices[0].Ack == nil || notices[0].Ack.String() != alert || notices[0].Severity != 3 {
		t.Fatalf("the observer's notices: %+v", notices)
	}
}

// A coordinator's headless node prints a line for an alert that arrives;
// alert list and notice go through its control socket.
func TestNodePrintsAlerts(t *testing.T) {
	t.Parallel()
	coord, _, _ := newMission(t, "coordinator")
	obs, _, _ := member(t, "observer", invite(t, coord, "--role", "observer", "--label", "Heron"))
	lines, addr := runNode(t, coord, "")
	alert := mustID(t, obs, nil, "alert", "--note", "men with sticks at the gate", "--station", "PS-0042")
	mustRun(t, obs, nil, "sync", "--peer", addr)
	deadline := time.After(30 * time.Second)
	for printed := false; !printed; {
		select {
		case l := <-lines:
			if strings.HasPrefix(l, "ALERT ") {
				for _, want := range []string{"from Heron", "at PS-0042", "men with sticks at the gate", alert} {
					if !strings.Contains(l, want) {
						t.Fatalf("the node's alert line lacks %q: %s", want, l)
					}
				}
				printed = true
			}
		case <-deadline:
			t.Fatal("the coordinator's node printed no alert line")
		}
	}
	mustID(t, coord, nil, "notice", "--ack", alert, "--resolve", "--text", "Police on site")
	got := decodeLines[alertOut](t, mustRun(t, coord, nil, "alert", "list", "--json"))
	if len(got) != 1 || got[0].State != "resolved" || got[0].Observer != "Heron" || len(got[0].History) != 1 {
		t.Fatalf("alert list through the node: %+v", got)
	}
}
