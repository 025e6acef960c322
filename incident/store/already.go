package store

import (
	"errors"
	"fmt"

	"github.com/vigil-mesh/vigil/incident"
)

// ErrNotMine: only a report's author may amend or retract it.
var ErrNotMine = errors.New("only the report's author may amend or retract it")

// ErrRetracted: the report was retracted (no amendment, no second
// retraction).
var ErrRetracted = errors.New("the report was retracted")

// AlreadyRetractedError is Retract's answer for a report that is already
// retracted: nothing was written. It matches ErrRetracted.
type AlreadyRetractedError struct {
	Report     incident.ID
	Retraction incident.ID // the retract record in force; zero if not found
}

func (e *AlreadyRetractedError) Error() string {
	if e.Retraction.IsZero() {
		return fmt.Sprintf("report %s is already retracted; nothing was written", e.Report)
	}
	return fmt.Sprintf("report %s is already retracted (retraction %s); nothing was written", e.Report, e.Retraction)
}

func (e *AlreadyRetractedError) Is(target error) bool { return target == ErrRetracted }

// Retract withdraws one of this device's reports: a retract record naming
// it, sealed when the report is. The rule the CLI and the app share: the
// report must be held (ErrNotFound) and this device's (ErrNotMine); a
// report already retracted gets no second record (*AlreadyRetractedError).
// Role checks are the caller's.
func (s *Store) Retract(id incident.ID, reason string) (*incident.Signed, error) {
	v, err := s.Report(id)
	if err != nil {
		return nil, err
	}
	if v.Author != s.Author() {
		return nil, ErrNotMine
	}
	if v.Retracted {
		already := &AlreadyRetractedError{Report: id}
		if recs, err := s.Related(id); err == nil {
			for _, r := range recs {
				if r.Kind == incident.KindRetract && r.AuthorKey() == v.Author {
					already.Retraction = r.ID
					break
				}
			}
		}
		return nil, already
	}
	return s.PutMaybeSealed(v.Sealed, incident.KindRetract, &id, incident.RetractPayload{Target: id.Bytes(), Reason: reason})
}

// ErrRevoked: the member is revoked.
var ErrRevoked = errors.New("the member is revoked")

// AlreadyRevokedError is Revoke's answer for a member already revoked:
// nothing was written. It matches ErrRevoked.
type AlreadyRevokedError struct {
	Member     incident.Author
	Revocation incident.ID // the first revoke record naming them
}

func (e *AlreadyRevokedError) Error() string {
	return fmt.Sprintf("%s is already revoked (revocation %s); nothing was written", e.Member, e.Revocation)
}

func (e *AlreadyRevokedError) Is(target error) bool { return target == ErrRevoked }

// ErrRefused marks a refusal by the mission's rules (a founder cannot be
// revoked, an invite is already cancelled), as opposed to a failure to
// read or write: the caller asked for something the rules do not allow,
// and nothing was written.
var ErrRefused = errors.New("refused by the mission's rules")

type refusal struct{ msg string }

func (r *refusal) Error() string        { return r.msg }
func (r *refusal) Is(target error) bool { return target == ErrRefused }

func refusedf(format string, args ...any) error { return &refusal{fmt.Sprintf(format, args...)} }
