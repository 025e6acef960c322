// Package sms moves text messages between Vigil and the telephone
// network: a GSM modem on the coordinator's laptop (AT commands, PDU and
// text mode, concatenated messages), an SMS-gateway app on an Android
// phone that posts what it receives to the laptop, and files of messages
// (pasted lines, "SMS Backup & Restore" XML, CSV).
//
// It knows nothing of records. A transport hands each whole message to a
// Handler and sends back the texts the handler replies with; what a
// message means (a signed record, a receipt) is incident/sms's and
// incident/act's business. The one promise every transport keeps: a
// message is removed from where it waits (the modem's memory, the
// gateway app's queue) only after the handler has returned, so a crash or
// a failed store loses nothing.
package sms

import (
	"context"
	"time"
)

// Message is one whole text message as received: concatenated parts
// already joined in order.
type Message struct {
	From     string    // the sender's number as the network gives it (+254712345678), or a name
	Text     string    // the text, decoded to UTF-8
	Received time.Time // the network's timestamp when there is one, else when it was read
}

// Handler takes one received message. It returns the texts to send back
// to the sender (a receipt, a refusal), none for no reply. An error means
// the message could not be dealt with now (the store is closed, the disk
// is full): the transport keeps the message and offers it again later.
// A message that is bad (forged, mangled, flooding) is not an error: the
// handler refuses it, counts it, and returns nil.
type Handler func(ctx context.Context, m Message) (replies []string, err error)
