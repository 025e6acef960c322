package store_test

import (
	"bytes"
	"crypto/rand"
	"testing"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/act"
	"github.com/vigil-mesh/vigil/incident/bundle"
	"github.com/vigil-mesh/vigil/incident/store"
)

// A sealed report's photo crosses a mission on USB sticks alone: observer
// → carrier → coordinator, each device importing the bundle before it
// makes the next. Nobody on the way holds a byte of the photo or its
// name, not even in its own store opened with its own passphrase; the
// coordinator opens the photo and it is the observer's, byte for byte.
// Nobody met over a network, so every epoch secret came in a bundle.
func TestSealedPhotoThroughUSBChain(t *testing.T) {
	newDesk := func() (*act.Desk, *store.Store) {
		st := openBadger(t, store.Options{})
		return act.New(st), st
	}
	coord, _ := newDesk()
	obs, obsSt := newDesk()
	car, carSt := newDesk()
	stranger, _ := newDesk()
	if _, err := coord.CreateMission(store.MissionSpec{Name: "Marenta general election", Label: "HQ"}); err != nil {
		t.Fatal(err)
	}
	for _, m := range []struct {
		d    *act.Desk
		role string
	}{{obs, incident.RoleObserver}, {car, incident.RoleCarrier}} {
		inv, err := coord.Invite(act.InviteRequest{Role: m.role, Label: m.role})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := m.d.Join(inv.Code); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := stranger.CreateMission(store.MissionSpec{Name: "Somebody else's"}); err != nil {
		t.Fatal(err)
	}
	// carry writes a default bundle on from and imports it on to.
	carry := func(from, to *act.Desk) bundle.Summary {
		t.Helper()
		var stick bytes.Buffer
		b, err := from.ExportBundle(act.BundleRequest{}, &stick)
		if err != nil || b.Encryption != "members" {
			t.Fatalf("bundle export: %+v %v", b, err)
		}
		if !bytes.HasPrefix(stick.Bytes(), []byte("age-encryption.org/v1")) {
			t.Fatal("the default bundle is not encrypted")
		}
		sum, err := to.ImportBundle(act.ImportRequest{Name: "stick.vgb", Data: stick.Bytes()})
		if err != nil || sum.Rejected != 0 {
			t.Fatalf("bundle import: %+v %v", sum, err)
		}
		return sum
	}
	// The members' first bundles bring their member records to the
	// coordinator (each opens it with the coordinator's key: they hold no
	// epoch secret yet); the coordinator's bundle then hands the epoch
	// secret to each of them, opened with their own keys.
	for _, m := range []*act.Desk{obs, car} {
		carry(m, coord)
	}
	for _, m := range []*act.Desk{obs, car} {
		if sum := carry(coord, m); sum.Secrets == 0 {
			t.Fatalf("the coordinator's bundle handed over no epoch secret: %+v", sum)
		}
	}

	photo := make([]byte, 150<<10) // three transfer chunks
	rand.Read(photo)
	copy(photo, "\xff\xd8\xff\xe0 JFIF")
	const name = "PS-0042-ballot-box-seal-broken.jpg"
	a, err := obs.AttachFile(name, photo)
	if err != nil {
		t.Fatal(err)
	}
	c, err := obs.Submit(act.Submission{Report: incident.ReportPayload{Category: "polling.violence", Severity: 4,
		Title: "Seal broken on the ballot box", Station: "PS-0042"}, Files: []act.Attachment{a}})
	if err != nil || !c.Sealed {
		t.Fatalf("submit: %+v %v", c, err)
	}
	sum := carry(obs, car)
	if sum.FilesStored != 1 {
		t.Fatalf("the carrier did not keep the sealed file's ciphertext: %+v", sum)
	}
	var stick bytes.Buffer
	if _, err := car.ExportBundle(act.BundleRequest{}, &stick); err != nil {
		t.Fatal(err)
	}
	// A stranger who finds the carrier's stick reads nothing of it.
	if _, err := stranger.ImportBundle(act.ImportRequest{Name: "found.vgb", Data: stick.Bytes()}); act.CodeOf(err) != act.CannotOpen {
		t.Errorf("a stranger's device opened the members' bundle: %v", err)
	}
	if sum, err := coord.ImportBundle(act.ImportRequest{Name: "stick.vgb", Data: stick.Bytes()}); err != nil || sum.FilesStored != 1 {
		t.Fatalf("coordinator import: %+v %v", sum, err)
	}

	fd, err := coord.ReadFile(c.ID.String(), 0)
	if err != nil || !bytes.Equal(fd.Data, photo) || fd.Name != name || fd.Mime != "image/jpeg" {
		t.Fatalf("the coordinator's copy of the photo: %s %q %v", fd.Mime, fd.Name, err)
	}
	// What a seized carrier's phone holds: no byte of the photo (any 64
	// bytes of it), nor its name, in any table of its store.
	for _, needle := range [][]byte{photo[1000:1064], photo[100<<10 : 100<<10+64], []byte(name), []byte("Seal broken")} {
		if tables, err := store.TablesHolding(carSt, needle); err != nil || len(tables) > 0 {
			t.Errorf("the carrier's store holds %.20q in tables %q (%v)", needle, tables, err)
		}
	}
	if files, err := car.Files(c.ID.String()); err != nil || len(files) != 0 {
		t.Errorf("the carrier lists the sealed report's files: %+v %v", files, err)
	}
	// The observer dropped the draft's plaintext once the sealed copy was
	// stored; it keeps a readable copy (its own) until a coordinator's
	// receipt.
	if tables, _ := store.TablesHolding(obsSt, photo[1000:1064]); len(tables) > 0 {
		t.Errorf("the observer's store still holds the photo's plaintext in tables %q", tables)
	}
	if fd, err := obs.ReadFile(c.ID.String(), 0); err != nil || !bytes.Equal(fd.Data, photo) {
		t.Errorf("the author cannot open its own photo before a receipt: %v", err)
	}
}
