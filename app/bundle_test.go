package app

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/bundle"
	"github.com/vigil-mesh/vigil/incident/store"
)

// useFiles makes the file dialogs save to and open path.
func useFiles(ui *UI, path string) {
	ui.chooseSave = func(_ string, _ []string, got func(fyne.URIWriteCloser, error)) {
		got(storage.Writer(storage.NewFileURI(path)))
	}
	ui.chooseOpen = func(_ []string, got func(fyne.URIReadCloser, error)) {
		got(storage.Reader(storage.NewFileURI(path)))
	}
}

// exportBundleUI exports a bundle through the dialog, protected as
// protect says (with passphrase for a passphrase bundle), to path.
func exportBundleUI(t *testing.T, ui *UI, path string, protect, passphrase string) {
	t.Helper()
	useFiles(ui, path)
	ui.selectTab(T("tab.sync"))
	tap(t, ui, T("bundle.export"))
	r, ok := find(ui, func(r *widget.RadioGroup) bool { return slices.Contains(r.Options, protect) })
	if !ok {
		t.Fatalf("no protection %q offered:\n%s", protect, topText(ui))
	}
	r.SetSelected(protect)
	if passphrase != "" {
		test.Type(entry(t, ui, T("bundle.passphrase")), passphrase)
		test.Type(entry(t, ui, T("bundle.passphrase_again")), passphrase)
	}
	tap(t, ui, T("export.choose_file"))
	if !strings.Contains(topText(ui), "✅") {
		t.Fatalf("export did not finish; dialog:\n%s\nscreen:\n%s", topText(ui), allText(ui))
	}
	dismissAll(ui)
}

// importBundleUI imports path through the sync screen.
func importBundleUI(t *testing.T, ui *UI, path string) {
	t.Helper()
	useFiles(ui, path)
	ui.selectTab(T("tab.sync"))
	tap(t, ui, T("bundle.import"))
}

// missing counts the records of from that to lacks.
func missing(t *testing.T, from, to *store.Store) int {
	t.Helper()
	n := 0
	if err := from.ForEachKey(func(_ int64, id incident.ID) error {
		if ok, _ := to.Has(id); !ok {
			n++
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return n
}

func recordCount(t *testing.T, s *store.Store) int {
	t.Helper()
	n := 0
	if err := s.ForEachKey(func(int64, incident.ID) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestBundleOnAUSBStick(t *testing.T) {
	a := test.NewTempApp(t)
	coordHome, code := missionHomes(t)
	obs := newTestUI(t, a, joinedObserver(t, code), true, testPass)
	var ids []incident.ID
	for _, title := range []string{"No ink at 07:10", "Queue of 300 at noon"} {
		id, err := obs.be.Submit(incident.ReportPayload{Category: "polling.materials_missing", Severity: 2, Title: title,
			Station: "PS-0001"}, nil, false)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	co := newTestUI(t, a, coordHome, false, testPass)
	dir := t.TempDir()

	// Plain bundle: export on the observer's phone, import on the laptop.
	plain := filepath.Join(dir, "plain.vgb")
	exportBundleUI(t, obs, plain, "🔓 "+T("bundle.protect_none"), "")
	data, err := os.ReadFile(plain)
	if err != nil || !bytes.HasPrefix(data, bundle.Magic) {
		t.Fatalf("exported file: %v, %q…", err, data[:min(len(data), 8)])
	}
	total := recordCount(t, storeOf(obs))
	added := missing(t, storeOf(obs), storeOf(co))
	importBundleUI(t, co, plain)
	top := topText(co)
	for _, want := range []string{T("bundle.imported"), TN("bundle.added", added), TN("bundle.duplicate", total-added),
		TN("bundle.rejected", 0)} {
		if !strings.Contains(top, want) {
			t.Fatalf("import summary lacks %q:\n%s", want, top)
		}
	}
	dismissAll(co)
	for _, id := range ids {
		if ok, _ := storeOf(co).Has(id); !ok {
			t.Fatalf("report %s not imported", id)
		}
	}
	// Again: everything is already held.
	importBundleUI(t, co, plain)
	if top := topText(co); !strings.Contains(top, TN("bundle.added", 0)) || !strings.Contains(top, TN("bundle.duplicate", total)) {
		t.Fatalf("second import:\n%s", top)
	}
	dismissAll(co)

	// A corrupt file: an error, and nothing changes.
	before := recordCount(t, storeOf(co))
	bad := bytes.Clone(data)
	bad[len(bad)/2] ^= 0xff
	badPath := filepath.Join(dir, "bad.vgb")
	if err := os.WriteFile(badPath, bad, 0o600); err != nil {
		t.Fatal(err)
	}
	importBundleUI(t, co, badPath)
	if top := topText(co); !strings.Contains(top, T("err.title")) || !strings.Contains(top, T("bundle.err_corrupt")) {
		t.Fatalf("corrupt bundle: dialog\n%s", top)
	}
	dismissAll(co)
	if n := recordCount(t, storeOf(co)); n != before {
		t.Fatalf("a corrupt bundle changed the store: %d records, was %d", n, before)
	}

	// A sound file with a bad record: the good ones are stored, the bad
	// one listed with its reason.
	id3, err := obs.be.Submit(incident.ReportPayload{Category: "polling.closure", Severity: 3, Title: "Shut at 15:00"}, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	good, _ := storeOf(obs).Get(id3)
	forged := bytes.Clone(good.Raw)
	forged[len(forged)-3] ^= 0x01 // inside the signature
	ms, _ := storeOf(obs).Mission()
	var buf bytes.Buffer
	w, _ := bundle.NewWriter(&buf, ms.ID, time.Now().UnixMilli(), 2)
	_ = w.Add(good.Raw)
	_ = w.Add(forged)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	mixed := filepath.Join(dir, "mixed.vgb")
	if err := os.WriteFile(mixed, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	importBundleUI(t, co, mixed)
	top = topText(co)
	for _, want := range []string{T("bundle.imported_partly"), TN("bundle.added", 1), TN("bundle.rejected", 1),
		T("bundle.why_rejected"), shortID(incident.IDOf(forged).String())} {
		if !strings.Contains(top, want) {
			t.Fatalf("mixed bundle summary lacks %q:\n%s", want, top)
		}
	}
	dismissAll(co)
	if ok, _ := storeOf(co).Has(id3); !ok {
		t.Fatal("the valid record of a mixed bundle was not stored")
	}
}

func TestEncryptedBundles(t *testing.T) {
	a := test.NewTempApp(t)
	coordHome, code := missionHomes(t)
	obs := newTestUI(t, a, joinedObserver(t, code), true, testPass)
	id, err := obs.be.Submit(incident.ReportPayload{Category: "polling.vote_buying", Severity: 3, Title: "Cash at the door"}, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	co := newTestUI(t, a, coordHome, false, testPass)
	dir := t.TempDir()

	// For the coordinators: the laptop opens it with its own key; nothing
	// of the report is in the clear on the stick.
	forCo := filepath.Join(dir, "for-coordinators.vgb")
	exportBundleUI(t, obs, forCo, "🔒 "+T("bundle.protect_coordinators"), "")
	data, _ := os.ReadFile(forCo)
	if !bytes.HasPrefix(data, []byte("age-encryption.org/v1\n")) || bytes.Contains(data, []byte("Cash at the door")) {
		t.Fatal("a bundle for coordinators is not encrypted")
	}
	importBundleUI(t, co, forCo)
	if top := topText(co); !strings.Contains(top, T("bundle.imported")) {
		t.Fatalf("coordinator import:\n%s", top)
	}
	dismissAll(co)
	if ok, _ := storeOf(co).Has(id); !ok {
		t.Fatal("report not imported from a bundle for coordinators")
	}

	// With a passphrase: asked for at import; a wrong one stores nothing.
	id2, err := obs.be.Submit(incident.ReportPayload{Category: "polling.violence", Severity: 4, Title: "Fight in the queue"}, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	withPass := filepath.Join(dir, "passphrase.vgb")
	exportBundleUI(t, obs, withPass, "🔑 "+T("bundle.protect_passphrase"), "blue heron at dawn")
	importBundleUI(t, co, withPass)
	if top := topText(co); !strings.Contains(top, T("bundle.needs_passphrase", map[string]any{"File": "passphrase.vgb"})) {
		t.Fatalf("no passphrase asked:\n%s", top)
	}
	test.Type(entry(t, co, T("bundle.passphrase")), "grey heron")
	tap(t, co, T("bundle.open"))
	if top := topText(co); !strings.Contains(top, T("bundle.err_passphrase")) {
		t.Fatalf("wrong bundle passphrase:\n%s", top)
	}
	dismissAll(co)
	if ok, _ := storeOf(co).Has(id2); ok {
		t.Fatal("a wrong passphrase stored records")
	}
	importBundleUI(t, co, withPass)
	test.Type(entry(t, co, T("bundle.passphrase")), "blue heron at dawn")
	tap(t, co, T("bundle.open"))
	if top := topText(co); !strings.Contains(top, TN("bundle.added", 1)) {
		t.Fatalf("passphrase import:\n%s", top)
	}
	dismissAll(co)
	if ok, _ := storeOf(co).Has(id2); !ok {
		t.Fatal("report not imported from a passphrase bundle")
	}

	// Mismatched passphrases at export write nothing.
	obs.selectTab(T("tab.sync"))
	useFiles(obs, filepath.Join(dir, "never.vgb"))
	tap(t, obs, T("bundle.export"))
	r, _ := find(obs, func(r *widget.RadioGroup) bool {
		return slices.Contains(r.Options, "🔑 "+T("bundle.protect_passphrase"))
	})
	r.SetSelected("🔑 " + T("bundle.protect_passphrase"))
	test.Type(entry(t, obs, T("bundle.passphrase")), "blue heron at dawn")
	test.Type(entry(t, obs, T("bundle.passphrase_again")), "blue heron at dusk")
	tap(t, obs, T("export.choose_file"))
	if top := topText(obs); !strings.Contains(top, T("welcome.differ")) {
		t.Fatalf("differing bundle passphrases:\n%s", top)
	}
	if _, err := os.Stat(filepath.Join(dir, "never.vgb")); err == nil {
		t.Fatal("a bundle was written with differing passphrases")
	}
}

// "Since" keeps only newer records, and always the mission's own.
func TestBundleSince(t *testing.T) {
	a := test.NewTempApp(t)
	_, code := missionHomes(t)
	obs := newTestUI(t, a, joinedObserver(t, code), false, testPass)
	if _, err := obs.be.Submit(incident.ReportPayload{Category: "polling.closure", Severity: 2, Title: "Shut"}, nil, false); err != nil {
		t.Fatal(err)
	}
	var all, recent bytes.Buffer
	nb, err := obs.be.ExportBundle(BundleRequest{Plain: true}, &all)
	n := nb.Records
	if err != nil {
		t.Fatal(err)
	}
	mb, err := obs.be.ExportBundle(BundleRequest{Since: time.Now().Add(time.Hour), Plain: true}, &recent)
	m := mb.Records
	if err != nil {
		t.Fatal(err)
	}
	_, raws, err := bundle.Parse(recent.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if m >= n || m != len(raws) || m == 0 {
		t.Fatalf("since: %d of %d records", m, n)
	}
	for _, raw := range raws {
		r, _ := incident.Decode(raw)
		if !r.Kind.MissionKind() {
			t.Fatalf("a %s record older than since went into the bundle", r.Kind)
		}
	}
}
