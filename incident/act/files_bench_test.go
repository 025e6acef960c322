package act

import (
	"crypto/sha256"
	"fmt"
	"testing"
	"time"

	"github.com/vigil-mesh/vigil/incident"
)

// benchAttachments is how many attachment records the coordinator's
// store holds in BenchmarkAttachmentLookups.
const benchAttachments = 5000

// BenchmarkAttachmentLookups measures, on a coordinator's store holding
// benchAttachments attachment records, what finds the record of a file by
// its content hash: FilesOf for a report in the clear with three files
// (what showing a report costs), and DeleteBlob of a draft's plaintext no
// record names (what each file of a sealed submission costs).
func BenchmarkAttachmentLookups(b *testing.B) {
	coord, obs := mission(b)
	ms, err := obs.st.Mission()
	if err != nil {
		b.Fatal(err)
	}
	signer := obs.st.Signer()
	start := time.Now().Add(-10 * 24 * time.Hour)
	raws := make([][]byte, 0, benchAttachments)
	var named [][]byte
	for i := range benchAttachments {
		data := fmt.Appendf(nil, "photo %d", i)
		sum := sha256.Sum256(data)
		// One a minute: no author passes its daily quota.
		rec, err := signer.Sign(ms.ID, incident.KindAttachment, start.Add(time.Duration(i)*time.Minute), incident.AttachmentPayload{
			Hash: sum[:], Size: uint64(len(data)), Mime: "image/jpeg", Name: fmt.Sprintf("p%d.jpg", i), Chunks: incident.ChunkHashes(data)})
		if err != nil {
			b.Fatal(err)
		}
		raws = append(raws, rec.Raw)
		if i%(benchAttachments/3) == 1 {
			named = append(named, sum[:])
		}
	}
	for at := 0; at < len(raws); at += 500 {
		if _, err := coord.st.AddMany(raws[at:min(at+500, len(raws))], "bench", nil); err != nil {
			b.Fatal(err)
		}
	}
	r := report("Three photos")
	r.Attachments = named
	b.Run("FilesOf", func(b *testing.B) {
		for b.Loop() {
			files := coord.FilesOf(&r)
			if len(files) != len(named) || files[0].Name == "" || files[0].Name[0] != 'p' {
				b.Fatalf("%+v", files)
			}
		}
	})
	b.Run("DeleteBlob", func(b *testing.B) {
		draft := sha256.Sum256([]byte("a draft's plaintext"))
		for b.Loop() {
			if err := coord.st.DeleteBlob(draft); err != nil {
				b.Fatal(err)
			}
		}
	})
}
