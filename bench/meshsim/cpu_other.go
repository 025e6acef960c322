//go:build !unix

package meshsim

// CPUSeconds is unknown here.
func CPUSeconds() float64 { return 0 }
