package main

import (
	"errors"
	"path/filepath"
	"slices"
	"testing"

	"github.com/vigil-mesh/vigil/incident/act"
	"github.com/vigil-mesh/vigil/incident/store"
	"github.com/vigil-mesh/vigil/incident/vault"
)

// FuzzActRequests sends arbitrary bodies to every typed request of the
// control socket, against a coordinator's desk: each answers a result or
// an *act.Error (the socket carries nothing else), and none panics.
func FuzzActRequests(f *testing.F) {
	st, err := store.Init(filepath.Join(f.TempDir(), "home"), []byte(defaultPass), store.Options{KDF: &vault.KDFParams{Time: 1, MemoryKiB: 64, Threads: 1}})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { st.Close() })
	if _, err := st.CreateMission("Fuzz", "desk", false); err != nil {
		f.Fatal(err)
	}
	desk := act.New(st)
	var names []string
	for name := range actHandlers {
		names = append(names, name)
	}
	slices.Sort(names)
	for i, body := range []string{`{}`, `""`, `null`, `{"Report":{"Category":"other","Severity":2,"Title":"x","Occurred":1}}`,
		`{"Ref":"bafkreiaaaaaaaa","Reason":"r"}`, `{"role":"observer","expires":-1}`, `["a=b"]`, `{"Name":"x","Data":"AAAA"}`, `[`} {
		f.Add(uint8(i), []byte(body))
	}
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		name := names[int(which)%len(names)]
		_, err := actHandlers[name](desk, body)
		var ae *act.Error
		if err != nil && !errors.As(err, &ae) {
			t.Fatalf("%s %q: %T %v is not classified", name, body, err, err)
		}
	})
}
