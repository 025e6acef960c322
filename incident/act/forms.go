package act

import (
	"bytes"
	"slices"
	"strings"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/xlsform"
)

// Forms: the checklists a mission's coordinators publish, one signed
// record per version (incident/form.go). Any member lists them; a
// person names one by its record ID, a unique prefix of it, or its name
// (the current version).

// Forms lists the form versions this device holds that count, newest
// first, the current version of each name marked.
func (d *Desk) Forms() ([]incident.FormView, error) {
	ms, err := d.mission()
	if err != nil {
		return nil, err
	}
	recs, err := d.st.ByKind(incident.KindForm)
	if err != nil {
		return nil, classify(err)
	}
	return incident.FoldForms(recs, ms), nil
}

// Form finds one form version by ref: its record ID or a unique prefix
// of it (IDPrefixMin characters after IDHead), or a form's name, which
// means that name's current version.
func (d *Desk) Form(ref string) (incident.FormView, error) {
	ref = strings.TrimSpace(ref)
	if err := text("form", ref); err != nil {
		return incident.FormView{}, err
	}
	if ref == "" {
		return incident.FormView{}, invalid("form", "is required (a form's name or ID: see form list)")
	}
	forms, err := d.Forms()
	if err != nil {
		return incident.FormView{}, err
	}
	for _, f := range forms {
		if f.Current && f.Form.Name == ref {
			return f, nil
		}
	}
	prefix := IDHead + strings.TrimPrefix(ref, IDHead)
	var found []incident.FormView
	for _, f := range forms {
		id := f.ID.String()
		if id == ref || (len(prefix) >= len(IDHead)+IDPrefixMin && strings.HasPrefix(id, prefix)) {
			found = append(found, f)
		}
	}
	switch len(found) {
	case 0:
		return incident.FormView{}, refuse(NotFound, "no form %q on this device (form list shows the forms it holds)", ref)
	case 1:
		return found[0], nil
	}
	return incident.FormView{}, refuse(Ambiguous, "%q matches %d forms: give more of the ID", ref, len(found))
}

// FormImport is an XLSForm workbook to import.
type FormImport struct {
	Name string `json:"name"` // the file's name, for messages (and the form's, without a form_id)
	Data []byte `json:"data"`
	// Phase and Required, when set, override the settings sheet's
	// vigil_phase and vigil_required.
	Phase    string `json:"phase,omitempty"`
	Required bool   `json:"required,omitempty"`
}

// FormImported is what an import signed, or found already signed.
type FormImported struct {
	ID        incident.ID `json:"id"`
	Name      string      `json:"name"`
	Version   string      `json:"version,omitempty"`
	Title     string      `json:"title"`
	Phase     string      `json:"phase,omitempty"`
	Required  bool        `json:"required,omitempty"`
	Questions int         `json:"questions"`
	// Unchanged: the workbook says exactly what its name's current
	// version says; nothing was stored, and ID is that version's.
	Unchanged bool `json:"unchanged,omitempty"`
}

// ImportForm reads an XLSForm workbook (xlsform.Read) and signs
// it as one form record, a new version of its name: coordinators only.
// A workbook with any problem is refused whole (Invalid, field "form",
// each problem named by sheet, row and column) and nothing is stored.
// Importing a workbook identical to its name's current version stores
// nothing and says Unchanged.
func (d *Desk) ImportForm(r FormImport) (FormImported, error) {
	for field, s := range map[string]string{"name": r.Name, "phase": r.Phase} {
		if err := text(field, s); err != nil {
			return FormImported{}, err
		}
	}
	phase := strings.ToLower(strings.TrimSpace(r.Phase))
	switch {
	case len(r.Data) > xlsform.MaxBytes:
		return FormImported{}, invalid("form", "%s is over %d MiB: nothing imported", formFile(r.Name), xlsform.MaxBytes>>20)
	case phase != "" && !slices.Contains(incident.Phases, phase):
		return FormImported{}, invalid("phase", "%q is not a phase (%s)", r.Phase, strings.Join(incident.Phases, ", "))
	}
	ms, err := d.mission()
	if err != nil {
		return FormImported{}, err
	}
	if err := d.mayPut(ms, incident.KindForm); err != nil {
		return FormImported{}, err
	}
	f, err := xlsform.Read(r.Data, xlsform.Options{FileName: r.Name})
	if err != nil {
		return FormImported{}, &Error{Code: Invalid, Field: "form", Msg: formFile(r.Name) + ": " + err.Error(), Cause: err}
	}
	if phase != "" {
		f.Phase = phase
	}
	f.Required = f.Required || r.Required
	out := FormImported{Name: f.Name, Version: f.Version, Title: f.Title, Phase: f.Phase, Required: f.Required, Questions: len(f.Questions)}
	forms, err := d.Forms()
	if err != nil {
		return FormImported{}, err
	}
	for _, cur := range forms {
		if cur.Form.Name != f.Name {
			continue
		}
		if cur.Current && sameForm(&cur.Form, f) {
			out.ID, out.Unchanged = cur.ID, true
			return out, nil
		}
		// Responses name a version by its record, but people name it by
		// its version text: two different forms under one version would
		// read as one in every export and screen.
		if f.Version != "" && cur.Form.Version == f.Version && !sameForm(&incident.FormPayload{Questions: cur.Form.Questions}, &incident.FormPayload{Questions: f.Questions}) {
			return FormImported{}, invalid("form", "%s: version %q of form %s is already signed (%s) with other questions: give this one a new version in the settings sheet",
				formFile(r.Name), f.Version, f.Name, cur.ID)
		}
		if !cur.Current {
			continue
		}
		// The current version is the latest by claimed time: one dated
		// after this device's clock would stay current over the new
		// one. Refuse rather than sign a version that never counts.
		if now := d.now().UnixMilli(); cur.Created > now {
			return FormImported{}, refuse(Refused, "the current version of form %s (%s) is dated %s, after this device's clock (%s): check the clocks before importing it again",
				f.Name, cur.ID, incident.FormatTime(cur.Created), incident.FormatTime(now))
		}
	}
	rec, err := d.st.Put(incident.KindForm, *f)
	if err != nil {
		return FormImported{}, classify(err)
	}
	out.ID = rec.ID
	return out, nil
}

// sameForm compares two versions by their encodings, which are
// canonical: what one says, the other says.
func sameForm(a, b *incident.FormPayload) bool {
	ea, err1 := incident.Marshal(a)
	eb, err2 := incident.Marshal(b)
	return err1 == nil && err2 == nil && bytes.Equal(ea, eb)
}

func formFile(name string) string {
	if name == "" {
		return "the form file"
	}
	return name
}
