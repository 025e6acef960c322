package sms

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
)

// maxXMLDepth bounds element nesting: a backup goes four deep
// (smses > mms > parts > part). Deeper is hostile, and would cost the
// decoder memory and time for nothing.
const maxXMLDepth = 16

// SMS Backup & Restore's message types (the "type" attribute): 1
// received, 2 sent, 3 draft, 4 outbox, 5 failed, 6 queued.
const backupTypeReceived = "1"

// readBackupXML reads an SMS Backup & Restore file with encoding/xml's
// token stream, so that a large backup is read once, and nothing but the
// received messages is kept.
func readBackupXML(data []byte, wasUTF16 bool, lim fileLimits, now time.Time) ([]Message, *FileError) {
	fail := func(line int, err error) *FileError {
		return &FileError{Format: FormatBackupXML, Line: line, Err: err}
	}
	d := xml.NewDecoder(bytes.NewReader(joinSurrogateRefs(data)))
	d.CharsetReader = func(label string, in io.Reader) (io.Reader, error) {
		switch strings.ToLower(label) {
		case "us-ascii", "ascii":
			return in, nil // a subset of UTF-8
		case "utf-16", "utf-16le", "utf-16be":
			if wasUTF16 { // already decoded to UTF-8 by toUTF8
				return in, nil
			}
		}
		return nil, fmt.Errorf("the file declares encoding %q: save it as UTF-8", label)
	}
	var (
		msgs             []Message
		depth, smsCount  int
		rootSeen, closed bool
	)
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			var syn *xml.SyntaxError
			if errors.As(err, &syn) {
				return nil, fail(syn.Line, fmt.Errorf("broken XML: %s", syn.Msg))
			}
			line, _ := d.InputPos()
			return nil, fail(line, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			line, _ := d.InputPos()
			if closed {
				return nil, fail(line, fmt.Errorf("<%s> after </smses>", t.Name.Local))
			}
			depth++
			if depth > maxXMLDepth {
				return nil, fail(line, fmt.Errorf("elements nested over %d deep", maxXMLDepth))
			}
			switch {
			case depth == 1 && t.Name.Local != "smses":
				return nil, fail(line, fmt.Errorf("the root element is <%s>, not <smses>: not an SMS Backup & Restore file of messages", t.Name.Local))
			case depth == 1:
				rootSeen = true
			case depth == 2 && t.Name.Local == "sms":
				smsCount++
				m, keep, err := backupSMS(t, lim, now)
				if err != nil {
					return nil, fail(line, fmt.Errorf("<sms> number %d: %w", smsCount, err))
				}
				if !keep {
					continue
				}
				if len(msgs) == lim.messages {
					return nil, fail(line, tooManyErr(lim))
				}
				msgs = append(msgs, m)
			}
			// Everything else (<mms> and what it holds, anything newer) is
			// passed over.
		case xml.EndElement:
			depth--
			if depth == 0 {
				closed = true
			}
		case xml.CharData:
			if depth == 0 && len(bytes.TrimSpace(t)) > 0 {
				line, _ := d.InputPos()
				return nil, fail(line, errors.New("text outside <smses>"))
			}
		}
	}
	if !rootSeen {
		return nil, fail(0, errors.New("no <smses> element: not an SMS Backup & Restore file of messages"))
	}
	return msgs, nil
}

// backupSMS reads one <sms> element: a message when it is a received one
// (keep), nothing for the other types.
func backupSMS(e xml.StartElement, lim fileLimits, now time.Time) (m Message, keep bool, err error) {
	attr := func(name string) (string, bool) {
		for _, a := range e.Attr {
			if a.Name.Space == "" && a.Name.Local == name {
				return a.Value, true
			}
		}
		return "", false
	}
	typ, ok := attr("type")
	if !ok {
		return Message{}, false, errors.New("no type attribute")
	}
	if n, err := strconv.Atoi(typ); err != nil || n < 0 {
		return Message{}, false, fmt.Errorf("type %.20q: not a message type (1 received, 2 sent, …)", typ)
	}
	if typ != backupTypeReceived {
		return Message{}, false, nil
	}
	from, ok := attr("address")
	if !ok {
		return Message{}, false, errors.New("no address attribute")
	}
	if err := validSender(from); err != nil {
		return Message{}, false, err
	}
	body, ok := attr("body")
	if !ok {
		return Message{}, false, errors.New("no body attribute")
	}
	if len(body) > lim.text {
		return Message{}, false, fmt.Errorf("a message over %s, the limit for one message", fileSizeText(int64(lim.text)))
	}
	received := now
	if date, ok := attr("date"); ok {
		ms, err := strconv.ParseInt(date, 10, 64)
		if err != nil || ms < 0 {
			return Message{}, false, fmt.Errorf("date %.20q: not milliseconds since 1970", date)
		}
		received = time.UnixMilli(ms)
	}
	return Message{From: from, Text: body, Received: received}, true, nil
}

// joinSurrogateRefs rewrites character references to UTF-16 surrogate
// pairs ("&#55357;&#56832;") as the one character they encode
// ("&#128512;"). Android's XML serializer writes emoji that way (Signal's
// and Silence's exports in this format do; SMS Backup & Restore reads
// them), and encoding/xml would turn each half into U+FFFD. A lone
// surrogate is left for encoding/xml to replace.
func joinSurrogateRefs(b []byte) []byte {
	var out []byte // nil until a pair is found
	last := 0
	for i := 0; i < len(b); {
		j := bytes.Index(b[i:], []byte("&#"))
		if j < 0 {
			break
		}
		i += j
		hi, n1, ok := xmlCharRef(b[i:])
		if !ok || hi < 0xD800 || hi > 0xDBFF {
			i += 2
			continue
		}
		lo, n2, ok := xmlCharRef(b[i+n1:])
		if !ok || lo < 0xDC00 || lo > 0xDFFF {
			i += n1
			continue
		}
		out = append(out, b[last:i]...)
		out = fmt.Appendf(out, "&#%d;", utf16.DecodeRune(rune(hi), rune(lo)))
		i += n1 + n2
		last = i
	}
	if out == nil {
		return b
	}
	return append(out, b[last:]...)
}

// xmlCharRef reads a character reference ("&#123;" or "&#x7b;") at the
// start of b: its value and its length in bytes.
func xmlCharRef(b []byte) (value, n int, ok bool) {
	if len(b) < 4 || b[0] != '&' || b[1] != '#' {
		return 0, 0, false
	}
	i, base := 2, 10
	if b[i] == 'x' {
		i, base = 3, 16
	}
	start := i
	for ; i < len(b) && i-start < 8; i++ {
		d := xmlDigit(b[i], base)
		if d < 0 {
			break
		}
		value = value*base + d
	}
	if i == start || i >= len(b) || b[i] != ';' {
		return 0, 0, false
	}
	return value, i + 1, true
}

func xmlDigit(c byte, base int) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case base == 16 && 'a' <= c && c <= 'f':
		return int(c-'a') + 10
	case base == 16 && 'A' <= c && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}
