package vault

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestCheckNewPassphrase(t *testing.T) {
	for _, tc := range []struct {
		name string
		pass string
		want PassphraseFault // 0: accepted
	}{
		{"empty", "", TooShort},
		{"three letters", "abc", TooShort},
		{"seven ASCII", "abcdefg", TooShort},
		{"eight ASCII", "abcdefgh", 0},
		// Runes, not bytes: 7 two-byte letters are 14 bytes and too few.
		{"seven multibyte runes", "çàéîõüñ", TooShort},
		{"eight multibyte runes", "çàéîõüñø", 0},
		{"four emoji", "🔑🗳️🌐🎭", TooShort}, // 5 runes (🗳️ is two), 19 bytes
		{"eight CJK", "選挙監視者の合言", 0},
		{"three spaces", "   ", TooShort},
		{"eight spaces", "        ", OnlySpaces},
		{"mixed white space", " \t\u00a0\u3000 \n \r", OnlySpaces},
		{"spaces around one letter", "    x    ", 0},
		{"one letter repeated", "aaaaaaaa", OneCharRepeated},
		{"one multibyte letter repeated", "éééééééééé", OneCharRepeated},
		{"two letters", "aaaaaaab", 0},
		{"a phrase", "correct horse battery staple", 0},
		// Not UTF-8: each byte one character, equal only if the same byte.
		{"eight distinct invalid bytes", "\xff\xfe\xfd\xfc\xfb\xfa\xf9\xf8", 0},
		{"one invalid byte repeated", "\xff\xff\xff\xff\xff\xff\xff\xff", OneCharRepeated},
		{"seven invalid bytes", "\xff\xfe\xfd\xfc\xfb\xfa\xf9", TooShort},
	} {
		err := CheckNewPassphrase([]byte(tc.pass))
		if tc.want == 0 {
			if err != nil {
				t.Errorf("%s: %q refused: %v", tc.name, tc.pass, err)
			}
			continue
		}
		var pe *PassphraseError
		if !errors.As(err, &pe) || pe.Fault != tc.want || pe.Min != MinPassphraseChars {
			t.Errorf("%s: %q: got %#v (%v), want fault %d", tc.name, tc.pass, pe, err, tc.want)
			continue
		}
		if !errors.Is(err, ErrWeakPassphrase) {
			t.Errorf("%s: %v does not match ErrWeakPassphrase", tc.name, err)
		}
		if tc.pass != "" && strings.Contains(err.Error(), tc.pass) {
			t.Errorf("%s: the message %q holds the passphrase", tc.name, err)
		}
	}
}

// The rule is for choosing: a key file made with a short passphrase (by
// an older build, or here straight through Create) keeps opening with it,
// and Change and SetDuress accept it as the current one.
func TestShortOldPassphraseStillOpens(t *testing.T) {
	old := []byte("abc")
	if CheckNewPassphrase(old) == nil {
		t.Fatal("the fixture passphrase passes the rule; the test proves nothing")
	}
	dir, key := mustCreate(t, old)
	if got, err := Unlock(dir, old); err != nil || !bytes.Equal(got, key) {
		t.Fatalf("Unlock with the short passphrase: %v", err)
	}
	if got, fresh, err := Open(dir, old); err != nil || fresh || !bytes.Equal(got, key) {
		t.Fatalf("Open with the short passphrase: fresh %v, %v", fresh, err)
	}
	must(t, SetDuress(dir, old, duressPass, tiny))
	must(t, Change(dir, old, realPass, tiny))
	if got, err := Unlock(dir, realPass); err != nil || !bytes.Equal(got, key) {
		t.Fatalf("Unlock after moving to a long passphrase: %v", err)
	}
}

func TestDuressIsRealClassified(t *testing.T) {
	dir, _ := mustCreate(t, realPass)
	before := mustRead(t, keyPath(dir))
	if err := SetDuress(dir, realPass, realPass, tiny); !errors.Is(err, ErrDuressIsReal) {
		t.Fatalf("SetDuress(real, real) = %v, want ErrDuressIsReal", err)
	}
	if !bytes.Equal(before, mustRead(t, keyPath(dir))) {
		t.Fatal("a refused duress passphrase rewrote the key file")
	}
}
