//go:build !android && !ios

package mobile

// DaemonPhone is true in phone builds: the mesh uses phone-sized limits
// and a fresh transport identity at each start.
const DaemonPhone = false
