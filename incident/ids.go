package incident

import (
	"crypto/sha256"
	"encoding/base32"
	"fmt"

	"github.com/ipfs/go-cid"
	"github.com/mr-tron/base58"
	"github.com/multiformats/go-multihash"
)

// ID names a record: the SHA-256 of its signed encoding. Its text form is a
// CIDv1 with the raw codec and a SHA-256 multihash, in base32 ("bafk…").
type ID [32]byte

// IDOf returns the ID of a signed encoding.
func IDOf(encoded []byte) ID { return sha256.Sum256(encoded) }

// IsZero reports whether id is the zero ID.
func (id ID) IsZero() bool { return id == ID{} }

// Bytes returns the digest as a fresh slice.
func (id ID) Bytes() []byte { return append([]byte(nil), id[:]...) }

// idBase32 is multibase "b": RFC 4648 base32, lower case, no padding.
var idBase32 = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// AppendText appends the CIDv1 text form to b: "b" and the base32 of the
// CID bytes (version 1, raw codec 0x55, SHA-256 multihash 0x12, length
// 32, digest). Written out rather than built with go-cid, whose String
// allocates several times, because exports print an ID on every row;
// TestIDTextMatchesCID holds the two equal. It never fails (it implements
// encoding.TextAppender).
func (id ID) AppendText(b []byte) ([]byte, error) {
	var c [4 + len(ID{})]byte
	c[0], c[1], c[2], c[3] = 0x01, 0x55, 0x12, 0x20
	copy(c[4:], id[:])
	return idBase32.AppendEncode(append(b, 'b'), c[:]), nil
}

// String returns the CIDv1 text form.
func (id ID) String() string {
	b, _ := id.AppendText(make([]byte, 0, 1+(36*8+4)/5))
	return string(b)
}

// MarshalText implements encoding.TextMarshaler (JSON uses the CID form).
func (id ID) MarshalText() ([]byte, error) { return []byte(id.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler (ParseID).
func (id *ID) UnmarshalText(b []byte) error {
	v, err := ParseID(string(b))
	if err != nil {
		return err
	}
	*id = v
	return nil
}

// ParseID reads the CID text form of a record ID.
func ParseID(s string) (ID, error) {
	c, err := cid.Decode(s)
	if err != nil {
		return ID{}, fmt.Errorf("%q is not a record ID: %v", s, err)
	}
	p := c.Prefix()
	if p.Version != 1 || p.Codec != cid.Raw || p.MhType != multihash.SHA2_256 || p.MhLength != 32 {
		return ID{}, fmt.Errorf("%q is not a record ID: want a CIDv1 raw SHA-256", s)
	}
	dm, err := multihash.Decode(c.Hash())
	if err != nil {
		return ID{}, fmt.Errorf("%q is not a record ID: %v", s, err)
	}
	var id ID
	copy(id[:], dm.Digest)
	return id, nil
}

func idFromBytes(field string, b []byte) (ID, error) {
	var id ID
	if len(b) != len(id) {
		return id, &FieldError{Field: field, Problem: fmt.Sprintf("must be a %d-byte record ID, got %d bytes", len(id), len(b))}
	}
	copy(id[:], b)
	return id, nil
}

// Author is a device's Ed25519 signing public key. Its text form is that of a
// libp2p peer ID ("12D3KooW…") so users see one kind of key everywhere.
type Author [32]byte

// peerIDPrefix is the identity multihash header (code 0x00, length 36)
// followed by the protobuf header of a libp2p Ed25519 public key (field 1 =
// KeyType Ed25519, field 2 = 32 bytes). Writing these six bytes here keeps
// package incident free of libp2p (docs/architecture.md).
var peerIDPrefix = []byte{0x00, 0x24, 0x08, 0x01, 0x12, 0x20}

// String returns the libp2p peer ID text form.
func (a Author) String() string {
	return base58.Encode(append(append([]byte(nil), peerIDPrefix...), a[:]...))
}

// Short is a prefix for compact displays.
func (a Author) Short() string {
	s := a.String()
	return s[len(s)-8:]
}

// MarshalText implements encoding.TextMarshaler.
func (a Author) MarshalText() ([]byte, error) { return []byte(a.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler (ParseAuthor).
func (a *Author) UnmarshalText(b []byte) error {
	v, err := ParseAuthor(string(b))
	if err != nil {
		return err
	}
	*a = v
	return nil
}

// IsZero reports whether a is the zero key.
func (a Author) IsZero() bool { return a == Author{} }

// ParseAuthor reads an author key in its peer ID form.
func ParseAuthor(s string) (Author, error) {
	b, err := base58.Decode(s)
	if err != nil || len(b) != len(peerIDPrefix)+32 || string(b[:len(peerIDPrefix)]) != string(peerIDPrefix) {
		return Author{}, fmt.Errorf("%q is not an author key (want the 12D3KooW… form)", s)
	}
	var a Author
	copy(a[:], b[len(peerIDPrefix):])
	return a, nil
}

func authorFromBytes(field string, b []byte) (Author, error) {
	var a Author
	if len(b) != len(a) {
		return a, &FieldError{Field: field, Problem: fmt.Sprintf("must be a 32-byte Ed25519 key, got %d bytes", len(b))}
	}
	copy(a[:], b)
	return a, nil
}
