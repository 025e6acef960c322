package export

// QR codes that carry one signed record: the paper trail. The PDF log
// prints one beside each report; `vigil verify --qr` reads a photo or scan
// of it back and checks the signature offline.
//
// Writing uses github.com/skip2/go-qrcode (already used for invites).
// Reading uses github.com/makiuchi-d/gozxing, the pure-Go port of ZXing,
// the reference open-source barcode reader; it finds codes in photos and
// scans, rotated or skewed, and can read several codes on one page.
//
// The text is QRPrefix and the record's signed encoding in RFC 4648 base32,
// upper case, without padding. Those characters are all in the QR
// alphanumeric mode (5.5 bits a character, 8.8 bits a record byte), which is
// denser than base64 in byte mode (10.7) and, unlike raw bytes, comes
// through any phone scanner app unchanged as text.

import (
	"bytes"
	"encoding/base32"
	"encoding/base64"
	"errors"
	"fmt"
	"image"
	_ "image/jpeg" // verify --qr reads JPEG photos
	_ "image/png"
	"io"
	"strings"

	"github.com/makiuchi-d/gozxing"
	multiqr "github.com/makiuchi-d/gozxing/multi/qrcode"
	zxqr "github.com/makiuchi-d/gozxing/qrcode"
	qrcode "github.com/skip2/go-qrcode"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/bundle"
)

// QRPrefix starts the text of every record QR code; the 1 is the version of
// this text form.
const QRPrefix = "VIGIL1:"

// qrCompactVersion is the largest QR version (21+4·v modules a side) worth
// the extra redundancy of level Q; larger records use level M, then L.
const qrCompactVersion = 20

var qrBase32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// ErrQRTooLarge is returned by RecordQR for a record that does not fit in
// one QR code (about 2.6 KB at the lowest error correction).
var ErrQRTooLarge = errors.New("the record is too large for one QR code")

// ErrNoQR is returned when an image holds no QR code that can be read.
var ErrNoQR = errors.New("no QR code found in the image")

// QRText is the text a record QR code holds.
func QRText(raw []byte) string { return QRPrefix + qrBase32.EncodeToString(raw) }

// ParseQRText returns the record bytes in a QR code's text: QRPrefix and
// base32 (upper or lower case). Base64, as in a JSONL export's record
// field, is accepted as well, with or without the prefix.
func ParseQRText(text string) ([]byte, error) {
	s := strings.TrimSpace(text)
	hadPrefix := len(s) >= len(QRPrefix) && strings.EqualFold(s[:len(QRPrefix)], QRPrefix)
	if hadPrefix {
		s = s[len(QRPrefix):]
	}
	if s == "" {
		return nil, errors.New("the QR code holds no record")
	}
	if raw, err := qrBase32.DecodeString(strings.ToUpper(s)); err == nil {
		return raw, nil
	}
	if raw, err := base64.StdEncoding.DecodeString(s); err == nil {
		return raw, nil
	}
	if hadPrefix {
		return nil, errors.New("the QR code's record is not valid base32")
	}
	return nil, fmt.Errorf("the QR code does not hold a Vigil record (it starts %q)", clip(text, 24))
}

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}

// RecordQR encodes a signed record as a QR code: at level Q while that
// keeps the code small, else M, else L. A record that fits none gives
// ErrQRTooLarge.
func RecordQR(raw []byte) (*qrcode.QRCode, error) {
	text := QRText(raw)
	for _, level := range []qrcode.RecoveryLevel{qrcode.High, qrcode.Medium, qrcode.Low} {
		q, err := qrcode.New(text, level)
		if err != nil {
			continue // too long at this level
		}
		if level == qrcode.High && q.VersionNumber > qrCompactVersion {
			continue
		}
		return q, nil
	}
	return nil, fmt.Errorf("%w: it is %d bytes", ErrQRTooLarge, len(raw))
}

// ScanQR returns the text of every QR code found in img, in no particular
// order, each once. It gives ErrNoQR when there is none it can read.
func ScanQR(img image.Image) ([]string, error) {
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		return nil, fmt.Errorf("read the image: %w", err)
	}
	hard := map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_TRY_HARDER: true}
	var texts []string
	seen := map[string]bool{}
	keep := func(s string) {
		if !seen[s] {
			seen[s] = true
			texts = append(texts, s)
		}
	}
	if rs, err := multiqr.NewQRCodeMultiReader().DecodeMultiple(bmp, hard); err == nil {
		for _, r := range rs {
			keep(r.GetText())
		}
	}
	if len(texts) > 0 {
		return texts, nil
	}
	// The multi reader misses some codes the single reader finds; a clean
	// image of one code alone reads best as a pure barcode.
	pure := map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_TRY_HARDER: true, gozxing.DecodeHintType_PURE_BARCODE: true}
	for _, hints := range []map[gozxing.DecodeHintType]any{hard, pure} {
		if r, err := zxqr.NewQRCodeReader().Decode(bmp, hints); err == nil {
			keep(r.GetText())
			return texts, nil
		}
	}
	return nil, ErrNoQR
}

// VerifyQR reads the Vigil record QR code in img and checks the record on
// its own with incident.Decode: canonical encoding, size, structure and
// the author's signature. Whether the author was a member of the mission
// needs the mission's records: see VerifyInMission. When the image holds
// several record codes, VerifyQR checks the first it finds; use ScanQR and
// VerifyQRText for all of them.
//
// A record that fails gives a BAD verdict (named by the hash of the bytes
// read) and a nil record; an error means no record could be read at all.
func VerifyQR(img image.Image) (Verdict, *incident.Signed, error) {
	texts, err := ScanQR(img)
	if err != nil {
		return Verdict{}, nil, err
	}
	var first error
	for _, t := range texts {
		v, rec, err := VerifyQRText(t)
		if err == nil {
			return v, rec, nil
		}
		if first == nil {
			first = err
		}
	}
	return Verdict{}, nil, first
}

// VerifyQRText is VerifyQR for the text a QR code holds.
func VerifyQRText(text string) (Verdict, *incident.Signed, error) {
	raw, err := ParseQRText(text)
	if err != nil {
		return Verdict{}, nil, err
	}
	rec, err := incident.Decode(raw)
	if err != nil {
		v := Verdict{ID: incident.IDOf(raw).String(), Reason: err.Error()}
		if incident.IsNewer(err) {
			v.unchecked(err)
		}
		return v, nil, nil
	}
	v := Verdict{ID: rec.ID.String(), OK: true}
	v.setNewer(rec.Newer())
	return v, rec, nil
}

// VerifyInMission checks a record against the mission records in chain (a
// bundle or a JSONL export, as Verify reads): its signature, and that its
// author's membership chain leads back to the genesis. With mission set,
// the chain must hold that mission's genesis. It returns the record's
// verdict and the chain's mission (ID and name). An error means chain
// could not be read.
func VerifyInMission(raw []byte, chain io.Reader, mission *incident.ID) (Verdict, *Report, error) {
	data, err := io.ReadAll(io.LimitReader(chain, MaxVerifyBytes+1))
	if err != nil {
		return Verdict{}, nil, err
	}
	if len(data) > MaxVerifyBytes {
		return Verdict{}, nil, fmt.Errorf("file is larger than %d bytes", MaxVerifyBytes)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return Verdict{}, nil, errors.New("the file is empty")
	}
	v := &verifier{mission: mission, byID: map[incident.ID]*entry{}}
	if bytes.HasPrefix(data, bundle.Magic) {
		v.rep.Format = "bundle"
		v.readBundle(bytes.NewReader(data), int64(len(data)))
	} else {
		v.rep.Format = "jsonl"
		if err := v.readJSONL(bytes.NewReader(data)); err != nil {
			return Verdict{}, nil, err
		}
	}
	e := v.add(raw, "")
	v.judge()
	return *e.verdict, &v.rep, nil
}
