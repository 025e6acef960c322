// Package mediatest makes photos that carry what a phone's camera writes
// into them (EXIF time, GPS position, camera, body serial number, XMP, a
// comment, a trailer after the image), for tests that prove what a
// published copy leaves out. Tests only.
package mediatest

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"testing"

	exif "github.com/dsoprea/go-exif/v3"
	exifcommon "github.com/dsoprea/go-exif/v3/common"
)

// Photo says what a made photo carries.
type Photo struct {
	Make, Model  string
	Serial       string // BodySerialNumber; also written into the XMP, a comment and a trailer
	Taken, Zone  string // DateTimeOriginal, OffsetTimeOriginal
	Lat, Lon     float64
	AltMetres    uint32
	Orientation  uint16
	NoGPS        bool
	PixelSeed    uint8 // varies the pixels, so two photos differ
	Width, Hight int
}

// Default is a phone photo at Kibra, Nairobi, with a body serial number.
var Default = Photo{Make: "Tecno", Model: "Spark 10", Serial: "SN-7Q4K2X9", Taken: "2026:12:06 07:41:09", Zone: "+03:00",
	Lat: -1.3131, Lon: 36.7879, AltMetres: 1712, Orientation: 6}

// Exif is the TIFF-structured EXIF blob p describes.
func Exif(tb testing.TB, p Photo) []byte {
	tb.Helper()
	im, err := exifcommon.NewIfdMappingWithStandard()
	if err != nil {
		tb.Fatal(err)
	}
	ti := exif.NewTagIndex()
	root := exif.NewIfdBuilder(im, ti, exifcommon.IfdStandardIfdIdentity, binary.BigEndian)
	must := func(err error) {
		tb.Helper()
		if err != nil {
			tb.Fatal(err)
		}
	}
	must(root.AddStandardWithName("Make", p.Make))
	must(root.AddStandardWithName("Model", p.Model))
	if p.Orientation != 0 {
		must(root.AddStandardWithName("Orientation", []uint16{p.Orientation}))
	}
	ex, err := exif.GetOrCreateIbFromRootIb(root, "IFD/Exif")
	must(err)
	must(ex.AddStandardWithName("DateTimeOriginal", p.Taken))
	if p.Zone != "" {
		must(ex.AddStandardWithName("OffsetTimeOriginal", p.Zone))
	}
	if p.Serial != "" {
		must(ex.AddStandardWithName("BodySerialNumber", p.Serial))
	}
	if !p.NoGPS {
		gps, err := exif.GetOrCreateIbFromRootIb(root, "IFD/GPSInfo")
		must(err)
		must(gps.AddStandardWithName("GPSVersionID", []uint8{2, 3, 0, 0}))
		ref := func(v float64, pos, neg string) string {
			if v < 0 {
				return neg
			}
			return pos
		}
		must(gps.AddStandardWithName("GPSLatitudeRef", ref(p.Lat, "N", "S")))
		must(gps.AddStandardWithName("GPSLatitude", dms(p.Lat)))
		must(gps.AddStandardWithName("GPSLongitudeRef", ref(p.Lon, "E", "W")))
		must(gps.AddStandardWithName("GPSLongitude", dms(p.Lon)))
		must(gps.AddStandardWithName("GPSAltitudeRef", []uint8{0}))
		must(gps.AddStandardWithName("GPSAltitude", []exifcommon.Rational{{Numerator: p.AltMetres * 10, Denominator: 10}}))
	}
	blob, err := exif.NewIfdByteEncoder().EncodeToExif(root)
	must(err)
	return blob
}

// dms is a coordinate as EXIF's degrees, minutes and seconds (1/10000 s).
func dms(v float64) []exifcommon.Rational {
	if v < 0 {
		v = -v
	}
	d := uint32(v)
	m := uint32((v - float64(d)) * 60)
	s := (v - float64(d) - float64(m)/60) * 3600
	return []exifcommon.Rational{{Numerator: d, Denominator: 1}, {Numerator: m, Denominator: 1},
		{Numerator: uint32(s*10000 + 0.5), Denominator: 10000}}
}

func pixels(p Photo) image.Image {
	w, h := p.Width, p.Hight
	if w == 0 {
		w, h = 16, 12
	}
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(x*16) + p.PixelSeed, uint8(y * 20), 90, 255})
		}
	}
	return img
}

// JPEG is a JPEG photo carrying p: a JFIF header with a thumbnail field,
// the EXIF, an XMP packet and a comment naming the serial, and a trailer
// after the end of image (as some phones append) naming it again.
func JPEG(tb testing.TB, p Photo) []byte {
	tb.Helper()
	var enc bytes.Buffer
	if err := jpeg.Encode(&enc, pixels(p), &jpeg.Options{Quality: 90}); err != nil {
		tb.Fatal(err)
	}
	body := enc.Bytes()[2:] // after SOI
	var b bytes.Buffer
	b.Write([]byte{0xFF, 0xD8})
	segment(&b, 0xE0, []byte("JFIF\x00\x01\x01\x01\x00\x48\x00\x48\x00\x00"))
	segment(&b, 0xE1, append([]byte("Exif\x00\x00"), Exif(tb, p)...))
	xmp := `http://ns.adobe.com/xap/1.0/` + "\x00" + `<x:xmpmeta><rdf:Description exifEX:BodySerialNumber="` + p.Serial +
		`" exif:GPSLatitude="1,18.786S"/></x:xmpmeta>`
	segment(&b, 0xE1, []byte(xmp))
	segment(&b, 0xFE, []byte("owner "+p.Serial))
	b.Write(body)
	b.WriteString("SEFT trailer " + p.Serial)
	return b.Bytes()
}

// PNG is a PNG photo carrying p's EXIF (eXIf) and text chunks naming the
// serial.
func PNG(tb testing.TB, p Photo) []byte {
	tb.Helper()
	var enc bytes.Buffer
	if err := png.Encode(&enc, pixels(p)); err != nil {
		tb.Fatal(err)
	}
	data := enc.Bytes()
	ihdrEnd := 8 + 12 + 13 // signature, IHDR
	var b bytes.Buffer
	b.Write(data[:ihdrEnd])
	b.Write(Chunk("eXIf", Exif(tb, p)))
	b.Write(Chunk("tEXt", []byte("Comment\x00serial "+p.Serial)))
	b.Write(Chunk("iTXt", []byte("XML:com.adobe.xmp\x00\x00\x00\x00\x00<x:xmpmeta>"+p.Serial+"</x:xmpmeta>")))
	b.Write(data[ihdrEnd:])
	return b.Bytes()
}

func segment(b *bytes.Buffer, marker byte, payload []byte) {
	b.Write([]byte{0xFF, marker})
	_ = binary.Write(b, binary.BigEndian, uint16(len(payload)+2))
	b.Write(payload)
}

// Chunk encodes one PNG chunk with its CRC.
func Chunk(typ string, data []byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
	b = append(b, typ...)
	b = append(b, data...)
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b[4:]))
}
