package app

import (
	"time"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/act"
	"github.com/vigil-mesh/vigil/incident/store"
)

// SMSText is record id as one text message (act.Desk.SMSText).
func (b *StoreBackend) SMSText(id incident.ID) (act.SMSText, error) {
	return b.desk.SMSText(id.String())
}

// MarkSMSSent notes that record id was handed to the messaging app
// (act.Desk.MarkSMSSent).
func (b *StoreBackend) MarkSMSSent(id incident.ID) error { return b.desk.MarkSMSSent(id.String()) }

// ReceiveSMS takes one pasted text (act.Desk.ReceiveSMS): no sender
// number, as a person pasted it.
func (b *StoreBackend) ReceiveSMS(text string) (act.SMSReceived, error) {
	return b.desk.ReceiveSMS(act.SMSMessage{Text: text})
}

// Delivery is how far record id has gone.
func (b *StoreBackend) Delivery(id incident.ID) (store.Delivery, error) { return b.st.DeliveryOf(id) }

// smsSent is when report id was handed to the messaging app, while no
// coordinator's receipt has come back; nil otherwise. act keeps the
// mark: SMSText reads it (in a mission that takes no SMS, no report was
// texted, and nothing is read).
func (b *StoreBackend) smsSent(id incident.ID, d store.Delivery) *time.Time {
	if d.Coordinator {
		return nil
	}
	if ms, err := b.st.Mission(); err != nil || ms.SMSNumber() == "" {
		return nil
	}
	t, err := b.desk.SMSText(id.String())
	if err != nil {
		return nil
	}
	return t.Sent
}
