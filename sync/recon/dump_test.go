package recon

import (
	"fmt"
	"strings"
)

// dumpMsg renders a message for test logs (go test -trace): S, F and L
// for Skip, Fingerprint and IdList, each with its upper bound as
// (time mod 1000, last prefix bytes) and an IdList's IDs' last two bytes.
func dumpMsg(msg []byte, maxIDs int) string {
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
