// Drives multicast_android.c against a desktop JVM and the stand-in
// classes beside this file; mobile's TestMulticastLockJNIOnHostJVM runs it
// under -Xcheck:jni and compares what it prints.

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <jni.h>

#include "multicast_android.h"

static JNIEnv *env;

static void fatal(const char *what) {
	fprintf(stderr, "harness: %s\n", what);
	if ((*env)->ExceptionCheck(env)) {
		(*env)->ExceptionDescribe(env);
	}
	exit(2);
}

static void wifiStatic(const char *name, const char *sig, const char *label) {
	jclass cls = (*env)->FindClass(env, "android/net/wifi/WifiManager");
	if (cls == NULL) {
		fatal("no WifiManager class");
	}
	jmethodID m = (*env)->GetStaticMethodID(env, cls, name, sig);
	if (m == NULL) {
		fatal(name);
	}
	if (label == NULL) {
		(*env)->CallStaticVoidMethod(env, cls, m);
		if ((*env)->ExceptionCheck(env)) {
			fatal(name);
		}
	} else {
		jstring s = (jstring)(*env)->CallStaticObjectMethod(env, cls, m);
		if ((*env)->ExceptionCheck(env) || s == NULL) {
			fatal(name);
		}
		const char *u = (*env)->GetStringUTFChars(env, s, NULL);
		printf("%s: %s\n", label, u);
		(*env)->ReleaseStringUTFChars(env, s, u);
		(*env)->DeleteLocalRef(env, s);
	}
	(*env)->DeleteLocalRef(env, cls);
}

static void state(const char *label) { wifiStatic("state", "()Ljava/lang/String;", label); }

static void report(const char *label, int rc, char *err) {
	printf("%s: rc=%d err=%s pending=%d\n", label, rc, err ? err : "none", (*env)->ExceptionCheck(env));
	free(err);
}

int main(int argc, char **argv) {
	if (argc != 2) {
		fprintf(stderr, "usage: harness CLASSPATH\n");
		return 2;
	}
	char cp[4096];
	snprintf(cp, sizeof cp, "-Djava.class.path=%s", argv[1]);
	JavaVMOption opts[] = {{.optionString = cp}, {.optionString = "-Xcheck:jni"}};
	JavaVMInitArgs args = {.version = JNI_VERSION_1_8, .nOptions = 2, .options = opts, .ignoreUnrecognized = JNI_FALSE};
	JavaVM *vm;
	if (JNI_CreateJavaVM(&vm, (void **)&env, &args) != JNI_OK) {
		fprintf(stderr, "harness: cannot create a JVM\n");
		return 2;
	}
	jclass ctxClass = (*env)->FindClass(env, "android/content/Context");
	if (ctxClass == NULL) {
		fatal("no Context class");
	}
	jmethodID ctor = (*env)->GetMethodID(env, ctxClass, "<init>", "()V");
	jobject activity = (*env)->NewObject(env, ctxClass, ctor);
	if (activity == NULL) {
		fatal("no activity");
	}

	uintptr_t lock = 0;
	char *err = NULL;
	int rc = vigil_mlock_new((uintptr_t)env, (uintptr_t)activity, &lock, &err);
	report("new", rc, err);
	if (rc != 0 || lock == 0) {
		return 1;
	}
	printf("global ref: %d\n", (*env)->GetObjectRefType(env, (jobject)lock) == JNIGlobalRefType);
	state("created");
	rc = vigil_mlock_set((uintptr_t)env, lock, 1, &err);
	report("acquire", rc, err);
	state("acquired");
	rc = vigil_mlock_set((uintptr_t)env, lock, 1, &err);
	report("acquire again", rc, err);
	rc = vigil_mlock_set((uintptr_t)env, lock, 0, &err);
	report("release", rc, err);
	state("released");
	rc = vigil_mlock_set((uintptr_t)env, lock, 0, &err);
	report("release again", rc, err);
	vigil_mlock_free((uintptr_t)env, lock);

	// Without CHANGE_WIFI_MULTICAST_STATE.
	wifiStatic("deny", "()V", NULL);
	rc = vigil_mlock_new((uintptr_t)env, (uintptr_t)activity, &lock, &err);
	report("new, denied", rc, err);
	rc = vigil_mlock_set((uintptr_t)env, lock, 1, &err);
	report("acquire, denied", rc, err);
	state("denied");
	vigil_mlock_free((uintptr_t)env, lock);

	// A context that is not one.
	rc = vigil_mlock_new((uintptr_t)env, 0, &lock, &err);
	report("no context", rc, err);
	rc = vigil_mlock_new((uintptr_t)env, (uintptr_t)ctxClass, &lock, &err);
	report("not a context", rc, err);
	fflush(stdout);
	return 0;
}
