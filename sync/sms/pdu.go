package sms

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf16"
)

// The SMS transfer-layer PDUs of 3GPP TS 23.040 (formerly GSM 03.40) as a
// GSM modem lists them in PDU mode (TS 27.005: the service centre's
// address first, then the TPDU, all in hexadecimal). Decoding reads what
// a network delivers (SMS-DELIVER) and what a modem keeps of what it sent
// (SMS-SUBMIT); encoding builds the SMS-SUBMIT PDUs of replies, and the
// SMS-DELIVER PDUs a simulated network hands a simulated modem.

// PDUKind says which way a TPDU travels.
type PDUKind uint8

const (
	// Deliver is SMS-DELIVER: from the network to the phone.
	Deliver PDUKind = iota
	// Submit is SMS-SUBMIT: from the phone to the network.
	Submit
)

func (k PDUKind) String() string {
	if k == Submit {
		return "SMS-SUBMIT"
	}
	return "SMS-DELIVER"
}

// Alphabet is the character set of a message's user data, from its data
// coding scheme (TS 23.038 section 4).
type Alphabet uint8

const (
	// GSM7 is the GSM 7-bit default alphabet with its extension table.
	GSM7 Alphabet = iota
	// EightBit is 8-bit data, read as ISO 8859-1 so that every octet maps
	// to one character and none is lost.
	EightBit
	// UCS2 is UTF-16 big-endian (UCS-2 as TS 23.038 names it; phones send
	// surrogate pairs for emoji, and they are decoded as such).
	UCS2
)

func (a Alphabet) String() string {
	switch a {
	case EightBit:
		return "8-bit"
	case UCS2:
		return "UCS-2"
	}
	return "GSM 7-bit"
}

// Concat places one part of a concatenated message (TS 23.040 9.2.3.24.1
// and 9.2.3.24.8). Total is 0 for a message that is not concatenated.
type Concat struct {
	Ref   uint16 // the sender's reference, shared by the parts of one message
	Total int    // how many parts the whole message has
	Seq   int    // this part's place, from 1
}

// PDU is one decoded SMS TPDU: one whole message, or one part of a
// concatenated one.
type PDU struct {
	Kind     PDUKind
	SMSC     string    // the service centre's number, "" when the field is empty
	Address  string    // Deliver: the sender; Submit: the destination. +digits when international, else digits or a name
	PID      byte      // the protocol identifier, as sent
	DCS      byte      // the data coding scheme, as sent
	Alphabet Alphabet  // the character set DCS names
	Time     time.Time // Deliver: the service centre's time stamp, zero when it is not a valid date
	Concat   Concat    // where this part goes, zero when the message is whole
	Text     string    // the user data after its header, decoded to UTF-8

	// The undecoded text, so that a surrogate pair or an escape that a
	// sender split across two parts is joined before it is decoded.
	septets []byte   // GSM7
	units   []uint16 // UCS2
}

// Limits of the format (TS 23.040 9.2.3.16, 9.1.2.5 and 9.2.3.5): they
// bound what a hostile PDU can make the decoder allocate.
const (
	maxPDUOctets    = 200 // SMSC field (12) + the longest TPDU (164), with room to spare
	maxSMSCOctets   = 11  // type of address + 10 octets of digits
	maxAddrDigits   = 20  // semi-octets of an address
	maxUDOctets     = 140 // user data of one SMS
	maxUDSeptets    = 160 // the same in GSM 7-bit characters
	maxAlphaAddress = 11  // characters of an alphanumeric sender
	maxParts        = 255 // parts of a concatenated message (one octet counts them)
	partSeptets     = 153 // GSM 7-bit characters in a part after a 6-octet header
	partUnits       = 67  // UCS-2 code units in a part after a 6-octet header
	singleUnits     = 70  // UCS-2 code units in a message without a header
)

// errTruncated ends a PDU whose fields run past its last octet.
var errTruncated = errors.New("ends early")

// pduReader reads a PDU's fields in order; the first field that runs past
// the end is named in the error.
type pduReader struct {
	b   []byte
	off int
}

func (r *pduReader) next(field string) (byte, error) {
	if r.off >= len(r.b) {
		return 0, fmt.Errorf("sms pdu: %s: %w at octet %d", field, errTruncated, r.off)
	}
	r.off++
	return r.b[r.off-1], nil
}

func (r *pduReader) take(n int, field string) ([]byte, error) {
	if n > len(r.b)-r.off {
		return nil, fmt.Errorf("sms pdu: %s of %d octets: %w (%d left)", field, n, errTruncated, len(r.b)-r.off)
	}
	r.off += n
	return r.b[r.off-n : r.off], nil
}

// DecodePDU decodes one PDU as a modem lists it in PDU mode: hexadecimal,
// the service centre's address field first (an empty one is "00"), then
// an SMS-DELIVER or SMS-SUBMIT TPDU. Every length field is checked against
// the data and the format's limits; a PDU that breaks one is an error
// that names the field, never a panic.
func DecodePDU(s string) (PDU, error) {
	s = strings.TrimSpace(s)
	if len(s) > 2*maxPDUOctets {
		return PDU{}, fmt.Errorf("sms pdu: %d hex digits, at most %d", len(s), 2*maxPDUOctets)
	}
	b, err := hex.DecodeString(s)
	if err != nil {
		return PDU{}, fmt.Errorf("sms pdu: not hexadecimal: %w", err)
	}
	return decodePDU(b)
}

func decodePDU(b []byte) (PDU, error) {
	var p PDU
	r := &pduReader{b: b}
	smscLen, err := r.next("service centre length")
	if err != nil {
		return p, err
	}
	if smscLen > maxSMSCOctets {
		return p, fmt.Errorf("sms pdu: service centre length %d octets, at most %d", smscLen, maxSMSCOctets)
	}
	if smscLen > 0 {
		smsc, err := r.take(int(smscLen), "service centre address")
		if err != nil {
			return p, err
		}
		p.SMSC = decodeNumber(smsc[0], smsc[1:], 2*(len(smsc)-1))
	}
	fo, err := r.next("first octet")
	if err != nil {
		return p, err
	}
	switch fo & 0x03 {
	case 0x00:
		p.Kind = Deliver
	case 0x01:
		p.Kind = Submit
		if _, err := r.next("message reference"); err != nil {
			return p, err
		}
	default:
		return p, fmt.Errorf("sms pdu: message type %d is a status report or a command, not a text message", fo&0x03)
	}
	if p.Address, err = readAddress(r); err != nil {
		return p, err
	}
	if p.PID, err = r.next("protocol identifier"); err != nil {
		return p, err
	}
	if p.DCS, err = r.next("data coding scheme"); err != nil {
		return p, err
	}
	if p.Alphabet, err = alphabetOf(p.DCS); err != nil {
		return p, err
	}
	if p.Kind == Deliver {
		scts, err := r.take(7, "service centre time stamp")
		if err != nil {
			return p, err
		}
		p.Time = decodeSCTS(scts)
	} else if _, err := r.take(validityOctets(fo), "validity period"); err != nil {
		return p, err
	}
	udl, err := r.next("user data length")
	if err != nil {
		return p, err
	}
	if err := p.decodeUserData(int(udl), b[r.off:], fo&0x40 != 0); err != nil {
		return p, err
	}
	return p, nil
}

// validityOctets is the length of an SMS-SUBMIT's validity period, which
// its first octet's TP-VPF bits give (TS 23.040 9.2.3.3).
func validityOctets(fo byte) int {
	switch (fo >> 3) & 0x03 {
	case 0x02: // relative
		return 1
	case 0x01, 0x03: // enhanced, absolute
		return 7
	}
	return 0
}

// alphabetOf reads the character set from a data coding scheme (TS 23.038
// section 4). Reserved values are read as the default alphabet, as the
// standard asks; compressed text is refused, as no phone sends it.
func alphabetOf(dcs byte) (Alphabet, error) {
	switch {
	case dcs&0x80 == 0: // general data coding, with or without automatic deletion
		if dcs&0x20 != 0 {
			return 0, fmt.Errorf("sms pdu: data coding scheme 0x%02X: compressed text is not supported", dcs)
		}
		switch (dcs >> 2) & 0x03 {
		case 0x01:
			return EightBit, nil
		case 0x02:
			return UCS2, nil
		}
		return GSM7, nil
	case dcs&0xF0 == 0xE0: // message waiting indication, UCS-2
		return UCS2, nil
	case dcs&0xF0 == 0xF0: // data coding / message class
		if dcs&0x04 != 0 {
			return EightBit, nil
		}
		return GSM7, nil
	}
	return GSM7, nil // message waiting indication (GSM 7-bit), reserved groups
}

// decodeUserData decodes udl (septets for GSM 7-bit, octets otherwise) of
// user data from ud, with its header when udhi is set.
func (p *PDU) decodeUserData(udl int, ud []byte, udhi bool) error {
	if p.Alphabet == GSM7 {
		if udl > maxUDSeptets {
			return fmt.Errorf("sms pdu: user data length %d septets, at most %d", udl, maxUDSeptets)
		}
		need := septetOctets(udl)
		if len(ud) < need {
			return fmt.Errorf("sms pdu: user data of %d septets needs %d octets, %d given", udl, need, len(ud))
		}
		ud = ud[:need]
		skip := 0
		if udhi {
			hdr, err := p.readHeader(ud)
			if err != nil {
				return err
			}
			// The text starts at the first septet boundary after the
			// header: the fill bits in between are part of that septet.
			skip = (8*hdr + 6) / 7
			if skip > udl {
				return fmt.Errorf("sms pdu: user data header of %d octets is longer than the user data length %d septets", hdr, udl)
			}
		}
		p.septets = unpackSeptets(ud, udl)[skip:]
		p.Text = decodeGSM7(p.septets)
		return nil
	}
	if udl > maxUDOctets {
		return fmt.Errorf("sms pdu: user data length %d octets, at most %d", udl, maxUDOctets)
	}
	if len(ud) < udl {
		return fmt.Errorf("sms pdu: user data of %d octets, %d given", udl, len(ud))
	}
	ud = ud[:udl]
	if udhi {
		hdr, err := p.readHeader(ud)
		if err != nil {
			return err
		}
		ud = ud[hdr:]
	}
	if p.Alphabet == EightBit {
		runes := make([]rune, len(ud))
		for i, c := range ud {
			runes[i] = rune(c)
		}
		p.Text = string(runes)
		return nil
	}
	if len(ud)%2 != 0 {
		return fmt.Errorf("sms pdu: UCS-2 text of %d octets, an odd number", len(ud))
	}
	p.units = make([]uint16, len(ud)/2)
	for i := range p.units {
		p.units[i] = uint16(ud[2*i])<<8 | uint16(ud[2*i+1])
	}
	p.Text = string(utf16.Decode(p.units))
	return nil
}

// readHeader reads the user data header at the start of ud into
// p.Concat and returns its length in octets, the length octet included.
// Elements other than the two concatenation ones are skipped; one whose
// length runs past the header is an error.
func (p *PDU) readHeader(ud []byte) (int, error) {
	if len(ud) == 0 {
		return 0, errors.New("sms pdu: the header indicator is set but the user data is empty")
	}
	n := 1 + int(ud[0])
	if n > len(ud) {
		return 0, fmt.Errorf("sms pdu: user data header length %d octets, %d of user data", n-1, len(ud)-1)
	}
	h := ud[1:n]
	for i := 0; i < len(h); {
		if i+2 > len(h) {
			return 0, fmt.Errorf("sms pdu: user data header element at octet %d has no length", i)
		}
		iei, l := h[i], int(h[i+1])
		i += 2
		if i+l > len(h) {
			return 0, fmt.Errorf("sms pdu: user data header element 0x%02X of %d octets overruns the header", iei, l)
		}
		d := h[i : i+l]
		i += l
		var c Concat
		switch {
		case iei == 0x00 && l == 3:
			c = Concat{Ref: uint16(d[0]), Total: int(d[1]), Seq: int(d[2])}
		case iei == 0x08 && l == 4:
			c = Concat{Ref: uint16(d[0])<<8 | uint16(d[1]), Total: int(d[2]), Seq: int(d[3])}
		default:
			continue
		}
		// TS 23.040 9.2.3.24.1: an element whose sequence number is 0 or
		// above the total is ignored, and the part read as whole.
		if c.Total > 0 && c.Seq >= 1 && c.Seq <= c.Total {
			p.Concat = c
		}
	}
	return n, nil
}

// readAddress reads an address field (TS 23.040 9.1.2.5): its length in
// semi-octets, its type, then BCD digits or packed GSM 7-bit characters.
func readAddress(r *pduReader) (string, error) {
	n, err := r.next("address length")
	if err != nil {
		return "", err
	}
	if n > maxAddrDigits {
		return "", fmt.Errorf("sms pdu: address length %d semi-octets, at most %d", n, maxAddrDigits)
	}
	toa, err := r.next("type of address")
	if err != nil {
		return "", err
	}
	b, err := r.take((int(n)+1)/2, "address")
	if err != nil {
		return "", err
	}
	if (toa>>4)&0x07 == 0x05 { // alphanumeric: GSM 7-bit characters packed into the semi-octets
		septets := unpackSeptets(b, 4*int(n)/7)
		// Some centres count whole octets: 7 characters then say 14
		// semi-octets, which hold an eighth septet of zero padding.
		if k := len(septets); k > 0 && septets[k-1] == 0 && 7*k == 8*len(b) {
			septets = septets[:k-1]
		}
		return decodeGSM7(septets), nil
	}
	return decodeNumber(toa, b, int(n)), nil
}

// decodeNumber reads n BCD semi-octets, low nibble first, with "+" in
// front of an international number. 0xF is the filler of an odd count.
func decodeNumber(toa byte, b []byte, n int) string {
	var s strings.Builder
	if (toa>>4)&0x07 == 0x01 {
		s.WriteByte('+')
	}
	for i := 0; i < n && i/2 < len(b); i++ {
		d := b[i/2] >> (4 * (i % 2)) & 0x0F
		if d == 0x0F {
			continue
		}
		s.WriteByte("0123456789*#abc"[d])
	}
	return s.String()
}

// decodeSCTS reads a service centre time stamp (TS 23.040 9.2.3.11):
// swapped BCD year, month, day, hour, minute, second, and the zone in
// quarters of an hour with its sign in bit 3. A stamp that is not a
// valid date gives the zero time, and the message is timed when read.
func decodeSCTS(b []byte) time.Time {
	var v [6]int
	for i := range v {
		lo, hi := int(b[i]&0x0F), int(b[i]>>4)
		if lo > 9 || hi > 9 {
			return time.Time{}
		}
		v[i] = 10*lo + hi
	}
	tens, units := int(b[6]&0x07), int(b[6]>>4)
	if units > 9 {
		return time.Time{}
	}
	quarters := 10*tens + units
	if b[6]&0x08 != 0 {
		quarters = -quarters
	}
	year := 2000 + v[0]
	if v[0] >= 90 {
		year = 1900 + v[0]
	}
	t := time.Date(year, time.Month(v[1]), v[2], v[3], v[4], v[5], 0, time.FixedZone("", quarters*15*60))
	if t.Month() != time.Month(v[1]) || t.Day() != v[2] || t.Hour() != v[3] || t.Minute() != v[4] || t.Second() != v[5] {
		return time.Time{}
	}
	return t
}

// EncodedPDU is one PDU ready for AT+CMGS in PDU mode.
type EncodedPDU struct {
	Hex    string // an empty service centre field ("00": the modem's own), then the TPDU
	Length int    // the TPDU's length in octets, what AT+CMGS=<length> is given
}

// EncodeSubmit builds the SMS-SUBMIT PDUs that send text to a number
// (+digits, or digits in the national format). Text in the GSM 7-bit
// alphabet (extension table included) goes as GSM 7-bit, 160 characters
// to one SMS; anything else as UCS-2, 70 to one SMS. Longer text is split
// into parts of 153 or 67 with a concatenation header carrying ref, never
// between an escape and its character or between a surrogate pair.
func EncodeSubmit(to string, text string, ref uint8) ([]EncodedPDU, error) {
	addr, err := encodeNumber(to)
	if err != nil {
		return nil, err
	}
	return encodeParts(text, ref, func(udhi bool) []byte {
		fo := byte(0x01) // SMS-SUBMIT, no validity period: the centre's default
		if udhi {
			fo |= 0x40
		}
		return append([]byte{fo, 0x00}, addr...) // message reference 0: the modem sets it
	}, nil)
}

// EncodeDeliver builds the SMS-DELIVER PDUs a network would hand a phone
// for text from a sender (+digits, digits, or a name of up to 11 GSM
// characters) stamped at, split and encoded as EncodeSubmit does. It is
// for simulators and tests: a gateway never sends one.
func EncodeDeliver(from string, text string, at time.Time, ref uint8) ([]EncodedPDU, error) {
	addr, err := encodeNumber(from)
	if err != nil {
		addr, err = encodeAlphanumeric(from)
		if err != nil {
			return nil, err
		}
	}
	scts := encodeSCTS(at)
	return encodeParts(text, ref, func(udhi bool) []byte {
		fo := byte(0x04) // SMS-DELIVER, no more messages waiting
		if udhi {
			fo |= 0x40
		}
		return append([]byte{fo}, addr...)
	}, scts)
}

// encodeParts splits text and builds each part: head(udhi) gives the
// fields up to the address, then come PID 0, the DCS, afterDCS (the time
// stamp of a DELIVER), the user data length and the user data.
func encodeParts(text string, ref uint8, head func(udhi bool) []byte, afterDCS []byte) ([]EncodedPDU, error) {
	alphabet, chunks, err := splitText(text)
	if err != nil {
		return nil, err
	}
	dcs := byte(0x00)
	if alphabet == UCS2 {
		dcs = 0x08
	}
	out := make([]EncodedPDU, 0, len(chunks))
	for i, chunk := range chunks {
		var udh []byte
		if len(chunks) > 1 {
			udh = []byte{0x05, 0x00, 0x03, ref, byte(len(chunks)), byte(i + 1)}
		}
		tpdu := head(udh != nil)
		tpdu = append(tpdu, 0x00, dcs)
		tpdu = append(tpdu, afterDCS...)
		var udl int
		var ud []byte
		if alphabet == GSM7 {
			hdrSeptets := (8*len(udh) + 6) / 7
			udl = hdrSeptets + len(chunk)
			ud = append(udh, packSeptets(chunk, 7*hdrSeptets-8*len(udh))...)
		} else {
			ud = append(udh, chunk...)
			udl = len(ud)
		}
		tpdu = append(tpdu, byte(udl))
		tpdu = append(tpdu, ud...)
		out = append(out, EncodedPDU{Hex: strings.ToUpper("00" + hex.EncodeToString(tpdu)), Length: len(tpdu)})
	}
	return out, nil
}

// splitText chooses the alphabet for text and cuts it into the user data
// of each part: septets for GSM 7-bit, big-endian UTF-16 octets for UCS-2.
func splitText(text string) (Alphabet, [][]byte, error) {
	if septets, ok := encodeGSM7(text); ok {
		if len(septets) <= maxUDSeptets {
			return GSM7, [][]byte{septets}, nil
		}
		var chunks [][]byte
		for len(septets) > 0 {
			end := min(partSeptets, len(septets))
			if end < len(septets) && septets[end-1] == gsm7Escape {
				end-- // keep the escape with its character
			}
			chunks = append(chunks, septets[:end])
			septets = septets[end:]
		}
		if len(chunks) > maxParts {
			return 0, nil, fmt.Errorf("sms: text needs %d parts, at most %d", len(chunks), maxParts)
		}
		return GSM7, chunks, nil
	}
	units := utf16.Encode([]rune(text))
	size := len(units)
	if size > singleUnits {
		size = partUnits
	}
	var chunks [][]byte
	for len(units) > 0 {
		end := min(size, len(units))
		if end < len(units) && utf16.IsSurrogate(rune(units[end-1])) && units[end-1] < 0xDC00 {
			end-- // keep a surrogate pair in one part
		}
		b := make([]byte, 2*end)
		for i, u := range units[:end] {
			b[2*i], b[2*i+1] = byte(u>>8), byte(u)
		}
		chunks = append(chunks, b)
		units = units[end:]
	}
	if len(chunks) > maxParts {
		return 0, nil, fmt.Errorf("sms: text needs %d parts, at most %d", len(chunks), maxParts)
	}
	return UCS2, chunks, nil
}

// encodeNumber encodes a phone number's address field: +digits as an
// international number, digits alone as one of unknown type (the network
// reads it in the national format).
func encodeNumber(number string) ([]byte, error) {
	toa := byte(0x81)
	digits := number
	if rest, ok := strings.CutPrefix(number, "+"); ok {
		toa, digits = 0x91, rest
	}
	if digits == "" || len(digits) > maxAddrDigits {
		return nil, fmt.Errorf("sms: number %q: want 1 to %d digits, with + in front when international", number, maxAddrDigits)
	}
	out := []byte{byte(len(digits)), toa}
	for i := 0; i < len(digits); i += 2 {
		lo, hi := digits[i], byte('F')
		if i+1 < len(digits) {
			hi = digits[i+1]
		}
		if lo < '0' || lo > '9' || (hi != 'F' && (hi < '0' || hi > '9')) {
			return nil, fmt.Errorf("sms: number %q: want digits only, with + in front when international", number)
		}
		hv := hi - '0'
		if hi == 'F' {
			hv = 0x0F
		}
		out = append(out, hv<<4|(lo-'0'))
	}
	return out, nil
}

// encodeAlphanumeric encodes a sender's name as an alphanumeric address:
// GSM 7-bit characters packed, the length in semi-octets used.
func encodeAlphanumeric(name string) ([]byte, error) {
	septets, ok := encodeGSM7(name)
	if !ok || len(septets) == 0 || len(septets) > maxAlphaAddress {
		return nil, fmt.Errorf("sms: sender %q: want a number, or a name of 1 to %d GSM characters", name, maxAlphaAddress)
	}
	packed := packSeptets(septets, 0)
	return append([]byte{byte((7*len(septets) + 3) / 4), 0xD0}, packed...), nil
}

// encodeSCTS encodes a time as a service centre time stamp, in the time's
// own zone rounded to quarters of an hour.
func encodeSCTS(t time.Time) []byte {
	swap := func(v int) byte { return byte(v%10)<<4 | byte(v/10%10) }
	_, offset := t.Zone()
	q := offset / (15 * 60)
	sign := byte(0)
	if q < 0 {
		q, sign = -q, 0x08
	}
	return []byte{
		swap(t.Year() % 100), swap(int(t.Month())), swap(t.Day()),
		swap(t.Hour()), swap(t.Minute()), swap(t.Second()),
		swap(q%80) | sign,
	}
}
