//go:build android && cgo

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "multicast_android.h"

// failed reports whether a Java exception is pending or obj is missing;
// if so it clears the exception and sets *err to "what: <exception>" (or
// "what: null"). Only then is *err set.
static int failed(JNIEnv *env, const void *obj, const char *what, char **err) {
	const char *detail = "null";
	jthrowable exc = NULL;
	jclass cls = NULL;
	jstring msg = NULL;
	const char *utf = NULL;

	if ((*env)->ExceptionCheck(env)) {
		exc = (*env)->ExceptionOccurred(env);
		(*env)->ExceptionClear(env);
		detail = "exception";
		cls = (*env)->GetObjectClass(env, exc);
		jmethodID toString = (*env)->GetMethodID(env, cls, "toString", "()Ljava/lang/String;");
		if (toString != NULL) {
			msg = (jstring)(*env)->CallObjectMethod(env, exc, toString);
		}
		if ((*env)->ExceptionCheck(env)) {
			(*env)->ExceptionClear(env);
			msg = NULL;
		}
		if (msg != NULL) {
			utf = (*env)->GetStringUTFChars(env, msg, NULL);
			if (utf != NULL) {
				detail = utf;
			}
		}
	} else if (obj != NULL) {
		return 0;
	}
	size_t n = strlen(what) + strlen(detail) + 3;
	*err = malloc(n);
	if (*err != NULL) {
		snprintf(*err, n, "%s: %s", what, detail);
	}
	if (utf != NULL) {
		(*env)->ReleaseStringUTFChars(env, msg, utf);
	}
	if (msg != NULL) {
		(*env)->DeleteLocalRef(env, msg);
	}
	if (cls != NULL) {
		(*env)->DeleteLocalRef(env, cls);
	}
	if (exc != NULL) {
		(*env)->DeleteLocalRef(env, exc);
	}
	return 1;
}

// method looks up a method of obj's class; the class reference is
// deleted before it returns.
static jmethodID method(JNIEnv *env, jobject obj, const char *name, const char *sig) {
	jclass cls = (*env)->GetObjectClass(env, obj);
	if (cls == NULL) {
		return NULL;
	}
	jmethodID m = (*env)->GetMethodID(env, cls, name, sig);
	(*env)->DeleteLocalRef(env, cls);
	return m;
}

static void drop(JNIEnv *env, jobject obj) {
	if (obj != NULL) {
		(*env)->DeleteLocalRef(env, obj);
	}
}

int vigil_mlock_new(uintptr_t envp, uintptr_t ctxp, uintptr_t *lockp, char **err) {
	JNIEnv *env = (JNIEnv *)envp;
	jobject ctx = (jobject)ctxp;
	jobject app = NULL, base = NULL, wifi = NULL, lock = NULL, global = NULL;
	jstring service = NULL, tag = NULL;
	jmethodID m;
	int rc = -1;

	*lockp = 0;
	*err = NULL;
	if (failed(env, ctx, "no Android context", err)) {
		return -1;
	}
	// The application context: a WifiManager taken from an activity leaks
	// it on older Android versions.
	m = method(env, ctx, "getApplicationContext", "()Landroid/content/Context;");
	if (failed(env, m, "Context.getApplicationContext", err)) {
		goto out;
	}
	app = (*env)->CallObjectMethod(env, ctx, m);
	if ((*env)->ExceptionCheck(env)) {
		failed(env, NULL, "Context.getApplicationContext", err);
		goto out;
	}
	base = app != NULL ? app : ctx;

	m = method(env, base, "getSystemService", "(Ljava/lang/String;)Ljava/lang/Object;");
	if (failed(env, m, "Context.getSystemService", err)) {
		goto out;
	}
	service = (*env)->NewStringUTF(env, "wifi");
	if (failed(env, service, "NewStringUTF", err)) {
		goto out;
	}
	wifi = (*env)->CallObjectMethod(env, base, m, service);
	if (failed(env, wifi, "getSystemService(\"wifi\")", err)) {
		goto out;
	}

	m = method(env, wifi, "createMulticastLock", "(Ljava/lang/String;)Landroid/net/wifi/WifiManager$MulticastLock;");
	if (failed(env, m, "WifiManager.createMulticastLock", err)) {
		goto out;
	}
	tag = (*env)->NewStringUTF(env, "vigil");
	if (failed(env, tag, "NewStringUTF", err)) {
		goto out;
	}
	lock = (*env)->CallObjectMethod(env, wifi, m, tag);
	if (failed(env, lock, "WifiManager.createMulticastLock", err)) {
		goto out;
	}

	// Not reference-counted: one release undoes any number of acquires.
	m = method(env, lock, "setReferenceCounted", "(Z)V");
	if (failed(env, m, "MulticastLock.setReferenceCounted", err)) {
		goto out;
	}
	(*env)->CallVoidMethod(env, lock, m, JNI_FALSE);
	if ((*env)->ExceptionCheck(env)) {
		failed(env, NULL, "MulticastLock.setReferenceCounted", err);
		goto out;
	}

	global = (*env)->NewGlobalRef(env, lock);
	if (failed(env, global, "NewGlobalRef", err)) {
		goto out;
	}
	*lockp = (uintptr_t)global;
	rc = 0;
out:
	drop(env, tag);
	drop(env, lock);
	drop(env, wifi);
	drop(env, service);
	drop(env, app);
	return rc;
}

int vigil_mlock_set(uintptr_t envp, uintptr_t lockp, int on, char **err) {
	JNIEnv *env = (JNIEnv *)envp;
	jobject lock = (jobject)lockp;
	const char *name = on ? "MulticastLock.acquire" : "MulticastLock.release";

	*err = NULL;
	jmethodID m = method(env, lock, on ? "acquire" : "release", "()V");
	if (failed(env, m, name, err)) {
		return -1;
	}
	(*env)->CallVoidMethod(env, lock, m);
	if ((*env)->ExceptionCheck(env)) {
		failed(env, NULL, name, err);
		return -1;
	}
	return 0;
}

void vigil_mlock_free(uintptr_t envp, uintptr_t lockp) {
	JNIEnv *env = (JNIEnv *)envp;
	if (lockp != 0) {
		(*env)->DeleteGlobalRef(env, (jobject)lockp);
	}
}
