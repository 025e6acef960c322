package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/act"
	"github.com/vigil-mesh/vigil/sync/sms"
)

// vigil sms: a text message that is the signed record (docs/sms.md). The
// observer's side prints the text of a record to send by hand; the
// coordinator's side takes the texts that came in, shares or rotates the
// inbox key, and watches the counts per sender number. Every subcommand
// is a use case (withActions): it runs on the store, or inside the node
// that holds the home.

const smsSubcommands = "encode, import, key, senders, retry or gateway"

func (c *cli) cmdSMS(args []string) error {
	if len(args) == 0 {
		return usagef("sms: want %s", smsSubcommands)
	}
	switch args[0] {
	case "encode":
		return c.smsEncode(args[1:])
	case "import":
		return c.smsImport(args[1:])
	case "key":
		return c.smsKey(args[1:])
	case "senders":
		return c.smsSenders(args[1:])
	case "retry":
		return c.smsRetry(args[1:])
	case "gateway":
		return c.smsGateway(args[1:])
	}
	return usagef("sms: unknown subcommand %q (want %s)", args[0], smsSubcommands)
}

// vigil sms encode ID: the text alone on stdout, to paste into a
// messaging app; how many segments, and to which number, on stderr. It
// marks nothing: only the app, which opens the messaging app, marks a
// record "sent by SMS".
func (c *cli) smsEncode(args []string) error {
	pos, err := parse(newFlags("sms encode"), args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("sms encode: want one ID (a report, check-in, alert, tally, checklist response or receipt)")
	}
	return c.withActions(func(a act.Actions) error {
		t, err := a.SMSText(pos[0])
		if err != nil {
			return err
		}
		if c.json {
			return c.printJSON(t)
		}
		fmt.Fprintln(c.stdout, t.Text)
		segments := incident.Plural(t.Segments, "text segment")
		if t.Number == "" {
			fmt.Fprintf(c.stderr, "%s; this mission has no SMS number yet: a coordinator sets one with `vigil mission config set sms_number=+…`.\n", segments)
		} else {
			fmt.Fprintf(c.stderr, "%s to %s.\n", segments, t.Number)
		}
		return nil
	})
}

// smsOut is one text's outcome in --json (one JSON line each): Text is
// its place in the file, from 1 (0, left out: a kept text).
type smsOut struct {
	Text int `json:"text,omitempty"`
	act.SMSReceived
}

// vigil sms import FILE: texts that reached a phone, stored as if they
// came by the mesh. The file (or - for standard input) is read by
// sync/sms.ReadFile, whole or not at all: pasted texts one a line
// ("FROM<TAB>TEXT" or the text alone), an "SMS Backup & Restore" XML
// file or a CSV export, where each text comes with its sender's number.
// Exit 3, as bundle import, when some were refused or wait for their
// author.
func (c *cli) smsImport(args []string) error {
	pos, err := parse(newFlags("sms import"), args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("sms import: want one FILE (texts one a line, an SMS Backup & Restore XML file or a CSV export), or - for standard input")
	}
	var in io.Reader = c.stdin
	if pos[0] != "-" {
		f, err := os.Open(c.path(pos[0]))
		if err != nil {
			return err
		}
		defer f.Close()
		in = f
	}
	msgs, err := sms.ReadFile(in, pos[0])
	if err != nil {
		return err
	}
	if len(msgs) == 0 {
		return fmt.Errorf("%s holds no received text message (pasted texts one a line, or a backup's received messages); nothing imported", pos[0])
	}
	return c.withActions(func(a act.Actions) error {
		var tally smsTally
		for i, m := range msgs {
			r, err := a.ReceiveSMS(act.SMSMessage{From: m.From, Text: m.Text, Received: m.Received, Imported: true})
			if err != nil {
				return fmt.Errorf("text %d: %w; the %s before it %s dealt with", i+1, err,
					incident.Plural(i, "text"), incident.Verb(i, "was", "were"))
			}
			if err := c.printSMS(&tally, i+1, r); err != nil {
				return err
			}
		}
		return tally.result(len(msgs))
	})
}

// vigil sms retry: the texts kept for authors this device did not know,
// decoded again (member records may have come since, by the mesh or a
// bundle).
func (c *cli) smsRetry(args []string) error {
	if _, err := parse(newFlags("sms retry"), args); err != nil {
		return err
	}
	return c.withActions(func(a act.Actions) error {
		list, err := a.RetryPendingSMS()
		if err != nil {
			return err
		}
		var tally smsTally
		for _, r := range list {
			if err := c.printSMS(&tally, 0, r); err != nil {
				return err
			}
		}
		if len(list) == 0 && !c.json {
			fmt.Fprintln(c.stderr, "No kept text decodes yet: their authors' member records have not reached this device.")
		}
		return tally.result(len(list))
	})
}

// smsTally counts the outcomes of the texts a command dealt with.
type smsTally struct{ ok, notYet, refused int }

// result is the command's outcome: exit 3 when some texts were refused or
// wait for their author.
func (t smsTally) result(n int) error {
	if t.refused+t.notYet == 0 {
		return nil
	}
	return &partialError{fmt.Sprintf("of %s, %d refused and %d waiting for their author's member record; the others are stored",
		incident.Plural(n, "text"), t.refused, t.notYet)}
}

// printSMS prints what became of one text (n, its place in the file; 0:
// a kept text), then of the kept texts it let decode; the replies to
// send back by hand follow their text.
func (c *cli) printSMS(t *smsTally, n int, r act.SMSReceived) error {
	switch r.Outcome {
	case act.SMSStored, act.SMSDuplicate:
		t.ok++
	case act.SMSPending:
		t.notYet++
	default:
		t.refused++
	}
	if c.json {
		later := r.Later
		r.Later = nil
		if err := c.printJSON(smsOut{Text: n, SMSReceived: r}); err != nil {
			return err
		}
		for _, l := range later {
			if err := c.printSMS(t, 0, l); err != nil {
				return err
			}
		}
		return nil
	}
	where := "kept text from " + r.Sender
	if n > 0 {
		where = fmt.Sprintf("text %d", n)
	}
	msg := fmt.Sprintf("%s: %s", where, r.Outcome)
	if r.ID != nil {
		msg += fmt.Sprintf(" %s %s", r.Kind, r.ID)
	}
	if r.Reason != "" {
		msg += ": " + strings.ReplaceAll(r.Reason, "\n", " ")
	}
	fmt.Fprintln(c.stdout, msg)
	to := r.ReplyTo // the whole number: the coordinator texts the reply back by hand
	if to == "" {
		to = "the sender of " + where
	}
	for _, reply := range r.Replies {
		fmt.Fprintf(c.stdout, "reply to %s: %s\n", to, reply)
	}
	for _, l := range r.Later {
		if err := c.printSMS(t, 0, l); err != nil {
			return err
		}
	}
	return nil
}

// vigil sms key share|rotate: a coordinator hands the SMS inbox keys this
// laptop holds to today's coordinators, or makes a new one.
func (c *cli) smsKey(args []string) error {
	pos, err := parse(newFlags("sms key"), args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || (pos[0] != "share" && pos[0] != "rotate") {
		return usagef("sms key: want share or rotate")
	}
	rotate := pos[0] == "rotate"
	return c.withActions(func(a act.Actions) error {
		res, err := a.SMSKey(rotate)
		if err != nil {
			return err
		}
		if c.json {
			return c.printJSON(res)
		}
		if rotate {
			fmt.Fprintln(c.stdout, res.Inbox)
			fmt.Fprintf(c.stderr, "A new SMS inbox key is set (config %s). Observers' phones seal to it once the config reaches them; this laptop still opens what was sealed to the old one.\n", res.Config)
			return nil
		}
		for _, id := range res.Shared {
			fmt.Fprintln(c.stdout, id)
		}
		fmt.Fprintf(c.stderr, "Sealed %s to today's coordinators; %s over any link.\n",
			incident.Plural(len(res.Shared), "SMS inbox key"), incident.Verb(len(res.Shared), "it travels", "they travel"))
		return nil
	})
}

// vigil sms senders: the counts per sender number, the most refused first.
func (c *cli) smsSenders(args []string) error {
	if _, err := parse(newFlags("sms senders"), args); err != nil {
		return err
	}
	return c.withActions(func(a act.Actions) error {
		list, err := a.SMSSenders()
		if err != nil {
			return err
		}
		return printEach(c, list, func(s act.SMSSender) any { return s }, func(s act.SMSSender) string {
			line := fmt.Sprintf("%s  stored %d  duplicate %d  waiting %d  refused %d  last %s",
				s.Sender, s.Stored, s.Duplicate, s.Pending, s.Refused, s.Last.UTC().Format(time.RFC3339))
			if s.Reason != "" {
				line += "  (last refused: " + s.Reason + ")"
			}
			return line
		}, "No text has come from a phone number yet (pasted texts are not counted).")
	})
}
