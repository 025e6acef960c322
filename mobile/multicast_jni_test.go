package mobile

// The JNI half of the Android multicast lock cannot be built for a phone
// here (no NDK), so these tests check what the host can: that the C
// compiles warning-free against the JDK's jni.h (the JNI interface is the
// same on Android), that the cgo file type-checks when built for
// android/amd64 with the host compiler, and that the C, driven through a
// desktop JVM with -Xcheck:jni against stand-ins for Context, WifiManager
// and MulticastLock (testdata/jni), calls what it should, checks every
// exception and keeps a global reference to the lock. Each skips, saying
// why, where gcc, the JDK or the go command is missing.

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
)

// jdk returns the JDK's home (with include/jni.h), or skips.
func jdk(t *testing.T) string {
	t.Helper()
	var candidates []string
	if h := os.Getenv("JAVA_HOME"); h != "" {
		candidates = append(candidates, h)
	}
	if javac, err := exec.LookPath("javac"); err == nil {
		if real, err := filepath.EvalSymlinks(javac); err == nil {
			candidates = append(candidates, filepath.Dir(filepath.Dir(real)))
		}
	}
	found, _ := filepath.Glob("/usr/lib/jvm/*/include/jni.h")
	for _, f := range found {
		candidates = append(candidates, filepath.Dir(filepath.Dir(f)))
	}
	for _, h := range candidates {
		if _, err := os.Stat(filepath.Join(h, "include", "linux", "jni_md.h")); err == nil {
			return h
		}
	}
	t.Skip("no JDK with include/jni.h and include/linux/jni_md.h (set JAVA_HOME, or apt-get install openjdk-17-jdk-headless)")
	return ""
}

func need(t *testing.T, tool string) string {
	t.Helper()
	p, err := exec.LookPath(tool)
	if err != nil {
		t.Skipf("no %s on PATH", tool)
	}
	return p
}

func jniFlags(home string) []string {
	return []string{"-I" + filepath.Join(home, "include"), "-I" + filepath.Join(home, "include", "linux")}
}

func run(t *testing.T, dir string, env []string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

func TestMulticastJNICompiles(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the JDK's jni_md.h is looked for under include/linux")
	}
	gcc := need(t, "gcc")
	home := jdk(t)
	args := append([]string{"-fsyntax-only", "-std=c11", "-Wall", "-Wextra", "-Werror"}, jniFlags(home)...)
	run(t, ".", nil, gcc, append(args, "multicast_android.c")...)
}

func TestMulticastCgoBuildsForAndroid(t *testing.T) {
	if testing.Short() {
		t.Skip("builds runtime/cgo for android/amd64 (about 20 s cold)")
	}
	if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
		t.Skip("uses the host gcc as an android/amd64 C compiler")
	}
	gcc := need(t, "gcc")
	gocmd := need(t, "go")
	home := jdk(t)
	// runtime/cgo's Android part logs through <android/log.h>, an NDK
	// header; declaring what it uses is enough to compile (nothing links).
	stub := t.TempDir()
	if err := os.MkdirAll(filepath.Join(stub, "android"), 0o755); err != nil {
		t.Fatal(err)
	}
	logh := `#include <stdarg.h>
typedef enum { ANDROID_LOG_UNKNOWN = 0, ANDROID_LOG_DEFAULT, ANDROID_LOG_VERBOSE, ANDROID_LOG_DEBUG,
	ANDROID_LOG_INFO, ANDROID_LOG_WARN, ANDROID_LOG_ERROR, ANDROID_LOG_FATAL, ANDROID_LOG_SILENT } android_LogPriority;
int __android_log_write(int prio, const char *tag, const char *text);
int __android_log_print(int prio, const char *tag, const char *fmt, ...);
int __android_log_vprint(int prio, const char *tag, const char *fmt, va_list ap);
`
	if err := os.WriteFile(filepath.Join(stub, "android", "log.h"), []byte(logh), 0o644); err != nil {
		t.Fatal(err)
	}
	env := []string{"GOOS=android", "GOARCH=amd64", "CGO_ENABLED=1", "CC=" + gcc,
		"CGO_CFLAGS=" + strings.Join(append(jniFlags(home), "-I"+stub), " ")}
	files := run(t, ".", env, gocmd, "list", "-f", "{{.CgoFiles}} {{.CFiles}}", ".")
	if !strings.Contains(files, "multicast_android.go") || !strings.Contains(files, "multicast_android.c") {
		t.Fatalf("the android cgo build does not include the JNI files: %s", files)
	}
	run(t, ".", env, gocmd, "build", "-o", os.DevNull, ".")
	run(t, ".", env, gocmd, "vet", ".")
}

// jvmSignalCheck is the first line of -Xcheck:jni's signal handler report.
var jvmSignalCheck = regexp.MustCompile(`^Warning: SIG[A-Z0-9]+ handler (modified|flags modified)!$`)

func TestMulticastLockJNIOnHostJVM(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a JVM")
	}
	if runtime.GOOS != "linux" {
		t.Skip("links the JDK's lib/server/libjvm.so")
	}
	gcc := need(t, "gcc")
	home := jdk(t)
	javac := filepath.Join(home, "bin", "javac")
	libjvm := filepath.Join(home, "lib", "server")
	if _, err := os.Stat(javac); err != nil {
		t.Skipf("the JDK at %s has no javac", home)
	}
	if _, err := os.Stat(filepath.Join(libjvm, "libjvm.so")); err != nil {
		t.Skipf("the JDK at %s has no lib/server/libjvm.so", home)
	}
	tmp := t.TempDir()
	classes := filepath.Join(tmp, "classes")
	run(t, "testdata/jni", nil, javac, "-d", classes,
		filepath.Join("android", "content", "Context.java"), filepath.Join("android", "net", "wifi", "WifiManager.java"))
	harness := filepath.Join(tmp, "harness")
	args := append([]string{"-std=c11", "-Wall", "-Wextra", "-Werror", "-I."}, jniFlags(home)...)
	args = append(args, "testdata/jni/harness.c", "multicast_android.c", "-L"+libjvm, "-ljvm", "-Wl,-rpath,"+libjvm, "-o", harness)
	run(t, ".", nil, gcc, args...)
	out := run(t, ".", nil, harness, classes)
	t.Logf("harness:\n%s", out)
	// -Xcheck:jni reports a JNI call made while an exception is pending,
	// a bad reference and the like as a WARNING or a FATAL ERROR.
	for _, bad := range []string{"WARNING", "FATAL", "Exception in thread"} {
		if strings.Contains(out, bad) {
			t.Fatalf("the JVM complained (-Xcheck:jni):\n%s", out)
		}
	}
	want := []string{
		"new: rc=0 err=none pending=0",
		"global ref: 1",
		"created: tag=vigil refCounted=false held=false",
		"acquire: rc=0 err=none pending=0",
		"acquired: tag=vigil refCounted=false held=true",
		"acquire again: rc=0 err=none pending=0",
		"release: rc=0 err=none pending=0",
		"released: tag=vigil refCounted=false held=false",
		"release again: rc=0 err=none pending=0", // not reference-counted: no under-release error
		"new, denied: rc=0 err=none pending=0",
		"acquire, denied: rc=-1 err=MulticastLock.acquire: java.lang.SecurityException: WifiService: Neither user 10123 nor current process has android.permission.CHANGE_WIFI_MULTICAST_STATE. pending=0",
		"denied: tag=vigil refCounted=false held=false",
		"no context: rc=-1 err=no Android context: null pending=0",
		// The exception's text varies between JVMs: its start is compared.
		"not a context: rc=-1 err=Context.getApplicationContext: java.lang.NoSuchMethodError",
	}
	// -Xcheck:jni also checks the process's signal handlers from a
	// periodic task, which on a loaded machine may run before the harness
	// exits and report the handlers the JVM itself chained ("Warning:
	// SIGSEGV handler modified!" and a dump): about signals, not JNI, and
	// not the harness's output.
	var got []string
	dump := false
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		switch t := strings.TrimSpace(line); {
		case jvmSignalCheck.MatchString(t):
			dump = true
		case dump && (t == "" || strings.HasPrefix(t, "SIG") || strings.HasPrefix(t, "Signal Handlers")):
		default:
			dump = false
			got = append(got, line)
		}
	}
	last := len(want) - 1
	ok := len(got) == len(want) && strings.HasPrefix(got[last], want[last]) && strings.HasSuffix(got[last], "pending=0")
	for i := 0; ok && i < last; i++ {
		ok = got[i] == want[i]
	}
	if !ok {
		t.Fatalf("harness printed:\n%s\nwant:\n%s", out, strings.Join(want, "\n"))
	}
}
