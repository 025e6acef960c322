package mobile

// MulticastLock holds Android's Wi-Fi multicast lock while mDNS runs (see
// the package documentation). The daemon (daemon.Options.Multicast)
// acquires it when the mesh starts or resumes and releases it when the
// mesh pauses or stops.
type MulticastLock interface {
	Acquire() error
	Release()
}

// JVM runs fn on a thread attached to the Java VM, passing the VM, that
// thread's JNIEnv and the app's android.content.Context as C pointers,
// and returns fn's error. cmd/vigil builds it on Fyne's driver.RunNative
// (driver.AndroidContext), so this package needs no Fyne.
type JVM func(fn func(vm, env, ctx uintptr) error) error

// NoMulticastLock is the lock on platforms that need none, and on
// Android builds without cgo (mDNS then announces but hears no one).
type NoMulticastLock struct{}

// Acquire does nothing.
func (NoMulticastLock) Acquire() error { return nil }

// Release does nothing.
func (NoMulticastLock) Release() {}
