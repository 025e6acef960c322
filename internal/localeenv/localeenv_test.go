package localeenv

import "testing"

func TestNeedsLanguage(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		want bool
	}{
		{map[string]string{}, false},
		{map[string]string{"LANG": "C"}, false},
		{map[string]string{"LANG": "POSIX"}, false},
		{map[string]string{"LANG": "C.UTF-8"}, true},
		{map[string]string{"LANG": "C.utf8"}, true},
		{map[string]string{"LC_ALL": "POSIX.UTF-8", "LANG": "fr_FR.UTF-8"}, true},
		{map[string]string{"LC_ALL": "C@euro"}, true},
		{map[string]string{"LANG": "fr_FR.UTF-8"}, false},
		{map[string]string{"LC_ALL": "fr_FR.UTF-8", "LANG": "C.UTF-8"}, false},
		{map[string]string{"LANG": "C.UTF-8", "LANGUAGE": "sw:en"}, false},
		{map[string]string{"LC_MESSAGES": "de_DE.UTF-8", "LANG": "C.UTF-8"}, false},
	} {
		get := func(k string) string { return tc.env[k] }
		if got := NeedsLanguage(get); got != tc.want {
			t.Errorf("%v: NeedsLanguage = %v, want %v", tc.env, got, tc.want)
		}
		set := map[string]string{}
		Apply(get, func(k, v string) error { set[k] = v; return nil })
		if tc.want && (len(set) != 1 || set["LANGUAGE"] != "en") {
			t.Errorf("%v: Apply set %v, want only LANGUAGE=en", tc.env, set)
		}
		if !tc.want && len(set) != 0 {
			t.Errorf("%v: Apply set %v, want nothing", tc.env, set)
		}
	}
}
