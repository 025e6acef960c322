package incident

import (
	"errors"
	"fmt"
)

// FieldError says that a record is invalid: which field, and what is wrong
// with it (the limit it breaks, where there is one). A record that fails
// this way is rejected everywhere, whatever order records arrive in.
type FieldError struct {
	Field   string
	Problem string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Problem }

func fieldErr(field, format string, args ...any) error {
	return &FieldError{Field: field, Problem: fmt.Sprintf(format, args...)}
}

// MissingError says that a record cannot be judged yet: a record or member
// it depends on has not arrived. Such records wait in quarantine and are
// checked again when the dependency arrives.
type MissingError struct {
	// Author is set when the missing dependency is a member's enrollment.
	Author Author
	// Record is set when the missing dependency is a record (an amended
	// report, a review's target).
	Record ID
	// Problem, when set, says why a known member does not qualify yet (its
	// role is too weak for the record).
	Problem string
}

func (e *MissingError) Error() string {
	if e.Problem != "" {
		return e.Problem + " (held until an enrollment with a stronger role arrives)"
	}
	if !e.Author.IsZero() {
		return "author " + e.Author.String() + " is not a known member yet"
	}
	return "depends on record " + e.Record.String() + ", not held yet"
}

// Key returns the dependency as bytes: an author key or a record ID.
func (e *MissingError) Key() []byte {
	if !e.Author.IsZero() {
		return e.Author[:]
	}
	return e.Record[:]
}

// ErrBadEncoding marks input that is not a canonical record encoding.
var ErrBadEncoding = errors.New("not a canonical record encoding")

// IsRejected reports whether err means the record is invalid for good.
func IsRejected(err error) bool {
	var fe *FieldError
	return errors.As(err, &fe) || errors.Is(err, ErrBadEncoding)
}

// IsMissing reports whether err means the record waits for a dependency.
func IsMissing(err error) bool {
	var me *MissingError
	return errors.As(err, &me)
}
