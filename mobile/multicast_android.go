//go:build android && cgo

package mobile

// The C half is multicast_android.c; its header says how errors cross.

/*
#include <stdlib.h>
#include "multicast_android.h"
*/
import "C"

import (
	"errors"
	"sync"
	"unsafe"
)

// NewMulticastLock returns Android's Wi-Fi multicast lock, taken through
// run: WifiManager.createMulticastLock("vigil") from the application
// context, not reference-counted, created on the first Acquire and kept
// (as a JNI global reference) for the life of the process. A nil run
// gives NoMulticastLock. The manifest must ask for
// android.permission.CHANGE_WIFI_MULTICAST_STATE, or acquire throws a
// SecurityException, which Acquire returns.
func NewMulticastLock(run JVM) MulticastLock {
	if run == nil {
		return NoMulticastLock{}
	}
	return &jniMulticastLock{run: run}
}

// jniMulticastLock is safe for concurrent use.
type jniMulticastLock struct {
	run JVM

	mu   sync.Mutex
	lock C.uintptr_t // global reference to the WifiManager.MulticastLock; 0 until created
	held bool
}

// Acquire takes the lock (once, however often it is called).
func (l *jniMulticastLock) Acquire() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.held {
		return nil
	}
	err := l.run(func(_, env, ctx uintptr) error {
		if ctx == 0 {
			return errors.New("multicast lock: no Android context")
		}
		if l.lock == 0 {
			var lock C.uintptr_t
			var cerr *C.char
			if C.vigil_mlock_new(C.uintptr_t(env), C.uintptr_t(ctx), &lock, &cerr) != 0 {
				return jniError(cerr)
			}
			l.lock = lock
		}
		return set(env, l.lock, true)
	})
	if err != nil {
		return err
	}
	l.held = true
	return nil
}

// Release lets the lock go if it is held.
func (l *jniMulticastLock) Release() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.held {
		return
	}
	// If release fails the lock is lost with the process anyway; there is
	// nothing better to do than to try again next time.
	if l.run(func(_, env, _ uintptr) error { return set(env, l.lock, false) }) == nil {
		l.held = false
	}
}

func set(env uintptr, lock C.uintptr_t, on bool) error {
	var cerr *C.char
	flag := C.int(0)
	if on {
		flag = 1
	}
	if C.vigil_mlock_set(C.uintptr_t(env), lock, flag, &cerr) != 0 {
		return jniError(cerr)
	}
	return nil
}

// jniError turns a message from the C half into an error and frees it.
func jniError(cerr *C.char) error {
	if cerr == nil {
		return errors.New("multicast lock: JNI call failed (out of memory)")
	}
	defer C.free(unsafe.Pointer(cerr))
	return errors.New("multicast lock: " + C.GoString(cerr))
}
