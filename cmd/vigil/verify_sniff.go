package main

import (
	"archive/zip"
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"unicode/utf8"

	"github.com/vigil-mesh/vigil/incident/bundle"
)

// The kinds of file `vigil verify FILE` tells apart before it parses one.
const (
	fileBundle    = "bundle"
	fileEvidence  = "evidence"
	fileJSONL     = "jsonl"
	filePDF       = "pdf"
	fileEncrypted = "encrypted bundle"
	fileXLSX      = "xlsx"
	fileZIP       = "zip"
	fileImage     = "image"
	fileGeoJSON   = "geojson"
	fileJSON      = "json"
	fileText      = "text"
	fileBinary    = "binary"
)

// sniffFile says what data is, from its first bytes (and a ZIP's names):
// one of the file* kinds, and for an image its format.
func sniffFile(data []byte) (kind, detail string) {
	switch {
	case bytes.HasPrefix(data, bundle.Magic):
		return fileBundle, ""
	case bytes.HasPrefix(data, []byte("%PDF-")):
		return filePDF, ""
	case bytes.HasPrefix(data, []byte("age-encryption.org/")), bytes.HasPrefix(data, []byte("-----BEGIN AGE ENCRYPTED FILE-----")):
		return fileEncrypted, ""
	case bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")):
		return fileImage, "PNG"
	case bytes.HasPrefix(data, []byte("\xff\xd8\xff")):
		return fileImage, "JPEG"
	case bytes.HasPrefix(data, []byte("GIF8")):
		return fileImage, "GIF"
	case len(data) >= 12 && bytes.Equal(data[:4], []byte("RIFF")) && bytes.Equal(data[8:12], []byte("WEBP")):
		return fileImage, "WebP"
	case bytes.HasPrefix(data, []byte("PK\x03\x04")):
		zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			return fileZIP, ""
		}
		xlsx := false
		for _, f := range zr.File {
			switch {
			case f.Name == "manifest.json":
				return fileEvidence, ""
			case f.Name == "xl/workbook.xml":
				xlsx = true
			}
		}
		if xlsx {
			return fileXLSX, ""
		}
		return fileZIP, ""
	}
	text := bytes.TrimLeft(data, " \t\r\n\ufeff")
	head := text
	if len(head) > 4096 {
		head = head[:4096]
	}
	if bytes.IndexByte(head, 0) >= 0 || !utf8.Valid(trimPartialRune(head)) {
		return fileBinary, ""
	}
	if len(text) > 0 && text[0] == '{' {
		sc := bufio.NewScanner(bytes.NewReader(text))
		sc.Buffer(make([]byte, 0, 1<<16), 16<<20)
		sc.Scan()
		var probe struct {
			Type string `json:"type"`
		}
		if json.Unmarshal(sc.Bytes(), &probe) != nil {
			if json.Valid(text) {
				var whole struct {
					Type string `json:"type"`
				}
				if json.Unmarshal(text, &whole) == nil && (whole.Type == "FeatureCollection" || whole.Type == "Feature") {
					return fileGeoJSON, ""
				}
				return fileJSON, ""
			}
			// A JSONL export with a damaged first line is still one:
			// verify names each bad line.
			for i := 0; i < 20 && sc.Scan(); i++ {
				if l := bytes.TrimSpace(sc.Bytes()); len(l) > 0 && l[0] == '{' && json.Valid(l) {
					return fileJSONL, ""
				}
			}
			return fileText, ""
		}
		if probe.Type == "FeatureCollection" || probe.Type == "Feature" {
			return fileGeoJSON, ""
		}
		return fileJSONL, ""
	}
	return fileText, ""
}

// trimPartialRune drops a rune cut in half at the end of a prefix.
func trimPartialRune(b []byte) []byte {
	for i := 0; i < utf8.UTFMax && len(b) > 0; i++ {
		if r, _ := utf8.DecodeLastRune(b); r != utf8.RuneError {
			return b
		}
		b = b[:len(b)-1]
	}
	return b
}

// verifyReads is what verify FILE expects, for the messages below.
const verifyReads = "verify FILE reads a bundle (.vgb), a JSONL export or an evidence package"

// checkVerifiable returns nil when verify can read data (a bundle, a JSONL
// export, an evidence package), else one line that names what the file is
// and what to do instead.
func checkVerifiable(path string, data []byte) error {
	kind, detail := sniffFile(data)
	switch kind {
	case fileBundle, fileEvidence, fileJSONL:
		return nil
	case filePDF:
		return fmt.Errorf("%s is a PDF: to check a report printed in a PDF export, save its QR code as an image (a screenshot or a photo) and run `vigil verify --qr IMAGE`; %s", path, verifyReads)
	case fileImage:
		return fmt.Errorf("%s is a %s image: to check the QR code in it, run `vigil verify --qr %s`; %s", path, detail, path, verifyReads)
	case fileEncrypted:
		return fmt.Errorf("%s is an encrypted bundle: verify reads plain bundles; import it with `vigil bundle import %s` on a device it was sent to, or ask for a plain bundle or a JSONL export", path, path)
	case fileXLSX:
		return fmt.Errorf("%s is an XLSX spreadsheet, which holds no signatures; %s (`vigil export --format jsonl` or `--format evidence`)", path, verifyReads)
	case fileZIP:
		return fmt.Errorf("%s is a ZIP archive but not an evidence package (it has no manifest.json); %s", path, verifyReads)
	case fileGeoJSON:
		return fmt.Errorf("%s is a GeoJSON export, which holds no signatures; %s (`vigil export --format jsonl`)", path, verifyReads)
	case fileJSON:
		return fmt.Errorf("%s is a JSON document, not JSON Lines (one record per line); %s", path, verifyReads)
	case fileText:
		return fmt.Errorf("%s is text but not a JSONL export (its first line is not a JSON object; a CSV export holds no signatures); %s", path, verifyReads)
	}
	return fmt.Errorf("%s is not a file verify knows (binary data, not a bundle nor an evidence package); %s, or with --qr a PNG or JPEG image of a QR code", path, verifyReads)
}
