package app

import "github.com/vigil-mesh/vigil/incident/act"

// Assigner is who is posted where and what is heard from there
// (act.Desk's assignments and coverage): an observer reads its own post,
// a coordinator the coverage of every post.
type Assigner interface {
	// MyAssignment is this device's assignment in force, read from its
	// sealed copy; ok is false when it is posted nowhere.
	MyAssignment() (a act.AssignmentItem, ok bool, err error)
	// Coverage is stations expected versus heard from (coordinators).
	Coverage(q act.CoverageQuery) (act.Coverage, error)
}

// MyAssignment reads this device's assignment (act.Desk.MyAssignment).
func (b *StoreBackend) MyAssignment() (act.AssignmentItem, bool, error) { return b.desk.MyAssignment() }

// Coverage computes coverage (act.Desk.Coverage).
func (b *StoreBackend) Coverage(q act.CoverageQuery) (act.Coverage, error) { return b.desk.Coverage(q) }
