package app

import (
	"embed"
	"encoding/json"
	"os"
	"sort"
	"strings"
	"sync"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/lang"
	"github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"

	"github.com/vigil-mesh/vigil/incident"
)

// Every string the user reads goes through T or TN with a key listed in
// translations/en.json; every other language's file (fr.json, pt.json,
// sw.json) holds the same keys with the same placeholders
// (i18n_test.go checks them all). The files are registered with Fyne's lang
// package, so by default the app follows the system language like Fyne's
// own dialogs do. A language chosen in the app (SetLanguage) overrides it.

//go:embed translations/*.json
var translationFS embed.FS

// Languages the app is translated into, in the order the picker shows.
var Languages = []struct{ Code, Name string }{
	{"en", "English"}, {"fr", "Français"}, {"pt", "Português"}, {"sw", "Kiswahili"},
}

var (
	trOnce    sync.Once
	trMu      sync.RWMutex
	trBundle  *i18n.Bundle
	trChosen  *i18n.Localizer // nil: the system language, through lang
	trCode    string
	trEnglish map[string]any
)

// fyneLocaleEnv returns the LANGUAGE value that keeps Fyne's locale
// lookup (github.com/jeandeaual/go-locale: LC_ALL, LC_MESSAGES or LANG,
// then LANGUAGE) from logging "Error parsing user locale C" under locales
// such as C.UTF-8 or POSIX.UTF-8, whose language part is no language: the
// entries that are languages, else "en". ok is false when the
// environment needs no change (a real language, or plain C or POSIX, which
// the lookup already treats as "no preference").
func fyneLocaleEnv(getenv func(string) string) (value string, ok bool) {
	loc := ""
	for _, k := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		if loc = getenv(k); loc != "" {
			break
		}
	}
	if loc == "C" || loc == "POSIX" {
		return "", false
	}
	list := loc
	if l := getenv("LANGUAGE"); l != "" {
		list = l
	}
	if list == "" {
		return "", false
	}
	var good []string
	bad := false
	for _, e := range strings.Split(list, ":") {
		// As go-locale does: drop the encoding and modifier, then take
		// the part before the territory.
		base, _, _ := strings.Cut(e, ".")
		base, _, _ = strings.Cut(base, "@")
		code, _, _ := strings.Cut(strings.ReplaceAll(base, "-", "_"), "_")
		if _, err := language.Parse(code); err != nil || len(code) < 2 {
			bad = true
			continue
		}
		good = append(good, e)
	}
	if !bad {
		return "", false
	}
	if len(good) == 0 {
		return "en", true
	}
	return strings.Join(good, ":"), true
}

// normaliseLocaleEnv sets LANGUAGE as fyneLocaleEnv says, so that the app
// falls back to English silently. It changes nothing when the locale
// names a language.
func normaliseLocaleEnv() {
	if v, ok := fyneLocaleEnv(os.Getenv); ok {
		_ = os.Setenv("LANGUAGE", v)
	}
}

// registerFyneTranslations hands the translations to Fyne's lang package,
// which also looks up the system locale.
func registerFyneTranslations() error {
	normaliseLocaleEnv()
	return lang.AddTranslationsFS(translationFS, "translations")
}

func loadTranslations() {
	trOnce.Do(func() {
		if err := registerFyneTranslations(); err != nil {
			fyne.LogError("vigil translations", err)
		}
		trBundle = i18n.NewBundle(language.English)
		trBundle.RegisterUnmarshalFunc("json", json.Unmarshal)
		for _, l := range Languages {
			b, err := translationFS.ReadFile("translations/" + l.Code + ".json")
			if err != nil {
				continue
			}
			if _, err := trBundle.ParseMessageFileBytes(b, l.Code+".json"); err != nil {
				fyne.LogError("vigil translations "+l.Code, err)
			}
			if l.Code == "en" {
				_ = json.Unmarshal(b, &trEnglish)
			}
		}
	})
}

// SetLanguage chooses the app's language by code ("en", "fr", "pt", "sw"); ""
// goes back to the system language.
func SetLanguage(code string) {
	loadTranslations()
	trMu.Lock()
	defer trMu.Unlock()
	trCode = code
	if code == "" {
		trChosen = nil
		return
	}
	trChosen = i18n.NewLocalizer(trBundle, code, "en")
}

// Language returns the chosen language code ("" for the system's).
func Language() string {
	trMu.RLock()
	defer trMu.RUnlock()
	return trCode
}

// english returns the English text of key (the fallback), or the key.
func english(key string, plural bool) string {
	switch v := trEnglish[key].(type) {
	case string:
		return v
	case map[string]any:
		if s, ok := v["other"].(string); ok {
			return s
		}
		if s, ok := v["one"].(string); ok && !plural {
			return s
		}
	}
	return key
}

// T translates key, filling {{.Name}} placeholders from data.
func T(key string, data ...map[string]any) string {
	loadTranslations()
	var d map[string]any
	if len(data) > 0 {
		d = data[0]
	}
	fallback := english(key, false)
	trMu.RLock()
	loc := trChosen
	trMu.RUnlock()
	if loc != nil {
		s, err := loc.Localize(&i18n.LocalizeConfig{MessageID: key, TemplateData: d,
			DefaultMessage: &i18n.Message{ID: key, Other: fallback}})
		if err == nil {
			return s
		}
	}
	if d == nil {
		return lang.X(key, fallback)
	}
	return lang.X(key, fallback, d)
}

// TN translates a key with plural forms for count n; {{.N}} is n.
func TN(key string, n int, data ...map[string]any) string {
	loadTranslations()
	d := map[string]any{"N": n}
	if len(data) > 0 {
		for k, v := range data[0] {
			d[k] = v
		}
	}
	fallback := english(key, true)
	trMu.RLock()
	loc := trChosen
	trMu.RUnlock()
	if loc != nil {
		s, err := loc.Localize(&i18n.LocalizeConfig{MessageID: key, TemplateData: d, PluralCount: n,
			DefaultMessage: &i18n.Message{ID: key, One: english(key, false), Other: fallback}})
		if err == nil {
			return s
		}
	}
	return lang.XN(key, fallback, n, d)
}

// TOr translates key when a translation exists, else returns fallback
// (mission-defined categories carry their own labels).
func TOr(key, fallback string) string {
	loadTranslations()
	if _, ok := trEnglish[key]; !ok {
		return fallback
	}
	return T(key)
}

// translationKeys lists the keys of one translation file (tests).
func translationKeys(code string) ([]string, error) {
	b, err := translationFS.ReadFile("translations/" + code + ".json")
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys, nil
}

// Labels for the closed vocabularies.

// CategoryLabel is a category's name in the user's language.
func CategoryLabel(c incident.Category) string { return TOr("cat."+c.Code, c.Label) }

// CategoryLabelOf names a category code, using the base taxonomy's label
// when the code is not translated.
func CategoryLabelOf(code string) string {
	if c, ok := incident.BaseCategory(code); ok {
		return CategoryLabel(c)
	}
	return TOr("cat."+code, code)
}

// FamilyLabel names a family.
func FamilyLabel(f string) string { return TOr("family."+f, f) }

// StatusLabel names a review status.
func StatusLabel(s string) string { return TOr("status."+s, s) }

// ChannelLabel names a disinformation channel.
func ChannelLabel(c string) string { return TOr("channel."+c, c) }

// HarmLabel names a harm level.
func HarmLabel(h string) string { return TOr("harm."+h, h) }

// CheckinLabel names a check-in status.
func CheckinLabel(s string) string { return TOr("checkin."+s, s) }

// RoleLabel names a role.
func RoleLabel(r string) string { return TOr("role."+r, r) }

// FlagLabel explains a flag.
func FlagLabel(f string) string { return TOr("flag."+f, strings.ReplaceAll(f, "_", " ")) }

// SeverityLabel names a severity from 1 to 4.
func SeverityLabel(n int) string {
	switch n {
	case 1:
		return T("severity.1")
	case 2:
		return T("severity.2")
	case 3:
		return T("severity.3")
	case 4:
		return T("severity.4")
	}
	return "?"
}
