package recon

import (
	"fmt"
	"strings"
)

// dumpMsg renders a message for test logs (go test -trace): S, F and L
// for Skip, Fingerprint and IdList, each with its upper bound as
// (time mod 1000, last prefix bytes) and an IdList's IDs' last two bytes;
// C, K, M and T for Coded, Sketch, More and Tail messages.
func dumpMsg(msg []byte, maxIDs int) string {
	m, err := parse(msg, maxIDs)
	switch {
	case err != nil:
		return err.Error()
	case m.kind == kindCoded:
		return fmt.Sprintf(" C[%d,%d) plan %d n %d", m.start, m.start+uint64(m.count), m.plan, m.n)
	case m.kind == kindSketch:
		return fmt.Sprintf(" K n %d %dx%d", m.n, 1<<m.logm, m.levels)
	case m.kind == kindMore:
		return fmt.Sprintf(" M want %d", m.want)
	case m.kind == kindTail:
		return fmt.Sprintf(" T from (%d,%d bytes) %d IDs", m.tail.time%1000, m.tail.plen, len(m.ids)/32)
	}
	r, err := newReader(msg, maxIDs)
	if err != nil {
		return err.Error()
	}
	var sb strings.Builder
	for r.next() {
		rg := &r.cur
		hi := "inf"
		if !rg.hi.inf {
			p := rg.hi.prefix[max(0, rg.hi.plen-2):rg.hi.plen]
			hi = fmt.Sprintf("(%d,%x)", rg.hi.time%1000, p)
		}
		switch rg.mode {
		case modeSkip:
			fmt.Fprintf(&sb, " S<%s", hi)
		case modeFingerprint:
			fmt.Fprintf(&sb, " F<%s", hi)
		case modeIDList:
			fmt.Fprintf(&sb, " L<%s[", hi)
			for k := range len(rg.ids) / 32 {
				fmt.Fprintf(&sb, " %x", rg.ids[32*k+30:32*k+32])
			}
			sb.WriteString(" ]")
		}
	}
	if r.err != nil {
		sb.WriteString(" ERR " + r.err.Error())
	}
	return sb.String()
}
