package sms

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"strings"
	"testing"
	"time"
	"unicode/utf16"
)

// fileNow is the time of reading in these tests.
var fileNow = time.Date(2027, 8, 10, 21, 30, 0, 0, time.UTC)

func readTestFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func readBytes(data []byte, lim fileLimits) ([]Message, error) {
	return readFile(bytes.NewReader(data), "test", lim, fileNow)
}

func sameMessages(t *testing.T, got, want []Message) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d messages, want %d:\n%+v", len(got), len(want), got)
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.From != w.From || g.Text != w.Text || !g.Received.Equal(w.Received) {
			t.Errorf("message %d:\n got %q %q %v\nwant %q %q %v", i, g.From, g.Text, g.Received, w.From, w.Text, w.Received)
		}
	}
}

// TestReadFileSamples reads the sample files in testdata: the received
// messages only, in file order, their text exactly.
func TestReadFileSamples(t *testing.T) {
	local := func(s string) time.Time {
		tm, err := time.ParseInLocation("2006-01-02 15:04:05", s, time.Local)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	tests := []struct {
		file string
		want []Message
	}{
		{"testdata/sms-backup-restore.xml", []Message{
			{"+254712345678", "VG1 kQ3xZ2Fz7Tb0pL9mYc4eWn8sRj1uHd6aKv5oEg2iBtQ7rXw0yCzM3lN8fJ4hD", time.UnixMilli(1817872933000)},
			{"+254733000111", "PS-0042 Kilifi: queue of about 300, ink pads missing since opening.\nPresiding officer says supplies are \"on the way\" & voting continues. 🙏", time.UnixMilli(1817881230000)},
			{"+254722987654", "VG1 Zm9yIHRoZSB0YWxseSBvZiBQUy0wMTA3IHNlZSB0aGUgcmVjb3Jk", time.UnixMilli(1817906400000)},
		}},
		{"testdata/messages.csv", []Message{
			{"+254712345678", "VG1 kQ3xZ2Fz7Tb0pL9mYc4eWn8sRj1uHd6aKv5oEg2iBtQ7rXw0yCzM3lN8fJ4hD", local("2027-08-10 07:42:13")},
			{"+254733000111", "PS-0042 Kilifi: queue of about 300, ink pads missing since opening", local("2027-08-10 10:00:30")},
			{"+254722987654", "VG1 Zm9yIHRoZSB0YWxseSBvZiBQUy0wMTA3IHNlZSB0aGUgcmVjb3Jk", local("2027-08-10 20:20:00")},
		}},
		{"testdata/messages.txt", []Message{
			{"+254712345678", "VG1 kQ3xZ2Fz7Tb0pL9mYc4eWn8sRj1uHd6aKv5oEg2iBtQ7rXw0yCzM3lN8fJ4hD", fileNow},
			{"", "VG1 Zm9yIHRoZSB0YWxseSBvZiBQUy0wMTA3IHNlZSB0aGUgcmVjb3Jk", fileNow},
			{"+254733000111", "PS-0107 Mombasa: power cut at 18:05, counting by lamp light", fileNow},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			f, err := os.Open(tt.file)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			got, err := readFile(f, tt.file, defaultFileLimits, fileNow)
			if err != nil {
				t.Fatal(err)
			}
			sameMessages(t, got, tt.want)
		})
	}
}

// TestReadFileUTF16: a spreadsheet's "Unicode text" (UTF-16 with a
// byte-order mark, either order) reads as its UTF-8 original does.
func TestReadFileUTF16(t *testing.T) {
	for _, file := range []string{"testdata/messages.csv", "testdata/sms-backup-restore.xml"} {
		orig := readTestFile(t, file)
		want, err := readBytes(orig, defaultFileLimits)
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(file, ".xml") {
			orig = bytes.Replace(orig, []byte("encoding='UTF-8'"), []byte("encoding='UTF-16'"), 1)
		}
		for _, order := range []binary.AppendByteOrder{binary.LittleEndian, binary.BigEndian} {
			units := utf16.Encode([]rune(string(orig)))
			enc := binary.BigEndian.AppendUint16(nil, 0xFEFF)
			if order == binary.LittleEndian {
				enc = binary.LittleEndian.AppendUint16(nil, 0xFEFF)
			}
			for _, u := range units {
				enc = order.AppendUint16(enc, u)
			}
			got, err := readBytes(enc, defaultFileLimits)
			if err != nil {
				t.Fatalf("%s in UTF-16 %v: %v", file, order, err)
			}
			sameMessages(t, got, want)
		}
	}
	if _, err := readBytes([]byte{0xFF, 0xFE, 'a'}, defaultFileLimits); err == nil {
		t.Fatal("UTF-16 with an odd byte count accepted")
	}
}

// backupXML wraps sms elements as SMS Backup & Restore does.
func backupXML(elems ...string) []byte {
	return []byte("<?xml version='1.0' encoding='UTF-8' standalone='yes' ?>\n<smses count=\"1\">\n" +
		strings.Join(elems, "\n") + "\n</smses>\n")
}

func received(body string) string {
	return `<sms protocol="0" address="+254712345678" date="1817872933000" type="1" body="` + body + `" />`
}

// TestReadFileXMLCharacters: the entities in body attributes read as the
// phone's text, surrogate-pair references (Android's serializer writes
// emoji so) included.
func TestReadFileXMLCharacters(t *testing.T) {
	tests := []struct{ body, want string }{
		{"line one&#10;line two", "line one\nline two"},
		{"&lt;b&gt; &amp; &quot;q&quot; &apos;a&apos;", `<b> & "q" 'a'`},
		{"hey &#55357;&#56841; x", "hey 😉 x"},
		{"&#xD83D;&#xDE09;&#x1F600;", "😉😀"},
		{"&#55357;&#56841;&#55357;&#56841;", "😉😉"},
		{"lone &#55357; half", "lone \uFFFD half"},
		{"&#55357;&#65;", "\uFFFDA"},
		{"&amp;#55357;&amp;#56841;", "&#55357;&#56841;"},
	}
	for _, tt := range tests {
		got, err := readBytes(backupXML(received(tt.body)), defaultFileLimits)
		if err != nil {
			t.Fatalf("%q: %v", tt.body, err)
		}
		if len(got) != 1 || got[0].Text != tt.want {
			t.Errorf("%q read as %+v, want %q", tt.body, got, tt.want)
		}
	}
}

// TestReadFileRefusesBrokenXML: a broken or foreign XML file is refused
// whole, with the line of the problem.
func TestReadFileRefusesBrokenXML(t *testing.T) {
	sample := readTestFile(t, "testdata/sms-backup-restore.xml")
	tests := []struct {
		name string
		data []byte
		line int
		want string
	}{
		{"cut short", sample[:len(sample)*2/3], 11, "broken XML: unexpected EOF"},
		{"no type", backupXML(received("a"), `<sms address="+254700000001" body="b" date="1"/>`), 4, "<sms> number 2: no type"},
		{"no address", backupXML(`<sms type="1" body="b"/>`), 3, "no address"},
		{"no body", backupXML(`<sms type="1" address="+254700000001"/>`), 3, "no body"},
		{"bad date", backupXML(`<sms type="1" address="+254700000001" body="b" date="10 Aug 2027"/>`), 3, "milliseconds since 1970"},
		{"bad type", backupXML(`<sms type="received" address="+254700000001" body="b"/>`), 3, "not a message type"},
		{"control character in the sender", backupXML(`<sms type="1" address="+2547&#10;1" body="b"/>`), 3, "not a phone number"},
		{"HTML entity", backupXML(received("a&nbsp;b")), 3, "broken XML"},
		{"not UTF-8", backupXML(received("caf\xe9")), 3, "broken XML"},
		{"another encoding", []byte("<?xml version='1.0' encoding='windows-1252'?>\n<smses/>"), 1, "save it as UTF-8"},
		{"calls backup", []byte("<?xml version='1.0' encoding='UTF-8'?>\n<calls count=\"0\"/>"), 2, "not <smses>"},
		{"second root", append(backupXML(received("a")), "<smses/>"...), 5, "after </smses>"},
		{"text after the root", append(backupXML(received("a")), "junk"...), 5, "text outside <smses>"},
		{"nested too deep", backupXML(strings.Repeat("<mms>", 20) + strings.Repeat("</mms>", 20)), 3, "nested over"},
		{"no root", []byte("<?xml version='1.0' encoding='UTF-8'?>\n<!-- empty -->\n"), 0, "no <smses>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msgs, err := readBytes(tt.data, defaultFileLimits)
			var fe *FileError
			if !errors.As(err, &fe) {
				t.Fatalf("err %v (%d messages), want a FileError", err, len(msgs))
			}
			if msgs != nil {
				t.Errorf("%d messages handed on with the error", len(msgs))
			}
			if fe.Format != FormatBackupXML || fe.Line != tt.line || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %q (line %d, format %q), want line %d saying %q", err, fe.Line, fe.Format, tt.line, tt.want)
			}
		})
	}
}

// TestReadFileCSV: the header's names, in any case and order, with a
// comma, semicolon or tab; and the errors, by line.
func TestReadFileCSV(t *testing.T) {
	ok := []struct {
		name, data string
		want       []Message
	}{
		{"semicolon, spreadsheet names", "Phone Number;Text;Received At\n+254712345678;VG1 a;1817872933\n",
			[]Message{{"+254712345678", "VG1 a", time.Unix(1817872933, 0)}}},
		{"tab, no date", "Address\tBody\n+254712345678\tVG1 b\n",
			[]Message{{"+254712345678", "VG1 b", fileNow}}},
		{"quoted newline, RFC 3339 date, millisecond date", "from,text,date\n+254700000001,\"two\nlines\",2027-08-10T07:42:13+03:00\nSafaricom,VG1 c,1817872933000\n",
			[]Message{
				{"+254700000001", "two\nlines", time.Date(2027, 8, 10, 4, 42, 13, 0, time.UTC)},
				{"Safaricom", "VG1 c", time.UnixMilli(1817872933000)},
			}},
		{"CRLF and blank rows", "number,message\r\n+254700000001,VG1 d\r\n\r\n,\r\n",
			[]Message{{"+254700000001", "VG1 d", fileNow}}},
	}
	for _, tt := range ok {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readBytes([]byte(tt.data), defaultFileLimits)
			if err != nil {
				t.Fatal(err)
			}
			sameMessages(t, got, tt.want)
		})
	}
	bad := []struct {
		name, data string
		line       int
		want       string
	}{
		{"unterminated quote in the first row", "numBer,BodY\n\"0", 2, "broken CSV"},
		{"bare quote", "from,text\n+254700000001,VG1 a\n+254700000002,VG1 \"b\n", 3, "broken CSV"},
		{"short row", "from,text,date\n+254700000001,VG1 a,\n+254700000002\n", 3, "fewer than the header"},
		{"ambiguous date", "from,text,date\n+254700000001,VG1 a,07/08/2027\n", 2, "write it as 2027-08-10"},
		{"no text", "from,text\n+254700000001,VG1 a\n+254700000002, \n", 3, "no text"},
		{"not UTF-8", "from,text\n+254700000001,caf\xe9\n", 2, "not UTF-8"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			msgs, err := readBytes([]byte(tt.data), defaultFileLimits)
			var fe *FileError
			if !errors.As(err, &fe) || msgs != nil {
				t.Fatalf("err %v with %d messages, want a FileError and none", err, len(msgs))
			}
			if fe.Format != FormatCSV || fe.Line != tt.line || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %q (line %d), want line %d saying %q", err, fe.Line, tt.line, tt.want)
			}
		})
	}
}

// TestReadFileLines: what is neither XML nor a CSV with known columns
// reads a message a line.
func TestReadFileLines(t *testing.T) {
	got, err := readBytes([]byte("<3 thanks for the receipt\r\n\tVG1 no sender\r\n\r\nfrom,to\n+254700000001\t VG1 a \n"), defaultFileLimits)
	if err != nil {
		t.Fatal(err)
	}
	sameMessages(t, got, []Message{
		{"", "<3 thanks for the receipt", fileNow},
		{"", "VG1 no sender", fileNow},
		{"", "from,to", fileNow},
		{"+254700000001", "VG1 a", fileNow},
	})
	bad := []struct {
		name, data string
		line       int
		want       string
	}{
		{"sender without text", "VG1 a\n+254700000001\t\n", 2, "no text"},
		{"not UTF-8", "VG1 a\n\nVG1 \xff\n", 3, "not UTF-8"},
		{"sender too long", strings.Repeat("9", 65) + "\tVG1 a\n", 1, "not a phone number"},
		{"line too long", "VG1 a\n" + strings.Repeat("x", FileMaxText+1) + "\n", 2, "64 KiB"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			msgs, err := readBytes([]byte(tt.data), defaultFileLimits)
			var fe *FileError
			if !errors.As(err, &fe) || msgs != nil {
				t.Fatalf("err %v with %d messages, want a FileError and none", err, len(msgs))
			}
			if fe.Format != FormatLines || fe.Line != tt.line || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %q (line %d), want line %d saying %q", err, fe.Line, tt.line, tt.want)
			}
		})
	}
}

// TestReadFileLimits: a file over the size limit, or with more messages
// than the limit, is refused whole, and the error names the limit.
func TestReadFileLimits(t *testing.T) {
	small := fileLimits{bytes: 1 << 10, messages: 2, text: 100}
	_, err := readBytes(bytes.Repeat([]byte("VG1 a\n"), 200), small)
	if !errors.Is(err, ErrFileTooLarge) || !strings.Contains(err.Error(), "1 KiB") {
		t.Fatalf("oversized file: %v", err)
	}
	if got := fileSizeText(FileMaxBytes); got != "64 MiB" {
		t.Fatalf("the size limit reads %q", got)
	}
	for name, data := range map[string][]byte{
		"lines": []byte("a\nb\nc\n"),
		"CSV":   []byte("from,text\n1,a\n2,b\n3,c\n"),
		"XML":   backupXML(received("a"), received("b"), received("c")),
	} {
		msgs, err := readBytes(data, small)
		if !errors.Is(err, ErrTooManyMessages) || !strings.Contains(err.Error(), "over 2 messages") || msgs != nil {
			t.Errorf("%s with 3 messages, limit 2: %v (%d messages)", name, err, len(msgs))
		}
	}
	_, err = readBytes(backupXML(received(strings.Repeat("x", 101))), small)
	if err == nil || !strings.Contains(err.Error(), "100 bytes") {
		t.Fatalf("overlong XML body: %v", err)
	}
}

// TestReadFileExported: ReadFile is readFile with the package's limits,
// and names the file in its errors.
func TestReadFileExported(t *testing.T) {
	msgs, err := ReadFile(strings.NewReader("VG1 a\n"), "pasted.txt")
	if err != nil || len(msgs) != 1 || time.Since(msgs[0].Received) > time.Minute {
		t.Fatalf("ReadFile: %+v, %v", msgs, err)
	}
	_, err = ReadFile(strings.NewReader("VG1 a\n\xff\n"), "pasted.txt")
	if err == nil || !strings.HasPrefix(err.Error(), "pasted.txt (one message a line), line 2: ") {
		t.Fatalf("error %q does not name the file, format and line", err)
	}
}
