package sms

import (
	"strings"
	"testing"
	"time"
)

func TestTextRuns(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	full := strings.Repeat("a", 153)
	fullUCS := strings.Repeat("ж", 67)
	msg := func(index int, from string, at time.Duration, text string) stored {
		e := stored{index: index, from: from, text: text, received: true, id: strings.Repeat("x", index)}
		if at >= 0 {
			e.at = t0.Add(at)
		}
		return e
	}
	const wait = 2 * time.Minute
	for _, c := range []struct {
		name    string
		entries []stored
		whole   []string // texts handed on, in order
		waiting int      // runs held for their last part
	}{
		{"full then short joins", []stored{msg(1, "A", 0, full), msg(2, "A", time.Second, "end")}, []string{full + "end"}, 0},
		{"listed out of order, stamps decide", []stored{msg(1, "A", time.Second, "end"), msg(2, "A", 0, full)}, []string{full + "end"}, 0},
		{"same stamp, neighbouring indexes", []stored{msg(4, "A", 0, full), msg(5, "A", 0, "end")}, []string{full + "end"}, 0},
		{"same stamp, scattered indexes: unjoined", []stored{msg(1, "A", 0, "end"), msg(7, "A", 0, full), msg(9, "A", 0, "x")},
			[]string{"end", full, "x"}, 0},
		{"gap too long: unjoined", []stored{msg(1, "A", 0, full), msg(2, "A", textGap+time.Second, "end")}, []string{full, "end"}, 0},
		{"no stamp: unjoined", []stored{msg(1, "A", -1, full), msg(2, "A", -1, "end")}, []string{full, "end"}, 0},
		{"a short message first stays alone", []stored{msg(1, "A", 0, "hi"), msg(2, "A", time.Second, full), msg(3, "A", 2*time.Second, "end")},
			[]string{"hi", full + "end"}, 0},
		{"senders apart", []stored{msg(1, "A", 0, full), msg(2, "B", time.Second, "b"), msg(3, "A", 2*time.Second, "end")},
			[]string{full + "end", "b"}, 0},
		{"UCS-2 parts", []stored{msg(1, "A", 0, fullUCS), msg(2, "A", time.Second, fullUCS), msg(3, "A", 2*time.Second, "ё")},
			[]string{fullUCS + fullUCS + "ё"}, 0},
		{"last part still missing: held", []stored{msg(1, "A", 0, full), msg(2, "A", time.Second, full)}, nil, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := &Modem{textHeld: map[string]time.Time{}}
			whole, partial := m.textRuns(c.entries, t0, wait)
			var texts []string
			for _, im := range whole {
				texts = append(texts, im.msg.Text)
			}
			if strings.Join(texts, "|") != strings.Join(c.whole, "|") {
				t.Errorf("handed on %q, want %q", texts, c.whole)
			}
			if len(partial) != c.waiting {
				t.Errorf("%d held, want %d", len(partial), c.waiting)
			}
			if c.waiting > 0 {
				// After the wait, a held run goes as it stands.
				whole, partial = m.textRuns(c.entries, t0.Add(wait), wait)
				if len(partial) != 0 || len(whole) < len(texts)+1 {
					t.Errorf("after the wait: %d handed on, %d held", len(whole), len(partial))
				}
			}
		})
	}
}

func TestParseTextSCTS(t *testing.T) {
	for _, c := range []struct {
		in     string
		want   time.Time
		offset int
	}{
		{"26/01/02,03:04:05+12", time.Date(2026, 1, 2, 0, 4, 5, 0, time.UTC), 3 * 3600},
		{"99/12/31,23:59:59-08", time.Date(2100, 1, 1, 1, 59, 59, 0, time.UTC), -2 * 3600},
		{"26/13/02,03:04:05+00", time.Time{}, 0},
		{"26/01/02 03:04:05+00", time.Time{}, 0},
		{"", time.Time{}, 0},
	} {
		got := parseTextSCTS(c.in)
		if !got.Equal(c.want) || got.IsZero() != c.want.IsZero() {
			t.Errorf("%q: %v, want %v", c.in, got, c.want)
		}
		if _, off := got.Zone(); !got.IsZero() && off != c.offset {
			t.Errorf("%q: offset %d", c.in, off)
		}
	}
}

func TestTextCharsets(t *testing.T) {
	ucs := &Modem{charset: "UCS2"}
	gsm := &Modem{charset: "GSM"}
	ira := &Modem{charset: "IRA"}
	for _, c := range []struct {
		m       *Modem
		in, out string
	}{
		{ucs, "0048006900200044", "Hi D"},
		{ucs, "D83DDE00", "😀"},
		{ucs, "not hex", "not hex"},
		{gsm, "\x00\x02 ok", "@$ ok"},
		{gsm, "caf\xc3\xa9", "café"}, // not GSM codes: as it stands
		{ira, "plain", "plain"},
	} {
		if got := c.m.decodeText(c.in); got != c.out {
			t.Errorf("%s %q: %q, want %q", c.m.charset, c.in, got, c.out)
		}
	}
	if got := ucs.decodeAddress("002B00320035"); got != "+25" {
		t.Errorf("UCS2 number: %q", got)
	}
	if got := ucs.decodeAddress("254712345678"); got != "254712345678" {
		t.Errorf("a number the modem left in digits: %q", got)
	}
	if got, err := ucs.encodeText("Hi ✓"); err != nil || got != "0048006900202713" {
		t.Errorf("UCS2 encode: %q %v", got, err)
	}
	for _, bad := range []struct {
		m *Modem
		s string
	}{{gsm, "5 €"}, {gsm, "Ξ"}, {gsm, "ж"}, {ira, "é"}} {
		if _, err := bad.m.encodeText(bad.s); err == nil {
			t.Errorf("%s accepted %q", bad.m.charset, bad.s)
		}
	}
	if got, err := gsm.encodeText("@ok"); err != nil || got != "\x00ok" {
		t.Errorf("GSM encode: %q %v", got, err)
	}
}

func TestSplitPlain(t *testing.T) {
	for _, c := range []struct {
		text  string
		sizes []int // runes in each piece
	}{
		{"", []int{0}},
		{strings.Repeat("a", 160), []int{160}},
		{strings.Repeat("a", 161), []int{160, 1}},
		{strings.Repeat("a", 159) + "€", []int{159, 1}}, // the escape does not fit
		{strings.Repeat("ж", 71), []int{70, 1}},
		{strings.Repeat("ж", 69) + "😀", []int{69, 1}}, // the pair does not fit
	} {
		var sizes []int
		for _, p := range splitPlain(c.text) {
			sizes = append(sizes, len([]rune(p)))
		}
		if len(sizes) != len(c.sizes) {
			t.Errorf("%d runes: pieces %v, want %v", len([]rune(c.text)), sizes, c.sizes)
			continue
		}
		for i := range sizes {
			if sizes[i] != c.sizes[i] {
				t.Errorf("%d runes: pieces %v, want %v", len([]rune(c.text)), sizes, c.sizes)
				break
			}
		}
	}
}
