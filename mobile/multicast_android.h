// The Wi-Fi multicast lock through JNI; see multicast_android.go.
//
// Every pointer crosses as a uintptr_t, so the Go side converts no
// integers to pointers. On failure a function returns -1 and sets *err to
// a malloc'd message (which the caller frees), naming the Java exception
// when one was thrown; the exception is cleared.

#include <stdint.h>
#include <jni.h>

// vigil_mlock_new creates the lock from the app's Context:
// ctx.getApplicationContext().getSystemService("wifi")
//     .createMulticastLock("vigil"), not reference-counted, and stores a
// global reference to it in *lock.
int vigil_mlock_new(uintptr_t env, uintptr_t ctx, uintptr_t *lock, char **err);

// vigil_mlock_set calls lock.acquire() (on != 0) or lock.release().
int vigil_mlock_set(uintptr_t env, uintptr_t lock, int on, char **err);

// vigil_mlock_free deletes the global reference.
void vigil_mlock_free(uintptr_t env, uintptr_t lock);
