package act

import (
	"bytes"
	"errors"
	"path/filepath"
	"testing"

	"github.com/vigil-mesh/vigil/incident/store"
)

// A coordinator's backup, restored on a fresh home, reads the observer's
// sealed reports, with their attachments, as the coordinator did.
func TestBackupRestoreThroughTheDesk(t *testing.T) {
	coord, obs := mission(t)
	copyRecords(t, coord, obs)
	photo := bytes.Repeat([]byte{0xff, 0xd8, 0xff, 0xe0, 'J', 'F', 'I', 'F'}, 512)
	file, err := obs.AttachFile("ballot.jpg", photo)
	if err != nil {
		t.Fatal(err)
	}
	sealed := true
	created, err := obs.Submit(Submission{Report: report("Box sealed with tape NEEDLE"), Files: []Attachment{file}, Sealed: &sealed})
	if err != nil || !created.Sealed {
		t.Fatalf("submit: %+v %v", created, err)
	}
	copyRecords(t, obs, coord)
	if err := coord.st.PutBlob(file.Hash, photo); err != nil {
		t.Fatal(err)
	}
	orig, err := coord.Report(created.ID.String())
	if err != nil || !orig.Opened {
		t.Fatalf("the coordinator cannot open the sealed report: %+v %v", orig, err)
	}

	if _, err := coord.Backup(BackupRequest{Passphrase: []byte("short")}, &bytes.Buffer{}); CodeOf(err) != Invalid {
		t.Fatalf("a short backup passphrase: %v", err)
	}
	var buf bytes.Buffer
	res, err := coord.Backup(BackupRequest{Passphrase: []byte("backup phrase words"), WorkFactor: 10}, &buf)
	if err != nil {
		t.Fatal(err)
	}
	if res.Author != coord.st.Author() || res.Mission == nil || res.Records == 0 || res.Files != 1 {
		t.Fatalf("backed up %+v", res)
	}
	if bytes.Contains(buf.Bytes(), []byte("NEEDLE")) || bytes.Contains(buf.Bytes(), []byte("Test mission")) {
		t.Fatal("the backup holds text in clear")
	}

	req := func(home string, backupPass string) RestoreRequest {
		return RestoreRequest{Home: home, From: bytes.NewReader(buf.Bytes()), BackupPassphrase: []byte(backupPass),
			Passphrase: []byte("the new home passphrase"), Store: store.Options{KDF: &cheapKDF}}
	}
	home := filepath.Join(t.TempDir(), "restored")
	if _, _, err := Restore(req(home, "not the phrase at all")); CodeOf(err) != CannotOpen {
		t.Fatalf("wrong passphrase: %v", err)
	}
	r := req(home, "backup phrase words")
	r.From = bytes.NewReader(buf.Bytes()[:buf.Len()-10])
	if _, _, err := Restore(r); CodeOf(err) != BadFile {
		t.Fatalf("truncated: %v", err)
	}
	if _, _, err := Restore(req(coord.st.Home(), "backup phrase words")); CodeOf(err) != HasHome {
		t.Fatalf("over the original's home: %v", err)
	}
	st, got, err := Restore(req(home, "backup phrase words"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if got.Author != res.Author || *got.Mission != *res.Mission || got.Records != res.Records {
		t.Fatalf("restored %+v, backed up %+v", got, res)
	}
	again := New(st)
	v, err := again.Report(created.ID.String())
	if err != nil || !v.Opened || v.Report.Title != orig.Report.Title {
		t.Fatalf("the restored home does not open the sealed report: %+v %v", v, err)
	}
	if blob, err := st.Blob(file.Hash); err != nil || !bytes.Equal(blob, photo) {
		t.Fatalf("the attachment: %v", err)
	}
	if _, _, err := Restore(req(home, "backup phrase words")); !errors.Is(err, HasHome) {
		t.Fatalf("a second restore over the restored home: %v", err)
	}
}
