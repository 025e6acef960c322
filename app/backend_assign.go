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
	// Assignments lists the assignments in force this device reads
	// (act.Desk.Assignments): every member's for a coordinator.
	Assignments() ([]act.AssignmentItem, error)
}

// MyAssignment reads this device's assignment (act.Desk.MyAssignment).
func (b *StoreBackend) MyAssignment() (act.AssignmentItem, bool, error) { return b.desk.MyAssignment() }

// Coverage computes coverage (act.Desk.Coverage).
func (b *StoreBackend) Coverage(q act.CoverageQuery) (act.Coverage, error) { return b.desk.Coverage(q) }

// Assignments lists the assignments in force (act.Desk.Assignments).
func (b *StoreBackend) Assignments() ([]act.AssignmentItem, error) { return b.desk.Assignments() }
