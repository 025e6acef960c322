package sms

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// FuzzReadFile: any file is read whole or refused with a FileError,
// within the limits, without panicking, the same way twice.
func FuzzReadFile(f *testing.F) {
	// Small seeds: the fuzzing engine minimises every new input it keeps,
	// and minimising a copy of a 4 KB sample takes most of a short run.
	// The samples themselves are read by TestReadFileSamples.
	f.Add(backupXML(received("VG1 a"), `<sms type="2" address="+254700000002" body="b"/>`))
	f.Add(backupXML(received("VG1 a"))[:60])
	f.Add(backupXML(received("&#55357;&#56841;&#xD83D;&#55357;&#xDE09;&#"), `<mms><parts><part text="x"/></parts></mms>`))
	f.Add([]byte("\xff\xfe<\x00s\x00m\x00s\x00e\x00s\x00/\x00>\x00"))
	f.Add([]byte("\xef\xbb\xbfnumber;body;date\n+254700000001;\"a;b\";1817872933000\n"))
	f.Add([]byte("+254700000001\tVG1 a\r\n\r\n\tVG1 b\n"))
	lim := fileLimits{bytes: 1 << 16, messages: 50, text: 1 << 10}
	f.Fuzz(func(t *testing.T, data []byte) {
		msgs, err := readBytes(data, lim)
		if err != nil {
			var fe *FileError
			if !errors.As(err, &fe) || fe.Name != "test" || fe.Line < 0 || msgs != nil {
				t.Fatalf("error %v (%T), %d messages", err, err, len(msgs))
			}
			return
		}
		if len(msgs) > lim.messages {
			t.Fatalf("%d messages over the limit", len(msgs))
		}
		for _, m := range msgs {
			if !utf8.ValidString(m.Text) || !utf8.ValidString(m.From) {
				t.Fatalf("not UTF-8: %+v", m)
			}
			if len(m.Text) > lim.text || len(m.From) > maxSenderLen || strings.IndexFunc(m.From, unicode.IsControl) >= 0 {
				t.Fatalf("past the limits: %+v", m)
			}
			if m.Received.IsZero() {
				t.Fatalf("no time: %+v", m)
			}
		}
		again, err := readBytes(bytes.Clone(data), lim)
		if err != nil || !reflect.DeepEqual(msgs, again) {
			t.Fatalf("read twice, differently: %v", err)
		}
	})
}
