package media_test

import (
	"bytes"
	"errors"
	"image"
	"image/jpeg"
	"strings"
	"testing"

	"github.com/vigil-mesh/vigil/incident/media"
	"github.com/vigil-mesh/vigil/incident/media/mediatest"
)

func TestReadMeta(t *testing.T) {
	p := mediatest.Default
	for name, data := range map[string][]byte{"jpeg": mediatest.JPEG(t, p), "png": mediatest.PNG(t, p)} {
		t.Run(name, func(t *testing.T) {
			m, err := media.ReadMeta(data)
			if err != nil {
				t.Fatal(err)
			}
			if m.Taken != p.Taken || m.TakenZone != p.Zone || m.Make != p.Make || m.Model != p.Model || m.Orientation != p.Orientation {
				t.Fatalf("read %+v", m)
			}
			if m.Lat == nil || m.Lon == nil || m.Alt == nil {
				t.Fatalf("no position in %+v", m)
			}
			if abs(*m.Lat - -1313100) > 1 || abs(*m.Lon-36787900) > 1 || *m.Alt != int64(p.AltMetres)*1000 {
				t.Fatalf("position %d, %d, %d mm", *m.Lat, *m.Lon, *m.Alt)
			}
		})
	}
	// No EXIF, or no image at all: nothing to say, no error.
	var plain bytes.Buffer
	_ = jpeg.Encode(&plain, image.NewGray(image.Rect(0, 0, 4, 4)), nil)
	for _, data := range [][]byte{plain.Bytes(), []byte("%PDF-1.7"), nil} {
		if m, err := media.ReadMeta(data); err != nil || !m.Empty() {
			t.Fatalf("ReadMeta(%.8q) = %+v, %v", data, m, err)
		}
	}
	np := p
	np.NoGPS = true
	if m, err := media.ReadMeta(mediatest.JPEG(t, np)); err != nil || m.Lat != nil || m.Taken != p.Taken {
		t.Fatalf("without GPS: %+v, %v", m, err)
	}
}

func abs(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}

// The published copy: no serial anywhere in its bytes, no EXIF but the
// orientation, no GPS, nothing after the image; the pixels decode the
// same as the original's.
func TestStrip(t *testing.T) {
	p := mediatest.Default
	for name, data := range map[string][]byte{"jpeg": mediatest.JPEG(t, p), "png": mediatest.PNG(t, p)} {
		t.Run(name, func(t *testing.T) {
			if !bytes.Contains(data, []byte(p.Serial)) {
				t.Fatal("the fixture carries no serial")
			}
			out, err := media.Strip(data)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range []string{p.Serial, p.Make, p.Model, p.Taken, "xmpmeta", "Exif\x00\x00MM\x00\x2a\x00\x00\x00\x08\x00\x02"} {
				if bytes.Contains(out, []byte(s)) {
					t.Errorf("the stripped copy still holds %q", s)
				}
			}
			m, err := media.ReadMeta(out)
			if err != nil {
				t.Fatal(err)
			}
			want := media.Meta{}
			if name == "jpeg" {
				want.Orientation = p.Orientation // the one field kept, so the copy shows upright
			}
			if m != want {
				t.Fatalf("the stripped copy's EXIF says %+v", m)
			}
			a, _, err := image.Decode(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			b, _, err := image.Decode(bytes.NewReader(out))
			if err != nil {
				t.Fatal(err)
			}
			if a.Bounds() != b.Bounds() || a.At(5, 5) != b.At(5, 5) {
				t.Fatal("the stripped copy's pixels differ")
			}
			again, err := media.Strip(out)
			if err != nil || !bytes.Equal(again, out) {
				t.Fatalf("stripping twice changes the copy: %v", err)
			}
		})
	}
}

func TestStripRefuses(t *testing.T) {
	jpg := mediatest.JPEG(t, mediatest.Default)
	for _, c := range []struct {
		name string
		data []byte
		want error
	}{
		{"pdf", []byte("%PDF-1.7\n"), media.ErrNotImage},
		{"empty", nil, media.ErrNotImage},
		{"jpeg cut short", jpg[:len(jpg)/2], media.ErrMalformed},
		{"jpeg segment overruns", append([]byte{0xFF, 0xD8, 0xFF, 0xE1, 0xFF, 0xFF}, make([]byte, 10)...), media.ErrMalformed},
		{"png bad crc", append(append([]byte("\x89PNG\r\n\x1a\n"), mediatest.Chunk("IHDR", make([]byte, 13))[:20]...), 0, 0, 0, 0), media.ErrMalformed},
		{"png huge chunk", append([]byte("\x89PNG\r\n\x1a\n"), 0x7F, 0xFF, 0xFF, 0xFF, 'I', 'D', 'A', 'T'), media.ErrMalformed},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err := media.Strip(c.data); !errors.Is(err, c.want) {
				t.Fatalf("Strip = %v, want %v", err, c.want)
			}
		})
	}
}

// FuzzMedia: whatever bytes a member attaches, reading their metadata and
// stripping them ends in a result or an error, never a panic; a stripped
// copy strips to itself and holds no EXIF but an orientation.
func FuzzMedia(f *testing.F) {
	f.Add(mediatest.JPEG(f, mediatest.Default))
	f.Add(mediatest.PNG(f, mediatest.Default))
	f.Add([]byte{0xFF, 0xD8, 0xFF, 0xE1, 0x00, 0x10, 'E', 'x', 'i', 'f', 0, 0, 'M', 'M', 0, 42, 0, 0, 0, 8, 0, 0, 0xFF, 0xD9})
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = media.ReadMeta(data)
		out, err := media.Strip(data)
		if err != nil {
			return
		}
		m, err := media.ReadMeta(out)
		if err != nil || (m != media.Meta{Orientation: m.Orientation}) {
			t.Fatalf("a stripped copy reads as %+v, %v", m, err)
		}
		again, err := media.Strip(out)
		if err != nil || !bytes.Equal(again, out) {
			t.Fatalf("stripping a stripped copy: %v", err)
		}
	})
}

// Hostile EXIF: an IFD chain that links back to itself ends (the
// library keeps the offsets it visited), and a GPS position whose
// rationals divide by zero is no position.
func TestReadMetaHostile(t *testing.T) {
	jpegWith := func(tiff []byte) []byte {
		seg := append([]byte("Exif\x00\x00"), tiff...)
		b := append([]byte{0xFF, 0xD8, 0xFF, 0xE1, byte((len(seg) + 2) >> 8), byte(len(seg) + 2)}, seg...)
		return append(b, 0xFF, 0xD9)
	}
	// Big-endian TIFF; IFD0 at 8 holds Make "Abc" and names itself as the next IFD.
	cycle := []byte{'M', 'M', 0, 42, 0, 0, 0, 8, 0, 1, 0x01, 0x0F, 0, 2, 0, 0, 0, 4, 'A', 'b', 'c', 0, 0, 0, 0, 8}
	if m, err := media.ReadMeta(jpegWith(cycle)); err != nil || m.Make != "Abc" {
		t.Fatalf("a cyclic IFD chain: %+v, %v", m, err)
	}
	big := append(append([]byte("\x89PNG\r\n\x1a\n"), mediatest.Chunk("IHDR", make([]byte, 13))...),
		mediatest.Chunk("eXIf", make([]byte, media.MaxExifBytes+1))...)
	big = append(big, mediatest.Chunk("IEND", nil)...)
	if _, err := media.ReadMeta(big); !errors.Is(err, media.ErrMalformed) || !strings.Contains(err.Error(), "eXIf chunk of") {
		t.Fatalf("an eXIf chunk larger than any camera writes: %v", err)
	}
	p := mediatest.Default
	p.Lat = 0 // written as 0/1 degrees: fine; a zero denominator is not
	data := mediatest.JPEG(t, p)
	if m, err := media.ReadMeta(data); err != nil || m.Lat == nil || *m.Lat != 0 {
		t.Fatalf("the equator: %+v, %v", m, err)
	}
	i := bytes.Index(data, []byte{0, 0, 0, 0, 0, 0, 0, 1}) // 0/1, the latitude's degrees
	if i < 0 {
		t.Fatal("no 0/1 rational in the fixture")
	}
	data[i+7] = 0 // 0/0
	if m, err := media.ReadMeta(data); err != nil || m.Lat != nil || m.Make != p.Make {
		t.Fatalf("a position dividing by zero: %+v, %v", m, err)
	}
}
