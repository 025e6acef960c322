package main

import (
	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/act"
	"github.com/vigil-mesh/vigil/incident/xlsform"
)

// The forms' typed requests on the control socket.
func init() {
	actHandlers["forms.import"] = decoded(func(a act.Actions, r act.FormImport) (any, error) { return a.ImportForm(r) })
	actHandlers["forms"] = decoded(func(a act.Actions, _ struct{}) (any, error) { return a.Forms() })
	actHandlers["form"] = decoded(func(a act.Actions, ref string) (any, error) { return a.Form(ref) })
	// An import carries a workbook of at most MaxXLSFormBytes: base64 in
	// JSON, and room for the rest.
	actBodyLimits["forms.import"] = xlsform.MaxBytes*4/3 + 1<<20
}

func (r *remote) ImportForm(req act.FormImport) (act.FormImported, error) {
	return callAs[act.FormImported](r, "forms.import", req)
}

func (r *remote) Forms() ([]incident.FormView, error) {
	return callAs[[]incident.FormView](r, "forms", struct{}{})
}

func (r *remote) Form(ref string) (incident.FormView, error) {
	return callAs[incident.FormView](r, "form", ref)
}
