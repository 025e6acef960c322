package app

import (
	"bytes"
	"log"
	"strings"
	"testing"

	"fyne.io/fyne/v2/lang"
)

func TestFyneLocaleEnv(t *testing.T) {
	for _, c := range []struct {
		env  map[string]string
		want string
		ok   bool
	}{
		{map[string]string{"LANG": "C.UTF-8"}, "en", true},
		{map[string]string{"LANG": "C.utf8"}, "en", true},
		{map[string]string{"LC_ALL": "C.UTF-8", "LANG": "fr_FR.UTF-8"}, "en", true},
		{map[string]string{"LANG": "C.UTF-8", "LANGUAGE": "pt_BR:C"}, "pt_BR", true},
		{map[string]string{"LANG": "C"}, "", false},
		{map[string]string{"LANG": "POSIX"}, "", false},
		{map[string]string{}, "", false},
		{map[string]string{"LANG": "fr_FR.UTF-8"}, "", false},
		{map[string]string{"LANG": "pt_PT.UTF-8@euro"}, "", false},
		{map[string]string{"LANG": "en_US.UTF-8", "LANGUAGE": "fr:en"}, "", false},
	} {
		got, ok := fyneLocaleEnv(func(k string) string { return c.env[k] })
		if got != c.want || ok != c.ok {
			t.Errorf("%v: %q %v, want %q %v", c.env, got, ok, c.want, c.ok)
		}
	}
}

// setLocale sets the locale variables Fyne reads.
func setLocale(t *testing.T, lcAll, lang string) {
	t.Helper()
	t.Setenv("LC_ALL", lcAll)
	t.Setenv("LC_MESSAGES", "")
	t.Setenv("LANG", lang)
	t.Setenv("LANGUAGE", "")
}

// captureLog runs fn and returns what it logged.
func captureLog(fn func()) string {
	var buf bytes.Buffer
	w, f := log.Writer(), log.Flags()
	log.SetOutput(&buf)
	defer func() { log.SetOutput(w); log.SetFlags(f) }()
	fn()
	return buf.String()
}

// Under the C locale (C.UTF-8 and friends, common on servers and in
// containers) registering the translations logs nothing, and the app
// speaks English; a real locale is still followed.
func TestCLocaleLogsNoError(t *testing.T) {
	defer SetLanguage("en")
	loadTranslations()
	SetLanguage("") // follow the system, through Fyne

	setLocale(t, "", "C.UTF-8")
	if out := captureLog(func() { _ = lang.AddTranslationsFS(translationFS, "translations") }); !strings.Contains(out, "Error parsing user locale") {
		t.Logf("Fyne no longer logs for C.UTF-8 by itself; the test still checks the app's path")
	}
	for _, c := range []struct{ lcAll, lang string }{{"", "C"}, {"", "POSIX"}, {"", "C.UTF-8"}, {"C.UTF-8", "fr_FR.UTF-8"}, {"", "POSIX.UTF-8"}} {
		setLocale(t, c.lcAll, c.lang)
		out := captureLog(func() {
			if err := registerFyneTranslations(); err != nil {
				t.Fatal(err)
			}
			lang.SystemLocale()
		})
		if strings.Contains(out, "Error parsing user locale") || strings.Contains(out, "Fyne error") {
			t.Errorf("LC_ALL=%q LANG=%q: registering translations logged:\n%s", c.lcAll, c.lang, out)
		}
		if got := T("home.new_report"); got != "New report" {
			t.Errorf("LC_ALL=%q LANG=%q: %q, want English", c.lcAll, c.lang, got)
		}
	}

	setLocale(t, "", "fr_FR.UTF-8")
	out := captureLog(func() { _ = registerFyneTranslations() })
	if out != "" {
		t.Errorf("fr_FR.UTF-8 logged:\n%s", out)
	}
	if got := T("home.new_report"); got != "Nouveau rapport" {
		t.Errorf("fr_FR.UTF-8: %q, want French", got)
	}

	// Leave Fyne in English for the other tests.
	setLocale(t, "", "en_US.UTF-8")
	_ = registerFyneTranslations()
}
