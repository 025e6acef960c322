package incident

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"filippo.io/age"
)

// Disclosed file keys. A sealed record is an age file whose file key (16
// random bytes) the header wraps once for each coordinator. An evidence
// package may disclose that file key, so that a third party opens the one
// record it names without any coordinator's identity.
//
// The key cannot be made to open a body other than the one the
// coordinators read: age's header ends with an HMAC-SHA-256 keyed from
// the file key, and the header is part of the signed ciphertext, so a
// second key that passes it would be an HMAC collision. The payload's
// AEAD (ChaCha20-Poly1305) alone is not key-committing; the header MAC
// is what binds the key to the ciphertext, and OpenPlain then binds the
// body to the signed envelope (kind, target).

// FileKeySize is the size of an age file key.
const FileKeySize = 16

// FileKeyOf returns the file key of sealed record s, unwrapped with
// identity, after checking that it opens s into a valid body: a key is
// disclosed only for what it really opens.
func FileKeyOf(s *Signed, identity age.Identity) ([]byte, any, error) {
	if len(s.Sealed) == 0 {
		return nil, nil, errors.New("record is not sealed")
	}
	hdr, err := age.ExtractHeader(bytes.NewReader(s.Sealed))
	if err != nil {
		return nil, nil, fmt.Errorf("sealed record: %w", err)
	}
	key, err := age.DecryptHeader(hdr, identity)
	if err != nil {
		var nm *age.NoIdentityMatchError
		if errors.As(err, &nm) {
			return nil, nil, ErrCannotOpen
		}
		return nil, nil, fmt.Errorf("sealed record: %w", err)
	}
	p, err := OpenWithFileKey(s, key)
	if err != nil {
		return nil, nil, err
	}
	return key, p, nil
}

// OpenWithFileKey decrypts sealed record s with a disclosed file key and
// checks the body as Open does (OpenPlain): the right kind, canonical,
// valid, and naming the envelope's target.
func OpenWithFileKey(s *Signed, fileKey []byte) (any, error) {
	if len(s.Sealed) == 0 {
		return nil, errors.New("record is not sealed")
	}
	if IsCompactSeal(s.Sealed) {
		// Sealed for SMS: the disclosed key is K of the compact seal
		// (CompactKeyOf), which the seal's HMAC commits to.
		_, p, err := OpenCompactWithKey(s, fileKey)
		if errors.Is(err, ErrCannotOpen) {
			return nil, errors.New("the key does not open the sealed payload")
		}
		return p, err
	}
	if len(fileKey) != FileKeySize {
		return nil, fmt.Errorf("a file key is %d bytes, not %d", FileKeySize, len(fileKey))
	}
	r, err := age.Decrypt(bytes.NewReader(s.Sealed), age.NewInjectedFileKeyIdentity(bytes.Clone(fileKey)))
	if err != nil {
		return nil, fmt.Errorf("the key does not open the sealed payload: %w", err)
	}
	plain, err := io.ReadAll(io.LimitReader(r, MaxSealedBytes))
	if err != nil {
		return nil, fmt.Errorf("the key does not open the sealed payload: %w", err)
	}
	return OpenPlain(s, plain)
}
