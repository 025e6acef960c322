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
		{map[string]string{"LANG": "sw_KE.UTF-8"}, "", false},
		{map[string]string{"LANG": "C.UTF-8", "LANGUAGE": "sw_TZ:C"}, "sw_TZ", true},
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

// A Swahili system locale, as Kenyan and Tanzanian phones and laptops set
// it (with or without a territory and a charset), opens the app in
// Swahili when no language was chosen in the app, and logs nothing.
func TestSwahiliLocaleFollowed(t *testing.T) {
	defer SetLanguage("en")
	loadTranslations()
	SetLanguage("") // follow the system, through Fyne
	want := "Ripoti mpya"
	for _, c := range []struct{ lcAll, lang, language string }{
		{"", "sw_KE.UTF-8", ""},
		{"", "sw_TZ.UTF-8", ""},
		{"", "sw", ""},
		{"sw_KE.UTF-8", "en_US.UTF-8", ""},
		{"", "C.UTF-8", "sw_KE:en"},
	} {
		setLocale(t, c.lcAll, c.lang)
		t.Setenv("LANGUAGE", c.language)
		out := captureLog(func() {
			if err := registerFyneTranslations(); err != nil {
				t.Fatal(err)
			}
		})
		if out != "" {
			t.Errorf("LC_ALL=%q LANG=%q LANGUAGE=%q logged:\n%s", c.lcAll, c.lang, c.language, out)
		}
		if got := T("home.new_report"); got != want {
			t.Errorf("LC_ALL=%q LANG=%q LANGUAGE=%q: %q, want Swahili %q", c.lcAll, c.lang, c.language, got, want)
		}
		if got := TN("delivery.sent", 3); got != "Imetumwa kwa vifaa 3" {
			t.Errorf("LC_ALL=%q LANG=%q LANGUAGE=%q plural: %q", c.lcAll, c.lang, c.language, got)
		}
	}
	// A language chosen in the app wins over the system's.
	setLocale(t, "", "sw_KE.UTF-8")
	_ = registerFyneTranslations()
	SetLanguage("fr")
	if got := T("home.new_report"); got != "Nouveau rapport" {
		t.Errorf("French chosen under sw_KE: %q", got)
	}
	SetLanguage("")

	// Leave Fyne in English for the other tests.
	setLocale(t, "", "en_US.UTF-8")
	_ = registerFyneTranslations()
}
