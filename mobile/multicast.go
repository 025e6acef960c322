package mobile

// MulticastLock holds Android's Wi-Fi multicast lock while mDNS runs (see
// the package documentation). Acquire is called when the mesh starts or
// resumes, Release when it pauses or stops.
type MulticastLock interface {
	Acquire() error
	Release()
}

// NoMulticastLock is the lock on platforms that need none (and, until the
// JNI code is written, on Android: mDNS then only announces).
type NoMulticastLock struct{}

// Acquire does nothing.
func (NoMulticastLock) Acquire() error { return nil }

// Release does nothing.
func (NoMulticastLock) Release() {}
