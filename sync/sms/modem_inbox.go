package sms

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
)

// Reading the modem's message memory: list what is stored, join the
// parts of concatenated messages, hand each whole message to the
// handler, and delete its parts once the handler has taken it.
//
// The memory itself is the queue. Nothing is kept between polls but what
// keeps a handled message from being handed over twice (its deletion
// failed) and what reports incomplete messages, all pruned to what the
// last listing showed; so what Run holds is bounded by maxListed, and a
// partial message stays in the modem, never deleted, until it is whole.

// maxListed bounds how many stored messages one poll reads. A SIM holds
// 20 to 50, a modem's own memory a few hundred.
const maxListed = 1000

// stored is one message as the modem listed it.
type stored struct {
	index    int
	id       string // the same message at the same index, from one poll to the next
	received bool   // a received message (REC UNREAD, REC READ), not one stored to send
	from     string
	at       time.Time // the network's time stamp; zero when there is none
	text     string

	pdu PDU // PDU mode: the decoded message
}

// inboxMessage is one whole message and the stored entries it came from.
type inboxMessage struct {
	msg   Message
	parts []stored // duplicates of a part included: all are deleted with it
}

// partialSet is a concatenated message still missing parts.
type partialSet struct {
	key, from   string
	have, total int
}

// poll lists the stored messages and hands the whole ones on. Only a
// modem that stops answering (or ctx) ends it with an error; a refusal
// is logged and tried again at the next poll.
func (m *Modem) poll(ctx context.Context, c *atConn, h Handler, log *slog.Logger, s settings) error {
	var (
		entries []stored
		bad     []badEntry
		err     error
	)
	if m.pdu {
		entries, bad, err = m.listPDU(ctx, c, s)
	} else {
		entries, err = m.listText(ctx, c, s)
	}
	if broken(ctx, err) {
		return err
	} else if err != nil {
		log.Warn("modem refused to list its messages; trying again at the next poll", "err", err)
		return nil
	}
	if len(entries)+len(bad) >= maxListed {
		log.Warn("modem lists more messages than one poll reads; the rest wait for the next", "read", maxListed)
	}
	for _, b := range bad {
		// A PDU that cannot be decoded would sit in the modem's memory for
		// ever and, one such message at a time, fill it: it is logged whole
		// (an operator can still read it) and deleted.
		log.Error("modem holds a message that is not a text or cannot be decoded; logged here and deleted",
			"index", b.index, "pdu", b.raw, "err", b.err)
		if err := m.deleteStored(ctx, c, b.index, log, s); err != nil {
			return err
		}
	}

	listed := make(map[string]bool, len(entries))
	var fresh []stored
	for _, e := range entries {
		listed[e.id] = true
		switch {
		case !e.received:
			// Stored to send (by another program): not ours to touch.
		case m.delivered[e.id]:
			// Handled, but its deletion failed or was not yet seen: delete
			// it again without handing it over a second time.
			if err := m.deleteStored(ctx, c, e.index, log, s); err != nil {
				return err
			}
		default:
			fresh = append(fresh, e)
		}
	}
	for id := range m.delivered {
		if !listed[id] {
			delete(m.delivered, id)
		}
	}
	for id := range m.refused {
		if !listed[id] {
			delete(m.refused, id)
		}
	}

	var (
		whole   []inboxMessage
		partial []partialSet
	)
	if m.pdu {
		whole, partial = joinPDUParts(fresh)
	} else {
		whole, partial = m.textRuns(fresh, time.Now(), s.textModeWait)
	}
	for _, im := range whole {
		if err := m.deliver(ctx, c, h, im, log, s); err != nil {
			return err
		}
	}
	m.reportPartial(partial, log)
	if len(entries) > 0 {
		return m.checkMemory(ctx, c, partial, log, s)
	}
	return nil
}

// deliver hands one whole message to the handler and, once it has taken
// it, queues its replies and deletes its parts.
func (m *Modem) deliver(ctx context.Context, c *atConn, h Handler, im inboxMessage, log *slog.Logger, s settings) error {
	if im.msg.Received.IsZero() {
		im.msg.Received = time.Now()
	}
	replies, err := h(ctx, im.msg)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if err != nil {
		// Said once at Warn: a store that is down for an hour would
		// otherwise fill the log with one line per message per poll.
		level := slog.LevelWarn
		if m.refused[im.parts[0].id] {
			level = slog.LevelDebug
		}
		m.refused[im.parts[0].id] = true
		log.Log(ctx, level, "handler could not take a message; it stays in the modem and is offered again at the next poll",
			"from", im.msg.From, "parts", len(im.parts), "err", err)
		return nil
	}
	delete(m.refused, im.parts[0].id)
	for _, p := range im.parts {
		m.delivered[p.id] = true
	}
	m.queueReplies(im.msg.From, replies, log)
	for _, p := range im.parts {
		if err := m.deleteStored(ctx, c, p.index, log, s); err != nil {
			return err
		}
	}
	return nil
}

// deleteStored deletes one stored message. A refusal is logged and the
// deletion tried again at the next poll, which finds the message still
// listed; only a modem that stops answering is an error.
func (m *Modem) deleteStored(ctx context.Context, c *atConn, index int, log *slog.Logger, s settings) error {
	_, err := c.exec(ctx, "AT+CMGD="+strconv.Itoa(index), s.commandTimeout)
	if broken(ctx, err) {
		return err
	}
	if err != nil {
		log.Warn("modem refused to delete a handled message; deleting it again at the next poll", "index", index, "err", err)
	}
	return nil
}

// badEntry is a stored PDU that does not decode.
type badEntry struct {
	index int
	raw   string
	err   error
}

// listPDU lists every stored message in PDU mode (AT+CMGL=4: received,
// read or not, and stored to send) and decodes the received ones.
func (m *Modem) listPDU(ctx context.Context, c *atConn, s settings) ([]stored, []badEntry, error) {
	lines, err := c.exec(ctx, "AT+CMGL=4", s.commandTimeout)
	if err != nil {
		return nil, nil, err
	}
	var (
		out []stored
		bad []badEntry
	)
	// +CMGL: <index>,<stat>,[<alpha>],<length> then the PDU on a line of
	// its own (TS 27.005 3.4.2).
	for i := 0; i < len(lines) && len(out)+len(bad) < maxListed; i++ {
		head, ok := strings.CutPrefix(lines[i], "+CMGL:")
		if !ok || i+1 == len(lines) || strings.HasPrefix(lines[i+1], "+CMGL:") {
			continue
		}
		i++
		raw := lines[i]
		f := splitFields(head)
		if len(f) < 3 {
			continue
		}
		index, err1 := strconv.Atoi(f[0])
		stat, err2 := strconv.Atoi(f[1])
		length, err3 := strconv.Atoi(f[len(f)-1])
		if err1 != nil || err2 != nil || err3 != nil || index < 0 {
			continue
		}
		e := stored{index: index, id: strconv.Itoa(index) + ":" + raw, received: stat == 0 || stat == 1}
		if !e.received {
			out = append(out, e)
			continue
		}
		// <length> counts the TPDU alone: a PDU of just that length came
		// without the service centre field, which a few modems leave out.
		if length > 0 && len(raw) == 2*length {
			raw = "00" + raw
		}
		p, err := DecodePDU(raw)
		if err == nil && p.Kind != Deliver {
			err = fmt.Errorf("sms pdu: a received message that is an %v", p.Kind)
		}
		if err != nil {
			bad = append(bad, badEntry{index: index, raw: truncate(lines[i], 2*maxPDUOctets), err: err})
			continue
		}
		e.pdu, e.from, e.at, e.text = p, p.Address, p.Time, p.Text
		out = append(out, e)
	}
	return out, bad, nil
}

// joinPDUParts groups the parts of concatenated messages by sender,
// reference and total, and returns the whole messages in the order they
// arrived, and the incomplete ones.
func joinPDUParts(entries []stored) ([]inboxMessage, []partialSet) {
	type set struct {
		from  string
		total int
		parts map[int][]stored // by sequence number; more than one when the network sent a part twice
		first stored           // the earliest stored part: orders the messages
	}
	sets := map[string]*set{}
	var keys []string
	var whole []inboxMessage
	for _, e := range entries {
		cc := e.pdu.Concat
		if cc.Total <= 1 {
			whole = append(whole, inboxMessage{
				msg:   Message{From: e.from, Text: e.text, Received: e.at},
				parts: []stored{e},
			})
			continue
		}
		key := fmt.Sprintf("%s|%d|%d", e.from, cc.Ref, cc.Total)
		st := sets[key]
		if st == nil {
			st = &set{from: e.from, total: cc.Total, parts: map[int][]stored{}, first: e}
			sets[key] = st
			keys = append(keys, key)
		}
		st.parts[cc.Seq] = append(st.parts[cc.Seq], e)
		if earlier(e, st.first) {
			st.first = e
		}
	}
	var partial []partialSet
	for _, key := range keys {
		st := sets[key]
		if len(st.parts) < st.total {
			partial = append(partial, partialSet{key: key, from: st.from, have: len(st.parts), total: st.total})
			continue
		}
		im := inboxMessage{msg: Message{From: st.from, Received: st.first.at}}
		pdus := make([]PDU, 0, st.total)
		for seq := 1; seq <= st.total; seq++ {
			ps := st.parts[seq]
			pdus = append(pdus, ps[0].pdu)
			im.parts = append(im.parts, ps...)
			if at := ps[0].at; !at.IsZero() && (im.msg.Received.IsZero() || at.Before(im.msg.Received)) {
				im.msg.Received = at
			}
		}
		im.msg.Text = joinText(pdus)
		whole = append(whole, im)
	}
	slices.SortStableFunc(whole, func(a, b inboxMessage) int {
		if earlier(a.parts[0], b.parts[0]) {
			return -1
		}
		if earlier(b.parts[0], a.parts[0]) {
			return 1
		}
		return 0
	})
	return whole, partial
}

// earlier orders stored messages by the network's time stamp, then by
// index (a modem fills its memory from the lowest free index).
func earlier(a, b stored) bool {
	if !a.at.Equal(b.at) && !a.at.IsZero() && !b.at.IsZero() {
		return a.at.Before(b.at)
	}
	return a.index < b.index
}

// joinText joins the text of a message's parts in order. Consecutive
// GSM 7-bit parts are joined as septets and UCS-2 parts as code units
// before decoding, so that an escape or a surrogate pair a sender split
// between two parts is read whole.
func joinText(parts []PDU) string {
	var (
		b       strings.Builder
		septets []byte
		units   []uint16
	)
	flush := func() {
		if len(septets) > 0 {
			b.WriteString(decodeGSM7(septets))
		}
		if len(units) > 0 {
			b.WriteString(string(utf16.Decode(units)))
		}
		septets, units = nil, nil
	}
	for _, p := range parts {
		switch p.Alphabet {
		case GSM7:
			if len(units) > 0 {
				flush()
			}
			septets = append(septets, p.septets...)
		case UCS2:
			if len(septets) > 0 {
				flush()
			}
			units = append(units, p.units...)
		default:
			flush()
			b.WriteString(p.Text)
		}
	}
	flush()
	return b.String()
}

// reportPartial logs an incomplete message when first seen, and once
// more when it has waited long: its parts hold the modem's memory.
func (m *Modem) reportPartial(partial []partialSet, log *slog.Logger) {
	now := time.Now()
	seen := make(map[string]bool, len(partial))
	for _, p := range partial {
		seen[p.key] = true
		first, ok := m.partialSeen[p.key]
		args := []any{"from", p.from, "have", p.have}
		if p.total > 0 { // text mode cannot know it
			args = append(args, "of", p.total)
		}
		if !ok {
			m.partialSeen[p.key] = now
			log.Info("part of a long message stored; waiting for the rest", args...)
			continue
		}
		if now.Sub(first) > partialWarnAfter && !m.warned[p.key] {
			m.warned[p.key] = true
			log.Warn("a long message is still missing parts; its parts stay in the modem's memory until it is whole",
				append(args, "waiting", now.Sub(first).Round(time.Minute))...)
		}
	}
	for k := range m.partialSeen {
		if !seen[k] {
			delete(m.partialSeen, k)
			delete(m.warned, k)
		}
	}
}

// checkMemory asks how full the message memory is (AT+CPMS?) and says so
// when it fills up: a full memory refuses new messages, and incomplete
// ones hold part of it.
func (m *Modem) checkMemory(ctx context.Context, c *atConn, partial []partialSet, log *slog.Logger, s settings) error {
	if m.noCPMS {
		return nil
	}
	lines, err := c.exec(ctx, "AT+CPMS?", s.commandTimeout)
	if broken(ctx, err) {
		return err
	}
	used, total, ok := parseCPMS(lines)
	if err != nil || !ok {
		m.noCPMS = true
		return nil
	}
	held := 0
	for _, p := range partial {
		held += p.have
	}
	full := used >= total
	switch {
	case full && !m.full:
		log.Warn("modem's message memory is full: new messages cannot arrive until some are deleted",
			"used", used, "total", total, "parts_of_incomplete_messages", held)
	case !full && m.full:
		log.Info("modem's message memory has room again", "used", used, "total", total)
	}
	m.full = full
	return nil
}

// parseCPMS reads the first memory's use from +CPMS: "SM",3,30,...
func parseCPMS(lines []string) (used, total int, ok bool) {
	for _, l := range lines {
		rest, found := strings.CutPrefix(l, "+CPMS:")
		if !found {
			continue
		}
		f := splitFields(rest)
		if len(f) < 3 {
			return 0, 0, false
		}
		u, err1 := strconv.Atoi(f[1])
		t, err2 := strconv.Atoi(f[2])
		if err1 != nil || err2 != nil || t <= 0 {
			return 0, 0, false
		}
		return u, t, true
	}
	return 0, 0, false
}

// splitFields splits the comma-separated fields of a result code,
// keeping commas inside double quotes, and unquotes each field.
func splitFields(s string) []string {
	var (
		out   []string
		field strings.Builder
		quote bool
	)
	for _, r := range strings.TrimSpace(s) {
		switch {
		case r == '"':
			quote = !quote
		case r == ',' && !quote:
			out = append(out, strings.TrimSpace(field.String()))
			field.Reset()
		default:
			field.WriteRune(r)
		}
	}
	return append(out, strings.TrimSpace(field.String()))
}
