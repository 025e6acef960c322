// Package mobile is Vigil's phone glue: what the app needs on Android and
// iOS beyond what Fyne gives every platform. It imports neither Fyne nor
// the mesh; cmd/vigil wires it between the app and the mesh's composition
// root (sync/daemon: daemon.Root, the one way every platform starts the
// mesh).
//
//   - Lifecycle: a phone pauses an app it sends to the background and may
//     kill it there without warning. Lifecycle.Background sends the mesh
//     to the background (daemon.Root.Background: mDNS and the
//     redial loops stop, every connection closes, new ones are refused,
//     and the Wi-Fi multicast lock is let go); while the OS still lets
//     the process run, the daemon wakes for a short sync window after 1,
//     2, 4 … up to 30 minutes. Lifecycle.Foreground resumes it
//     (daemon.Root.Resume: discovery restarts, known and --peer
//     addresses are dialled at once, and the engine reconciles). Background
//     is also when the app saves the report draft (app does that itself).
//   - Storage: the store lives in the app's own data folder (Fyne's
//     Storage().RootURI(), /data/data/<app id>/files on Android), never in
//     shared storage, where other apps could read the encrypted files and
//     a user could delete them by accident. Home gives the folder.
//   - Identity: phones rotate their transport identity at each start
//     (daemon.Options.RotateIdentity) so their network presence cannot be
//     followed from day to day, and use phone-sized resource limits
//     (daemon.Options.Phone). DaemonPhone says whether this build is a
//     phone build.
//
// # Android network quirks
//
//   - Interface listing: Go's net.Interfaces fails on Android 11 and later
//     (netlink is restricted for apps). go-libp2p lists interfaces through
//     github.com/wlynxg/anet, which needs the linker flag
//     -ldflags=-checklinkname=0 (docs/architecture.md); `fyne package` and
//     `go build` for GOOS=android must pass it, or the node listens on no
//     address.
//   - mDNS needs a Wi-Fi multicast lock: Android drops incoming multicast
//     packets unless the app holds WifiManager.MulticastLock (permission
//     CHANGE_WIFI_MULTICAST_STATE, declared in cmd/vigil/AndroidManifest.xml).
//     Without it a phone still announces itself and still finds peers
//     from invites, QR codes and relays, but does not hear other phones on
//     the same Wi-Fi. NewMulticastLock takes the lock through JNI
//     (multicast_android.go and .c, built for android with cgo) on a
//     thread the caller attaches to the Java VM: cmd/vigil passes one
//     built on Fyne's driver.RunNative. Without cgo, and on other
//     platforms, it is NoMulticastLock.
//   - Background: Android's Doze and app standby cut network access for
//     background apps and freeze their processes; the background wake
//     windows happen only when the OS lets the process run, and Go's
//     timers (CLOCK_MONOTONIC on Linux) stand still while the device
//     sleeps. Sync happens mostly
//     while the app is in front, which is why Foreground reconciles at
//     once.
//   - Hotspots: a phone acting as a Wi-Fi hotspot often gets the address
//     192.168.43.1 and no default route; libp2p's address discovery copes,
//     but relays cannot be reached without an uplink.
package mobile
