package bundle

import (
	"bytes"
	"crypto/rand"
	"io"
	"strings"
	"testing"

	"filippo.io/age"

	"github.com/vigil-mesh/vigil/incident"
)

// The epoch's bundle identity is a valid age identity (age checks the
// bech32 checksum this package writes), the same on every device that
// holds the secret, and different for another secret or mission.
func TestEpochIdentity(t *testing.T) {
	var mission, other incident.ID
	rand.Read(mission[:])
	rand.Read(other[:])
	secret := make([]byte, 32)
	rand.Read(secret)
	a, err := epochIdentity(mission, secret)
	if err != nil {
		t.Fatalf("epoch identity: %v", err)
	}
	b, _ := epochIdentity(mission, secret)
	if a.String() != b.String() || !strings.HasPrefix(a.String(), "AGE-SECRET-KEY-1") {
		t.Fatalf("not deterministic: %s %s", a, b)
	}
	c, _ := epochIdentity(other, secret)
	d, _ := epochIdentity(mission, append([]byte{secret[0] ^ 0xff}, secret[1:]...))
	if c.String() == a.String() || d.String() == a.String() {
		t.Fatal("the identity does not depend on the mission and the secret")
	}
	var buf bytes.Buffer
	w, _ := age.Encrypt(&buf, a.Recipient())
	io.WriteString(w, "records")
	w.Close()
	r, err := age.Decrypt(bytes.NewReader(buf.Bytes()), b)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := io.ReadAll(r); string(got) != "records" {
		t.Fatalf("decrypted %q", got)
	}
	if _, err := age.Decrypt(bytes.NewReader(buf.Bytes()), c); err == nil {
		t.Fatal("another mission's identity opened the bundle")
	}
}
