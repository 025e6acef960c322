package android.net.wifi;

// A stand-in for android.net.wifi.WifiManager and its MulticastLock,
// behaving as Android's do (reference counting, the under-release error,
// the SecurityException without CHANGE_WIFI_MULTICAST_STATE).
public class WifiManager {
    static MulticastLock last;
    static boolean denied;

    public MulticastLock createMulticastLock(String tag) {
        last = new MulticastLock(tag);
        return last;
    }

    // deny takes CHANGE_WIFI_MULTICAST_STATE away.
    public static void deny() { denied = true; }

    public static String state() { return last == null ? "no lock" : last.toString(); }

    public class MulticastLock {
        private final String tag;
        private boolean refCounted = true;
        private int count;
        private boolean held;

        MulticastLock(String tag) { this.tag = tag; }

        public void setReferenceCounted(boolean refCounted) { this.refCounted = refCounted; }

        public void acquire() {
            if (denied) {
                throw new SecurityException("WifiService: Neither user 10123 nor current process has android.permission.CHANGE_WIFI_MULTICAST_STATE.");
            }
            if (refCounted) {
                count++;
            }
            held = true;
        }

        public void release() {
            if (refCounted) {
                if (--count < 0) {
                    throw new RuntimeException("MulticastLock under-released: " + tag);
                }
                held = count > 0;
            } else {
                held = false;
            }
        }

        public boolean isHeld() { return held; }

        public String toString() { return "tag=" + tag + " refCounted=" + refCounted + " held=" + held; }
    }
}
