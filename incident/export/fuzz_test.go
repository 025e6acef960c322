package export

import (
	"bytes"
	"testing"

	"github.com/vigil-mesh/vigil/incident/bundle"
)

// FuzzVerify feeds arbitrary files to Verify (JSONL, bundle and evidence
// readers): it must never panic, and a file that is not a readable export
// is an error or a verdict, never a silent OK.
func FuzzVerify(f *testing.F) {
	m := newPaperMission(f, "Fuzz mission").standard()
	var jsonl bytes.Buffer
	jw, _ := NewJSONL(&jsonl, m.deps)
	for i := range m.items {
		jw.Write(&m.items[i])
	}
	f.Add(jsonl.Bytes())
	// A newer Vigil's record (a kind this build does not know) on its
	// JSONL line and in a bundle.
	notice := m.accept(m.sign(m.observer, "notice", map[uint64]any{1: "Stations close at 18:00"}))
	var newer bytes.Buffer
	nw, _ := NewJSONL(&newer, m.deps)
	nw.Newer(notice)
	nw.Write(&m.items[0])
	f.Add(newer.Bytes())
	raws := [][]byte{}
	for _, d := range m.deps {
		raws = append(raws, d.Raw)
	}
	var b bytes.Buffer
	bundle.Write(&b, m.ms.ID, paperT0, append(raws, notice.Raw, m.items[0].Record))
	f.Add(b.Bytes())
	f.Add([]byte("{}\n"))
	f.Add(append(append([]byte(nil), bundle.Magic...), make([]byte, 80)...))
	f.Add([]byte("PK\x03\x04"))
	f.Fuzz(func(t *testing.T, data []byte) {
		rep, err := Verify(bytes.NewReader(data), nil)
		if err != nil {
			return
		}
		if !bytes.Equal(data, jsonl.Bytes()) && len(rep.Verdicts) > 0 && rep.Bad() == 0 && rep.Mission.IsZero() {
			t.Fatalf("verdicts all OK without a mission: %+v", rep.Verdicts)
		}
	})
}

// FuzzParseQRText: the QR payload parser never panics.
func FuzzParseQRText(f *testing.F) {
	f.Add("VIGIL1:AAAA")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		_, _ = ParseQRText(s)
	})
}
