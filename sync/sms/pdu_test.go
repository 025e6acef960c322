package sms

import (
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf16"
)

// The published PDUs below are cited where they come from. The others
// are built by hand, field by field from TS 23.040, with their packed
// GSM 7-bit user data computed by a separate bit-string packer (not this
// package's), which reproduces the published "hellohello" octets.
var decodeCases = []struct {
	name string
	pdu  string
	want PDU
}{
	{
		// Lars Pettersson, "SMS messages and the PDU format" (dreamfabric.com,
		// mirrored at turbocontrol.com/CoolStuff): the SMS-DELIVER example.
		name: "published deliver, national number, GSM 7-bit",
		pdu:  "07917283010010F5040BC87238880900F10000993092516195800AE8329BFD4697D9EC37",
		want: PDU{Kind: Deliver, SMSC: "+27381000015", Address: "27838890001", Text: "hellohello",
			Time: time.Date(1999, 3, 29, 15, 16, 59, 0, time.FixedZone("", 2*3600))},
	},
	{
		// The same page's SMS-SUBMIT example, with a relative validity period.
		name: "published submit, relative validity",
		pdu:  "0011000B916407281553F80000AA0AE8329BFD4697D9EC37",
		want: PDU{Kind: Submit, Address: "+46708251358", Text: "hellohello"},
	},
	{
		// A UCS-2 SMS-DELIVER read with AT+CMGR, posted to the Nokia developer
		// forum ("how to send UCS character"): two Arabic letters.
		name: "published deliver, UCS-2",
		pdu:  "07910201956905F0040B910201014160F3000820219130521580040628062A",
		want: PDU{Kind: Deliver, SMSC: "+20105996500", Address: "+20101014063", DCS: 0x08, Alphabet: UCS2, Text: "بت",
			Time: time.Date(2002, 12, 19, 3, 25, 51, 0, time.FixedZone("", 2*3600))},
	},
	{
		name: "alphanumeric sender, zone west of Greenwich",
		pdu:  "000409D0D6F439CD0600004250102103540A05E8329BFD06",
		want: PDU{Kind: Deliver, Address: "Vigil", Text: "hello",
			Time: time.Date(2024, 5, 1, 12, 30, 45, 0, time.FixedZone("", -5*3600))},
	},
	{
		name: "alphanumeric sender whose length counts whole octets",
		pdu:  "00040ED0CDF47C9E7EBB01000042501021035400" + "05E8329BFD06",
		want: PDU{Kind: Deliver, Address: "Mission", Text: "hello",
			Time: time.Date(2024, 5, 1, 12, 30, 45, 0, time.FixedZone("", 0))},
	},
	{
		name: "concatenated part, 8-bit reference, GSM 7-bit after one fill bit",
		pdu:  "0791527422050092440C915274214365870000425010210354000F0500032A0201A061391DF4769701",
		want: PDU{Kind: Deliver, SMSC: "+254722500029", Address: "+254712345678", Text: "Part one",
			Concat: Concat{Ref: 0x2A, Total: 2, Seq: 1},
			Time:   time.Date(2024, 5, 1, 12, 30, 45, 0, time.FixedZone("", 0))},
	},
	{
		name: "concatenated part, 16-bit reference, no fill bits",
		pdu:  "00400C915274214365870000425010210354000B06080412340302F4FB1B",
		want: PDU{Kind: Deliver, Address: "+254712345678", Text: "two",
			Concat: Concat{Ref: 0x1234, Total: 3, Seq: 2},
			Time:   time.Date(2024, 5, 1, 12, 30, 45, 0, time.FixedZone("", 0))},
	},
	{
		name: "UCS-2 with a surrogate pair",
		pdu:  "00040C9152742143658700084250102103540A0A00480069" + "0020D83DDE00",
		want: PDU{Kind: Deliver, Address: "+254712345678", DCS: 0x08, Alphabet: UCS2, Text: "Hi 😀",
			Time: time.Date(2024, 5, 1, 12, 30, 45, 0, time.FixedZone("", -5*3600))},
	},
	{
		name: "UCS-2 concatenated part",
		pdu:  "00440C9152742143658700084250102103540A0A05000301020100410042",
		want: PDU{Kind: Deliver, Address: "+254712345678", DCS: 0x08, Alphabet: UCS2, Text: "AB",
			Concat: Concat{Ref: 1, Total: 2, Seq: 1},
			Time:   time.Date(2024, 5, 1, 12, 30, 45, 0, time.FixedZone("", -5*3600))},
	},
	{
		name: "8-bit data read as Latin-1",
		pdu:  "00040C9152742143658700044250102103540A034142E9",
		want: PDU{Kind: Deliver, Address: "+254712345678", DCS: 0x04, Alphabet: EightBit, Text: "ABé",
			Time: time.Date(2024, 5, 1, 12, 30, 45, 0, time.FixedZone("", -5*3600))},
	},
	{
		name: "extension table, national number",
		pdu:  "00040A817021436587000042501021035400061BD4A6BC4901",
		want: PDU{Kind: Deliver, Address: "0712345678", Text: "{€}",
			Time: time.Date(2024, 5, 1, 12, 30, 45, 0, time.FixedZone("", 0))},
	},
	{
		name: "unknown header element skipped, invalid concatenation ignored",
		// UDH: 0x0A (text formatting, 4 octets) then 0x00 with sequence 3 of 2.
		pdu: "00440C91527421436587000042501021035400" + "0F" + "0B" + "0A0400000000" + "0003010203" + "0401",
		want: PDU{Kind: Deliver, Address: "+254712345678", Text: "A",
			Time: time.Date(2024, 5, 1, 12, 30, 45, 0, time.FixedZone("", 0))},
	},
	{
		name: "invalid time stamp gives the zero time",
		pdu:  "00040C91527421436587000042F0102103540005E8329BFD06",
		want: PDU{Kind: Deliver, Address: "+254712345678", Text: "hello"},
	},
}

func TestDecodePDU(t *testing.T) {
	for _, c := range decodeCases {
		t.Run(c.name, func(t *testing.T) {
			got, err := DecodePDU(c.pdu)
			if err != nil {
				t.Fatal(err)
			}
			if !got.Time.Equal(c.want.Time) || got.Time.IsZero() != c.want.Time.IsZero() {
				t.Errorf("time %v, want %v", got.Time, c.want.Time)
			}
			if !c.want.Time.IsZero() {
				_, gotOff := got.Time.Zone()
				_, wantOff := c.want.Time.Zone()
				if gotOff != wantOff {
					t.Errorf("zone offset %d s, want %d s", gotOff, wantOff)
				}
			}
			got.Time, c.want.Time = time.Time{}, time.Time{}
			got.septets, got.units, got.PID = nil, nil, 0
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("got  %+v\nwant %+v", got, c.want)
			}
		})
	}
}

func TestDecodePDURefuses(t *testing.T) {
	const addr = "0C91527421436587"
	const scts = "42501021035400"
	for _, c := range []struct{ name, pdu, want string }{
		{"empty", "", "service centre length"},
		{"not hex", "0G", "not hexadecimal"},
		{"too long", strings.Repeat("00", maxPDUOctets+1), "hex digits"},
		{"service centre too long", "0C91" + strings.Repeat("11", 11), "service centre length 12"},
		{"service centre truncated", "0791527422", "service centre address"},
		{"no first octet", "00", "first octet"},
		{"status report", "0006", "status report"},
		{"address too long", "00041E91" + strings.Repeat("11", 15), "address length 30"},
		{"address truncated", "00040C915274", "address of 6 octets"},
		{"no time stamp", "0004" + addr + "0000425010", "time stamp"},
		{"compressed", "0004" + addr + "0020" + scts + "00", "compressed"},
		{"septets over 160", "0004" + addr + "0000" + scts + "A1" + strings.Repeat("00", 141), "161 septets"},
		{"septets short", "0004" + addr + "0000" + scts + "0AE8329B", "needs 9 octets"},
		{"octets over 140", "0004" + addr + "0008" + scts + "8D" + strings.Repeat("00", 141), "141 octets"},
		{"octets short", "0004" + addr + "0008" + scts + "040041", "4 octets, 2 given"},
		{"odd UCS-2", "0004" + addr + "0008" + scts + "03004100", "odd"},
		{"header overruns user data", "0044" + addr + "0008" + scts + "0405000301", "header length"},
		{"header element overruns header", "0044" + addr + "0008" + scts + "0605000401020100", "overruns"},
		{"header element without length", "0044" + addr + "0008" + scts + "020100", "no length"},
		{"header longer than septets", "0044" + addr + "0000" + scts + "06050003010201", "longer than the user data length"},
		{"header bit, no user data", "0044" + addr + "0008" + scts + "00", "empty"},
		{"submit without validity", "0019000B916407281553F80000AA", "validity period"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := DecodePDU(c.pdu)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one containing %q", err, c.want)
			}
		})
	}
}

func TestEncodeSubmitPublished(t *testing.T) {
	// The published SMS-SUBMIT above, without its validity period: the
	// modem's centre applies its own.
	got, err := EncodeSubmit("+46708251358", "hellohello", 0)
	if err != nil {
		t.Fatal(err)
	}
	want := EncodedPDU{Hex: "0001000B916407281553F800000AE8329BFD4697D9EC37", Length: 22}
	if len(got) != 1 || got[0] != want {
		t.Fatalf("got %+v, want %+v", got, want)
	}
}

func TestEncodeSplits(t *testing.T) {
	gsm := func(n int) string { return strings.Repeat("a", n) }
	ucs := func(n int) string { return strings.Repeat("ж", n) }
	for _, c := range []struct {
		name     string
		text     string
		alphabet Alphabet
		sizes    []int // characters (GSM 7-bit septets or UCS-2 units) in each part
	}{
		{"empty", "", GSM7, []int{0}},
		{"160 GSM in one", gsm(160), GSM7, []int{160}},
		{"161 GSM in two", gsm(161), GSM7, []int{153, 8}},
		{"extension counts twice", strings.Repeat("€", 80), GSM7, []int{160}},
		{"escape kept with its character", gsm(152) + "€" + gsm(7), GSM7, []int{152, 9}},
		{"70 UCS-2 in one", ucs(70), UCS2, []int{70}},
		{"71 UCS-2 in two", ucs(71), UCS2, []int{67, 4}},
		{"surrogate pair kept whole", ucs(66) + "😀" + ucs(3), UCS2, []int{66, 5}},
		{"three parts", gsm(153*2 + 1), GSM7, []int{153, 153, 1}},
	} {
		t.Run(c.name, func(t *testing.T) {
			parts, err := EncodeSubmit("+254712345678", c.text, 7)
			if err != nil {
				t.Fatal(err)
			}
			if len(parts) != len(c.sizes) {
				t.Fatalf("%d parts, want %d", len(parts), len(c.sizes))
			}
			var text strings.Builder
			for i, e := range parts {
				if len(e.Hex) != 2+2*e.Length {
					t.Errorf("part %d: %d hex digits for length %d", i, len(e.Hex), e.Length)
				}
				p, err := DecodePDU(e.Hex)
				if err != nil {
					t.Fatalf("part %d: %v", i, err)
				}
				if p.Kind != Submit || p.Address != "+254712345678" || p.Alphabet != c.alphabet {
					t.Errorf("part %d: %v to %q in %v", i, p.Kind, p.Address, p.Alphabet)
				}
				size := len(p.septets)
				if c.alphabet == UCS2 {
					size = len(p.units)
				}
				if size != c.sizes[i] {
					t.Errorf("part %d: %d characters, want %d", i, size, c.sizes[i])
				}
				want := Concat{}
				if len(parts) > 1 {
					want = Concat{Ref: 7, Total: len(parts), Seq: i + 1}
				}
				if p.Concat != want {
					t.Errorf("part %d: %+v, want %+v", i, p.Concat, want)
				}
				text.WriteString(p.Text)
			}
			if text.String() != c.text {
				t.Errorf("parts join to %q, want %q", text.String(), c.text)
			}
		})
	}
}

func TestEncodeDeliverRoundTrip(t *testing.T) {
	at := time.Date(2026, 2, 3, 4, 5, 6, 0, time.FixedZone("", 3*3600+30*60))
	for _, from := range []string{"+254712345678", "0712345678", "Safaricom", "M-PESA"} {
		parts, err := EncodeDeliver(from, "Jambo {ü}", at, 0)
		if err != nil {
			t.Fatal(err)
		}
		p, err := DecodePDU(parts[0].Hex)
		if err != nil {
			t.Fatal(err)
		}
		if p.Address != from || p.Text != "Jambo {ü}" || !p.Time.Equal(at) {
			t.Errorf("%q: got %q %q %v", from, p.Address, p.Text, p.Time)
		}
	}
	for _, bad := range []string{"", "a name far too long", "😀"} {
		if _, err := EncodeDeliver(bad, "x", at, 0); err == nil {
			t.Errorf("sender %q accepted", bad)
		}
	}
	if _, err := EncodeSubmit("Safaricom", "x", 0); err == nil {
		t.Error("a reply to a name was encoded")
	}
	if _, err := EncodeSubmit("+1", strings.Repeat("a", 153*255+1), 0); err == nil {
		t.Error("a text of 256 parts was encoded")
	}
}

func TestGSM7Decode(t *testing.T) {
	for _, c := range []struct {
		septets []byte
		want    string
	}{
		{[]byte{0x00, 0x02, 0x11}, "@$_"},
		{[]byte{0x1B, 0x65}, "€"},
		{[]byte{0x1B, 0x41}, "A"},  // undefined extension: the default character
		{[]byte{0x1B, 0x1B}, " "},  // reserved further extension: a space
		{[]byte{0x41, 0x1B}, "A "}, // a lone escape at the end: a space
	} {
		if got := decodeGSM7(c.septets); got != c.want {
			t.Errorf("% X: %q, want %q", c.septets, got, c.want)
		}
	}
	for i, r := range gsm7Basic {
		if i == gsm7Escape {
			continue
		}
		s, ok := encodeGSM7(string(r))
		if !ok || len(s) != 1 || int(s[0]) != i {
			t.Errorf("%q encodes to % X, want %02X", r, s, i)
		}
	}
}

func FuzzDecodePDU(f *testing.F) {
	for _, c := range decodeCases {
		f.Add(c.pdu)
	}
	long, _ := EncodeSubmit("+254712345678", strings.Repeat("ж", 100), 9)
	for _, e := range long {
		f.Add(e.Hex)
	}
	f.Add("0044" + "0C91527421436587" + "0000" + "42501021035400" + "A0" + "FF")
	f.Fuzz(func(t *testing.T, s string) {
		p, err := DecodePDU(s)
		if err != nil {
			return
		}
		if n := len(p.septets) + len(p.units); n > maxUDSeptets {
			t.Fatalf("%d characters decoded, at most %d", n, maxUDSeptets)
		}
		if len(p.Address) > 1+maxAddrDigits || len(p.SMSC) > 1+maxAddrDigits {
			t.Fatalf("address %q, centre %q", p.Address, p.SMSC)
		}
		if c := p.Concat; c != (Concat{}) && (c.Total < 1 || c.Seq < 1 || c.Seq > c.Total) {
			t.Fatalf("concatenation %+v", c)
		}
		if p.Alphabet == UCS2 && string(utf16.Decode(p.units)) != p.Text {
			t.Fatal("text and units disagree")
		}
	})
}
