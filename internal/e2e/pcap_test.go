package e2e

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
)

// A minimal reader of classic pcap files (what tcpdump -w writes) and of
// the DNS messages inside mDNS packets, enough to list the names an
// outsider on the link sees.

type packet struct {
	data []byte // the link-layer frame
}

// readPcap splits a pcap file into frames and returns the link type.
func readPcap(b []byte) (linkType uint32, pkts []packet, err error) {
	if len(b) < 24 {
		return 0, nil, errors.New("pcap: short file")
	}
	var bo binary.ByteOrder
	switch {
	case binary.LittleEndian.Uint32(b) == 0xa1b2c3d4 || binary.LittleEndian.Uint32(b) == 0xa1b23c4d:
		bo = binary.LittleEndian
	case binary.BigEndian.Uint32(b) == 0xa1b2c3d4 || binary.BigEndian.Uint32(b) == 0xa1b23c4d:
		bo = binary.BigEndian
	default:
		return 0, nil, fmt.Errorf("pcap: bad magic %x (pcapng is not supported)", b[:4])
	}
	linkType = bo.Uint32(b[20:]) & 0x0fffffff
	for off := 24; off < len(b); {
		if off+16 > len(b) {
			return linkType, pkts, errors.New("pcap: truncated record header")
		}
		n := int(bo.Uint32(b[off+8:]))
		off += 16
		if off+n > len(b) {
			return linkType, pkts, errors.New("pcap: truncated record")
		}
		pkts = append(pkts, packet{data: b[off : off+n]})
		off += n
	}
	return linkType, pkts, nil
}

// udpPayload returns the UDP payload and ports of an Ethernet frame
// carrying IPv4 or IPv6 (ok=false for anything else).
func udpPayload(frame []byte) (src, dst uint16, payload []byte, ok bool) {
	if len(frame) < 14 {
		return 0, 0, nil, false
	}
	et := binary.BigEndian.Uint16(frame[12:])
	p := frame[14:]
	if et == 0x8100 && len(p) >= 4 { // one VLAN tag
		et = binary.BigEndian.Uint16(p[2:])
		p = p[4:]
	}
	switch et {
	case 0x0800:
		if len(p) < 20 || p[0]>>4 != 4 {
			return 0, 0, nil, false
		}
		ihl := int(p[0]&0x0f) * 4
		if p[9] != 17 || len(p) < ihl+8 {
			return 0, 0, nil, false
		}
		p = p[ihl:]
	case 0x86dd:
		if len(p) < 48 || p[6] != 17 { // no extension headers
			return 0, 0, nil, false
		}
		p = p[40:]
	default:
		return 0, 0, nil, false
	}
	return binary.BigEndian.Uint16(p), binary.BigEndian.Uint16(p[2:]), p[8:], true
}

// countTransports counts the frames of the capture by transport.
func countTransports(pkts []packet) (tcp, udp, other int) {
	for _, pk := range pkts {
		f := pk.data
		if len(f) < 14 {
			other++
			continue
		}
		et := binary.BigEndian.Uint16(f[12:])
		var proto byte
		switch {
		case et == 0x0800 && len(f) >= 14+20:
			proto = f[14+9]
		case et == 0x86dd && len(f) >= 14+40:
			proto = f[14+6]
		}
		switch proto {
		case 6:
			tcp++
		case 17:
			udp++
		default:
			other++
		}
	}
	return
}

// dnsInfo is what one DNS message names.
type dnsInfo struct {
	questions []string // QNAMEs
	owners    []string // names that records are about
	ptrs      []string // PTR targets
	txts      []string // TXT strings
}

// parseDNS reads a DNS message (as mDNS sends them).
func parseDNS(m []byte) (dnsInfo, error) {
	var info dnsInfo
	if len(m) < 12 {
		return info, errors.New("dns: short message")
	}
	qd := int(binary.BigEndian.Uint16(m[4:]))
	rrs := int(binary.BigEndian.Uint16(m[6:])) + int(binary.BigEndian.Uint16(m[8:])) + int(binary.BigEndian.Uint16(m[10:]))
	off := 12
	for i := 0; i < qd; i++ {
		name, next, err := dnsName(m, off)
		if err != nil {
			return info, err
		}
		if next+4 > len(m) {
			return info, errors.New("dns: truncated question")
		}
		info.questions = append(info.questions, name)
		off = next + 4
	}
	for i := 0; i < rrs; i++ {
		name, next, err := dnsName(m, off)
		if err != nil {
			return info, err
		}
		if next+10 > len(m) {
			return info, errors.New("dns: truncated record")
		}
		typ := binary.BigEndian.Uint16(m[next:])
		rdlen := int(binary.BigEndian.Uint16(m[next+8:]))
		rd := next + 10
		if rd+rdlen > len(m) {
			return info, errors.New("dns: truncated rdata")
		}
		info.owners = append(info.owners, name)
		switch typ {
		case 12: // PTR
			if t, _, err := dnsName(m, rd); err == nil {
				info.ptrs = append(info.ptrs, t)
			}
		case 16: // TXT
			for p := rd; p < rd+rdlen; {
				n := int(m[p])
				if p+1+n > rd+rdlen {
					break
				}
				info.txts = append(info.txts, string(m[p+1:p+1+n]))
				p += 1 + n
			}
		}
		off = rd + rdlen
	}
	return info, nil
}

// dnsName reads a possibly compressed name at off; it returns the name and
// the offset after it in the message.
func dnsName(m []byte, off int) (string, int, error) {
	var labels []string
	next := -1
	for hops := 0; hops < 64; hops++ {
		if off >= len(m) {
			return "", 0, errors.New("dns: name runs off the message")
		}
		l := int(m[off])
		switch {
		case l == 0:
			if next < 0 {
				next = off + 1
			}
			return strings.Join(labels, ".") + ".", next, nil
		case l&0xc0 == 0xc0:
			if off+1 >= len(m) {
				return "", 0, errors.New("dns: truncated pointer")
			}
			if next < 0 {
				next = off + 2
			}
			off = int(binary.BigEndian.Uint16(m[off:]) & 0x3fff)
		case l&0xc0 != 0:
			return "", 0, errors.New("dns: bad label type")
		default:
			if off+1+l > len(m) {
				return "", 0, errors.New("dns: truncated label")
			}
			labels = append(labels, string(m[off+1:off+1+l]))
			off += 1 + l
		}
	}
	return "", 0, errors.New("dns: compression loop")
}
