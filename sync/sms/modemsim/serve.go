package modemsim

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"

	"github.com/vigil-mesh/vigil/sync/sms"
)

// serve answers the commands the driver writes, one at a time, as a
// modem does: echo (until ATE0), information lines, a final result code;
// for AT+CMGS the "> " prompt, then the body up to Ctrl-Z (or Escape,
// which cancels it).
func (s *Sim) serve() {
	defer close(s.ended)
	var (
		buf    []byte
		prompt string // the AT+CMGS waiting for its body; "" when none
	)
	for {
		select {
		case b := <-s.in:
			buf = append(buf, b...)
		case u := <-s.urc:
			s.write(u)
			continue
		case <-s.done:
			return
		}
		for len(buf) > 0 {
			s.mu.Lock()
			stalled := s.stalled
			if stalled {
				s.dropped += len(buf)
				s.bump()
			}
			s.mu.Unlock()
			if stalled {
				buf, prompt = nil, ""
				break
			}
			if prompt != "" {
				i := bytes.IndexAny(buf, "\x1a\x1b")
				if i < 0 {
					break
				}
				body, end := string(buf[:i]), buf[i]
				buf = buf[i+1:]
				cmd := prompt
				prompt = ""
				if end == 0x1b {
					s.write("\r\nOK\r\n") // cancelled; nothing sent
					continue
				}
				s.write(s.send(cmd, body))
				continue
			}
			i := bytes.IndexByte(buf, '\r')
			if i < 0 {
				if len(buf) > 4096 {
					buf = nil // no modem keeps a line that long
				}
				break
			}
			raw := buf[:i]
			buf = buf[i+1:]
			if s.echoing() {
				s.write(string(raw) + "\r")
			}
			line := strings.TrimSpace(strings.Map(func(r rune) rune {
				if r < 0x20 {
					return -1
				}
				return r
			}, string(raw)))
			if line == "" {
				continue
			}
			out, wantBody := s.command(line)
			s.write(out)
			if wantBody {
				prompt = line
			}
		}
	}
}

func (s *Sim) echoing() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.echo
}

// write writes to the driver; a closed terminal is the end of the test.
func (s *Sim) write(out string) {
	if out != "" {
		_, _ = s.pty.master.Write([]byte(out))
	}
}

// answer formats information lines and OK.
func answer(info ...string) string {
	var b strings.Builder
	for _, l := range info {
		b.WriteString("\r\n" + l + "\r\n")
	}
	b.WriteString("\r\nOK\r\n")
	return b.String()
}

const errorResult = "\r\nERROR\r\n"

func cmsError(code int) string { return fmt.Sprintf("\r\n+CMS ERROR: %d\r\n", code) }

// command answers one command line, and says whether it waits for a body.
func (s *Sim) command(line string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.bump()
	s.commands = append(s.commands, line)
	up := strings.ToUpper(line)
	for i := range s.fails {
		if f := &s.fails[i]; f.n > 0 && strings.HasPrefix(up, f.prefix) {
			f.n--
			return cmsError(f.code), false
		}
	}
	name, arg, _ := strings.Cut(up, "=")
	_, rawArg, _ := strings.Cut(line, "=")
	switch name {
	case "AT":
		return answer(), false
	case "ATE0", "ATE":
		s.echo = false
		return answer(), false
	case "ATE1":
		s.echo = true
		return answer(), false
	case "AT+CMEE", "AT+CSDH":
		return answer(), false
	case "AT+CMGF":
		switch arg {
		case "0":
			if s.opts.TextOnly {
				return errorResult, false
			}
			s.pduMode = true
		case "1":
			s.pduMode = false
		default:
			return errorResult, false
		}
		return answer(), false
	case "AT+CSCS":
		cs := strings.Trim(arg, `"`)
		if !slices.Contains(s.charsets(), cs) {
			return errorResult, false
		}
		s.charset = cs
		return answer(), false
	case "AT+CSMP":
		f := strings.Split(arg, ",")
		if len(f) != 4 {
			return errorResult, false
		}
		dcs, err := strconv.Atoi(f[3])
		if err != nil {
			return errorResult, false
		}
		s.dcs = dcs
		return answer(), false
	case "AT+CNMI":
		f := strings.Split(arg, ",")
		if len(f) < 2 {
			return errorResult, false
		}
		mt, err := strconv.Atoi(f[1])
		if err != nil {
			return errorResult, false
		}
		s.mt = mt
		return answer(), false
	case "AT+CPMS?":
		n, c := len(s.slots), s.opts.Capacity
		return answer(fmt.Sprintf(`+CPMS: "SM",%d,%d,"SM",%d,%d,"SM",%d,%d`, n, c, n, c, n, c)), false
	case "AT+CMGL":
		return s.list(rawArg), false
	case "AT+CMGD":
		index, err := strconv.Atoi(strings.Split(arg, ",")[0])
		if err != nil {
			return errorResult, false
		}
		if s.slots[index] == nil {
			return cmsError(321), false
		}
		delete(s.slots, index)
		return answer(), false
	case "AT+CMGS":
		if s.pduMode {
			if n, err := strconv.Atoi(arg); err != nil || n < 1 || n > 200 {
				return cmsError(304), false
			}
		} else if !strings.HasPrefix(arg, `"`) {
			return cmsError(305), false
		}
		return "\r\n> ", true
	}
	return errorResult, false
}

func (s *Sim) charsets() []string { return []string{"UCS2", "IRA"} }

// list answers AT+CMGL: every stored message in the mode in force, then
// marks the unread ones read.
func (s *Sim) list(arg string) string {
	var stat string
	if s.pduMode {
		if arg != "4" && arg != "0" && arg != "1" {
			return cmsError(302)
		}
	} else {
		stat = strings.Trim(arg, `"`)
		if dec, ok := decodeUCS2(stat); ok && s.charset == "UCS2" {
			stat = dec
		}
		if stat != "ALL" && stat != "REC UNREAD" && stat != "REC READ" {
			return cmsError(302)
		}
	}
	var info []string
	for _, st := range s.sortedSlots() {
		if s.pduMode {
			if (arg == "0" && st.Read) || (arg == "1" && !st.Read) {
				continue
			}
			info = append(info, fmt.Sprintf("+CMGL: %d,%d,,%d", st.Index, readStat(st.Read), tpduLength(st.PDU)), st.PDU)
		} else if entry, ok := s.textEntry(st, stat); ok {
			info = append(info, entry...)
		}
		st.Read = true
	}
	return answer(info...)
}

func (s *Sim) sortedSlots() []*Stored {
	out := make([]*Stored, 0, len(s.slots))
	for _, st := range s.slots {
		out = append(out, st)
	}
	slices.SortFunc(out, func(a, b *Stored) int { return a.Index - b.Index })
	return out
}

func readStat(read bool) int {
	if read {
		return 1
	}
	return 0
}

// tpduLength is a stored PDU's length without its service centre field.
func tpduLength(pdu string) int {
	b, err := hex.DecodeString(pdu)
	if err != nil || len(b) == 0 || int(b[0])+1 > len(b) {
		return len(pdu) / 2
	}
	return len(b) - 1 - int(b[0])
}

// textEntry is a stored message as text mode shows it (with AT+CSDH=1):
// the header, then the text of this part alone, its user data header
// gone, in the character set in force.
func (s *Sim) textEntry(st *Stored, want string) ([]string, bool) {
	p, err := sms.DecodePDU(st.PDU)
	if err != nil {
		return nil, false
	}
	stat := "REC UNREAD"
	if st.Read {
		stat = "REC READ"
	}
	if want != "ALL" && want != stat {
		return nil, false
	}
	toa := 129
	switch {
	case strings.HasPrefix(p.Address, "+"):
		toa = 145
	case strings.ContainsFunc(p.Address, func(r rune) bool { return r < '0' || r > '9' }):
		toa = 208
	}
	head := fmt.Sprintf(`+CMGL: %d,"%s","%s",,"%s",%d,%d`, st.Index, s.encode(stat), s.encode(p.Address),
		textSCTS(p.Time), toa, len([]rune(p.Text)))
	return []string{head, s.encode(p.Text)}, true
}

// encode writes s in the character set in force.
func (s *Sim) encode(str string) string {
	if s.charset == "UCS2" {
		var b strings.Builder
		for _, u := range utf16.Encode([]rune(str)) {
			fmt.Fprintf(&b, "%04X", u)
		}
		return b.String()
	}
	return strings.Map(func(r rune) rune {
		if r != '\n' && (r < 0x20 || r > 0x7E) {
			return '?'
		}
		return r
	}, str)
}

// decode reads s in the character set in force.
func (s *Sim) decode(str string) string {
	if s.charset == "UCS2" {
		if d, ok := decodeUCS2(str); ok {
			return d
		}
	}
	return str
}

func decodeUCS2(s string) (string, bool) {
	b, err := hex.DecodeString(s)
	if err != nil || len(b) == 0 || len(b)%2 != 0 {
		return "", false
	}
	units := make([]uint16, len(b)/2)
	for i := range units {
		units[i] = uint16(b[2*i])<<8 | uint16(b[2*i+1])
	}
	return string(utf16.Decode(units)), true
}

// textSCTS writes a time stamp as text mode does: yy/MM/dd,hh:mm:ss±zz.
func textSCTS(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	_, off := t.Zone()
	sign := '+'
	if off < 0 {
		sign, off = '-', -off
	}
	return fmt.Sprintf("%02d/%02d/%02d,%02d:%02d:%02d%c%02d", t.Year()%100, t.Month(), t.Day(),
		t.Hour(), t.Minute(), t.Second(), sign, off/(15*60))
}

// send takes the body of an AT+CMGS: a PDU whose TPDU is as long as the
// command said, or text in the character set in force.
func (s *Sim) send(cmd, body string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.bump()
	body = strings.TrimSpace(body)
	if s.pduMode {
		_, arg, _ := strings.Cut(cmd, "=")
		length, _ := strconv.Atoi(arg)
		p, err := sms.DecodePDU(body)
		if err != nil || p.Kind != sms.Submit || tpduLength(body) != length {
			return cmsError(304)
		}
		s.record(p)
	} else {
		_, arg, _ := strings.Cut(cmd, "=")
		to, _, _ := strings.Cut(strings.TrimPrefix(arg, `"`), `"`)
		alphabet := sms.GSM7
		if s.dcs&0x0C == 0x08 {
			alphabet = sms.UCS2
		}
		s.sent = append(s.sent, Sent{To: s.decode(to), Text: s.decode(body), Parts: 1, Alphabet: alphabet})
	}
	s.mr++
	return answer(fmt.Sprintf("+CMGS: %d", s.mr%256))
}

// record notes one sent PDU: a whole message at once, a part once all
// its parts are in.
func (s *Sim) record(p sms.PDU) {
	c := p.Concat
	if c.Total <= 1 {
		s.sent = append(s.sent, Sent{To: p.Address, Text: p.Text, Parts: 1, Alphabet: p.Alphabet})
		return
	}
	key := fmt.Sprintf("%s|%d|%d", p.Address, c.Ref, c.Total)
	parts := append(s.partial[key], p)
	s.partial[key] = parts
	if len(parts) < c.Total {
		return
	}
	delete(s.partial, key)
	slices.SortFunc(parts, func(a, b sms.PDU) int { return a.Concat.Seq - b.Concat.Seq })
	var text strings.Builder
	for _, part := range parts {
		text.WriteString(part.Text)
	}
	s.sent = append(s.sent, Sent{To: p.Address, Text: text.String(), Parts: c.Total, Alphabet: p.Alphabet})
}
