package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
)

func TestSealedReportsThroughACarrier(t *testing.T) {
	t.Parallel()
	coord, _, _ := newMission(t, "coordinator")
	obs, _, _ := member(t, "observer", invite(t, coord, "--role", "observer"))
	carrier, _, _ := member(t, "carrier", invite(t, coord, "--role", "carrier"))
	carry(t, coord, obs)
	const secret = "Ballot box carried away by men in uniform"
	id := mustID(t, obs, nil, "report", "add", "--sealed", "--category", "polling.violence", "--severity", "4", "--title", secret)
	if r := showReport(t, obs, id); orEmpty(r.Title) != secret {
		t.Fatalf("the author cannot read its own sealed report: %+v", r)
	}
	b := exportBundle(t, obs)
	if bytes.Contains(mustRead(t, b), []byte(secret)) {
		t.Fatal("the bundle carries the sealed text in the clear")
	}
	importBundle(t, carrier, b)
	if r := showReport(t, carrier, id); r.Title != nil || !r.Sealed {
		t.Fatalf("the carrier reads the sealed report: %+v", r)
	}
	carry(t, carrier, coord)
	if r := showReport(t, coord, id); orEmpty(r.Title) != secret || !r.Sealed {
		t.Fatalf("the coordinator cannot read the sealed report: %+v", r)
	}
}

func TestEncryptedBundles(t *testing.T) {
	t.Parallel()
	coord, _, _ := newMission(t, "coordinator")
	obs, _, _ := member(t, "observer", invite(t, coord, "--role", "observer"))
	other, _, _ := member(t, "other observer", invite(t, coord, "--role", "observer"))
	const title = "Register pages torn out at PS-0009"
	id := mustID(t, obs, nil, "report", "add", "--category", "registration.voter_deleted", "--severity", "3", "--title", title)
	var st struct {
		Recipient string `json:"recipient"`
	}
	json.Unmarshal([]byte(mustRun(t, coord, nil, "status", "--json")), &st)
	if !strings.HasPrefix(st.Recipient, "age1") {
		t.Fatalf("status --json recipient %q", st.Recipient)
	}
	enc := filepath.Join(t.TempDir(), "to-coord.vgb")
	mustRun(t, obs, nil, "bundle", "export", "--out", enc, "--to", st.Recipient)
	if data := mustRead(t, enc); bytes.Contains(data, []byte(title)) || !bytes.HasPrefix(data, []byte("age-encryption.org/v1")) {
		t.Fatal("the encrypted bundle is not age ciphertext")
	}
	// Another device cannot open it, and stores nothing.
	before := mustRun(t, other, nil, "report", "list", "--json")
	out, errOut, code := runVigil(t, other, nil, "bundle", "import", enc)
	wantFailure(t, "bundle for another device", out, errOut, code, 1, "cannot open")
	if after := mustRun(t, other, nil, "report", "list", "--json"); after != before {
		t.Fatal("a failed import changed the store")
	}
	importBundle(t, coord, enc)
	if r := showReport(t, coord, id); orEmpty(r.Title) != title {
		t.Fatal("the coordinator did not get the report")
	}
	// A passphrase bundle, the passphrase given after `bundle`.
	pass := filepath.Join(t.TempDir(), "carry-pass")
	os.WriteFile(pass, []byte("sneakernet carry phrase\n"), 0o600)
	pb := filepath.Join(t.TempDir(), "pass.vgb")
	mustRun(t, obs, nil, "bundle", "export", "--out", pb, "--passphrase-file", pass)
	out, errOut, code = runVigil(t, other, nil, "bundle", "import", pb)
	wantFailure(t, "passphrase bundle without the passphrase", out, errOut, code, 1, "passphrase")
	mustRun(t, other, nil, "bundle", "import", pb, "--passphrase-file", pass)
	if r := showReport(t, other, id); orEmpty(r.Title) != title {
		t.Fatal("the passphrase bundle did not deliver the report")
	}
}

func TestPublicExportAndEvidence(t *testing.T) {
	t.Parallel()
	coord, coordKey, mission := newMission(t, "coordinator")
	obs, obsKey, _ := member(t, "observer", invite(t, coord, "--role", "observer", "--label", "Kestrel"))
	first := mustID(t, obs, nil, "report", "add", "--category", "polling.vote_buying", "--severity", "3",
		"--title", "Envelopes handed out", "--station", "PS-0012", "--lat", "-1.287654", "--lon", "36.823456")
	carry(t, obs, coord)
	cp := mustRun(t, coord, nil, "checkpoint")
	if !strings.Contains(cp, mission) || !strings.Contains(cp, "root ") {
		t.Fatalf("checkpoint text: %s", cp)
	}
	later := mustID(t, obs, nil, "report", "add", "--category", "other", "--severity", "1", "--title", "Later report")
	carry(t, obs, coord)
	// Only what a coordinator verified is published, without its text.
	mustID(t, coord, nil, "review", first, "--status", "verified")

	dir := t.TempDir()
	for _, f := range []string{"csv", "jsonl", "geojson"} {
		p := filepath.Join(dir, "public."+f)
		mustRun(t, coord, nil, "export", "--public", "--format", f, "--out", p)
		text := string(mustRead(t, p))
		if !strings.Contains(text, "polling.vote_buying") || !strings.Contains(text, "1 not verified") {
			t.Errorf("public %s export lacks the verified report, or does not say what it left out:\n%s", f, text)
		}
		for _, s := range []string{first, later, coordKey, obsKey, mission, "PS-0012", "-1.287654", "36.823456", "Kestrel",
			"Envelopes handed out", "Later report", "observer-1"} {
			if strings.Contains(text, s) {
				t.Errorf("public %s export contains %q", f, s)
			}
		}
		if !strings.Contains(text, "cannot be verified") {
			t.Errorf("public %s export does not say it cannot be verified", f)
		}
	}

	ev := filepath.Join(dir, "evidence.zip")
	mustRun(t, coord, nil, "export", "--format", "evidence", "--out", ev)
	out, errOut, code := runVigil(t, t.TempDir(), nil, "verify", ev)
	if code != 0 {
		t.Fatalf("verify evidence: exit %d\n%s\n%s", code, out, errOut)
	}
	if !strings.Contains(out, first+" OK (covered by checkpoint") {
		t.Errorf("the report made before the checkpoint is not covered:\n%s", out)
	}
	if !strings.Contains(out, later+" OK (no checkpoint covers it)") {
		t.Errorf("the report added after the checkpoint is reported covered:\n%s", out)
	}
	// An observer cannot sign an evidence package.
	o2, e2, c2 := runVigil(t, obs, nil, "export", "--format", "evidence", "--out", filepath.Join(dir, "obs.zip"))
	wantFailure(t, "observer evidence", o2, e2, c2, 1, "coordinator")
}

// The public XLSX and PDF, read back (cells; the PDF's text layer),
// contain no device key, record ID, fine coordinate or QR code.
func TestPublicXLSXAndPDF(t *testing.T) {
	t.Parallel()
	coord, coordKey, mission := newMission(t, "coordinator")
	obs, obsKey, _ := member(t, "observer", invite(t, coord, "--role", "observer"))
	id := mustID(t, obs, nil, "report", "add", "--category", "polling.vote_buying", "--severity", "3",
		"--title", "Envelopes at the gate", "--station", "PS-0012", "--lat", "-1.287654", "--lon", "36.823456")
	carry(t, obs, coord)
	mustID(t, coord, nil, "review", id, "--status", "corroborated") // published: a row to read back
	secrets := []string{id, coordKey, obsKey, mission, "PS-0012", "1.287654", "36.823456", "Envelopes at the gate"}
	dir := t.TempDir()

	x := filepath.Join(dir, "public.xlsx")
	mustRun(t, coord, nil, "export", "--public", "--format", "xlsx", "--out", x)
	f, err := excelize.OpenFile(x)
	if err != nil {
		t.Fatal(err)
	}
	var cells strings.Builder
	for _, sheet := range f.GetSheetList() {
		rows, _ := f.GetRows(sheet)
		for _, row := range rows {
			cells.WriteString(strings.Join(row, "\t") + "\n")
		}
	}
	for _, s := range secrets {
		if strings.Contains(cells.String(), s) {
			t.Errorf("public xlsx contains %q", s)
		}
	}
	if !strings.Contains(cells.String(), "cannot be verified") {
		t.Error("public xlsx does not say it cannot be verified")
	}

	p := filepath.Join(dir, "public.pdf")
	mustRun(t, coord, nil, "export", "--public", "--format", "pdf", "--out", p)
	pdftotext, err := exec.LookPath("pdftotext")
	if err != nil {
		t.Skip("pdftotext not found (Debian package poppler-utils; `make deps` installs it)")
	}
	out, err := exec.Command(pdftotext, "-layout", p, "-").Output()
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Join(strings.Fields(string(out)), " ")
	for _, s := range secrets {
		if strings.Contains(text, s) {
			t.Errorf("public pdf contains %q", s)
		}
	}
	if !strings.Contains(text, "cannot be verified") {
		t.Error("public pdf does not say it cannot be verified")
	}
	if strings.Contains(text, "VIGIL1:") || !strings.Contains(text, "no QR code") && strings.Contains(text, "QR code holding") {
		t.Error("public pdf carries QR codes of signed records")
	}
}
