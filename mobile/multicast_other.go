//go:build !android || !cgo

package mobile

// NewMulticastLock returns NoMulticastLock: only Android (built with cgo)
// needs a multicast lock.
func NewMulticastLock(JVM) MulticastLock { return NoMulticastLock{} }
