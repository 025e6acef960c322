package sms

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
)

// ErrPublicAddress is wrapped by the errors that refuse an address
// reachable from outside the LAN (a public IP, or every interface at
// once) when public addresses are not allowed.
var ErrPublicAddress = errors.New("not a loopback or private address")

// cgnat is 100.64.0.0/10 (RFC 6598): carrier-grade NAT, and the range
// Tailscale gives its nodes.
var cgnat = netip.MustParsePrefix("100.64.0.0/10")

// isPrivateAddr reports whether a is reachable only from this machine or
// its local networks: loopback, RFC 1918 and fc00::/7 (netip's
// IsPrivate), link-local, and 100.64.0.0/10.
func isPrivateAddr(a netip.Addr) bool {
	a = a.Unmap()
	return a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast() || cgnat.Contains(a)
}

// CheckListenAddr says whether the listener may bind addr (HOST:PORT).
// Unless allowPublic, HOST must be "localhost" or a loopback or private
// IP address: an empty host, 0.0.0.0 or [::] would listen on every
// interface, public ones included, and a host name may resolve anywhere.
// The error names this machine's private addresses to give instead.
func CheckListenAddr(addr string, allowPublic bool) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("sms gateway: listen address %q: want HOST:PORT, such as %s", addr, suggestListen("8080"))
	}
	if allowPublic {
		return nil
	}
	if host == "localhost" {
		return nil
	}
	if host == "" {
		return fmt.Errorf("sms gateway: listen address %q listens on every interface, public ones included (%w): give one of this machine's addresses instead: %s",
			addr, ErrPublicAddress, suggestListen(port))
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return fmt.Errorf("sms gateway: listen address %q: give an IP address, not a name (a name may resolve to a public address), such as %s",
			addr, suggestListen(port))
	}
	if ip.IsUnspecified() {
		return fmt.Errorf("sms gateway: listen address %q listens on every interface, public ones included (%w): give one of this machine's addresses instead: %s",
			addr, ErrPublicAddress, suggestListen(port))
	}
	if !isPrivateAddr(ip) {
		return fmt.Errorf("sms gateway: listen address %q is public (%w): give a LAN address instead: %s; or allow public addresses explicitly",
			addr, ErrPublicAddress, suggestListen(port))
	}
	return nil
}

// suggestListen lists the addresses to listen on with port: this
// machine's private interface addresses, then loopback for a phone on a
// USB cable (adb reverse).
func suggestListen(port string) string {
	var out []string
	for _, a := range localPrivateAddrs() {
		out = append(out, net.JoinHostPort(a.String(), port))
	}
	out = append(out, net.JoinHostPort("127.0.0.1", port)+" (a phone on USB, with adb reverse)")
	return strings.Join(out, ", ")
}

// localPrivateAddrs returns this machine's private, non-loopback
// interface addresses, IPv4 first. Link-local IPv6 addresses are left
// out: they need a zone and no one types them.
func localPrivateAddrs() []netip.Addr {
	ifaddrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil
	}
	var out []netip.Addr
	for _, ia := range ifaddrs {
		ipn, ok := ia.(*net.IPNet)
		if !ok {
			continue
		}
		a, ok := netip.AddrFromSlice(ipn.IP)
		if !ok {
			continue
		}
		a = a.Unmap()
		if a.IsLoopback() || (a.Is6() && a.IsLinkLocalUnicast()) || !isPrivateAddr(a) {
			continue
		}
		out = append(out, a)
	}
	slices.SortStableFunc(out, func(x, y netip.Addr) int {
		if x.Is4() != y.Is4() {
			if x.Is4() {
				return -1
			}
			return 1
		}
		return x.Compare(y)
	})
	return out
}
