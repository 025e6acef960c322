package act

import (
	"errors"
	"fmt"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/store"
)

// Code classifies why an action was refused. Codes are stable names: the
// control socket carries them, and the command line and the app choose
// their own wording (and exit status) from them. A Code is itself an
// error, so errors.Is(err, act.NotMine) asks for one class.
type Code string

const (
	// Invalid: a field of the request is wrong (Error.Field names it).
	Invalid Code = "invalid"
	// NoMission: this device has not created or joined a mission yet.
	NoMission Code = "no_mission"
	// HasMission: this device already belongs to a mission.
	HasMission Code = "has_mission"
	// NotMember: the device's own membership is not (yet) in force.
	NotMember Code = "not_member"
	// Forbidden: this device's role may not sign this kind of record.
	Forbidden Code = "forbidden"
	// NotFound: no such report, member or invite on this device.
	NotFound Code = "not_found"
	// Ambiguous: a prefix or label matches more than one.
	Ambiguous Code = "ambiguous"
	// NotMine: the report is another member's; only its author may
	// amend or retract it.
	NotMine Code = "not_mine"
	// Retracted: the report was retracted; it cannot be amended.
	Retracted Code = "retracted"
	// SealedGone: a sealed report this device can no longer read.
	SealedGone Code = "sealed_gone"
	// FileGone: an attachment's content is no longer on this device.
	FileGone Code = "file_gone"
	// Refused: the mission's rules refuse the action as asked (a
	// founder cannot be revoked, an invite already confirmed, too many
	// records to accept); the message says which.
	Refused Code = "refused"
	// BadInvite: an invite code that cannot be redeemed here.
	BadInvite Code = "bad_invite"
	// BadFile: a file to import is damaged, of another mission, or not
	// a file of this kind; nothing in it was stored.
	BadFile Code = "bad_file"
	// CannotOpen: an encrypted file this device cannot open without a
	// passphrase (or at all).
	CannotOpen Code = "cannot_open"
	// Failed: the action could not be carried out (a disk error, a
	// closed store). Nothing about the request itself is wrong.
	Failed Code = "failed"
)

func (c Code) Error() string { return string(c) }

// Error is every refusal an action returns: a class, the request field at
// fault (for Invalid), and a message in plain words that names no command
// or button (the adapters add those).
type Error struct {
	Code  Code
	Field string // for Invalid: the request field at fault
	Msg   string
	Cause error // the underlying error; not carried by the control socket
}

func (e *Error) Error() string { return e.Msg }

// Is matches the error's Code, and what its cause matches.
func (e *Error) Is(target error) bool {
	if c, ok := target.(Code); ok {
		return c == e.Code
	}
	return e.Cause != nil && errors.Is(e.Cause, target)
}

func (e *Error) Unwrap() error { return e.Cause }

// CodeOf is err's class: Failed for an error that is not an *Error.
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Failed
}

func refuse(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Msg: fmt.Sprintf(format, args...)}
}

func invalid(field, format string, args ...any) *Error {
	return &Error{Code: Invalid, Field: field, Msg: field + ": " + fmt.Sprintf(format, args...)}
}

// classify turns an error from the layers below into an *Error, keeping it
// as the cause.
func classify(err error) error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	var fe *incident.FieldError
	switch {
	case errors.As(err, &fe):
		return &Error{Code: Invalid, Field: fe.Field, Msg: err.Error(), Cause: err}
	case errors.Is(err, store.ErrNoMission):
		return &Error{Code: NoMission, Msg: "this device has not joined a mission", Cause: err}
	case errors.Is(err, store.ErrHasMission):
		return &Error{Code: HasMission, Msg: "this device already belongs to a mission", Cause: err}
	case errors.Is(err, store.ErrNotMine):
		return &Error{Code: NotMine, Msg: err.Error(), Cause: err}
	case errors.Is(err, store.ErrNotFound):
		return &Error{Code: NotFound, Msg: "no such record on this device", Cause: err}
	case errors.Is(err, store.ErrRefused):
		return &Error{Code: Refused, Msg: err.Error(), Cause: err}
	case errors.Is(err, store.ErrTooManyToAccept):
		return &Error{Code: Refused, Msg: err.Error(), Cause: err}
	case errors.Is(err, incident.ErrInvite):
		return &Error{Code: BadInvite, Msg: err.Error(), Cause: err}
	}
	return &Error{Code: Failed, Msg: err.Error(), Cause: err}
}
