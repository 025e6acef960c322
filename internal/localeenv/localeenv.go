// Package localeenv keeps Fyne from logging "Fyne error: Error parsing user
// locale C" on every start under a C locale with a charset (LANG=C.UTF-8,
// the default of many servers and containers).
//
// Fyne's lang package reads the locale in its package init, through
// github.com/jeandeaual/go-locale: that library treats "C" and "POSIX" as
// no language, but turns "C.UTF-8" into the tag "C", which
// golang.org/x/text/language refuses, and Fyne logs the refusal three lines
// long. The fix has to act before that init, so it lives here, in a module
// of its own: Go (1.21 and later) initialises packages in import-path order
// among those whose imports are ready, and this path ("env.…") sorts before
// "fyne.io/…", which no path inside github.com/vigil-mesh/vigil can do.
// cmd/vigil imports it for its side effect; its test checks the CLI stays
// quiet under each C locale.
//
// A real locale (fr_FR.UTF-8, LANGUAGE=sw:en) is left alone, and so is the
// user's environment except for LANGUAGE, set to "en" only when the locale
// is C or POSIX with a charset and LANGUAGE is empty: gettext ignores
// LANGUAGE under the C locale, and English is what C means.
package localeenv

import (
	"os"
	"strings"
)

func init() { Apply(os.Getenv, os.Setenv) }

// Apply sets LANGUAGE=en through setenv when the locale that
// go-locale reads (the first of LC_ALL, LC_MESSAGES, LANG that is set) is
// C or POSIX with a charset or modifier, and LANGUAGE is empty. It reports
// whether it did.
func Apply(getenv func(string) string, setenv func(string, string) error) bool {
	if NeedsLanguage(getenv) {
		return setenv("LANGUAGE", "en") == nil
	}
	return false
}

// NeedsLanguage reports whether the environment would make go-locale hand
// Fyne the unparseable tag "C" or "POSIX".
func NeedsLanguage(getenv func(string) string) bool {
	loc := ""
	for _, k := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		if loc = getenv(k); loc != "" {
			break
		}
	}
	if loc == "" || loc == "C" || loc == "POSIX" {
		return false // go-locale already reads these as no language
	}
	if getenv("LANGUAGE") != "" {
		return false
	}
	lang, _, _ := strings.Cut(loc, ".")
	lang, _, _ = strings.Cut(lang, "@")
	return lang == "C" || lang == "POSIX"
}
