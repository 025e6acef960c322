package act

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/demo"
	"github.com/vigil-mesh/vigil/incident/export"
	"github.com/vigil-mesh/vigil/incident/store"
	"github.com/vigil-mesh/vigil/incident/vault"
	"github.com/vigil-mesh/vigil/internal/testkit"
)

func TestMain(m *testing.M) { testkit.VerifyNoLeaks(m) }

var cheapKDF = vault.KDFParams{Time: 1, MemoryKiB: 64, Threads: 1}

// newDesk is a desk over a fresh store in a temporary home.
func newDesk(t testing.TB, name string) *Desk {
	t.Helper()
	return newDeskOpts(t, name, store.Options{})
}

// newDeskOpts is newDesk with store options (a clock, say).
func newDeskOpts(t testing.TB, name string, o store.Options) *Desk {
	t.Helper()
	o.KDF = &cheapKDF
	st, err := store.Init(filepath.Join(t.TempDir(), name), []byte("correct horse battery"), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return New(st)
}

// join enrolls d in coord's mission as role with label, and hands it
// coord's epoch secrets, as their first hello would.
func join(t testing.TB, coord, d *Desk, role, label string) {
	t.Helper()
	enroll(t, coord, d, role, label)
	shareSecrets(t, coord, d)
}

// enroll is join without the hello: d has redeemed its code, and met no
// member since.
func enroll(t testing.TB, coord, d *Desk, role, label string) {
	t.Helper()
	req := InviteRequest{Role: role, Label: label}
	if role == incident.RoleCoordinator {
		req.For = d.st.Author().String()
	}
	inv, err := coord.Invite(req)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Join(inv.Code); err != nil {
		t.Fatal(err)
	}
	copyRecords(t, d, coord)
	copyRecords(t, coord, d)
}

// shareSecrets gives to every record and epoch secret from holds, as a
// hello and the reconciliation after it do.
func shareSecrets(t testing.TB, from, to *Desk) {
	t.Helper()
	copyRecords(t, from, to)
	secrets, err := from.st.EpochSecrets()
	if err != nil {
		t.Fatal(err)
	}
	for id, s := range secrets {
		if _, err := to.st.AddEpochSecret(id, s); err != nil {
			t.Fatal(err)
		}
	}
}

// mission is a coordinator's desk and an observer's, in one mission, with
// the observer's enrollment known to the coordinator.
func mission(t testing.TB) (coord, obs *Desk) {
	t.Helper()
	coord, obs = newDesk(t, "coord"), newDesk(t, "obs")
	if _, err := coord.CreateMission(store.MissionSpec{Name: "Test mission", Label: "Desk"}); err != nil {
		t.Fatal(err)
	}
	inv, err := coord.Invite(InviteRequest{Role: incident.RoleObserver, Label: "Heron"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := obs.Join(inv.Code); err != nil {
		t.Fatal(err)
	}
	copyRecords(t, obs, coord)
	return coord, obs
}

// copyRecords stores every record from's store holds in to's, as a
// bundle would.
func copyRecords(t testing.TB, from, to *Desk) {
	t.Helper()
	kinds, err := from.st.Kinds()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range kinds {
		recs, err := from.st.ByKind(k)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			if res := to.st.Add(r.Raw, "test"); res.Outcome == store.Rejected {
				t.Fatalf("%s %s rejected: %v", k, r.ID, res.Err)
			}
		}
	}
}

func report(title string) incident.ReportPayload {
	return incident.ReportPayload{Category: "polling.closure", Severity: 2, Title: title, Occurred: 1}
}

// TestRefusalsAreClassified: each refusal carries its code (and field),
// writes nothing, and a repeat of an idempotent action is a success.
func TestRefusalsAreClassified(t *testing.T) {
	coord, obs := mission(t)
	mine, err := obs.Submit(Submission{Report: report("Closed at noon")})
	if err != nil {
		t.Fatal(err)
	}
	copyRecords(t, obs, coord)
	idle := newDesk(t, "idle")
	obsKey := obs.st.Author().String()

	cases := []struct {
		name  string
		do    func() error
		code  Code
		field string
	}{
		{"no mission yet", func() error { _, err := idle.Submit(Submission{Report: report("x")}); return err }, NoMission, ""},
		{"unknown category", func() error {
			r := report("x")
			r.Category = "weather.rain"
			_, err := obs.Submit(Submission{Report: r})
			return err
		}, Invalid, "category"},
		{"severity out of range", func() error {
			r := report("x")
			r.Severity = 9
			_, err := obs.Submit(Submission{Report: r})
			return err
		}, Invalid, "severity"},
		{"a file not kept", func() error {
			_, err := obs.Submit(Submission{Report: report("x"), Files: []Attachment{{Name: "gone.jpg"}}})
			return err
		}, FileGone, ""},
		{"observer reviews", func() error { _, err := obs.Review(Verdict{Report: mine.ID.String(), Status: "verified"}); return err }, Forbidden, ""},
		{"observer invites", func() error { _, err := obs.Invite(InviteRequest{Role: "observer"}); return err }, Forbidden, ""},
		{"bad review status", func() error { _, err := coord.Review(Verdict{Report: mine.ID.String(), Status: "great"}); return err }, Invalid, "status"},
		{"coordinator amends another's", func() error {
			_, err := coord.Amend(Amendment{Target: mine.ID.String(), Report: report("y")})
			return err
		}, NotMine, ""},
		{"coordinator retracts another's", func() error { _, err := coord.Retract(mine.ID.String(), "no"); return err }, NotMine, ""},
		{"retract without a reason", func() error { _, err := obs.Retract(mine.ID.String(), ""); return err }, Invalid, "reason"},
		{"a prefix of nothing", func() error {
			_, err := coord.Review(Verdict{Report: "bafkreizzzzzzzzzz", Status: "verified"})
			return err
		}, NotFound, ""},
		{"a malformed reference", func() error { _, err := coord.Review(Verdict{Report: "x y", Status: "verified"}); return err }, Invalid, "report"},
		{"revoke the founder", func() error {
			_, err := coord.Revoke(coord.st.Author().String(), "", false)
			return err
		}, Refused, ""},
		{"revoke nobody", func() error { _, err := coord.Revoke("Nobody", "", false); return err }, NotFound, ""},
		{"coordinator invite for no one", func() error {
			_, err := coord.Invite(InviteRequest{Role: incident.RoleCoordinator})
			return err
		}, Invalid, "for"},
		{"observer invite bound", func() error {
			_, err := coord.Invite(InviteRequest{Role: incident.RoleObserver, For: obsKey})
			return err
		}, Invalid, "for"},
		{"cancel a member", func() error { _, err := coord.CancelInvite(obsKey, ""); return err }, Refused, ""},
		{"cancel not an ID", func() error { _, err := coord.CancelInvite("nope", ""); return err }, Invalid, "invite"},
		{"a bad invite code", func() error { _, err := idle.Join("vigil1-garbage"); return err }, BadInvite, ""},
		{"observer configures", func() error { _, err := obs.Configure([]string{"seal_by_default=true"}); return err }, Forbidden, ""},
		{"a second mission", func() error { _, err := coord.CreateMission(store.MissionSpec{Name: "Again"}); return err }, HasMission, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before, _ := coord.st.Counts()
			beforeObs, _ := obs.st.Counts()
			err := c.do()
			var ae *Error
			if !errors.As(err, &ae) {
				t.Fatalf("got %v (%T), want an *act.Error", err, err)
			}
			if ae.Code != c.code || ae.Field != c.field || !errors.Is(err, c.code) || CodeOf(err) != c.code {
				t.Errorf("got code %q field %q (%v), want %q %q", ae.Code, ae.Field, err, c.code, c.field)
			}
			after, _ := coord.st.Counts()
			afterObs, _ := obs.st.Counts()
			if !maps.Equal(before, after) || !maps.Equal(beforeObs, afterObs) {
				t.Errorf("a refusal wrote records: %v → %v, %v → %v", before, after, beforeObs, afterObs)
			}
		})
	}
}

// TestRepeatsWriteNothing: a second retraction or revocation is a
// success that names the record in force and writes nothing.
func TestRepeatsWriteNothing(t *testing.T) {
	coord, obs := mission(t)
	r, err := obs.Submit(Submission{Report: report("Closed at noon")})
	if err != nil {
		t.Fatal(err)
	}
	first, err := obs.Retract(r.ID.String()[:len(IDHead)+IDPrefixMin], "wrong station")
	if err != nil || first.Already {
		t.Fatalf("retract by prefix: %+v %v", first, err)
	}
	again, err := obs.Retract(r.ID.String(), "again")
	if err != nil || !again.Already || again.Existing != first.ID || !again.ID.IsZero() {
		t.Errorf("second retract: %+v %v, want already with %s", again, err, first.ID)
	}
	if _, err := obs.Amend(Amendment{Target: r.ID.String(), Report: report("x")}); CodeOf(err) != Retracted {
		t.Errorf("amend of a retracted report: %v", err)
	}

	rev, err := coord.Revoke("heron", "phone seized", false)
	if err != nil || rev.Already || rev.Epoch.IsZero() || rev.EpochNumber != 2 || rev.Member != obs.st.Author() {
		t.Fatalf("revoke by label: %+v %v", rev, err)
	}
	before, _ := coord.st.Counts()
	rev2, err := coord.Revoke(obs.st.Author().String(), "again", false)
	if err != nil || !rev2.Already || rev2.Existing != rev.ID {
		t.Errorf("second revoke: %+v %v", rev2, err)
	}
	if after, _ := coord.st.Counts(); !maps.Equal(before, after) {
		t.Errorf("second revoke wrote records: %v → %v", before, after)
	}
}

// TestSubmitWithFilesAndPolicy: files kept with AttachFile travel as
// manifests; a submission follows the mission's sealing policy unless it
// says otherwise.
func TestSubmitWithFilesAndPolicy(t *testing.T) {
	coord := newDesk(t, "coord")
	if _, err := coord.CreateMission(store.MissionSpec{Name: "Sealed", SealByDefault: true}); err != nil {
		t.Fatal(err)
	}
	photo, err := coord.AttachFile("queue.jpg", []byte("\xff\xd8\xff\xe0 not really a jpeg"))
	if err != nil || photo.Mime != "image/jpeg" || photo.Size == 0 {
		t.Fatalf("attach: %+v %v", photo, err)
	}
	c, err := coord.Submit(Submission{Report: report("Queue"), Files: []Attachment{photo}})
	if err != nil || !c.Sealed {
		t.Fatalf("submit under seal_by_default: %+v %v", c, err)
	}
	clear := false
	c2, err := coord.Submit(Submission{Report: report("Queue again"), Sealed: &clear})
	if err != nil || c2.Sealed {
		t.Fatalf("submit asking for clear: %+v %v", c2, err)
	}
	// Sealed: the report names the file's ciphertext and carries its key;
	// the draft's plaintext is gone from the store.
	v, err := coord.Report(c.ID.String())
	if err != nil || len(v.Report.Attachments) != 1 || string(v.Report.Attachments[0]) == string(photo.Hash[:]) || len(v.Report.Files) != 1 {
		t.Errorf("the sealed report's attachments: %+v %v", v.Report, err)
	}
	if coord.st.HasBlob(photo.Hash) {
		t.Error("the plaintext of a sealed report's file is still in the store")
	}
	files, err := coord.Files(c.ID.String())
	if err != nil || len(files) != 1 || files[0].Name != "queue.jpg" || files[0].Mime != "image/jpeg" || !files[0].Sealed || !files[0].Readable {
		t.Errorf("files of the sealed report: %+v %v", files, err)
	}
	fd, err := coord.ReadFile(c.ID.String(), 0)
	if err != nil || string(fd.Data) != "\xff\xd8\xff\xe0 not really a jpeg" {
		t.Errorf("reading the sealed file: %q %v", fd.Data, err)
	}
	// In the clear, the report names the plaintext and keeps it.
	photo2, _ := coord.AttachFile("queue2.jpg", []byte("second photo"))
	c3, err := coord.Submit(Submission{Report: report("Queue in the clear"), Files: []Attachment{photo2}, Sealed: &clear})
	if err != nil {
		t.Fatal(err)
	}
	if fd, err := coord.ReadFile(c3.ID.String(), 0); err != nil || string(fd.Data) != "second photo" || fd.Sealed || fd.Name != "queue2.jpg" {
		t.Errorf("reading the clear file: %+v %v", fd.File, err)
	}
	if _, err := coord.ReadFile(c3.ID.String(), 1); CodeOf(err) != Invalid {
		t.Errorf("a file number past the end: %v", err)
	}
	if _, err := coord.AttachFile("huge.bin", make([]byte, incident.MaxAttachmentSize+1)); CodeOf(err) != Invalid {
		t.Errorf("an attachment over the limit: %v", err)
	}
}

// TestResultsSurviveJSON: the control socket carries requests and results
// as JSON; IDs and keys come back as they went.
func TestResultsSurviveJSON(t *testing.T) {
	coord, obs := mission(t)
	rev, err := coord.Revoke(obs.st.Author().String(), "test", false)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(rev)
	if err != nil {
		t.Fatal(err)
	}
	var back Revocation
	if err := json.Unmarshal(b, &back); err != nil || back != rev {
		t.Errorf("revocation through JSON: %+v %v, want %+v", back, err, rev)
	}
	var zero Retraction
	b, _ = json.Marshal(zero)
	if err := json.Unmarshal(b, &zero); err != nil || !zero.ID.IsZero() {
		t.Errorf("zero IDs through JSON: %+v %v", zero, err)
	}
}

// TestCarry: a bundle written with a passphrase opens only with it, a
// bundle of another mission stores nothing, and exports refuse what they
// cannot write.
func TestCarry(t *testing.T) {
	coord, obs := mission(t)
	if _, err := obs.Submit(Submission{Report: report("Closed at noon")}); err != nil {
		t.Fatal(err)
	}
	var file bytes.Buffer
	b, err := obs.ExportBundle(BundleRequest{Passphrase: []byte("a bundle passphrase")}, &file)
	if err != nil || b.Records == 0 {
		t.Fatalf("bundle: %+v %v", b, err)
	}
	if _, err := coord.ImportBundle(ImportRequest{Name: "stick.vgb", Data: file.Bytes()}); CodeOf(err) != CannotOpen {
		t.Errorf("import without the passphrase: %v", err)
	}
	sum, err := coord.ImportBundle(ImportRequest{Name: "stick.vgb", Data: file.Bytes(), Passphrase: []byte("a bundle passphrase")})
	if err != nil || sum.Accepted == 0 {
		t.Errorf("import with the passphrase: %+v %v", sum, err)
	}
	if _, err := obs.ExportBundle(BundleRequest{Passphrase: []byte("x"), ForCoordinators: true}, io.Discard); CodeOf(err) != Invalid {
		t.Errorf("two ways of encrypting: %v", err)
	}

	other := newDesk(t, "other")
	if _, err := other.CreateMission(store.MissionSpec{Name: "Another"}); err != nil {
		t.Fatal(err)
	}
	var foreign, foreignSealed bytes.Buffer
	if _, err := other.ExportBundle(BundleRequest{Plain: true}, &foreign); err != nil {
		t.Fatal(err)
	}
	if b, err := other.ExportBundle(BundleRequest{}, &foreignSealed); err != nil || b.Encryption != "members" {
		t.Fatalf("default bundle: %+v %v", b, err)
	}
	before, _ := coord.st.Counts()
	if _, err := coord.ImportBundle(ImportRequest{Name: "foreign.vgb", Data: foreign.Bytes()}); CodeOf(err) != BadFile {
		t.Errorf("another mission's bundle: %v", err)
	}
	if _, err := coord.ImportBundle(ImportRequest{Name: "foreign-sealed.vgb", Data: foreignSealed.Bytes()}); CodeOf(err) != CannotOpen {
		t.Errorf("another mission's bundle, encrypted for its members: %v", err)
	}
	if _, err := coord.ImportBundle(ImportRequest{Name: "junk.vgb", Data: []byte("not a bundle")}); CodeOf(err) != BadFile {
		t.Errorf("junk: %v", err)
	}
	if after, _ := coord.st.Counts(); !maps.Equal(before, after) {
		t.Errorf("refused imports stored records: %v → %v", before, after)
	}

	var csv bytes.Buffer
	res, err := coord.Export(ExportRequest{Format: "csv", Member: "heron"}, &csv)
	if err != nil || res.Reports != 1 || res.Mission.IsZero() || !bytes.Contains(csv.Bytes(), []byte("Closed at noon")) {
		t.Errorf("export of Heron's reports: %+v %v\n%s", res, err, csv.String())
	}
	var tallies bytes.Buffer
	if res, err := coord.Export(ExportRequest{Format: "csv", Records: "tallies"}, &tallies); err != nil || !bytes.HasPrefix(tallies.Bytes(), []byte("id,station,")) {
		t.Errorf("export --records tallies: %+v %v\n%s", res, err, tallies.String())
	}
	for _, req := range []ExportRequest{{Format: "docx"}, {Format: "evidence", Public: true}, {Format: "csv", Records: "ballots"},
		{Format: "geojson", Records: "tallies"}, {Format: "evidence", Records: "stations"},
		{Format: "csv", Records: "checklists", Filter: store.Filter{Status: "verified"}}} {
		if _, err := coord.Export(req, io.Discard); CodeOf(err) != Invalid {
			t.Errorf("export %+v: %v", req, err)
		}
	}
}

// practiceStore is the practice mission's coordinator store, closed when
// the test ends.
func practiceStore(t *testing.T) *store.Store {
	t.Helper()
	home := filepath.Join(t.TempDir(), "practice")
	if _, err := demo.Generate(home, []byte("correct horse battery"), demo.Options{Store: store.Options{KDF: &cheapKDF}}); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(home, []byte("correct horse battery"), store.Options{KDF: &cheapKDF})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// TestPublicExportOfThePracticeMission: the practice mission's public
// export holds only reports a coordinator verified or corroborated, no
// free text (so no station code or name in it), no author or pseudonym
// that links rows, and a notice that says what was left out.
func TestPublicExportOfThePracticeMission(t *testing.T) {
	st := practiceStore(t)
	views, err := st.List(store.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	verified := 0
	for _, v := range views {
		for _, s := range []string{v.Report.Title, v.Report.Description, v.Report.Source} {
			if len(s) >= 12 {
				texts = append(texts, s)
			}
		}
		if export.Verified(v) && !v.Sealed && !v.Retracted {
			verified++
		}
	}
	if verified == 0 || verified == len(views) {
		t.Fatalf("the practice mission has %d verified reports of %d: the test needs both kinds", verified, len(views))
	}
	var out bytes.Buffer
	res, err := New(st).Export(ExportRequest{Format: "jsonl", Public: true}, &out)
	if err != nil {
		t.Fatal(err)
	}
	if res.Reports == 0 || res.Reports > verified || res.DroppedUnverified == 0 {
		t.Errorf("published %d reports (verified: %d), left out %d unverified", res.Reports, verified, res.DroppedUnverified)
	}
	for _, line := range bytes.Split(bytes.TrimSpace(out.Bytes()), []byte("\n")) {
		var row map[string]any
		if err := json.Unmarshal(line, &row); err != nil {
			t.Fatal(err)
		}
		if row["kind"] == "notice" {
			if !strings.Contains(row["text"].(string), "not verified") {
				t.Errorf("the notice does not say what was left out: %s", row["text"])
			}
			continue
		}
		if s := row["status"]; s != "verified" && s != "corroborated" {
			t.Errorf("a %v report was published", s)
		}
		if row["author"] != "" || row["title"] != nil || row["description"] != nil || row["source"] != nil {
			t.Errorf("a published row carries an author or free text: %s", line)
		}
	}
	for _, s := range texts {
		if bytes.Contains(out.Bytes(), []byte(s)) {
			t.Errorf("the public export holds the text %q", s)
		}
	}
}
