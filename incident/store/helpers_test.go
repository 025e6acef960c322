package store_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/store"
	"github.com/vigil-mesh/vigil/incident/vault"
)

// cheapKDF keeps Argon2 fast in tests.
var cheapKDF = vault.KDFParams{Time: 1, MemoryKiB: 64, Threads: 1}

var passphrase = []byte("correct horse battery staple")

// t0 is the suite's reference time: the morning of election day.
var t0 = time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)

// clock is a fake clock, safe for concurrent use.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock(t time.Time) *clock { return &clock{now: t} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// opener makes a fresh, initialised store with no mission. The suite sets
// the behavioural options (clock, quarantine bounds); the implementation
// fills in the rest. The store is closed when the test ends.
type opener func(t *testing.T, o store.Options) *store.Store

// openBadger is the Badger store's opener: a new home in a temporary
// folder, cheap key derivation.
func openBadger(t *testing.T, o store.Options) *store.Store {
	t.Helper()
	s, _ := initHome(t, t.TempDir(), o)
	return s
}

// initHome initialises a store in home and closes it when the test ends.
func initHome(t testing.TB, home string, o store.Options) (*store.Store, string) {
	t.Helper()
	if o.KDF == nil {
		o.KDF = &cheapKDF
	}
	s, err := store.Init(home, passphrase, o)
	if err != nil {
		t.Fatalf("Init(%s): %v", home, err)
	}
	t.Cleanup(func() { s.Close() })
	return s, home
}

// reopen opens home again and closes it when the test ends.
func reopen(t testing.TB, home string, pass []byte, o store.Options) *store.Store {
	t.Helper()
	if o.KDF == nil {
		o.KDF = &cheapKDF
	}
	s, err := store.Open(home, pass, o)
	if err != nil {
		t.Fatalf("Open(%s): %v", home, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// createMission makes s the founder of a new mission.
func createMission(t testing.TB, s *store.Store) incident.ID {
	t.Helper()
	id, err := s.CreateMission("General election 2026", "HQ", false)
	if err != nil {
		t.Fatalf("CreateMission: %v", err)
	}
	return id
}

// enroll has coordinator invite newcomer with role, newcomer join, and the
// coordinator receive the newcomer's member record (as a bundle would
// carry it). It returns the member record's ID.
func enroll(t testing.TB, coordinator, newcomer *store.Store, role, label string) incident.ID {
	t.Helper()
	req := store.InviteRequest{Role: role, Label: label}
	if role == incident.RoleCoordinator {
		a := newcomer.Author()
		req.For = &a
	}
	code, err := coordinator.Invite(req)
	if err != nil {
		t.Fatalf("Invite(%s): %v", role, err)
	}
	id, err := newcomer.Join(code)
	if err != nil {
		t.Fatalf("Join(%s): %v", role, err)
	}
	mustAdd(t, newcomer, coordinator, id)
	return id
}

// mustAdd moves records from one store to another, as bundles and sync
// do, and fails unless each is accepted (or already held).
func mustAdd(t testing.TB, from, to *store.Store, ids ...incident.ID) {
	t.Helper()
	for _, id := range ids {
		r := transfer(t, from, to, id)
		if r.Outcome != store.Accepted && r.Outcome != store.Duplicate {
			t.Fatalf("Add %s: %s: %v", id, r.Outcome, r.Err)
		}
	}
}

// transfer reads a record from one store and adds it to another.
func transfer(t testing.TB, from, to *store.Store, id incident.ID) store.Result {
	t.Helper()
	rec, err := from.Get(id)
	if err != nil || rec == nil {
		t.Fatalf("Get %s: %v, %v", id, rec, err)
	}
	return to.Add(rec.Raw, "bundle")
}

// syncAll copies every record src holds into dst, in kind order, and
// fails on any rejection.
func syncAll(t testing.TB, src, dst *store.Store) {
	t.Helper()
	for _, k := range incident.Kinds {
		recs, err := src.ByKind(k)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			if res := dst.Add(r.Raw, "sync"); res.Outcome == store.Rejected {
				t.Fatalf("sync %s %s: %v", k, r.ID, res.Err)
			}
		}
	}
}

// report builds a valid report payload.
func report(category, station string, occurred time.Time, title string) incident.ReportPayload {
	return incident.ReportPayload{Category: category, Severity: 2, Occurred: occurred.UnixMilli(),
		Station: station, Title: title}
}

func mustPut(t testing.TB, s *store.Store, kind incident.Kind, payload any) *incident.Signed {
	t.Helper()
	rec, err := s.Put(kind, payload)
	if err != nil {
		t.Fatalf("Put %s: %v", kind, err)
	}
	return rec
}

func mustCounts(t testing.TB, s *store.Store) map[incident.Kind]int {
	t.Helper()
	c, err := s.Counts()
	if err != nil {
		t.Fatalf("Counts: %v", err)
	}
	return c
}

func mustQuarantine(t testing.TB, s *store.Store) int {
	t.Helper()
	n, err := s.QuarantineCount()
	if err != nil {
		t.Fatalf("QuarantineCount: %v", err)
	}
	return n
}

func mustList(t testing.TB, s *store.Store, f store.Filter) []incident.ReportView {
	t.Helper()
	vs, err := s.List(f)
	if err != nil {
		t.Fatalf("List(%+v): %v", f, err)
	}
	return vs
}

// ids returns the IDs of views, in order.
func ids(vs []incident.ReportView) []incident.ID {
	out := make([]incident.ID, len(vs))
	for i, v := range vs {
		out[i] = v.ID
	}
	return out
}

// wantList fails unless List(f) returns exactly want, in order.
func wantList(t testing.TB, s *store.Store, f store.Filter, want ...incident.ID) {
	t.Helper()
	got := ids(mustList(t, s, f))
	if !slices.Equal(got, want) {
		t.Errorf("List(%s) = %s, want %s", describe(f), idStrings(got), idStrings(want))
	}
}

func describe(f store.Filter) string {
	var b bytes.Buffer
	b.WriteString("{")
	add := func(k, v string) { fmt.Fprintf(&b, " %s:%q", k, v) }
	if f.Category != "" {
		add("Category", f.Category)
	}
	if f.Station != "" {
		add("Station", f.Station)
	}
	if !f.Author.IsZero() {
		add("Author", f.Author.Short())
	}
	if f.Status != "" {
		add("Status", f.Status)
	}
	if !f.Since.IsZero() {
		add("Since", f.Since.Format(time.RFC3339))
	}
	if !f.Until.IsZero() {
		add("Until", f.Until.Format(time.RFC3339))
	}
	if f.Limit != 0 {
		fmt.Fprintf(&b, " Limit:%d", f.Limit)
	}
	b.WriteString(" }")
	return b.String()
}

func idStrings(list []incident.ID) []string {
	out := make([]string, len(list))
	for i, id := range list {
		s := id.String()
		out[i] = s[len(s)-8:]
	}
	return out
}

// listJSON prints List(f) as the CLI would, history included.
func listJSON(t testing.TB, s *store.Store, f store.Filter) string {
	t.Helper()
	vs := mustList(t, s, f)
	out := make([]incident.ReportJSON, len(vs))
	for i := range vs {
		out[i] = vs[i].JSON(true)
	}
	b, err := json.MarshalIndent(out, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// isQuota reports whether err is a per-author quota rejection in any of
// the forms the store might use.
func isQuota(err error) bool {
	var fe *incident.FieldError
	return errors.Is(err, store.ErrQuota) || (errors.As(err, &fe) && bytes.Contains([]byte(fe.Problem), []byte("quota")))
}

func mustSigner(t testing.TB, seed byte) *incident.Signer {
	t.Helper()
	s, err := incident.NewSigner(bytes.Repeat([]byte{seed}, 32))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func mustSign(t testing.TB, s *incident.Signer, mission incident.ID, kind incident.Kind, at time.Time, payload any) *incident.Signed {
	t.Helper()
	rec, err := s.Sign(mission, kind, at, payload)
	if err != nil {
		t.Fatalf("Sign %s: %v", kind, err)
	}
	return rec
}

// ab returns an author key as bytes, as payloads carry it.
func ab(a incident.Author) []byte { return append([]byte(nil), a[:]...) }
