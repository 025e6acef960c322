package main

import (
	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/act"
)

// The station registry's typed requests on the control socket.
func init() {
	actHandlers["stations.import"] = decoded(func(a act.Actions, r act.StationImport) (any, error) { return a.ImportStations(r) })
	actHandlers["stations"] = decoded(func(a act.Actions, q act.StationQuery) (any, error) { return a.Stations(q) })
	// A registry file may be larger than an attachment: base64 in JSON,
	// and room for the rest.
	actBodyLimits["stations.import"] = incident.MaxStationsCSVBytes*4/3 + 1<<20
}

func (r *remote) ImportStations(req act.StationImport) (act.StationsImported, error) {
	return callAs[act.StationsImported](r, "stations.import", req)
}

func (r *remote) Stations(q act.StationQuery) (act.StationList, error) {
	return callAs[act.StationList](r, "stations", q)
}
