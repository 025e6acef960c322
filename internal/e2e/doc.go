// Package e2e holds Vigil's network end-to-end tests: real `vigil node`
// processes in Linux network namespaces joined by veth pairs, with links
// cut, shaped (tc tbf) and made lossy (nftables numgen), and a packet
// capture that checks what an outsider on the link can learn.
//
// The tests need root and the ip, tc, nft and tcpdump tools; without them
// they skip and say which is missing. scripts/netns-e2e.sh runs them all,
// including the slow shaped-link test (VIGIL_E2E_SLOW=1).
//
// TestMakeRunPractice (makerun_test.go) needs no root: it runs `make run`
// as a newcomer with no display would, and checks that a node runs on the
// practice mission and stops cleanly on Ctrl-C.
//
// Every address they use is 127.0.0.0/8 or inside namespaces the tests
// create themselves (10.77.0.0/16 on veth pairs that reach nothing else).
package e2e
