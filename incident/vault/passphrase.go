package vault

import (
	"bytes"
	"errors"
	"fmt"
	"unicode"
	"unicode/utf8"
)

// MinPassphraseChars is the fewest characters a new passphrase may have,
// counted as Unicode code points (runes), not bytes: "çàéîõüñø" is 8.
const MinPassphraseChars = 8

// ErrWeakPassphrase is what every *PassphraseError matches with errors.Is.
var ErrWeakPassphrase = errors.New("passphrase refused")

// ErrDuressIsReal means a duress passphrase equal to the real one was
// given: typing it at unlock would have to both open and destroy the
// store.
var ErrDuressIsReal = errors.New("vault: the duress passphrase must differ from the real one")

// PassphraseFault names the rule a new passphrase breaks.
type PassphraseFault int

const (
	// TooShort: fewer than MinPassphraseChars characters.
	TooShort PassphraseFault = iota + 1
	// OnlySpaces: long enough, but every character is white space.
	OnlySpaces
	// OneCharRepeated: long enough, but one character repeated
	// ("aaaaaaaa").
	OneCharRepeated
)

// PassphraseError is CheckNewPassphrase's refusal. Front ends word their
// own message from Fault and Min; Error is a plain English fallback. It
// never holds the passphrase or its length.
type PassphraseError struct {
	Fault PassphraseFault
	// Min is MinPassphraseChars, for messages.
	Min int
}

func (e *PassphraseError) Error() string {
	switch e.Fault {
	case TooShort:
		return fmt.Sprintf("vault: the passphrase needs at least %d characters", e.Min)
	case OnlySpaces:
		return "vault: the passphrase is only white space"
	case OneCharRepeated:
		return "vault: the passphrase is one character repeated"
	}
	return "vault: the passphrase is refused"
}

// Is makes every PassphraseError match ErrWeakPassphrase.
func (e *PassphraseError) Is(target error) bool { return target == ErrWeakPassphrase }

// CheckNewPassphrase is the one rule for a passphrase being chosen: a new
// store's (CLI init, the app's first run, the practice store), a changed
// one, a duress passphrase, and a bundle's encryption passphrase. It
// returns nil or a *PassphraseError: fewer than MinPassphraseChars runes
// is TooShort (checked first, so "   " is TooShort), all white space
// (unicode.IsSpace) is OnlySpaces, one rune repeated is OneCharRepeated.
// Bytes that are not UTF-8 count one character each, and two of them are
// the same character only if they are the same byte.
//
// The rule is for choosing only. Unlock, Open, Change's old passphrase
// and SetDuress's real one take whatever the key file was made with:
// homes made by older builds, which took any non-empty passphrase, keep
// opening with it. Create, Change and SetDuress do not apply the rule
// either (they refuse only an empty passphrase), so tests and tools can
// still build such a home; front ends call CheckNewPassphrase first.
//
// It keeps nothing and is safe to call from any goroutine.
func CheckNewPassphrase(p []byte) error {
	if utf8.RuneCount(p) < MinPassphraseChars {
		return &PassphraseError{Fault: TooShort, Min: MinPassphraseChars}
	}
	allSpace, same := true, true
	_, firstLen := utf8.DecodeRune(p)
	first := p[:firstLen]
	for i := 0; i < len(p); {
		r, n := utf8.DecodeRune(p[i:])
		if !unicode.IsSpace(r) {
			allSpace = false
		}
		if !bytes.Equal(p[i:i+n], first) {
			same = false
		}
		i += n
	}
	switch {
	case allSpace:
		return &PassphraseError{Fault: OnlySpaces, Min: MinPassphraseChars}
	case same:
		return &PassphraseError{Fault: OneCharRepeated, Min: MinPassphraseChars}
	}
	return nil
}
