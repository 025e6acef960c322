package act

import (
	"strings"

	"github.com/vigil-mesh/vigil/incident"
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
