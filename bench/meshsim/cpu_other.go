//go:build !unix

package meshsim

// cpuSeconds is unknown here.
func cpuSeconds() float64 { return 0 }
