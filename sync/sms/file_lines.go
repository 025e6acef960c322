package sms

import (
	"bytes"
	"errors"
	"strings"
	"time"
)

// readLines reads one message a line: "FROM<TAB>TEXT", or TEXT alone
// (From empty). Line ends may be \n or \r\n; blank lines are skipped;
// space around the sender and the text is dropped. Every message gets
// now as its time.
func readLines(data []byte, lim fileLimits, now time.Time) ([]Message, *FileError) {
	fail := func(line int, err error) *FileError {
		return &FileError{Format: FormatLines, Line: line, Err: err}
	}
	var msgs []Message
	for n := 1; len(data) > 0; n++ {
		var raw []byte
		raw, data, _ = bytes.Cut(data, []byte("\n"))
		line := strings.TrimSuffix(string(raw), "\r")
		if err := checkFileText(line, lim); err != nil {
			return nil, fail(n, err)
		}
		if strings.TrimSpace(line) == "" {
			continue
		}
		var from string
		text := strings.TrimSpace(line)
		if f, t, ok := strings.Cut(line, "\t"); ok {
			from, text = strings.TrimSpace(f), strings.TrimSpace(t)
		}
		if err := validSender(from); err != nil {
			return nil, fail(n, err)
		}
		if text == "" {
			return nil, fail(n, errors.New("a sender and no text after the tab"))
		}
		if len(msgs) == lim.messages {
			return nil, fail(n, tooManyErr(lim))
		}
		msgs = append(msgs, Message{From: from, Text: text, Received: now})
	}
	return msgs, nil
}
