package incident

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"slices"
	"strings"

	"filippo.io/age"
)

// Sealed attachments. The file of a sealed report is encrypted with age to
// a key made for that file alone; the key travels inside the sealed report
// (so only the report's readers can open the file), with the plaintext's
// hash, size, type and name. The attachment record that every member
// stores and forwards describes the ciphertext only: its hash, its padded
// size and its chunk hashes.
//
// The per-file key is an age X25519 identity rather than a bare symmetric
// key: the file is then a standard age file, and a third party given the
// key (an evidence package may disclose it) opens it with any age tool.

// FileKey is what a sealed report says of one of its files.
type FileKey struct {
	Cipher []byte `cbor:"1,keyasint"` // SHA-256 of the ciphertext: the attachment record's Hash
	Key    string `cbor:"2,keyasint"` // age X25519 identity (AGE-SECRET-KEY-1…) for this file alone
	Hash   []byte `cbor:"3,keyasint"` // SHA-256 of the plaintext
	Size   uint64 `cbor:"4,keyasint"` // plaintext bytes
	Mime   string `cbor:"5,keyasint"`
	Name   string `cbor:"6,keyasint,omitempty"`
}

// AttachmentChunk is the unit in which attachment content is hashed,
// transferred and resumed.
const AttachmentChunk = 64 << 10

// MaxSealedFileSize bounds a file a sealed report may carry: its padded
// ciphertext (age adds a header and 16 bytes per 64 KiB) must stay within
// MaxAttachmentSize, the limit every node applies to attachment records.
const MaxSealedFileSize = MaxAttachmentSize - 4<<10

// SealedFileMime is the type an attachment record of a sealed file gives:
// nothing about the file.
const SealedFileMime = "application/octet-stream"

// minSealedPad is the smallest padded size: below it every file looks the
// same.
const minSealedPad = 4 << 10

// PaddedSize is the size a sealed file of n bytes is padded to before it is
// encrypted: Padmé (Nikitin et al., "Reducing metadata leakage from
// encrypted files", PETS 2019), which leaks O(log log n) bits of the size
// for at most 12% overhead, after a 4 KiB floor, and never past
// MaxSealedFileSize.
func PaddedSize(n int) int {
	if n <= minSealedPad {
		return minSealedPad
	}
	e := bits.Len(uint(n)) - 1 // ⌊log2 n⌋
	s := bits.Len(uint(e))     // ⌊log2 e⌋ + 1
	mask := 1<<(e-s) - 1
	return min((n+mask)&^mask, max(n, MaxSealedFileSize))
}

// SealFile encrypts data under a fresh per-file key. It returns the
// ciphertext, the key entry for the sealed report, and the attachment
// record that describes the ciphertext.
func SealFile(data []byte, name, mime string) ([]byte, FileKey, AttachmentPayload, error) {
	if len(data) > MaxSealedFileSize {
		return nil, FileKey{}, AttachmentPayload{}, fieldErr("attachments", "%s is %d bytes, limit %d for a sealed report", name, len(data), MaxSealedFileSize)
	}
	id, err := age.GenerateX25519Identity()
	if err != nil {
		return nil, FileKey{}, AttachmentPayload{}, err
	}
	var out bytes.Buffer
	w, err := age.Encrypt(&out, id.Recipient())
	if err != nil {
		return nil, FileKey{}, AttachmentPayload{}, err
	}
	w.Write(data)
	if _, err := w.Write(make([]byte, PaddedSize(len(data))-len(data))); err != nil {
		return nil, FileKey{}, AttachmentPayload{}, err
	}
	if err := w.Close(); err != nil {
		return nil, FileKey{}, AttachmentPayload{}, err
	}
	ct := out.Bytes()
	csum, psum := sha256.Sum256(ct), sha256.Sum256(data)
	key := FileKey{Cipher: csum[:], Key: id.String(), Hash: psum[:], Size: uint64(len(data)), Mime: mime, Name: name}
	rec := AttachmentPayload{Hash: csum[:], Size: uint64(len(ct)), Mime: SealedFileMime, Chunks: ChunkHashes(ct)}
	return ct, key, rec, nil
}

// ErrFileTampered: a sealed file opened, but is not the file its report
// describes (its plaintext hash or size differ).
var ErrFileTampered = errors.New("the file does not match its report's hash")

// OpenFile decrypts a sealed file with its key entry and checks it against
// the hashes the report carries: the ciphertext's, then the plaintext's.
func OpenFile(ciphertext []byte, k FileKey) ([]byte, error) {
	if sum := sha256.Sum256(ciphertext); !bytes.Equal(sum[:], k.Cipher) {
		return nil, fmt.Errorf("%w (ciphertext)", ErrFileTampered)
	}
	id, err := age.ParseX25519Identity(k.Key)
	if err != nil {
		return nil, fmt.Errorf("file key: %w", err)
	}
	r, err := age.Decrypt(bytes.NewReader(ciphertext), id)
	if err != nil {
		return nil, fmt.Errorf("open sealed file: %w", err)
	}
	plain, err := io.ReadAll(io.LimitReader(r, int64(len(ciphertext))))
	if err != nil {
		return nil, fmt.Errorf("open sealed file: %w", err)
	}
	if uint64(len(plain)) < k.Size {
		return nil, fmt.Errorf("%w (size)", ErrFileTampered)
	}
	plain = plain[:k.Size]
	if sum := sha256.Sum256(plain); !bytes.Equal(sum[:], k.Hash) {
		return nil, ErrFileTampered
	}
	return plain, nil
}

// ChunkHashes returns the SHA-256 of each AttachmentChunk of data: what an
// attachment record lists so that a receiver checks each chunk as it
// arrives.
func ChunkHashes(data []byte) [][]byte {
	out := make([][]byte, 0, (len(data)+AttachmentChunk-1)/AttachmentChunk)
	for off := 0; off < len(data); off += AttachmentChunk {
		sum := sha256.Sum256(data[off:min(off+AttachmentChunk, len(data))])
		out = append(out, sum[:])
	}
	return out
}

// FileKeyFor returns the key entry a report carries for its attachment
// with content hash h (a sealed report's files are named by ciphertext).
func (r *ReportPayload) FileKeyFor(h []byte) (FileKey, bool) {
	for _, k := range r.Files {
		if bytes.Equal(k.Cipher, h) {
			return k, true
		}
	}
	return FileKey{}, false
}

// Attaches reports whether the report names a file of content hash h.
func (r *ReportPayload) Attaches(h []byte) bool {
	return slices.ContainsFunc(r.Attachments, func(x []byte) bool { return bytes.Equal(x, h) })
}

func validateFileKeys(r *ReportPayload) error {
	if len(r.Files) > len(r.Attachments) {
		return fieldErr("files", "%d file keys for %d attachments", len(r.Files), len(r.Attachments))
	}
	seen := map[string]bool{}
	for i, k := range r.Files {
		field := fmt.Sprintf("files[%d]", i)
		switch {
		case len(k.Cipher) != 32 || len(k.Hash) != 32:
			return fieldErr(field, "hashes must be 32-byte SHA-256")
		case seen[string(k.Cipher)]:
			return fieldErr(field, "names an attachment twice")
		case !r.Attaches(k.Cipher):
			return fieldErr(field, "names a file the report does not attach")
		case k.Size > MaxSealedFileSize:
			return fieldErr(field+".size", "%d bytes, limit %d", k.Size, MaxSealedFileSize)
		case len(k.Key) > MaxRecipientLen || !strings.HasPrefix(k.Key, "AGE-SECRET-KEY-1"):
			return fieldErr(field+".key", "is not an age identity")
		}
		seen[string(k.Cipher)] = true
		if err := checkText(field+".mime", k.Mime, MaxCodeLen*4, true); err != nil {
			return err
		}
		if err := checkText(field+".name", k.Name, MaxNameLen, false); err != nil {
			return err
		}
	}
	return nil
}

// reportOf returns the report fields a report or amendment payload
// carries, nil for other kinds.
func reportOf(p any) *ReportPayload {
	switch v := p.(type) {
	case *ReportPayload:
		return v
	case *AmendPayload:
		return &v.Report
	case *TallyPayload:
		return v.FileSet()
	}
	return nil
}

// FileSet is the tally's photos as a report's files: the hashes it names
// and, sealed, their keys. What reads, opens or exports a report's files
// reads a tally's through it, so there is one way to handle a file.
func (t *TallyPayload) FileSet() *ReportPayload {
	return &ReportPayload{Attachments: t.Photos, Files: t.Files}
}
