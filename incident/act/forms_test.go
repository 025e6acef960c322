package act

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/store"
	"github.com/vigil-mesh/vigil/incident/xlsform"
	"github.com/xuri/excelize/v2"
)

// xlsformFile is one of the phase checklists under incident/testdata.
func xlsformFile(t testing.TB, name string) FormImport {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "xlsform", "testdata", "forms", name))
	if err != nil {
		t.Fatal(err)
	}
	return FormImport{Name: name, Data: data}
}

// clockedMission is mission with a coordinator whose clock moves a
// second at each reading, from base plus *offset, so that versions
// signed one after the other are ordered.
func clockedMission(t *testing.T, offset *atomic.Int64) (coord, obs *Desk) {
	t.Helper()
	var tick atomic.Int64
	base := time.Now()
	coord = newDeskOpts(t, "coord", store.Options{Now: func() time.Time {
		return base.Add(time.Duration(tick.Add(1))*time.Second + time.Duration(offset.Load()))
	}})
	if _, err := coord.CreateMission(store.MissionSpec{Name: "Forms mission", Label: "Desk"}); err != nil {
		t.Fatal(err)
	}
	obs = newDesk(t, "obs")
	join(t, coord, obs, incident.RoleObserver, "Heron")
	return coord, obs
}

// A coordinator imports the four phase checklists; the same workbook
// again stores nothing; the request's phase and required win over the
// settings sheet; a changed workbook is a new version of its name, and
// the current one; an observer holds them once the records arrive, and
// finds each by name or ID prefix.
func TestImportForm(t *testing.T) {
	var offset atomic.Int64
	coord, obs := clockedMission(t, &offset)
	imported := map[string]FormImported{}
	for _, name := range []string{"opening.xlsx", "voting.xlsx", "counting.xlsx"} {
		got, err := coord.ImportForm(xlsformFile(t, name))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		imported[got.Name] = got
	}
	if o := imported["opening"]; o.Title != "Opening checklist" || o.Version != "2026.1" || o.Phase != incident.PhaseOpening ||
		!o.Required || o.Questions != 14 || o.Unchanged || o.ID.IsZero() {
		t.Fatalf("opening: %+v", o)
	}
	req := xlsformFile(t, "closing.xlsx")
	req.Phase, req.Required = "Closing", true
	closing, err := coord.ImportForm(req)
	if err != nil || closing.Phase != incident.PhaseClosing || !closing.Required || closing.Questions != 7 {
		t.Fatalf("closing with --phase closing --required: %+v, %v", closing, err)
	}

	before := records(t, coord)
	again, err := coord.ImportForm(xlsformFile(t, "opening.xlsx"))
	if err != nil || !again.Unchanged || again.ID != imported["opening"].ID {
		t.Fatalf("the same workbook again: %+v, %v", again, err)
	}
	again, err = coord.ImportForm(req)
	if err != nil || !again.Unchanged || again.ID != closing.ID {
		t.Fatalf("the same workbook and flags again: %+v, %v", again, err)
	}
	if after := records(t, coord); after != before {
		t.Fatalf("an unchanged import stored %d records", after-before)
	}

	// Without the flags, closing says something else: a new version.
	plain, err := coord.ImportForm(xlsformFile(t, "closing.xlsx"))
	if err != nil || plain.Unchanged || plain.ID == closing.ID || plain.Phase != "" || plain.Required {
		t.Fatalf("closing without flags: %+v, %v", plain, err)
	}
	copyRecords(t, coord, obs)
	forms, err := obs.Forms()
	if err != nil || len(forms) != 5 {
		t.Fatalf("the observer's forms: %d, %v", len(forms), err)
	}
	current := 0
	for _, f := range forms {
		if f.Current {
			current++
		}
		if f.Form.Name == "closing" && f.Current != (f.ID == plain.ID) {
			t.Fatalf("closing %s current %v: want the newer version %s current", f.ID, f.Current, plain.ID)
		}
	}
	if current != 4 {
		t.Fatalf("%d current versions, want 4", current)
	}
	for ref, want := range map[string]incident.ID{
		"counting": imported["counting"].ID, "closing": plain.ID,
		closing.ID.String(): closing.ID, strings.TrimPrefix(imported["voting"].ID.String(), IDHead)[:IDPrefixMin+2]: imported["voting"].ID,
	} {
		v, err := obs.Form(ref)
		if err != nil || v.ID != want {
			t.Fatalf("Form(%q) = %s, %v; want %s", ref, v.ID, err, want)
		}
	}
	v, _ := obs.Form("opening")
	if q, ok := v.Form.Question("minutes_late"); !ok || q.Relevant.String() != "${opened_on_time} = 'no'" {
		t.Fatalf("the observer's opening form: %+v", v.Form)
	}

	// Another form signed under opening's version, with other
	// questions: the workbook that says that version is refused, since
	// the two would read as one version everywhere.
	other := v.Form
	other.Questions = other.Questions[:3]
	if _, err := coord.st.Put(incident.KindForm, other); err != nil {
		t.Fatal(err)
	}
	if _, err := coord.ImportForm(xlsformFile(t, "opening.xlsx")); CodeOf(err) != Invalid || !strings.Contains(err.Error(), `version "2026.1" of form opening is already signed`) {
		t.Fatalf("a clashing version: %v", err)
	}
}

// badWorkbook is a survey with a geopoint on row 3.
func badWorkbook(t *testing.T) []byte {
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
	return buf.Bytes()
}

// Refusals name the field and the row, and store nothing: an observer,
// a bad workbook, one too big, a phase that is not one; and a version
// that would never be current because the one before is dated ahead of
// this device's clock.
func TestImportFormRefused(t *testing.T) {
	var offset atomic.Int64
	coord, obs := clockedMission(t, &offset)
	for name, c := range map[string]struct {
		d     *Desk
		req   FormImport
		code  Code
		field string
		words string
	}{
		"observer":   {obs, xlsformFile(t, "opening.xlsx"), Forbidden, "", "an observer may not sign form records"},
		"geopoint":   {coord, FormImport{Name: "where.xlsx", Data: badWorkbook(t)}, Invalid, "form", `where.xlsx: nothing imported: survey row 3: type "geopoint" is not supported`},
		"too big":    {coord, FormImport{Name: "huge.xlsx", Data: make([]byte, xlsform.MaxBytes+1)}, Invalid, "form", "huge.xlsx is over 4 MiB"},
		"not a form": {coord, FormImport{Name: "stations.csv", Data: []byte("code,name\nPS-1,School\n")}, Invalid, "form", "stations.csv: nothing imported: this is not an .xlsx workbook"},
		"phase":      {coord, FormImport{Name: "opening.xlsx", Data: xlsformFile(t, "opening.xlsx").Data, Phase: "lunch"}, Invalid, "phase", `"lunch" is not a phase`},
		"name":       {coord, FormImport{Name: "\xff.xlsx", Data: xlsformFile(t, "opening.xlsx").Data}, Invalid, "name", "UTF-8"},
	} {
		t.Run(name, func(t *testing.T) {
			before := records(t, c.d)
			_, err := c.d.ImportForm(c.req)
			var ae *Error
			if !errors.As(err, &ae) || ae.Code != c.code || ae.Field != c.field || !strings.Contains(ae.Msg, c.words) {
				t.Fatalf("got %v (%+v), want %s on %q saying %q", err, ae, c.code, c.field, c.words)
			}
			if after := records(t, c.d); after != before {
				t.Fatalf("%d records before, %d after", before, after)
			}
		})
	}

	offset.Store(int64(time.Hour))
	if _, err := coord.ImportForm(xlsformFile(t, "closing.xlsx")); err != nil {
		t.Fatal(err)
	}
	offset.Store(0)
	req := xlsformFile(t, "closing.xlsx")
	req.Required = true
	if _, err := coord.ImportForm(req); CodeOf(err) != Refused || !strings.Contains(err.Error(), "after this device's clock") {
		t.Fatalf("a version behind the current one: %v", err)
	}
	// The same content as the current version is still recognised.
	if got, err := coord.ImportForm(xlsformFile(t, "closing.xlsx")); err != nil || !got.Unchanged {
		t.Fatalf("%+v, %v", got, err)
	}
}
