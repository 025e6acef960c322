package sms

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The header names ReadFile knows, lower case with spaces, underscores
// and hyphens taken out.
var (
	csvSenderNames = []string{"address", "from", "sender", "number", "phone", "phonenumber"}
	csvTextNames   = []string{"body", "message", "text"}
	csvDateNames   = []string{"date", "datetime", "time", "timestamp", "received", "receivedat"}
)

// csvColumns is what a CSV header says: the separator, and which column
// holds what (date -1 when there is none).
type csvColumns struct {
	comma              rune
	sender, text, date int
}

// csvHeader reports whether the file's first line is a CSV header naming
// a sender column and a text column, with a comma, a semicolon (what
// spreadsheets write where the comma is the decimal mark) or a tab
// between the names.
func csvHeader(data []byte) (csvColumns, bool) {
	first, _, _ := bytes.Cut(data, []byte("\n"))
	for _, comma := range []rune{',', ';', '\t'} {
		r := csv.NewReader(bytes.NewReader(first))
		r.Comma = comma
		names, err := r.Read()
		if err != nil || len(names) < 2 {
			continue
		}
		c := csvColumns{comma: comma, sender: -1, text: -1, date: -1}
		for i, n := range names {
			n = strings.NewReplacer(" ", "", "_", "", "-", "").Replace(strings.ToLower(strings.TrimSpace(n)))
			switch {
			case c.sender < 0 && slices.Contains(csvSenderNames, n):
				c.sender = i
			case c.text < 0 && slices.Contains(csvTextNames, n):
				c.text = i
			case c.date < 0 && slices.Contains(csvDateNames, n):
				c.date = i
			}
		}
		if c.sender >= 0 && c.text >= 0 {
			return c, true
		}
	}
	return csvColumns{}, false
}

// readCSV reads the rows under the header. A row whose fields are all
// empty (a spreadsheet's trailing rows) is skipped; a row without a text
// is an error.
func readCSV(data []byte, c csvColumns, lim fileLimits, now time.Time) ([]Message, *FileError) {
	fail := func(line int, err error) *FileError {
		return &FileError{Format: FormatCSV, Line: line, Err: err}
	}
	r := csv.NewReader(bytes.NewReader(data))
	r.Comma = c.comma
	r.FieldsPerRecord = -1 // checked below, by the columns read
	r.ReuseRecord = true
	if _, err := r.Read(); err != nil { // the header, read by csvHeader
		return nil, fail(1, err)
	}
	need := max(c.sender, c.text, c.date) + 1
	var msgs []Message
	for {
		row, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return nil, fail(pe.Line, fmt.Errorf("broken CSV: %v", pe.Err))
			}
			return nil, fail(0, err)
		}
		line, _ := r.FieldPos(0) // only after a record was read
		if csvRowEmpty(row) {
			continue
		}
		if len(row) < need {
			return nil, fail(line, fmt.Errorf("%d fields, fewer than the header's columns", len(row)))
		}
		m, err := csvMessage(row, c, lim, now)
		if err != nil {
			return nil, fail(line, err)
		}
		if len(msgs) == lim.messages {
			return nil, fail(line, tooManyErr(lim))
		}
		msgs = append(msgs, m)
	}
	return msgs, nil
}

func csvRowEmpty(row []string) bool {
	for _, f := range row {
		if strings.TrimSpace(f) != "" {
			return false
		}
	}
	return true
}

func csvMessage(row []string, c csvColumns, lim fileLimits, now time.Time) (Message, error) {
	from, err := fileText(row[c.sender], lim)
	if err != nil {
		return Message{}, err
	}
	if err := validSender(from); err != nil {
		return Message{}, err
	}
	text, err := fileText(row[c.text], lim)
	if err != nil {
		return Message{}, err
	}
	if text == "" {
		return Message{}, errors.New("no text in the text column")
	}
	received := now
	if c.date >= 0 && strings.TrimSpace(row[c.date]) != "" {
		if received, err = parseFileDate(strings.TrimSpace(row[c.date])); err != nil {
			return Message{}, err
		}
	}
	return Message{From: from, Text: text, Received: received}, nil
}

// fileDateLayouts are the written dates a CSV's date column may hold, in
// this computer's time zone when they give none. Day-first and
// month-first forms (07/08/2027) are left out: they cannot be told apart.
var fileDateLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05",
	"2006-01-02T15:04",
	"2006-01-02 15:04:05",
	"2006-01-02 15:04",
	"2006-01-02",
}

// parseFileDate reads a CSV date: one of fileDateLayouts, or Unix time
// in seconds (10 digits) or milliseconds (13 digits).
func parseFileDate(s string) (time.Time, error) {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil && n >= 0 {
		switch len(s) {
		case 9, 10:
			return time.Unix(n, 0), nil
		case 12, 13:
			return time.UnixMilli(n), nil
		}
	}
	for _, layout := range fileDateLayouts {
		if t, err := time.ParseInLocation(layout, s, time.Local); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("date %.40q: write it as 2027-08-10 07:42:13, RFC 3339, or Unix seconds or milliseconds", s)
}
