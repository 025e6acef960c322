package incident

import (
	"crypto/hmac"
	"crypto/sha256"
	"strings"

	"filippo.io/age"
)

// What an epoch's secret keys. Each use derives an identity of its own,
// so that a key of one never opens the other's files.
const (
	// EpochBundles: the members' bundles of the epoch (incident/bundle).
	EpochBundles = "vigil/bundle/v1\x00"
	// EpochNotices: the notices sealed to the members of the epoch.
	EpochNotices = "vigil/notice/v1\x00"
)

// EpochIdentity returns the age identity that every member holding an
// epoch's secret derives for use (EpochBundles, EpochNotices): the
// scalar is HMAC-SHA256(secret, use ‖ mission).
func EpochIdentity(mission ID, secret []byte, use string) (*age.X25519Identity, error) {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(use))
	mac.Write(mission[:])
	return AgeIdentityFrom(mac.Sum(nil))
}

// AgeIdentityFrom returns the age X25519 identity whose scalar is the 32
// bytes given: an identity every device holding the same secret derives
// alike (a mission's epoch bundles, the practice mission's fixed keys).
func AgeIdentityFrom(scalar []byte) (*age.X25519Identity, error) {
	return age.ParseX25519Identity(strings.ToUpper(bech32("age-secret-key-", scalar)))
}

// bech32 encodes data as BIP 173 bech32 with the human-readable part hrp.
//
// Written here because age, which defines its identities in bech32, keeps
// its encoder internal, and no module this project already trusts
// exports one; an identity derived from a secret must reach age as its
// bech32 string. age.ParseX25519Identity checks the checksum of what this
// writes (TestAgeIdentityFrom).
func bech32(hrp string, data []byte) string {
	const charset = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
	// Regroup 8-bit bytes as 5-bit values, padding the last.
	var values []byte
	acc, bits := 0, 0
	for _, b := range data {
		acc = acc<<8 | int(b)
		bits += 8
		for bits >= 5 {
			bits -= 5
			values = append(values, byte(acc>>bits&31))
		}
	}
	if bits > 0 {
		values = append(values, byte(acc<<(5-bits)&31))
	}
	hrp = strings.ToLower(hrp)
	var pre []byte
	for i := 0; i < len(hrp); i++ {
		pre = append(pre, hrp[i]>>5)
	}
	pre = append(pre, 0)
	for i := 0; i < len(hrp); i++ {
		pre = append(pre, hrp[i]&31)
	}
	all := append(append(pre, values...), 0, 0, 0, 0, 0, 0)
	mod := polymod(all) ^ 1
	var out strings.Builder
	out.WriteString(hrp)
	out.WriteByte('1')
	for _, v := range values {
		out.WriteByte(charset[v])
	}
	for i := 0; i < 6; i++ {
		out.WriteByte(charset[mod>>(5*(5-i))&31])
	}
	return out.String()
}

func polymod(values []byte) uint32 {
	gen := [5]uint32{0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3}
	chk := uint32(1)
	for _, v := range values {
		top := chk >> 25
		chk = (chk&0x1ffffff)<<5 ^ uint32(v)
		for i := 0; i < 5; i++ {
			if top>>i&1 == 1 {
				chk ^= gen[i]
			}
		}
	}
	return chk
}
