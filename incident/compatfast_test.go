package incident

import (
	"encoding/base64"
	"reflect"
	"testing"
)

// v0Clean, the in-place walk ReadableAt(0) tries first, agrees with
// stripUnknown (the decode-and-encode it spares) on every payload where
// it is sure: the recorded level-0 cases and hand-made payloads with
// newer keys at the top, nested in a report, in a list of structs, and
// encodings it must leave to stripUnknown.
func TestV0CleanAgreesWithStrip(t *testing.T) {
	slow := func(data []byte, typ reflect.Type) bool {
		var newer []string
		_, err := stripUnknown(data, typ, v0Fields, "", &newer)
		return err == nil && len(newer) == 0
	}
	type payload struct {
		name string
		typ  reflect.Type
		data []byte
		sure bool // v0Clean must decide it itself
	}
	rep := mustMarshal(t, ReportPayload{Category: "other", Severity: 2, Title: "t", Occurred: 5, Station: "PS-1"})
	withKey := func(m []byte, k uint64, v []byte) []byte {
		// m is a map of fewer than 23 pairs whose keys are all below k.
		out := append([]byte{m[0] + 1}, m[1:]...)
		return append(append(out, cborHead(0, k)...), v...)
	}
	cases := []payload{
		{"report", reflect.TypeFor[ReportPayload](), rep, true},
		{"report with newer key 16", reflect.TypeFor[ReportPayload](), withKey(rep, 16, cborHead(0, 1)), true},
		{"report with newer map key 40", reflect.TypeFor[ReportPayload](), withKey(rep, 40, cborMap([]cborPair{{cborHead(0, 1), cborHead(3, 0)}})), true},
		{"amend", reflect.TypeFor[AmendPayload](), mustMarshal(t, AmendPayload{Target: make([]byte, 32), Report: ReportPayload{Category: "x"}}), true},
		{"amend, newer key in its report", reflect.TypeFor[AmendPayload](),
			cborMap([]cborPair{{cborHead(0, 1), mustMarshal(t, make([]byte, 32))}, {cborHead(0, 2), withKey(mustMarshal(t, ReportPayload{Category: "x"}), 30, cborHead(0, 7))}}), true},
		{"receipt", reflect.TypeFor[ReceiptPayload](), mustMarshal(t, ReceiptPayload{IDs: [][]byte{make([]byte, 32)}}), true},
		{"checkin", reflect.TypeFor[CheckinPayload](), mustMarshal(t, CheckinPayload{Status: "ok", Station: "PS-1"}), true},
		{"sealed envelope", reflect.TypeFor[SealedEnvelope](), mustMarshal(t, SealedEnvelope{Target: make([]byte, 32)}), true},
		{"keys out of order", reflect.TypeFor[ReportPayload](), cborMap([]cborPair{{cborHead(0, 2), cborHead(0, 1)}, {cborHead(0, 1), cborHead(3, 0)}}), false},
		{"key not shortest", reflect.TypeFor[ReportPayload](), cborMap([]cborPair{{[]byte{0x18, 0x01}, cborHead(3, 0)}}), false},
		{"text key", reflect.TypeFor[ReportPayload](), cborMap([]cborPair{{cborHead(3, 0), cborHead(0, 1)}}), false},
		{"null payload", reflect.TypeFor[ReportPayload](), []byte{0xf6}, false},
		{"float value", reflect.TypeFor[ReportPayload](), cborMap([]cborPair{{cborHead(0, 1), []byte{0xf9, 0x3c, 0x00}}}), false},
		{"trailing bytes", reflect.TypeFor[ReportPayload](), append(append([]byte(nil), rep...), 0x01), false},
		{"truncated", reflect.TypeFor[ReportPayload](), rep[:len(rep)-2], false},
	}
	_, recorded := loadFormatV0(t)
	for _, c := range recorded {
		raw, err := base64.StdEncoding.DecodeString(c.Record)
		if err != nil {
			t.Fatal(err)
		}
		s, err := Decode(raw)
		if err != nil || !s.Kind.Known() {
			continue
		}
		typ := reflect.TypeOf(newPayload(s.Kind)).Elem()
		if len(s.Sealed) > 0 {
			typ = reflect.TypeFor[SealedEnvelope]()
		}
		cases = append(cases, payload{"recorded " + c.Name, typ, s.Payload, false})
	}
	for _, c := range cases {
		clean, sure := v0Clean(c.data, c.typ)
		if c.sure && !sure {
			t.Errorf("%s: v0Clean is not sure", c.name)
		}
		if sure && clean != slow(c.data, c.typ) {
			t.Errorf("%s: v0Clean says clean %v, stripUnknown %v", c.name, clean, !clean)
		}
	}
}
