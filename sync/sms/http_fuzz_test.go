package sms

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// FuzzDecodeWebhook: any body, signed or not, decodes to a message with a
// sane sender or to an error, without panicking.
func FuzzDecodeWebhook(f *testing.F) {
	_, body := sampleWebhook(f)
	f.Add(body)
	f.Add([]byte(`{"event":"sms:received","payload":{"message":"","phoneNumber":"+254712345678"}}`))
	f.Add([]byte(`{"event":"sms:received","payload":{"message":"x","sender":" ","phoneNumber":"Safaricom","receivedAt":"2027-08-10T07:42:13Z"}}`))
	f.Add([]byte(`{"event":"system:ping","payload":{"health":{}}}`))
	f.Add([]byte(`{"event":"sms:received","payload":null}`))
	f.Add([]byte(`{"event":"sms:received","payload":{"message":"\ud83d","sender":"+254\u0000"}}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		in, err := decodeWebhook(body)
		if err != nil {
			if in != (inbound{}) {
				t.Fatalf("error %v with a result %+v", err, in)
			}
			return
		}
		if in.event == "" {
			t.Fatal("decoded without an event")
		}
		if in.event != eventSMSReceived {
			if in.msg != (Message{}) {
				t.Fatalf("event %q decoded to a message %+v", in.event, in.msg)
			}
			return
		}
		from := in.msg.From
		if from == "" || len(from) > maxSenderLen || strings.IndexFunc(from, unicode.IsControl) >= 0 || from != strings.TrimSpace(from) {
			t.Fatalf("sender %q let through", from)
		}
		if !utf8.ValidString(in.msg.Text) {
			t.Fatalf("text not UTF-8: %q", in.msg.Text)
		}
		if in.badDate != "" && !in.msg.Received.IsZero() {
			t.Fatalf("unreadable date %q with a time %v", in.badDate, in.msg.Received)
		}
	})
}
