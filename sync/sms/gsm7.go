package sms

// The GSM 7-bit default alphabet and its extension table (3GPP TS 23.038,
// formerly GSM 03.38, section 6.2.1), and the packing of septets into
// octets (section 6.1.2.1.1).
//
// Hand-written rather than taken from a library: the tables are 138
// characters, the packing is a dozen lines, and the decoder has to meet
// this package's bounds on hostile input (lengths checked against the
// buffer, never a panic), which is easier to see in code we hold than to
// audit in a dependency that would be the only one of its kind here.

const (
	gsm7Escape = 0x1B // switches the next septet to the extension table
	gsm7Space  = 0x20
)

// gsm7Basic is the default alphabet, indexed by septet. 0x1B is the
// escape to the extension table; it never decodes to itself.
var gsm7Basic = [128]rune{
	'@', '£', '$', '¥', 'è', 'é', 'ù', 'ì', 'ò', 'Ç', '\n', 'Ø', 'ø', '\r', 'Å', 'å',
	'Δ', '_', 'Φ', 'Γ', 'Λ', 'Ω', 'Π', 'Ψ', 'Σ', 'Θ', 'Ξ', 0x1B, 'Æ', 'æ', 'ß', 'É',
	' ', '!', '"', '#', '¤', '%', '&', '\'', '(', ')', '*', '+', ',', '-', '.', '/',
	'0', '1', '2', '3', '4', '5', '6', '7', '8', '9', ':', ';', '<', '=', '>', '?',
	'¡', 'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J', 'K', 'L', 'M', 'N', 'O',
	'P', 'Q', 'R', 'S', 'T', 'U', 'V', 'W', 'X', 'Y', 'Z', 'Ä', 'Ö', 'Ñ', 'Ü', '§',
	'¿', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o',
	'p', 'q', 'r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z', 'ä', 'ö', 'ñ', 'ü', 'à',
}

// gsm7Ext is the extension table: the septet after an escape.
var gsm7Ext = map[byte]rune{
	0x0A: '\f', // page break
	0x14: '^',
	0x28: '{',
	0x29: '}',
	0x2F: '\\',
	0x3C: '[',
	0x3D: '~',
	0x3E: ']',
	0x40: '|',
	0x65: '€',
}

// gsm7Encode maps each rune to its septet, or to an escape and a septet
// for the extension table's characters.
var gsm7Encode = func() map[rune][]byte {
	m := make(map[rune][]byte, 138)
	for i, r := range gsm7Basic {
		if i != gsm7Escape {
			m[r] = []byte{byte(i)}
		}
	}
	for b, r := range gsm7Ext {
		m[r] = []byte{gsm7Escape, b}
	}
	return m
}()

// encodeGSM7 returns text as septets (one per byte, escapes included),
// and false when a character is in neither table.
func encodeGSM7(text string) ([]byte, bool) {
	out := make([]byte, 0, len(text))
	for _, r := range text {
		s, ok := gsm7Encode[r]
		if !ok {
			return nil, false
		}
		out = append(out, s...)
	}
	return out, true
}

// gsm7Len is the number of septets text takes, and false when a
// character is outside the alphabet.
func gsm7Len(text string) (int, bool) {
	n := 0
	for _, r := range text {
		s, ok := gsm7Encode[r]
		if !ok {
			return 0, false
		}
		n += len(s)
	}
	return n, true
}

// decodeGSM7 turns septets into text. An escape before a code the
// extension table does not define shows the default alphabet's character
// for that code, and an escape before an escape (reserved for a further
// table) or at the very end shows a space, as TS 23.038 asks of a
// receiver.
func decodeGSM7(septets []byte) string {
	out := make([]rune, 0, len(septets))
	for i := 0; i < len(septets); i++ {
		s := septets[i] & 0x7F
		if s != gsm7Escape {
			out = append(out, gsm7Basic[s])
			continue
		}
		if i+1 == len(septets) {
			out = append(out, ' ')
			continue
		}
		i++
		next := septets[i] & 0x7F
		switch r, ok := gsm7Ext[next]; {
		case ok:
			out = append(out, r)
		case next == gsm7Escape:
			out = append(out, ' ')
		default:
			out = append(out, gsm7Basic[next])
		}
	}
	return string(out)
}

// packSeptets packs septets into octets, least significant bit first,
// after fill zero bits (0 to 6) that align the text to a septet boundary
// after a user data header.
func packSeptets(septets []byte, fill int) []byte {
	bits := fill + 7*len(septets)
	out := make([]byte, (bits+7)/8)
	for i, s := range septets {
		p := fill + 7*i
		v := uint16(s&0x7F) << (p % 8)
		out[p/8] |= byte(v)
		if p/8+1 < len(out) {
			out[p/8+1] |= byte(v >> 8)
		}
	}
	return out
}

// unpackSeptets reads n septets from data, least significant bit first.
// The caller has checked that data holds 7*n bits.
func unpackSeptets(data []byte, n int) []byte {
	out := make([]byte, n)
	for i := range out {
		p := 7 * i
		v := uint16(data[p/8])
		if p/8+1 < len(data) {
			v |= uint16(data[p/8+1]) << 8
		}
		out[i] = byte(v>>(p%8)) & 0x7F
	}
	return out
}

// septetOctets is how many octets n septets take when packed.
func septetOctets(n int) int { return (7*n + 7) / 8 }
