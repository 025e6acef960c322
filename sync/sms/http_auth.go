package sms

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"
)

// The app's webhook signature (PayloadSingingPlugin.kt in
// capcom6/android-sms-gateway; https://docs.sms-gate.app/features/webhooks/
// "Payload Signing"): X-Signature is the lowercase hex of
// HMAC-SHA256(signing key, body || X-Timestamp), X-Timestamp the decimal
// Unix time in seconds at which the request was signed. Each retry is
// signed afresh, so a retry carries a new timestamp and a new signature.

const (
	headerSignature = "X-Signature"
	headerTimestamp = "X-Timestamp"
)

// authenticate checks the request's signature, its timestamp against the
// window and against replay, in that order, and answers the request
// itself when it fails: 401 for a missing or wrong signature or a stale
// timestamp, 409 for a signature seen before, 503 when the replay memory
// is full. The signature is checked first so that the counts tell an
// impostor (Unauthorized) from a phone with a wrong clock (Stale).
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request, body []byte) bool {
	sigHex, tsText := r.Header.Get(headerSignature), r.Header.Get(headerTimestamp)
	if sigHex == "" || tsText == "" {
		s.authFailed(w, r, http.StatusUnauthorized, &s.stats.unauthorized, "unsigned request (no X-Signature or X-Timestamp)")
		return false
	}
	ts, ok := parseUnixSeconds(tsText)
	sig, err := hex.DecodeString(sigHex)
	if !ok || err != nil || len(sig) != sha256.Size {
		s.authFailed(w, r, http.StatusUnauthorized, &s.stats.unauthorized, "malformed X-Signature or X-Timestamp")
		return false
	}
	want := webhookSignature(s.secret, body, tsText)
	if !hmac.Equal(sig, want) {
		s.authFailed(w, r, http.StatusUnauthorized, &s.stats.unauthorized, "wrong signature: the signing key here is not the app's")
		return false
	}
	now := s.now()
	if skew := now.Sub(ts); skew > SignatureWindow || skew < -SignatureWindow {
		s.authFailed(w, r, http.StatusUnauthorized, &s.stats.stale, staleReason(skew))
		return false
	}
	switch s.remember(string(want), ts.Add(SignatureWindow), now) {
	case seenBefore:
		s.authFailed(w, r, http.StatusConflict, &s.stats.replayed, "replayed request: this signature was used before")
		return false
	case memoryFull:
		s.log.Warn("sms gateway: too many signed requests in the window; answering 503 until some expire")
		httpAnswer(w, http.StatusServiceUnavailable, "busy, try again later")
		return false
	}
	return true
}

// webhookSignature is the app's HMAC over the body and the timestamp text.
func webhookSignature(secret, body []byte, timestamp string) []byte {
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	mac.Write([]byte(timestamp))
	return mac.Sum(nil)
}

// parseUnixSeconds reads X-Timestamp: decimal digits only (no sign, no
// spaces), at most 12 of them.
func parseUnixSeconds(s string) (time.Time, bool) {
	if len(s) == 0 || len(s) > 12 {
		return time.Time{}, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return time.Time{}, false
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	return time.Unix(n, 0), true
}

// staleReason says which clock to fix.
func staleReason(skew time.Duration) string {
	dir, d := "behind", skew
	if skew < 0 {
		dir, d = "ahead of", -skew
	}
	return fmt.Sprintf("X-Timestamp is %v %s this computer's clock (more than %v): set the phone's clock, or this computer's",
		d.Round(time.Second), dir, SignatureWindow)
}

// authFailed answers a request that failed authentication, counts it,
// and logs a throttled warning: a flood of forged requests costs one log
// line per authLogEvery.
func (s *Server) authFailed(w http.ResponseWriter, r *http.Request, status int, counter *atomic.Uint64, reason string) {
	counter.Add(1)
	s.mu.Lock()
	ok, held := s.authLog.allow(s.now())
	s.mu.Unlock()
	if ok {
		s.log.Warn("sms gateway: refused a request that failed authentication",
			"status", status, "from", r.RemoteAddr, "reason", reason, "refusals_not_logged", held)
	}
	httpAnswer(w, status, reason)
}

type rememberResult int

const (
	firstSeen rememberResult = iota
	seenBefore
	memoryFull
)

// remember records a valid signature until it leaves the window (until),
// and says whether it was already there. Expired entries are dropped at
// most once a second, and whenever the memory is full.
func (s *Server) remember(sig string, until, now time.Time) rememberResult {
	s.mu.Lock()
	defer s.mu.Unlock()
	if exp, ok := s.seen[sig]; ok && now.Before(exp) {
		return seenBefore
	}
	if now.Sub(s.lastPrune) >= time.Second || len(s.seen) >= maxReplayEntries {
		for k, exp := range s.seen {
			if !now.Before(exp) {
				delete(s.seen, k)
			}
		}
		s.lastPrune = now
	}
	if len(s.seen) >= maxReplayEntries {
		return memoryFull
	}
	s.seen[sig] = until
	return firstSeen
}
