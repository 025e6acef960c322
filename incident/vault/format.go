package vault

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/chacha20poly1305"
)

// The key file format, version 1:
//
//	{
//	  "version": 1,
//	  "kdf": "argon2id",
//	  "slots": [
//	    {"params": {"time": 3, "memory_kib": 65536, "threads": 4},
//	     "salt": "<16 bytes, base64>", "nonce": "<24 bytes, base64>",
//	     "ciphertext": "<48 bytes, base64>"},
//	    { ...same shape... }
//	  ]
//	}
//
// Slot 0 wraps the data key under the real passphrase. Slot 1 wraps 32
// random bytes, either under the duress passphrase or, when none is set,
// under a random key nobody knows. Each ciphertext is XChaCha20-Poly1305
// under Argon2id(passphrase, salt, params), with additional data binding
// the format version, the KDF name, the params and the slot index
// (slotAAD), so editing the params in the file makes the slot fail to
// open instead of weakening it.
//
// A wiped store's key file is a tombstone instead:
//
//	{"version": 1, "wiped_at": "2026-05-04T10:00:00Z"}

const (
	keyFileName   = "key.json"
	formatVersion = 1
	kdfName       = "argon2id"
	keyLen        = chacha20poly1305.KeySize // data key and wrapping key, bytes
	saltLen       = 16
	nonceLen      = chacha20poly1305.NonceSizeX
	wrappedLen    = keyLen + chacha20poly1305.Overhead
	slotCount     = 2
	realSlot      = 0
	duressSlot    = 1

	// maxKeyFileSize bounds what Unlock reads: a real key file is under 1 KiB.
	maxKeyFileSize = 64 << 10

	aadDomain = "vigil/incident/vault key slot\x00"
)

// Limits on KDF parameters, checked when writing and when reading a key
// file, so a damaged or hostile file cannot make Unlock allocate gigabytes
// or run for hours. Variables only so the fuzz test can lower them.
var (
	maxTime      uint32 = 64
	maxMemoryKiB uint32 = 1 << 20 // 1 GiB
)

// check reports whether p is usable, naming the field and the limit.
func (p KDFParams) check() error {
	switch {
	case p.Time < 1 || p.Time > maxTime:
		return fmt.Errorf("KDF time %d out of range [1, %d]", p.Time, maxTime)
	case p.Threads < 1:
		return errors.New("KDF threads is 0, want at least 1")
	case p.MemoryKiB < 8*uint32(p.Threads):
		return fmt.Errorf("KDF memory %d KiB below 8 KiB per thread (%d threads)", p.MemoryKiB, p.Threads)
	case p.MemoryKiB > maxMemoryKiB:
		return fmt.Errorf("KDF memory %d KiB above the limit of %d KiB", p.MemoryKiB, maxMemoryKiB)
	}
	return nil
}

// slot is one wrapped key in memory.
type slot struct {
	params     KDFParams
	salt       []byte
	nonce      []byte
	ciphertext []byte
}

// keyFile is a decoded, validated key file.
type keyFile struct {
	slots [slotCount]slot
}

// Wire types. []byte fields travel as standard base64.
type wireParams struct {
	Time      uint32 `json:"time"`
	MemoryKiB uint32 `json:"memory_kib"`
	Threads   uint8  `json:"threads"`
}

type wireSlot struct {
	Params     wireParams `json:"params"`
	Salt       []byte     `json:"salt"`
	Nonce      []byte     `json:"nonce"`
	Ciphertext []byte     `json:"ciphertext"`
}

type wireKeyFile struct {
	Version int        `json:"version"`
	KDF     string     `json:"kdf"`
	Slots   []wireSlot `json:"slots"`
}

type wireTombstone struct {
	Version int    `json:"version"`
	WipedAt string `json:"wiped_at"`
}

// wireAny is what a file on disk may hold: a key file or a tombstone.
// Pointers tell absent fields from zero ones.
type wireAny struct {
	Version *int        `json:"version"`
	KDF     *string     `json:"kdf"`
	Slots   *[]wireSlot `json:"slots"`
	WipedAt *string     `json:"wiped_at"`
}

func (f *keyFile) encode() []byte {
	w := wireKeyFile{Version: formatVersion, KDF: kdfName}
	for _, s := range f.slots {
		w.Slots = append(w.Slots, wireSlot{
			Params:     wireParams{Time: s.params.Time, MemoryKiB: s.params.MemoryKiB, Threads: s.params.Threads},
			Salt:       s.salt,
			Nonce:      s.nonce,
			Ciphertext: s.ciphertext,
		})
	}
	b, err := json.MarshalIndent(w, "", "  ")
	if err != nil {
		panic("vault: encoding key file: " + err.Error()) // fixed types: cannot happen
	}
	return append(b, '\n')
}

func encodeTombstone(t time.Time) []byte {
	b, err := json.MarshalIndent(wireTombstone{Version: formatVersion, WipedAt: t.UTC().Format(time.RFC3339)}, "", "  ")
	if err != nil {
		panic("vault: encoding tombstone: " + err.Error())
	}
	return append(b, '\n')
}

// errMalformed carries why a file is not a key file; load wraps it with
// the path and ErrMalformed.
type errMalformed string

func (e errMalformed) Error() string { return string(e) }

func malformedf(format string, args ...any) error { return errMalformed(fmt.Sprintf(format, args...)) }

// decode parses a key file. It returns wipedAt != "" (and a nil file) for
// a tombstone, or an errMalformed saying what is wrong.
func decode(data []byte) (f *keyFile, wipedAt string, err error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var w wireAny
	if err := dec.Decode(&w); err != nil {
		return nil, "", malformedf("not JSON of the expected shape: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, "", malformedf("trailing data after the JSON object")
	}
	if w.Version == nil {
		return nil, "", malformedf("no version field")
	}
	if *w.Version != formatVersion {
		return nil, "", malformedf("unsupported version %d (this build reads version %d)", *w.Version, formatVersion)
	}
	if w.WipedAt != nil {
		if w.KDF != nil || w.Slots != nil {
			return nil, "", malformedf("both a tombstone and a key file")
		}
		if *w.WipedAt == "" {
			return nil, "", malformedf("empty wiped_at in tombstone")
		}
		return nil, *w.WipedAt, nil
	}
	if w.KDF == nil || *w.KDF != kdfName {
		got := "none"
		if w.KDF != nil {
			got = fmt.Sprintf("%q", *w.KDF)
		}
		return nil, "", malformedf("kdf is %s, want %q", got, kdfName)
	}
	if w.Slots == nil || len(*w.Slots) != slotCount {
		n := 0
		if w.Slots != nil {
			n = len(*w.Slots)
		}
		return nil, "", malformedf("%d slots, want %d", n, slotCount)
	}
	f = new(keyFile)
	for i, ws := range *w.Slots {
		p := KDFParams{Time: ws.Params.Time, MemoryKiB: ws.Params.MemoryKiB, Threads: ws.Params.Threads}
		if err := p.check(); err != nil {
			return nil, "", malformedf("slot %d: %v", i, err)
		}
		for _, c := range []struct {
			name string
			b    []byte
			want int
		}{{"salt", ws.Salt, saltLen}, {"nonce", ws.Nonce, nonceLen}, {"ciphertext", ws.Ciphertext, wrappedLen}} {
			if len(c.b) != c.want {
				return nil, "", malformedf("slot %d: %s is %d bytes, want %d", i, c.name, len(c.b), c.want)
			}
		}
		f.slots[i] = slot{params: p, salt: ws.Salt, nonce: ws.Nonce, ciphertext: ws.Ciphertext}
	}
	return f, "", nil
}

// slotAAD is the additional data for slot index: it binds the domain, the
// format version, the KDF and its params, and the slot's position.
func slotAAD(index int, p KDFParams) []byte {
	b := make([]byte, 0, len(aadDomain)+4+len(kdfName)+1+4+4+1+1)
	b = append(b, aadDomain...)
	b = binary.BigEndian.AppendUint32(b, formatVersion)
	b = append(b, kdfName...)
	b = append(b, 0)
	b = binary.BigEndian.AppendUint32(b, p.Time)
	b = binary.BigEndian.AppendUint32(b, p.MemoryKiB)
	b = append(b, p.Threads, byte(index))
	return b
}

func deriveKEK(passphrase, salt []byte, p KDFParams) []byte {
	return argon2.IDKey(passphrase, salt, p.Time, p.MemoryKiB, p.Threads, keyLen)
}

// seal wraps plaintext for slot index under kek with a fresh nonce.
func seal(index int, kek, salt []byte, p KDFParams, plaintext []byte) slot {
	aead, err := chacha20poly1305.NewX(kek)
	if err != nil {
		panic("vault: " + err.Error()) // kek is always keyLen bytes
	}
	nonce := randomBytes(nonceLen)
	return slot{
		params:     p,
		salt:       salt,
		nonce:      nonce,
		ciphertext: aead.Seal(nil, nonce, plaintext, slotAAD(index, p)),
	}
}

// newSlot wraps plaintext under passphrase with a fresh salt.
func newSlot(index int, passphrase []byte, p KDFParams, plaintext []byte) slot {
	salt := randomBytes(saltLen)
	kek := deriveKEK(passphrase, salt, p)
	defer clear(kek)
	return seal(index, kek, salt, p, plaintext)
}

// decoySlot wraps random bytes under a random key. Without that key its
// salt, nonce and ciphertext are uniformly random, exactly as a slot
// sealed under an unknown passphrase looks, so it needs no Argon2 run.
func decoySlot(index int, p KDFParams) slot {
	kek := randomBytes(keyLen)
	defer clear(kek)
	filler := randomBytes(keyLen)
	defer clear(filler)
	return seal(index, kek, randomBytes(saltLen), p, filler)
}

// open tries passphrase on slot index; it returns the plaintext or nil.
func (s slot) open(index int, passphrase []byte) []byte {
	kek := deriveKEK(passphrase, s.salt, s.params)
	defer clear(kek)
	aead, err := chacha20poly1305.NewX(kek)
	if err != nil {
		panic("vault: " + err.Error())
	}
	pt, err := aead.Open(nil, s.nonce, s.ciphertext, slotAAD(index, s.params))
	if err != nil {
		return nil
	}
	return pt
}

// try runs passphrase against every slot, always deriving a key for each
// so the time taken does not say which slot (if any) matched. opened[i]
// is slot i's plaintext, or nil; the caller clears what it does not keep.
func (f *keyFile) try(passphrase []byte) (opened [slotCount][]byte) {
	for i, s := range f.slots {
		opened[i] = s.open(i, passphrase)
	}
	return opened
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b) // never fails (crypto/rand, Go 1.24+)
	return b
}
