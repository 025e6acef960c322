package sms

import (
	"context"
	"encoding/hex"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
)

// Text mode (TS 27.005 section 3): the fallback for a modem that refuses
// PDU mode. The modem decodes each message into its own character set
// (AT+CSCS): UCS2 is asked for first, as it carries every character and
// writes each string in hexadecimal, so that no text a sender chose can
// pass for a result code; GSM and IRA follow, with the limits said at
// decodeText.

// setupTextMode switches to text mode and picks the character set.
func (m *Modem) setupTextMode(ctx context.Context, c *atConn, log *slog.Logger, t time.Duration) error {
	if _, err := c.exec(ctx, "AT+CMGF=1", t); err != nil {
		return fmt.Errorf("modem takes neither PDU mode nor text mode: %w", err)
	}
	m.pdu, m.charset, m.listArg, m.dcs = false, "", "", -1
	for _, cs := range []string{"UCS2", "GSM", "IRA"} {
		_, err := c.exec(ctx, `AT+CSCS="`+cs+`"`, t)
		if err == nil {
			m.charset = cs
			break
		}
		if broken(ctx, err) {
			return err
		}
	}
	if m.charset == "" {
		m.charset = "IRA"
		log.Warn("modem refused the UCS2, GSM and IRA character sets; reading its text as ASCII")
	}
	// Header details: the length and type of address after each entry.
	if _, err := c.exec(ctx, "AT+CSDH=1", t); broken(ctx, err) {
		return err
	}
	log.Warn("modem refused PDU mode; in text mode the parts of a long message are joined by guesswork",
		"device", m.name, "charset", m.charset)
	return nil
}

// listText lists every stored message in text mode. With the UCS2
// character set some modems want the argument itself in UCS2: both
// spellings are tried, and the one taken kept.
func (m *Modem) listText(ctx context.Context, c *atConn, s settings) ([]stored, error) {
	args := []string{`"ALL"`}
	if m.charset == "UCS2" {
		args = append(args, `"`+ucs2Hex("ALL")+`"`)
	}
	if m.listArg != "" {
		args = []string{m.listArg}
	}
	var (
		lines []string
		err   error
	)
	for _, a := range args {
		lines, err = c.exec(ctx, "AT+CMGL="+a, s.commandTimeout)
		if err == nil {
			m.listArg = a
			break
		}
		if broken(ctx, err) {
			return nil, err
		}
	}
	if err != nil {
		return nil, err
	}
	out := m.parseTextList(lines)
	if c.cut && len(out) > 0 {
		out = out[:len(out)-1] // its text may be cut short: read it whole at a later poll
	}
	return out, nil
}

// parseTextList reads +CMGL: <index>,<stat>,<oa>,[<alpha>],[<scts>][,...]
// headers, each followed by the message's text on one or more lines.
func (m *Modem) parseTextList(lines []string) []stored {
	var out []stored
	for i := 0; i < len(lines) && len(out) < maxListed; {
		head, ok := strings.CutPrefix(lines[i], "+CMGL:")
		i++
		if !ok {
			continue
		}
		start := i
		for i < len(lines) && !strings.HasPrefix(lines[i], "+CMGL:") {
			i++
		}
		data := strings.Join(lines[start:i], "\n")
		f := splitFields(head)
		if len(f) < 3 {
			continue
		}
		index, err := strconv.Atoi(f[0])
		if err != nil || index < 0 {
			continue
		}
		stat := m.decodeText(f[1])
		e := stored{
			index:    index,
			id:       strconv.Itoa(index) + ":" + head + "\n" + data,
			received: stat == "REC UNREAD" || stat == "REC READ" || stat == "0" || stat == "1",
			from:     m.decodeAddress(f[2]),
			text:     m.decodeText(data),
		}
		if len(f) > 4 {
			e.at = parseTextSCTS(f[4])
		}
		out = append(out, e)
	}
	return out
}

// decodeText reads a string in the modem's character set. In UCS2 it is
// hexadecimal UTF-16 (a string that is not is taken as it stands). In
// GSM it is one octet per GSM 7-bit code, which is what TS 27.005 asks;
// a modem that writes ASCII instead gets "@" read as "¡", and text mode
// cannot tell. In IRA it is ASCII. In GSM and IRA a sender's line breaks
// and blank lines reach us as line ends, and blank lines are lost.
func (m *Modem) decodeText(s string) string {
	switch m.charset {
	case "UCS2":
		if t, ok := decodeUCS2Hex(s); ok {
			return t
		}
	case "GSM":
		for i := 0; i < len(s); i++ {
			if s[i] >= 0x80 {
				return s // not GSM codes after all
			}
		}
		return decodeGSM7([]byte(s))
	}
	return s
}

// decodeAddress is decodeText for a sender's number, which a modem that
// ignores the character set writes in digits: digits that happen to be
// valid hexadecimal decode to characters no number holds, and are kept.
func (m *Modem) decodeAddress(s string) string {
	if m.charset == "UCS2" {
		if t, ok := decodeUCS2Hex(s); ok && !strings.ContainsFunc(t, func(r rune) bool { return r >= 0x80 }) {
			return t
		}
		return s
	}
	return m.decodeText(s)
}

// decodeUCS2Hex decodes hexadecimal UTF-16, four digits a code unit.
func decodeUCS2Hex(s string) (string, bool) {
	if len(s) == 0 || len(s)%4 != 0 {
		return "", false
	}
	b, err := hex.DecodeString(s)
	if err != nil {
		return "", false
	}
	units := make([]uint16, len(b)/2)
	for i := range units {
		units[i] = uint16(b[2*i])<<8 | uint16(b[2*i+1])
	}
	return string(utf16.Decode(units)), true
}

// ucs2Hex writes s as hexadecimal UTF-16, as the UCS2 character set has it.
func ucs2Hex(s string) string {
	var b strings.Builder
	for _, u := range utf16.Encode([]rune(s)) {
		fmt.Fprintf(&b, "%04X", u)
	}
	return b.String()
}

// encodeText writes s in the modem's character set for AT+CMGS, or
// fails for a character the set cannot carry there: in GSM the escape
// and the code Ctrl-Z shares (0x1A, "Ξ") would end or cancel the text.
func (m *Modem) encodeText(s string) (string, error) {
	switch m.charset {
	case "UCS2":
		return ucs2Hex(s), nil
	case "GSM":
		septets, ok := encodeGSM7(s)
		if !ok || slices.Contains(septets, gsm7Escape) || slices.Contains(septets, 0x1A) {
			return "", fmt.Errorf("text mode with the GSM character set cannot send %q", truncate(s, 40))
		}
		return string(septets), nil
	}
	for _, r := range s {
		if r != '\n' && (r < 0x20 || r > 0x7E) {
			return "", fmt.Errorf("text mode with the IRA character set cannot send %q", truncate(s, 40))
		}
	}
	return s, nil
}

// parseTextSCTS reads a text-mode time stamp, "yy/MM/dd,hh:mm:ss±zz"
// with the zone in quarters of an hour. One it cannot read gives the
// zero time.
func parseTextSCTS(s string) time.Time {
	if len(s) != 20 || s[2] != '/' || s[5] != '/' || s[8] != ',' || s[11] != ':' || s[14] != ':' ||
		(s[17] != '+' && s[17] != '-') {
		return time.Time{}
	}
	var v [7]int
	for i, at := range []int{0, 3, 6, 9, 12, 15, 18} {
		n, err := strconv.Atoi(s[at : at+2])
		if err != nil || n < 0 {
			return time.Time{}
		}
		v[i] = n
	}
	zone := v[6] * 15 * 60
	if s[17] == '-' {
		zone = -zone
	}
	t := time.Date(2000+v[0], time.Month(v[1]), v[2], v[3], v[4], v[5], 0, time.FixedZone("", zone))
	if int(t.Month()) != v[1] || t.Day() != v[2] || t.Hour() != v[3] || t.Minute() != v[4] || t.Second() != v[5] {
		return time.Time{}
	}
	return t
}

// textGap is the longest time between two parts of one message that
// text mode joins.
const textGap = 10 * time.Minute

// textRuns joins text-mode messages into whole ones, by guesswork.
//
// Text mode shows each part of a concatenated message as a message of
// its own, without the header that numbered it: which parts belong
// together, and in what order, is gone. The rule used: from one sender,
// in the order of the network's time stamps, a message exactly as long
// as a part can be (153 or 152 GSM characters, 67 or 66 UCS-2 units)
// runs on into the next one if that came within textGap, and the first
// shorter message ends the run. The order is unambiguous only where the
// time stamps differ, or are equal on neighbouring indexes (a modem
// files arrivals at the lowest free index, so equal stamps on scattered
// indexes may be in either order): where it is not, or a stamp is
// missing, the messages are handed on one by one, unjoined. A run whose
// last message is still full-length, and is the sender's last listed,
// may have more to come: it waits TextModeWait from when it was first
// seen, then goes as it stands.
//
// Where the guess fails: two long messages from one sender whose parts
// arrive interleaved, a part that arrives later than TextModeWait, a
// short message of exactly a part's length followed by another. The
// handler then gets a wrong text and refuses it as it refuses any
// mangled message; only PDU mode avoids that, and nearly every modem
// has it.
func (m *Modem) textRuns(entries []stored, now time.Time, wait time.Duration) ([]inboxMessage, []partialSet) {
	sorted := slices.Clone(entries)
	slices.SortStableFunc(sorted, func(a, b stored) int {
		switch {
		case earlier(a, b):
			return -1
		case earlier(b, a):
			return 1
		}
		return 0
	})
	var senders []string
	bySender := map[string][]stored{}
	for _, e := range sorted {
		if _, ok := bySender[e.from]; !ok {
			senders = append(senders, e.from)
		}
		bySender[e.from] = append(bySender[e.from], e)
	}
	var (
		whole   []inboxMessage
		partial []partialSet
		held    = map[string]bool{}
	)
	// emit hands a run on, or holds it when it is the sender's last and
	// may have more to come.
	emit := func(run []stored, final bool) {
		last := run[len(run)-1]
		if final && fullPart(last.text) && !last.at.IsZero() {
			key := last.from + "|" + run[0].id
			held[key] = true
			since, ok := m.textHeld[key]
			if !ok {
				since = now
				m.textHeld[key] = now
			}
			if now.Sub(since) < wait {
				partial = append(partial, partialSet{key: key, from: last.from, have: len(run)})
				return
			}
		}
		var text strings.Builder
		for _, e := range run {
			text.WriteString(e.text)
		}
		whole = append(whole, inboxMessage{
			msg:   Message{From: last.from, Text: text.String(), Received: run[0].at},
			parts: run,
		})
	}
	for _, from := range senders {
		var run []stored
		for _, e := range bySender[from] {
			if len(run) > 0 && !runsOn(run[len(run)-1], e) {
				emit(run, false)
				run = nil
			}
			run = append(run, e)
		}
		emit(run, true)
	}
	for k := range m.textHeld {
		if !held[k] {
			delete(m.textHeld, k)
		}
	}
	return whole, partial
}

// runsOn reports whether next continues prev's message: prev is as long
// as a part, and next came after it without doubt as to the order.
func runsOn(prev, next stored) bool {
	if !fullPart(prev.text) || prev.at.IsZero() || next.at.IsZero() {
		return false
	}
	d := next.at.Sub(prev.at)
	return (d > 0 && d <= textGap) || (d == 0 && next.index == prev.index+1)
}

// fullPart reports whether text is exactly as long as one part of a
// concatenated message (8- or 16-bit reference).
func fullPart(text string) bool {
	if n, ok := gsm7Len(text); ok {
		return n == partSeptets || n == partSeptets-1
	}
	n := len(utf16.Encode([]rune(text)))
	return n == partUnits || n == partUnits-1
}

// splitPlain cuts a reply for text mode, where the modem sends each
// piece as an SMS of its own (text mode has no concatenation header):
// 160 GSM 7-bit characters, or 70 UCS-2 units, a piece.
func splitPlain(text string) []string {
	gsm := true
	if _, ok := gsm7Len(text); !ok {
		gsm = false
	}
	var (
		pieces []string
		cur    strings.Builder
		size   int
	)
	for _, r := range text {
		n := len(utf16.Encode([]rune{r}))
		limit := singleUnits
		if gsm {
			n, limit = len(gsm7Encode[r]), maxUDSeptets
		}
		if size+n > limit {
			pieces = append(pieces, cur.String())
			cur.Reset()
			size = 0
		}
		cur.WriteRune(r)
		size += n
	}
	return append(pieces, cur.String())
}
