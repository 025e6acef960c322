package sms

// File import: messages a coordinator got some other way (an operator's
// phone, a colleague's export) and hands to `sms import FILE`. Three
// formats, told apart by content, not by name:
//
//  1. "SMS Backup & Restore" XML (SyncTech's Android app; the format is
//     described at https://synctech.com.au/sms-backup-restore/fields-in-xml-backup-files/):
//     <smses><sms address="+254…" date="ms since 1970" type="1" body="…"/>
//     …</smses>. Only received messages (type 1) are read; sent, drafts,
//     outbox, failed and queued ones (2–6) and every <mms> are passed
//     over. Signal's and Silence's plain-text exports use the same
//     elements.
//  2. CSV (comma, semicolon or tab separated) whose header names a sender
//     column (address, from, sender, number, phone, phone number) and a
//     text column (body, message, text), and optionally a date column
//     (date, datetime, time, timestamp, received, received at).
//  3. Anything else: one message a line, blank lines skipped; a line is
//     "FROM<TAB>TEXT", or just TEXT (From empty).
//
// A file is read whole or not at all: the first problem is an error that
// names the line, and no message of the file is handed on.

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

const (
	// FileMaxBytes bounds a message file. A backup of 100,000 messages is
	// about 40 MB.
	FileMaxBytes = 64 << 20

	// FileMaxMessages bounds the messages read from one file.
	FileMaxMessages = 100_000

	// FileMaxText bounds one message's text, and a line of a line file.
	// An SMS of 255 parts is under 40,000 characters.
	FileMaxText = 64 << 10
)

// The formats ReadFile tells apart, as FileError.Format names them.
const (
	FormatBackupXML = "SMS Backup & Restore XML"
	FormatCSV       = "CSV"
	FormatLines     = "one message a line"
)

var (
	// ErrFileTooLarge is wrapped by the error for a file over FileMaxBytes.
	ErrFileTooLarge = errors.New("file too large")
	// ErrTooManyMessages is wrapped by the error for a file holding more
	// than FileMaxMessages messages.
	ErrTooManyMessages = errors.New("too many messages")
)

// FileError is why a message file was refused, and where.
type FileError struct {
	Name   string // the file's name, as given to ReadFile
	Format string // the format it was read as; empty when refused before that
	Line   int    // the line of the problem, from 1; 0 when it is the whole file's
	Err    error
}

func (e *FileError) Error() string {
	var b strings.Builder
	b.WriteString(e.Name)
	if e.Format != "" {
		fmt.Fprintf(&b, " (%s)", e.Format)
	}
	if e.Line > 0 {
		fmt.Fprintf(&b, ", line %d", e.Line)
	}
	b.WriteString(": ")
	b.WriteString(e.Err.Error())
	b.WriteString("; nothing imported")
	return b.String()
}

func (e *FileError) Unwrap() error { return e.Err }

// fileLimits are the bounds a read keeps: the File* constants, smaller in
// tests and fuzzing.
type fileLimits struct {
	bytes    int64
	messages int
	text     int
}

var defaultFileLimits = fileLimits{bytes: FileMaxBytes, messages: FileMaxMessages, text: FileMaxText}

// ReadFile reads the received messages in a file (format detected from
// its content, as the package describes), in file order. name is used in
// errors only. A message without a date gets the time of reading. Errors
// are *FileError; the file's size and message count are bounded by
// FileMaxBytes and FileMaxMessages (ErrFileTooLarge, ErrTooManyMessages).
func ReadFile(r io.Reader, name string) ([]Message, error) {
	return readFile(r, name, defaultFileLimits, time.Now())
}

func readFile(r io.Reader, name string, lim fileLimits, now time.Time) ([]Message, error) {
	data, err := io.ReadAll(io.LimitReader(r, lim.bytes+1))
	if err != nil {
		return nil, &FileError{Name: name, Err: err}
	}
	if int64(len(data)) > lim.bytes {
		return nil, &FileError{Name: name, Err: fmt.Errorf("%w: over %s, the limit for a message file: split it", ErrFileTooLarge, fileSizeText(lim.bytes))}
	}
	data, wasUTF16, err := toUTF8(data)
	if err != nil {
		return nil, &FileError{Name: name, Err: err}
	}
	var msgs []Message
	var ferr *FileError
	switch {
	case looksLikeXML(data):
		msgs, ferr = readBackupXML(data, wasUTF16, lim, now)
	default:
		if h, ok := csvHeader(data); ok {
			msgs, ferr = readCSV(data, h, lim, now)
		} else {
			msgs, ferr = readLines(data, lim, now)
		}
	}
	if ferr != nil {
		ferr.Name = name
		return nil, ferr
	}
	return msgs, nil
}

// toUTF8 drops a UTF-8 byte-order mark, and decodes UTF-16 with a
// byte-order mark (what spreadsheets save as "Unicode text").
func toUTF8(data []byte) ([]byte, bool, error) {
	switch {
	case bytes.HasPrefix(data, []byte{0xEF, 0xBB, 0xBF}):
		return data[3:], false, nil
	case bytes.HasPrefix(data, []byte{0xFF, 0xFE}):
		out, err := decodeUTF16(data[2:], false)
		return out, true, err
	case bytes.HasPrefix(data, []byte{0xFE, 0xFF}):
		out, err := decodeUTF16(data[2:], true)
		return out, true, err
	}
	return data, false, nil
}

func decodeUTF16(b []byte, bigEndian bool) ([]byte, error) {
	if len(b)%2 != 0 {
		return nil, errors.New("UTF-16 text with an odd number of bytes: the file is cut short, or not UTF-16; save it as UTF-8")
	}
	unit := func(i int) rune {
		if bigEndian {
			return rune(b[i])<<8 | rune(b[i+1])
		}
		return rune(b[i+1])<<8 | rune(b[i])
	}
	out := make([]byte, 0, len(b)/2)
	for i := 0; i < len(b); i += 2 {
		r := unit(i)
		if utf16.IsSurrogate(r) && i+3 < len(b) {
			if pair := utf16.DecodeRune(r, unit(i+2)); pair != unicode.ReplacementChar {
				r = pair
				i += 2
			}
		}
		if utf16.IsSurrogate(r) {
			r = unicode.ReplacementChar
		}
		out = utf8.AppendRune(out, r)
	}
	return out, nil
}

// looksLikeXML: the file starts (after white space) as an XML document
// does: a declaration, a comment, or the <smses> element.
func looksLikeXML(data []byte) bool {
	t := bytes.TrimLeft(data, " \t\r\n")
	return bytes.HasPrefix(t, []byte("<?xml")) || bytes.HasPrefix(t, []byte("<!--")) || bytes.HasPrefix(t, []byte("<smses"))
}

// checkFileText checks one line or field of a human-made file (CSV,
// lines): UTF-8, within the text limit.
func checkFileText(s string, lim fileLimits) error {
	if !utf8.ValidString(s) {
		return errors.New("not UTF-8 text: save the file as UTF-8")
	}
	if len(s) > lim.text {
		return fmt.Errorf("a message over %s, the limit for one message", fileSizeText(int64(lim.text)))
	}
	return nil
}

// fileText is a checked field without the space around it.
func fileText(s string, lim fileLimits) (string, error) {
	if err := checkFileText(s, lim); err != nil {
		return "", err
	}
	return strings.TrimSpace(s), nil
}

// validSender refuses a sender that cannot be a number or a name: the
// webhook's and the files' alike.
func validSender(from string) error {
	if len(from) > maxSenderLen || strings.IndexFunc(from, unicode.IsControl) >= 0 {
		return fmt.Errorf("sender %.20q: not a phone number or sender name (over %d bytes, or control characters)", from, maxSenderLen)
	}
	return nil
}

// tooManyErr is the error for the message past the limit.
func tooManyErr(lim fileLimits) error {
	return fmt.Errorf("%w: over %d messages, the limit for one file: split it", ErrTooManyMessages, lim.messages)
}

// fileSizeText writes a byte count the way the limits are set: "64 MiB".
func fileSizeText(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
