package act

import (
	"testing"
)

// A report in the clear names its files by hash; the coordinator finds
// each file's record by that hash, before its content arrives and after.
// A file named by a report in the clear stays when a sealed report takes
// a copy of it.
func TestFilesOfClearReport(t *testing.T) {
	coord, obs := mission(t)
	clear := false
	photo := []byte("\xff\xd8\xff\xe0 the queue at noon")
	a, err := obs.AttachFile("queue.jpg", photo)
	if err != nil {
		t.Fatal(err)
	}
	c, err := obs.Submit(Submission{Report: report("Queue"), Files: []Attachment{a}, Sealed: &clear})
	if err != nil {
		t.Fatal(err)
	}
	copyRecords(t, obs, coord) // the records, not the content
	files, err := coord.Files(c.ID.String())
	if err != nil || len(files) != 1 {
		t.Fatalf("files: %+v, %v", files, err)
	}
	if f := files[0]; f.Name != "queue.jpg" || f.Size != len(photo) || f.Mime != a.Mime || f.Held || f.Readable || f.Sealed {
		t.Fatalf("the file before its content arrived: %+v", f)
	}
	if err := coord.st.PutBlob(a.Hash, photo); err != nil {
		t.Fatal(err)
	}
	fd, err := coord.ReadFile(c.ID.String(), 0)
	if err != nil || string(fd.Data) != string(photo) || fd.Name != "queue.jpg" || !fd.Held || !fd.Readable {
		t.Fatalf("the file once its content arrived: %+v, %v", fd.File, err)
	}

	// The same photo again, sealed this time: the sealed report holds its
	// own encrypted copy, and the plaintext stays, since the first report
	// names it.
	sealed := true
	again, err := obs.AttachFile("queue-again.jpg", photo)
	if err != nil {
		t.Fatal(err)
	}
	s, err := obs.Submit(Submission{Report: report("Queue, still"), Files: []Attachment{again}, Sealed: &sealed})
	if err != nil || !s.Sealed {
		t.Fatalf("%+v, %v", s, err)
	}
	if !obs.st.HasBlob(a.Hash) {
		t.Fatal("a sealed report's copy dropped the content a clear report names")
	}
	if fd, err := obs.ReadFile(c.ID.String(), 0); err != nil || string(fd.Data) != string(photo) {
		t.Fatalf("the clear report's file after the sealed copy: %+v, %v", fd.File, err)
	}

	// Attached in the clear a second time, under another name: two
	// records describe the file, and either names it (the newer by
	// claimed time; these two may share a millisecond).
	again2, err := obs.AttachFile("queue-2.jpg", photo)
	if err != nil {
		t.Fatal(err)
	}
	c2, err := obs.Submit(Submission{Report: report("Queue, later"), Files: []Attachment{again2}, Sealed: &clear})
	if err != nil {
		t.Fatal(err)
	}
	copyRecords(t, obs, coord)
	for _, id := range []string{c.ID.String(), c2.ID.String()} {
		files, err := coord.Files(id)
		if err != nil || len(files) != 1 || (files[0].Name != "queue.jpg" && files[0].Name != "queue-2.jpg") || !files[0].Readable {
			t.Fatalf("files of %s: %+v, %v", id, files, err)
		}
	}
}
