package export

import (
	"archive/zip"
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/vigil-mesh/vigil/incident"
)

// An evidence package is one ZIP archive (docs/evidence-format.md is the
// description for third parties):
//
//	manifest.json        what is in the package, with the SHA-256 of every file
//	manifest.sig         Ed25519 signature by the exporting coordinator over
//	                     "vigil/evidence/v1\x00" || manifest.json
//	records/<id>.cbor    every selected record in its signed encoding, with the
//	                     mission, member and revocation records that authorise
//	                     their authors
//	attachments/<sha256> attachment content, named by its hash
//	checkpoints/<id>.ids the sorted IDs a checkpoint covered (32 bytes each)
//	keys/<id>.key        format 2 only: the age file key of sealed record <id>,
//	                     32 hex digits, disclosed by the exporter
//	files/<sha256>[.ext] format 2 only: the plaintext of a sealed file, named
//	                     by its SHA-256 (the hash its disclosed report gives)
//	tables/<name>        the observation tables made from the records:
//	                     stations.csv, tallies.csv and .jsonl, checklists.csv
//	                     and .jsonl, when the mission has rows for them
//
// ZIP because every operating system opens it and archive/zip is in the
// standard library; entries are stored, not compressed (records are signed
// random-looking bytes, and Store keeps the format trivially reproducible).

// EvidenceFormat names the format of a package that discloses nothing
// sealed; EvidenceFormatDisclosed one that carries file keys and opened
// files (keys/, files/). A package is written in format 1 unless it
// discloses something, so that verifiers that read format 1 only still
// check every package they can check in full; they refuse a format 2
// package by its format, rather than call it verified while a plaintext
// copy it cannot check sits beside the records.
const (
	EvidenceFormat          = "vigil-evidence/1"
	EvidenceFormatDisclosed = "vigil-evidence/2"
)

const evidenceDomain = "vigil/evidence/v1\x00"

// Manifest is manifest.json.
type Manifest struct {
	Format      string         `json:"format"`
	Mission     string         `json:"mission"`
	MissionName string         `json:"mission_name"`
	ExportedAt  string         `json:"exported_at"`
	Exporter    string         `json:"exporter"`
	Files       []ManifestFile `json:"files"`
}

// ManifestFile is one entry of the manifest.
type ManifestFile struct {
	Path       string `json:"path"`
	SHA256     string `json:"sha256"`
	Size       int    `json:"size"`
	Kind       string `json:"kind,omitempty"`       // records
	ID         string `json:"id,omitempty"`         // records
	Checkpoint string `json:"checkpoint,omitempty"` // checkpoint ID lists
}

// CheckpointCover is a checkpoint record and the IDs it covered.
type CheckpointCover struct {
	Record  *incident.Signed
	Covered []incident.ID
}

// Evidence is what WriteEvidence packs.
type Evidence struct {
	Mission     *incident.MissionState
	Records     []*incident.Signed // selected records and what authorises them
	Attachments map[[32]byte][]byte
	Checkpoints []CheckpointCover
	Signer      *incident.Signer // the exporting coordinator
	Now         time.Time
	// Keys are the disclosed age file keys of sealed records, by record
	// ID; Plain the opened content of sealed files, by plaintext SHA-256.
	// Either makes the package format 2.
	Keys  map[incident.ID][]byte
	Plain map[[32]byte]PlainFile
	// Tables are files made from the records (EvidenceTables), bound by
	// the manifest like every other file.
	Tables []EvidenceFile
}

// EvidenceFile is one file of a package, by its path.
type EvidenceFile struct {
	Path string
	Data []byte
}

// EvidenceTables is the folder of a package's observation tables.
const EvidenceTables = "tables/"

// PlainFile is the opened content of a sealed file, with the type its
// report gives (which picks the entry's file name extension).
type PlainFile struct {
	Data []byte
	Mime string
}

// plainExt gives the opened copy of a file an extension its type names, so
// that a person opens the photo with a double click. Only these: a name
// the report's author chose never becomes a path.
var plainExt = map[string]string{
	"image/jpeg": ".jpg", "image/png": ".png", "image/gif": ".gif", "image/webp": ".webp", "image/heic": ".heic",
	"application/pdf": ".pdf", "video/mp4": ".mp4", "audio/mpeg": ".mp3", "audio/mp4": ".m4a", "audio/ogg": ".ogg",
	"text/plain": ".txt",
}

// plainEntry is the path of a sealed file's opened copy.
func plainEntry(sum [32]byte, mime string) string {
	if i := strings.IndexByte(mime, ';'); i >= 0 {
		mime = mime[:i]
	}
	return "files/" + hex.EncodeToString(sum[:]) + plainExt[strings.TrimSpace(strings.ToLower(mime))]
}

// WriteEvidence writes an evidence package.
func WriteEvidence(w io.Writer, ev Evidence) error {
	zw := zip.NewWriter(w)
	format := EvidenceFormat
	if len(ev.Keys) > 0 || len(ev.Plain) > 0 {
		format = EvidenceFormatDisclosed
	}
	man := Manifest{Format: format, Mission: ev.Mission.ID.String(), MissionName: ev.Mission.Mission.Name,
		ExportedAt: ev.Now.UTC().Format(time.RFC3339), Exporter: ev.Signer.Author().String()}
	add := func(name string, data []byte, f ManifestFile) error {
		hw, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Store, Modified: ev.Now})
		if err != nil {
			return err
		}
		if _, err := hw.Write(data); err != nil {
			return err
		}
		sum := sha256.Sum256(data)
		f.Path, f.SHA256, f.Size = name, hex.EncodeToString(sum[:]), len(data)
		man.Files = append(man.Files, f)
		return nil
	}
	seen := map[incident.ID]bool{}
	recs := append([]*incident.Signed(nil), ev.Records...)
	sort.SliceStable(recs, func(i, j int) bool {
		if a, b := recs[i].Kind.MissionKind(), recs[j].Kind.MissionKind(); a != b {
			return a
		}
		return incident.Before(recs[i], recs[j])
	})
	for _, r := range recs {
		if seen[r.ID] {
			continue
		}
		seen[r.ID] = true
		if err := add("records/"+r.ID.String()+".cbor", r.Raw, ManifestFile{Kind: string(r.Kind), ID: r.ID.String()}); err != nil {
			return err
		}
	}
	sums := make([][32]byte, 0, len(ev.Attachments))
	for sum := range ev.Attachments {
		sums = append(sums, sum)
	}
	sort.Slice(sums, func(i, j int) bool { return bytes.Compare(sums[i][:], sums[j][:]) < 0 })
	for _, sum := range sums {
		if err := add("attachments/"+hex.EncodeToString(sum[:]), ev.Attachments[sum], ManifestFile{}); err != nil {
			return err
		}
	}
	keyIDs := make([]incident.ID, 0, len(ev.Keys))
	for id := range ev.Keys {
		keyIDs = append(keyIDs, id)
	}
	sort.Slice(keyIDs, func(i, j int) bool { return bytes.Compare(keyIDs[i][:], keyIDs[j][:]) < 0 })
	for _, id := range keyIDs {
		if err := add("keys/"+id.String()+".key", []byte(hex.EncodeToString(ev.Keys[id])), ManifestFile{ID: id.String()}); err != nil {
			return err
		}
	}
	sums = sums[:0]
	for sum := range ev.Plain {
		sums = append(sums, sum)
	}
	sort.Slice(sums, func(i, j int) bool { return bytes.Compare(sums[i][:], sums[j][:]) < 0 })
	for _, sum := range sums {
		if err := add(plainEntry(sum, ev.Plain[sum].Mime), ev.Plain[sum].Data, ManifestFile{}); err != nil {
			return err
		}
	}
	for _, cp := range ev.Checkpoints {
		list := make([]byte, 0, 32*len(cp.Covered))
		for _, id := range cp.Covered {
			list = append(list, id[:]...)
		}
		if err := add("checkpoints/"+cp.Record.ID.String()+".ids", list, ManifestFile{Checkpoint: cp.Record.ID.String()}); err != nil {
			return err
		}
	}
	for _, t := range ev.Tables {
		if err := add(t.Path, t.Data, ManifestFile{}); err != nil {
			return err
		}
	}
	mb, err := json.MarshalIndent(man, "", " ")
	if err != nil {
		return err
	}
	sig := ev.Signer.SignBytes(append([]byte(evidenceDomain), mb...))
	for _, f := range []struct {
		name string
		data []byte
	}{{"manifest.json", mb}, {"manifest.sig", sig}} {
		hw, err := zw.CreateHeader(&zip.FileHeader{Name: f.name, Method: zip.Store, Modified: ev.Now})
		if err != nil {
			return err
		}
		if _, err := hw.Write(f.data); err != nil {
			return err
		}
	}
	return zw.Close()
}

// IsEvidence reports whether data looks like a ZIP archive.
func IsEvidence(data []byte) bool { return bytes.HasPrefix(data, []byte("PK\x03\x04")) }

// verifyEvidence checks a package: the manifest's signature by a
// coordinator of the mission, every file's hash, no file missing or added,
// every record's signature and membership chain, every checkpoint's root,
// and for each record the earliest checkpoint that covers it.
func (v *verifier) readEvidence(src io.ReaderAt, size int64) error {
	zr, err := zip.NewReader(src, size)
	if err != nil {
		return fmt.Errorf("not a readable evidence package: %w", err)
	}
	// Declared sizes, added up before anything is unpacked, bound what
	// verifying costs; archive/zip refuses an entry holding more than it
	// declares (and checks its CRC).
	var total uint64
	for _, f := range zr.File {
		if total += f.UncompressedSize64; total > MaxVerifyBytes || f.UncompressedSize64 > MaxVerifyBytes {
			return fmt.Errorf("the package unpacks to more than %d bytes", MaxVerifyBytes)
		}
	}
	files := map[string][]byte{}
	for _, f := range zr.File {
		// A package unpacked and zipped again by ordinary tools gains
		// folder entries, and sometimes "./" before its names: both are
		// the same package.
		name := strings.TrimPrefix(f.Name, "./")
		if strings.HasSuffix(name, "/") && f.UncompressedSize64 == 0 {
			continue
		}
		if _, dup := files[name]; dup {
			// Two entries of one name: a reader that keeps the first and
			// one that keeps the last would see different packages.
			return fmt.Errorf("%s appears twice in the package: it is not one package, and is not verified", name)
		}
		rc, err := f.Open()
		if err != nil {
			v.extra = append(v.extra, Verdict{ID: name, Reason: err.Error()})
			continue
		}
		b := make([]byte, f.UncompressedSize64)
		_, err = io.ReadFull(rc, b)
		if err == nil {
			// Reading to the end makes archive/zip check the CRC.
			_, err = rc.Read(make([]byte, 1))
			if err == io.EOF {
				err = nil
			} else if err == nil || errors.Is(err, zip.ErrFormat) {
				// archive/zip stops an entry that inflates past its
				// declared size with ErrFormat: reading stops there.
				err = fmt.Errorf("inflates past its declared size (%d bytes); read no further", f.UncompressedSize64)
			}
		}
		rc.Close()
		if err != nil {
			v.extra = append(v.extra, Verdict{ID: name, Reason: "unreadable: " + err.Error()})
			continue
		}
		files[name] = b
	}
	mb, ok := files["manifest.json"]
	if !ok {
		return errors.New("the package has no manifest.json")
	}
	var man Manifest
	dec := json.NewDecoder(bytes.NewReader(mb))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&man); err != nil {
		return fmt.Errorf("manifest.json: %w", err)
	}
	if man.Format != EvidenceFormat && man.Format != EvidenceFormatDisclosed {
		return fmt.Errorf("manifest.json: format %q, this build reads %q and %q", man.Format, EvidenceFormat, EvidenceFormatDisclosed)
	}
	v.manifest = &man
	v.manifestBytes = mb
	v.manifestSig = files["manifest.sig"]
	listed := map[string]bool{"manifest.json": true, "manifest.sig": true}
	for _, f := range man.Files {
		listed[f.Path] = true
		data, ok := files[f.Path]
		name := f.Path
		if f.ID != "" {
			name = f.ID
		}
		if !ok {
			v.extra = append(v.extra, Verdict{ID: name, Reason: fmt.Sprintf("%s is listed in the manifest but missing from the package", f.Path)})
			continue
		}
		sum := sha256.Sum256(data)
		if hex.EncodeToString(sum[:]) != f.SHA256 {
			v.extra = append(v.extra, Verdict{ID: name, Reason: fmt.Sprintf("%s does not match its hash in the manifest (changed or swapped)", f.Path)})
			continue
		}
		switch {
		case strings.HasPrefix(f.Path, "records/"):
			e := v.add(data, f.ID)
			if e.rec != nil && string(e.rec.Kind) != f.Kind && e.verdict.Reason == "" {
				e.verdict.Reason = fmt.Sprintf("manifest says kind %s, the record is %s", f.Kind, incident.Article(string(e.rec.Kind)))
			}
		case strings.HasPrefix(f.Path, "attachments/"):
			if path.Base(f.Path) != hex.EncodeToString(sum[:]) {
				v.extra = append(v.extra, Verdict{ID: f.Path, Reason: "attachment content does not match the hash it is named by"})
				continue
			}
			v.held[sum] = data
		case strings.HasPrefix(f.Path, "keys/"), strings.HasPrefix(f.Path, "files/"):
			if man.Format == EvidenceFormat {
				v.extra = append(v.extra, Verdict{ID: f.Path, Reason: fmt.Sprintf("disclosed content in a %s package (it belongs to %s)", EvidenceFormat, EvidenceFormatDisclosed)})
				continue
			}
			if strings.HasPrefix(f.Path, "keys/") {
				v.readKey(f, data)
			} else {
				v.readPlain(f.Path, data, sum)
			}
		case strings.HasPrefix(f.Path, EvidenceTables):
			if v.tables == nil {
				v.tables = map[string][]byte{}
			}
			v.tables[f.Path] = data
		case strings.HasPrefix(f.Path, "checkpoints/"):
			id, err := incident.ParseID(f.Checkpoint)
			if err != nil || len(data)%32 != 0 {
				v.extra = append(v.extra, Verdict{ID: f.Path, Reason: "malformed checkpoint list"})
				continue
			}
			list := make([]incident.ID, len(data)/32)
			for i := range list {
				copy(list[i][:], data[i*32:])
			}
			v.covers[id] = list
		}
	}
	for name := range files {
		if !listed[name] {
			v.extra = append(v.extra, Verdict{ID: name, Reason: "file not listed in the signed manifest"})
		}
	}
	return nil
}

// judgeEvidence runs after judge: the manifest's signer, checkpoint roots
// and coverage.
func (v *verifier) judgeEvidence(ms *incident.MissionState) {
	man := v.manifest
	exporter, err := incident.ParseAuthor(man.Exporter)
	switch {
	case err != nil:
		v.extra = append(v.extra, Verdict{ID: "manifest", Reason: "exporter is not an author key"})
	case len(v.manifestSig) != ed25519.SignatureSize ||
		!ed25519.Verify(exporter[:], append([]byte(evidenceDomain), v.manifestBytes...), v.manifestSig):
		v.extra = append(v.extra, Verdict{ID: "manifest", Reason: "manifest signature does not verify (the manifest was altered or forged)"})
	case ms == nil:
	default:
		if role, _ := ms.Role(exporter); role != incident.RoleCoordinator {
			v.extra = append(v.extra, Verdict{ID: "manifest", Reason: fmt.Sprintf("signed by %s, who is not a coordinator of the mission", exporter)})
		} else if rv := ms.Revocations(exporter); len(rv) > 0 {
			// The package holds the revocation, so it was made after it:
			// by a key the mission no longer trusts to vouch for a
			// selection (each record's own signature still verifies on
			// its line, and disclosed keys are checked against them).
			v.extra = append(v.extra, Verdict{ID: "manifest", Reason: fmt.Sprintf("signed by %s, a coordinator the mission revoked (record %s)", exporter, rv[0].ID)})
		} else if man.Mission != ms.ID.String() {
			v.extra = append(v.extra, Verdict{ID: "manifest", Reason: "names another mission than the records"})
		} else {
			v.extra = append(v.extra, Verdict{ID: "manifest", OK: true})
		}
	}
	// Checkpoints: the list must hash to the signed root and count.
	type cp struct {
		id   incident.ID
		when int64
		set  map[incident.ID]bool
	}
	var good []cp
	for id, list := range v.covers {
		e := v.byID[id]
		if e == nil || e.rec == nil || e.rec.Kind != incident.KindCheckpoint || !e.verdict.OK {
			v.extra = append(v.extra, Verdict{ID: id.String(), Reason: "checkpoint list without a valid checkpoint record"})
			continue
		}
		p, err := e.rec.DecodePayload()
		cpp, ok := p.(*incident.CheckpointPayload)
		if err != nil || !ok {
			continue
		}
		root := incident.SetRoot(list)
		if !bytes.Equal(root[:], cpp.Root) || uint64(len(list)) != cpp.Count {
			e.verdict.OK, e.verdict.Reason = false, "the covered list does not hash to the checkpoint's signed root"
			continue
		}
		set := make(map[incident.ID]bool, len(list))
		for _, x := range list {
			set[x] = true
		}
		good = append(good, cp{id, e.rec.Created, set})
	}
	v.judgeContent()
	if ms != nil {
		v.judgeEvidenceTables(ms)
	}
	sort.Slice(good, func(i, j int) bool { return good[i].when < good[j].when })
	for _, e := range v.order {
		if e.rec == nil || !e.verdict.OK || e.rec.Kind == incident.KindCheckpoint {
			continue
		}
		e.verdict.Covered = "no checkpoint covers it"
		for _, c := range good {
			if c.set[e.rec.ID] {
				e.verdict.Covered = fmt.Sprintf("covered by checkpoint %s of %s", c.id, incident.FormatTime(c.when))
				break
			}
		}
	}
}

// judgeEvidenceTables recomputes each table of the package this build makes
// (tables/stations.csv, tallies.csv and .jsonl, checklists.csv and
// .jsonl) from the package's records that verified, opening the sealed
// ones whose key it discloses, and compares the bytes: a table says
// exactly what the records say, or the package is bad, whoever signed
// it. A table of another name (a later version's) is checked by its hash
// alone.
func (v *verifier) judgeEvidenceTables(ms *incident.MissionState) {
	if len(v.tables) == 0 {
		return
	}
	var recs []*incident.Signed
	for _, e := range v.order {
		if e.rec != nil && e.verdict.OK {
			recs = append(recs, e.rec)
		}
	}
	o := ObservationsOf(ms, recs, v.opened, false)
	paths := make([]string, 0, len(v.tables))
	for p := range v.tables {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		table, format, ok := strings.Cut(strings.TrimPrefix(p, EvidenceTables), ".")
		if !ok || !slices.Contains(RecordSets[1:], table) || (format != "csv" && format != "jsonl") {
			continue
		}
		got := v.tables[p]
		var line int
		for _, notice := range []string{"", PracticeNotice} {
			var want bytes.Buffer
			var err error
			if format == "csv" {
				_, err = o.WriteCSV(table, &want, false, notice)
			} else {
				_, err = o.WriteJSONL(table, &want, nil, notice, false)
			}
			if err != nil {
				line = -1
				break
			}
			if line = firstDifferentLine(want.Bytes(), got); line == 0 {
				break
			}
		}
		switch {
		case line == 0:
			v.extra = append(v.extra, Verdict{ID: p, OK: true})
		case line < 0:
			v.extra = append(v.extra, Verdict{ID: p, Reason: "could not be made again from the package's records"})
		default:
			v.extra = append(v.extra, Verdict{ID: p, Reason: fmt.Sprintf("line %d differs from the table made from the package's records", line)})
		}
	}
}

// firstDifferentLine is the first line (1-based) at which a and b
// differ, 0 when they are equal.
func firstDifferentLine(a, b []byte) int {
	if bytes.Equal(a, b) {
		return 0
	}
	al, bl := bytes.SplitAfter(a, []byte("\n")), bytes.SplitAfter(b, []byte("\n"))
	for i := range min(len(al), len(bl)) {
		if !bytes.Equal(al[i], bl[i]) {
			return i + 1
		}
	}
	return min(len(al), len(bl)) + 1
}
