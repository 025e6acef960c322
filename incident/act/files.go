package act

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/media"
	"github.com/vigil-mesh/vigil/incident/store"
)

// Files: what a report attaches, from the observer's camera to the
// coordinator's screen. A file waits in the encrypted store from the
// moment it is attached (AttachFile); Submit and Amend name it. A sealed
// report's file is encrypted under a key of its own (incident.SealFile)
// that travels inside the sealed report, and the plaintext the draft held
// is dropped once the report is stored: every other device, and this one
// once a coordinator has the report, holds only ciphertext.

// Attachment is a file kept in the store: its content by hash, and what
// its manifest says.
type Attachment struct {
	Hash [32]byte `json:"hash"`
	Name string   `json:"name"`
	Size int      `json:"size"`
	Mime string   `json:"mime"`
	// Attached is the device's clock when the file was attached (Unix
	// ms): the clock a capture record gives for it. Zero reads as the
	// time the report is submitted.
	Attached int64 `json:"attached,omitempty"`
}

// AttachFile keeps a file's content in the encrypted store and describes
// it; Submit and Amend then name it by hash. Nothing is signed yet, so a
// draft may hold files that are never sent.
func (d *Desk) AttachFile(name string, data []byte) (Attachment, error) {
	if err := text("name", name); err != nil {
		return Attachment{}, err
	}
	if len(data) > incident.MaxAttachmentSize {
		return Attachment{}, invalid("attachments", "%s is %d bytes, limit %d", name, len(data), incident.MaxAttachmentSize)
	}
	sum := sha256.Sum256(data)
	if err := d.st.PutBlob(sum, data); err != nil {
		return Attachment{}, classify(err)
	}
	return Attachment{Hash: sum, Name: name, Size: len(data), Mime: http.DetectContentType(data),
		Attached: d.st.Now().UnixMilli()}, nil
}

// attached is what attach leaves to do once the report is stored: the
// draft plaintexts a sealed copy replaced (dropPlain removes them), and
// the capture records of the files it added (capture writes them).
type attached struct {
	drop     [][32]byte
	captures []incident.CapturePayload
}

// attach stores an attachment record for each of files the report does
// not name yet (prev is the version an amendment replaces) and sets
// r.Attachments, and r.Files for a sealed report. It reads each added
// file's provenance while its plaintext is at hand (a sealed report's is
// dropped once the report is stored).
func (d *Desk) attach(r *incident.ReportPayload, files []Attachment, prev *incident.ReportPayload, sealed bool) (out attached, err error) {
	if len(files) > incident.MaxAttachments {
		return out, invalid("attachments", "%d files, limit %d", len(files), incident.MaxAttachments)
	}
	drop := &out.drop
	r.Attachments, r.Files = nil, nil // what a caller sent is never trusted
	for _, f := range files {
		h := f.Hash
		if prev != nil && prev.Attaches(h[:]) {
			r.Attachments = append(r.Attachments, h[:])
			if k, ok := prev.FileKeyFor(h[:]); ok {
				r.Files = append(r.Files, k)
			}
			continue
		}
		data, err := d.st.Blob(h)
		if errors.Is(err, store.ErrNotFound) {
			return out, refuse(FileGone, "attachment %s is no longer on this device; remove it and attach it again", f.Name)
		}
		if err != nil {
			return out, classify(err)
		}
		out.captures = append(out.captures, d.captureOf(h, data, f.Attached))
		if !sealed {
			if _, err := d.st.Put(incident.KindAttachment, incident.AttachmentPayload{Hash: h[:], Size: uint64(len(data)),
				Mime: f.Mime, Name: f.Name, Chunks: incident.ChunkHashes(data)}); err != nil {
				return out, classify(err)
			}
			r.Attachments = append(r.Attachments, h[:])
			continue
		}
		ct, key, rec, err := incident.SealFile(data, f.Name, f.Mime)
		if err != nil {
			return out, classify(err)
		}
		var csum [32]byte
		copy(csum[:], key.Cipher)
		if err := d.st.PutBlob(csum, ct); err != nil {
			return out, classify(err)
		}
		if _, err := d.st.Put(incident.KindAttachment, rec); err != nil {
			return out, classify(err)
		}
		r.Attachments = append(r.Attachments, key.Cipher)
		r.Files = append(r.Files, key)
		*drop = append(*drop, h)
	}
	return out, nil
}

// dropPlain removes the plaintext of files now kept sealed. It runs after
// the report is stored; a failure leaves the plaintext behind (the report
// is sound), so it is not an error of the action.
func (d *Desk) dropPlain(a attached) {
	for _, h := range a.drop {
		_ = d.st.DeleteBlob(h)
	}
}

// File is one attachment of a report, as this device holds it.
type File struct {
	// Hash is what the report names the file by: for a sealed report's
	// file, the hash of its ciphertext.
	Attachment
	Sealed   bool `json:"sealed,omitempty"` // encrypted to the report's readers
	Held     bool `json:"held"`             // its content is on this device
	Readable bool `json:"readable"`         // held, and this device can open it
}

// FilesOf lists the files a report version attaches. A sealed report's
// files are described by the report itself; the others by their
// attachment records (the newest, where several describe one file).
func (d *Desk) FilesOf(r *incident.ReportPayload) []File {
	out := make([]File, 0, len(r.Attachments))
	for _, h := range r.Attachments {
		var f File
		copy(f.Hash[:], h)
		f.Held = d.st.HasBlob(f.Hash)
		if k, ok := r.FileKeyFor(h); ok {
			f.Name, f.Size, f.Mime, f.Sealed = k.Name, int(k.Size), k.Mime, true
		} else {
			var a incident.AttachmentPayload
			if recs, err := d.st.AttachmentsOf(f.Hash); err == nil && len(recs) > 0 {
				a = recs[len(recs)-1]
			}
			f.Name, f.Size, f.Mime = a.Name, int(a.Size), a.Mime
			// A record that describes a ciphertext, named by a report
			// this device cannot open.
			f.Sealed = a.Mime == incident.SealedFileMime && a.Name == ""
		}
		f.Readable = f.Held && (!f.Sealed || r.Files != nil)
		if f.Name == "" {
			f.Name = fmt.Sprintf("%x", h[:min(len(h), 6)])
		}
		out = append(out, f)
	}
	return out
}

// Files lists the files of a report's current version, or the photos of
// a tally named by its full ID.
func (d *Desk) Files(ref string) ([]File, error) {
	set, _, err := d.fileSet(ref)
	if err != nil {
		return nil, err
	}
	return d.FilesOf(set), nil
}

// fileSet is what names the files of ref: a report's current version, or
// a tally's photos (TallyPayload.FileSet), and the record's ID.
func (d *Desk) fileSet(ref string) (*incident.ReportPayload, incident.ID, error) {
	if id, err := incident.ParseID(ref); err == nil {
		if rec, err := d.st.Get(id); err == nil && rec.Kind == incident.KindTally {
			p, ok := d.st.Open(rec)
			tp, isTally := p.(*incident.TallyPayload)
			if !ok || !isTally {
				return nil, id, refuse(Forbidden, "tally %s is sealed to the mission's coordinators: this device cannot open it", id)
			}
			return tp.FileSet(), id, nil
		}
	}
	v, err := d.Report(ref)
	if err != nil {
		return nil, incident.ID{}, err
	}
	return &v.Report, v.ID, nil
}

// FileData is a file's content, opened and checked.
type FileData struct {
	File
	Data []byte `json:"data"`
}

// ReadFile returns the content of file number n (from 0, in the order
// Files lists them) of a report, or of a tally named by its full ID:
// opened with its key when sealed, and checked against the hash the
// record carries either way.
func (d *Desk) ReadFile(ref string, n int) (FileData, error) {
	set, id, err := d.fileSet(ref)
	if err != nil {
		return FileData{}, err
	}
	files := d.FilesOf(set)
	if n < 0 || n >= len(files) {
		return FileData{}, invalid("file", "%s has %d files; there is no file %d", id, len(files), n+1)
	}
	data, err := d.Content(set, files[n])
	return FileData{File: files[n], Data: data}, err
}

// PublicFile returns the copy of file number n of a report (or of a
// tally named by its full ID) that may be published: media.Strip's copy,
// without the EXIF, XMP, ICC, comments and trailers that can give away
// where, when and on which device it was taken. The original stays as
// it is (evidence packages carry it, with its capture record). A file
// that is no JPEG or PNG is refused with BadFile: what cannot be
// stripped is not published.
func (d *Desk) PublicFile(ref string, n int) (FileData, error) {
	fd, err := d.ReadFile(ref, n)
	if err != nil {
		return FileData{}, err
	}
	out, err := PublicCopy(fd.Name, fd.Data)
	if err != nil {
		return FileData{}, err
	}
	fd.Data, fd.Size, fd.Hash = out, len(out), sha256.Sum256(out)
	return fd, nil
}

// PublicCopy is the rule PublicFile follows, for a file whose content
// the caller already holds (the app's report screen): media.Strip's
// copy, or BadFile.
func PublicCopy(name string, data []byte) ([]byte, error) {
	out, err := media.Strip(data)
	if err != nil {
		return nil, &Error{Code: BadFile, Msg: fmt.Sprintf("%s cannot be published: %v (only JPEG and PNG images are, stripped of their metadata)", name, err), Cause: err}
	}
	return out, nil
}

// Content returns the plaintext of f, a file of report version r.
func (d *Desk) Content(r *incident.ReportPayload, f File) ([]byte, error) {
	if !f.Held {
		return nil, refuse(FileGone, "%s has not reached this device yet: it follows its report when a peer that holds it is in reach", f.Name)
	}
	if f.Sealed && !f.Readable {
		return nil, refuse(Forbidden, "%s is sealed to the mission's coordinators: this device cannot open it", f.Name)
	}
	data, err := d.st.Blob(f.Hash)
	if err != nil {
		return nil, classify(err)
	}
	if k, ok := r.FileKeyFor(f.Hash[:]); ok {
		plain, err := incident.OpenFile(data, k)
		if err != nil {
			return nil, &Error{Code: Failed, Msg: fmt.Sprintf("%s: %v", f.Name, err), Cause: err}
		}
		return plain, nil
	}
	if sum := sha256.Sum256(data); sum != f.Hash {
		return nil, &Error{Code: Failed, Msg: fmt.Sprintf("%s: %v", f.Name, incident.ErrFileTampered), Cause: incident.ErrFileTampered}
	}
	return data, nil
}
