package sms

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// eventSMSReceived is the one webhook event handed on.
const eventSMSReceived = "sms:received"

// maxSenderLen bounds a sender's number or name: E.164 numbers are at
// most 15 digits, alphanumeric sender IDs 11 characters.
const maxSenderLen = 64

// webhookEvent is the app's WebHookEventDTO (domain/WebHookEventDTO.kt).
// Unknown fields are ignored: the app adds some from version to version.
type webhookEvent struct {
	ID        string          `json:"id"`
	WebhookID string          `json:"webhookId"`
	Event     string          `json:"event"`
	DeviceID  string          `json:"deviceId"`
	Payload   json.RawMessage `json:"payload"`
}

// smsReceivedPayload is SmsEventPayload.SmsReceived with the fields of
// MessageEventPayload (payload/SmsEventPayload.kt,
// payload/MessageEventPayload.kt). Gson leaves out null fields.
type smsReceivedPayload struct {
	MessageID   string  `json:"messageId"`
	Message     *string `json:"message"`
	Sender      string  `json:"sender"`
	Recipient   string  `json:"recipient"`
	PhoneNumber string  `json:"phoneNumber"`
	SimNumber   *int    `json:"simNumber"`
	ReceivedAt  string  `json:"receivedAt"`
}

// inbound is a decoded webhook: its event, the event's ID (the same on
// every retry of it), and for sms:received the message.
type inbound struct {
	event   string
	id      string
	msg     Message
	badDate string // receivedAt when it could not be read; msg.Received is then zero
}

// decodeWebhook reads a webhook body. For an event other than
// sms:received it returns the event name alone. Errors are short reasons
// for a 400 answer.
func decodeWebhook(body []byte) (inbound, error) {
	var ev webhookEvent
	if err := json.Unmarshal(body, &ev); err != nil {
		return inbound{}, fmt.Errorf("body is not the app's webhook JSON: %v", err)
	}
	if ev.Event == "" {
		return inbound{}, errors.New(`no "event"`)
	}
	in := inbound{event: ev.Event, id: ev.ID}
	if ev.Event != eventSMSReceived {
		return in, nil
	}
	if len(ev.Payload) == 0 || string(ev.Payload) == "null" {
		return inbound{}, errors.New(`sms:received without "payload"`)
	}
	var p smsReceivedPayload
	if err := json.Unmarshal(ev.Payload, &p); err != nil {
		return inbound{}, fmt.Errorf("payload: %v", err)
	}
	if p.Message == nil {
		return inbound{}, errors.New(`sms:received without "payload.message"`)
	}
	from := strings.TrimSpace(p.Sender)
	if from == "" {
		from = strings.TrimSpace(p.PhoneNumber)
	}
	if from == "" {
		return inbound{}, errors.New(`sms:received without "payload.sender" or "payload.phoneNumber"`)
	}
	if err := validSender(from); err != nil {
		return inbound{}, fmt.Errorf("payload.sender: %v", err)
	}
	in.msg = Message{From: from, Text: *p.Message}
	if p.ReceivedAt != "" {
		if t, err := time.Parse(time.RFC3339Nano, p.ReceivedAt); err == nil {
			in.msg.Received = t
		} else {
			in.badDate = p.ReceivedAt[:min(len(p.ReceivedAt), 64)]
		}
	}
	return in, nil
}
