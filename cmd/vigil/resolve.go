package main

import (
	"errors"
	"strings"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/act"
	"github.com/vigil-mesh/vigil/incident/store"
)

// Report IDs and members as a person types them (the README's command
// line): a report by its full ID or any unique prefix of at least
// act.IDPrefixMin characters after "bafkrei"; a member by author key,
// member record ID or unique label. The rules are act's (ResolveReport,
// ResolveMember), shared with the app and the control socket.

// checkReportIDArg rejects what can be neither a report ID nor a prefix
// of one, before the store is opened (a usage error, exit 2).
func checkReportIDArg(arg string) error {
	if err := act.CheckReportRef(arg); err != nil {
		return usagef("%v (`vigil report list` shows them)", err)
	}
	return nil
}

// resolveReportID returns the report arg names on the store s.
func resolveReportID(s *store.Store, arg string) (incident.ID, error) {
	return act.New(s).ResolveReport(arg)
}

// resolveMember returns the member arg names in ms.
func resolveMember(ms *incident.MissionState, arg string) (incident.Author, error) {
	return act.ResolveMember(ms, arg)
}

// words is how the command line says err: the use cases' refusals name no
// flag or command, so the ones a person acts on get the flag at fault
// and the command that helps.
func words(err error) string {
	var ae *act.Error
	switch {
	case errors.Is(err, store.ErrNotInitialised):
		return err.Error() + ": run `vigil init` first"
	case !errors.As(err, &ae):
		return err.Error()
	}
	msg := err.Error()
	switch ae.Code {
	case act.NoMission:
		return msg + ": run `vigil mission create` or `vigil mission join`"
	case act.Invalid:
		if ae.Field != "" && strings.HasPrefix(ae.Msg, ae.Field+":") {
			msg = strings.Replace(msg, ae.Msg, "--"+ae.Msg, 1)
		}
		if ae.Field == "category" {
			msg += " (`vigil report add --help` lists them)"
		}
	case act.Refused:
		if strings.Contains(ae.Msg, "revoke the member instead") {
			msg += " (`vigil mission revoke MEMBER`)"
		}
	case act.NotFound, act.Ambiguous:
		switch {
		case strings.Contains(ae.Msg, "report"):
			msg += " (`vigil report list` shows them)"
		case strings.Contains(ae.Msg, "member"):
			msg += " (`vigil mission members` lists them)"
		}
	}
	return msg
}
