package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
)

// xlsformDir holds the four phase checklists, as ODK and Kobo lay them
// out (incident/xlsform_data_test.go writes them).
const xlsformDir = "../../incident/xlsform/testdata/forms"

func testForm(t testing.TB, name string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join(xlsformDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// writeBadForm writes an XLSForm whose row 3 is a geopoint.
func writeBadForm(t testing.TB) string {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	if err := f.SetSheetName("Sheet1", "survey"); err != nil {
		t.Fatal(err)
	}
	for i, row := range [][]any{{"type", "name", "label"}, {"integer", "staff", "Staff present"}, {"geopoint", "where", "Where is the station?"}} {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetSheetRow("survey", cell, &row); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.NewSheet("choices"); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := f.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "where.xlsx")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// A coordinator imports the four phase checklists (closing with --phase
// and --required); the same workbook again writes nothing; form list and
// form show, in lines and JSON; a bad workbook names its row and stores
// nothing; an observer may not import, and holds the forms once the
// records reach it.
func TestFormImportListShow(t *testing.T) {
	t.Parallel()
	coord, _, _ := newMission(t, "forms")
	out, errs, code := runVigil(t, coord, nil, "form", "import", writeBadForm(t))
	wantFailure(t, "a geopoint", out, errs, code, exitError, `where.xlsx: nothing imported: survey row 3: type "geopoint" is not supported (supported: select_one`)
	out, errs, code = runVigil(t, coord, nil, "form", "import", testForm(t, "opening.xlsx"), "--phase", "lunch")
	wantFailure(t, "a phase that is none", out, errs, code, exitError, `"lunch" is not a phase`)
	if out, errs, _ := runVigil(t, coord, nil, "form", "list"); out != "" || !strings.Contains(errs, "No forms") {
		t.Fatalf("refused imports stored forms: %q %q", out, errs)
	}

	ids := map[string]string{}
	for _, name := range []string{"opening", "voting", "counting"} {
		ids[name] = mustID(t, coord, nil, "form", "import", testForm(t, name+".xlsx"))
	}
	out, errs, code = runVigil(t, coord, nil, "form", "import", testForm(t, "closing.xlsx"), "--phase", "closing", "--required")
	if code != 0 || !strings.Contains(errs, "Imported form closing version 2026.1 (Closing checklist): 7 questions, answered at every assigned station in the closing phase") {
		t.Fatalf("closing: exit %d %q %q", code, out, errs)
	}
	ids["closing"] = strings.TrimSpace(out)
	out, errs, code = runVigil(t, coord, nil, "form", "import", testForm(t, "opening.xlsx"))
	if code != 0 || strings.TrimSpace(out) != ids["opening"] || !strings.Contains(errs, "Form opening version 2026.1 is unchanged") {
		t.Fatalf("the same workbook again: exit %d %q %q", code, out, errs)
	}

	lines := strings.Split(mustRun(t, coord, nil, "form", "list"), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[0], ids["closing"]+"  closing ") ||
		!strings.Contains(lines[0], "closing    7 questions, required  Closing checklist") {
		t.Fatalf("form list: %q", lines)
	}
	type listed struct {
		ID       string `json:"id"`
		Name     string `json:"name"`
		Phase    string `json:"phase"`
		Required bool   `json:"required"`
		Current  bool   `json:"current"`
		Count    int    `json:"question_count"`
	}
	all := decodeLines[listed](t, mustRun(t, coord, nil, "--json", "form", "list"))
	if len(all) != 4 || all[3] != (listed{ids["opening"], "opening", "opening", true, true, 14}) {
		t.Fatalf("form list --json: %+v", all)
	}

	show := mustRun(t, coord, nil, "form", "show", "opening")
	for _, want := range []string{
		"name       opening\ntitle      Opening checklist\nversion    2026.1\nphase      opening\n",
		" 2. materials_present [MP] select_one, required\n    Were all essential materials present",
		"    choices:  yes (Yes), no (No), na (Not applicable)\n    flag if:  . = 'no'\n",
		" 5. staff_present [SP] integer, required, 0 to 30\n",
		" 8. minutes_late [ML] integer, required, 1 to 600\n    How many minutes late did it open?\n    show if:  ${opened_on_time} = 'no'\n",
		"10. late_reason_other [LRO] text\n",
		"    show if:  ${opened_on_time} = 'no' and ${late_reason} = 'other'\n",
		"12. party_agents [PA] integer, 0 or more, or na\n",
	} {
		if !strings.Contains(show, want) {
			t.Errorf("form show opening lacks %q:\n%s", want, show)
		}
	}
	type shown struct {
		ID        string `json:"id"`
		Name      string `json:"name"`
		Questions []struct {
			ID      string `json:"id"`
			Code    string `json:"code"`
			Min     *int64 `json:"min"`
			Max     *int64 `json:"max"`
			NA      bool   `json:"na"`
			ShowIf  string `json:"show_if"`
			Choices []struct {
				Name  string `json:"name"`
				Label string `json:"label"`
			} `json:"choices"`
		} `json:"questions"`
	}
	prefix := strings.TrimPrefix(ids["counting"], "bafkrei")[:10]
	c := decodeJSON[shown](t, mustRun(t, coord, nil, "--json", "form", "show", prefix))
	if c.ID != ids["counting"] || len(c.Questions) != 12 || c.Questions[1].Code != "REG" || *c.Questions[1].Max != 5000 ||
		!c.Questions[5].NA || c.Questions[8].ShowIf != "${agents_signed} = 'no'" || c.Questions[7].Choices[2].Name != "na" {
		t.Fatalf("form show --json by prefix: %+v", c)
	}
	out, errs, code = runVigil(t, coord, nil, "form", "show", "arrival")
	wantFailure(t, "an unknown form", out, errs, code, exitError, `no form "arrival" on this device`)

	obs, _, _ := member(t, "forms-obs", invite(t, coord, "--role", "observer"))
	out, errs, code = runVigil(t, obs, nil, "form", "import", testForm(t, "opening.xlsx"))
	wantFailure(t, "an observer's import", out, errs, code, exitError, "an observer may not sign form records")
	mustRun(t, obs, nil, "bundle", "import", exportBundle(t, coord))
	if out := mustRun(t, obs, nil, "form", "show", "voting"); !strings.Contains(out, "queue_length [V1] integer, required, 0 to 5000") {
		t.Fatalf("the observer's voting form: %q", out)
	}

	out, _, code = runVigil(t, coord, nil, "form", "--help")
	if code != 0 || !strings.Contains(out, "vigil form import FILE.xlsx") || !strings.Contains(out, "--phase") || !strings.Contains(out, "vigil form show ID") {
		t.Fatalf("form --help: %q", out)
	}
}

// While a node holds the home, form import is a typed request over its
// control socket, and the workbook named on the command line is the
// caller's: a relative path resolves in the caller's folder.
func TestFormImportThroughNode(t *testing.T) {
	t.Parallel()
	home, _, _ := newMission(t, "forms-node")
	nodeDir, callerDir := t.TempDir(), t.TempDir()
	data, err := os.ReadFile(testForm(t, "counting.xlsx"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(callerDir, "counting.xlsx"), data, 0o600); err != nil {
		t.Fatal(err)
	}
	startNodeIn(t, home, nodeDir)
	run := func(args ...string) (string, string, error) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		cmd := vigilCmd(ctx, t, home, nil, args...)
		cmd.Dir = callerDir
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		return out.String(), errb.String(), err
	}
	if out, _, _ := run("--json", "status"); !strings.Contains(out, `"running":true`) {
		t.Fatal("no node holds the home: the commands would not go through the control socket")
	}
	out, errs, err := run("form", "import", "counting.xlsx")
	if err != nil || !idLine.MatchString(strings.TrimSpace(out)) || !strings.Contains(errs, "Imported form counting") {
		t.Fatalf("form import through the node: %v %q %q", err, out, errs)
	}
	if out, errs, err := run("form", "show", "counting"); err != nil || !strings.Contains(out, "REG") {
		t.Fatalf("form show through the node: %v %q %q", err, out, errs)
	}
	if out, _, err := run("form", "list"); err != nil || strings.Count(out, "\n") != 1 {
		t.Fatalf("form list through the node: %v %q", err, out)
	}
	if _, errs, err := run("form", "import", "closing.xlsx"); err == nil || !strings.Contains(errs, "closing.xlsx") {
		t.Fatalf("a workbook missing from the caller's folder: %v %q", err, errs)
	}
}
