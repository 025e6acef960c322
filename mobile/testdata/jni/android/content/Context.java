package android.content;

// A stand-in for android.content.Context with what the multicast lock
// uses: an activity context whose application context hands out the
// Wi-Fi service. Asking the activity itself fails here, so the test also
// shows that the JNI code takes the service from the application context
// (on Android an activity's WifiManager leaks the activity).
public class Context {
    private final boolean application;

    public Context() { this(false); }

    private Context(boolean application) { this.application = application; }

    public Context getApplicationContext() { return application ? this : new Context(true); }

    public Object getSystemService(String name) {
        if (!application) {
            throw new IllegalStateException("the Wi-Fi service taken from an activity context");
        }
        return "wifi".equals(name) ? new android.net.wifi.WifiManager() : null;
    }
}
