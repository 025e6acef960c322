//go:build !race

package mesh_test

// raceEnabled: under the race detector everything runs several times
// slower, so timing assertions loosen.
const raceEnabled = false
