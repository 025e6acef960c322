package act

import (
	"strings"
	"testing"

	"github.com/vigil-mesh/vigil/incident"
)

// TestPickByPrefix: a unique prefix picks its ID; a shared one lists a few
// candidates and how many more; none says so.
func TestPickByPrefix(t *testing.T) {
	var ids []incident.ID
	for i := 0; i < 6; i++ {
		var id incident.ID
		copy(id[:], "0123456789abcdef") // 16 shared bytes: a long shared prefix
		id[31] = byte(i)
		ids = append(ids, id)
	}
	var other incident.ID
	other[0] = 0xff
	ids = append(ids, other)

	shared := ids[0].String()[:20]
	_, err := pickByPrefix(ids, shared, "report")
	if err == nil || !strings.Contains(err.Error(), "matches 6 reports") || !strings.Contains(err.Error(), ids[0].String()) ||
		!strings.Contains(err.Error(), "and 2 more") || strings.Contains(err.Error(), ids[5].String()) {
		t.Errorf("ambiguous prefix: %v", err)
	}
	if got, err := pickByPrefix(ids, other.String()[:16], "report"); err != nil || got != other {
		t.Errorf("unique prefix: %v %v", got, err)
	}
	if _, err := pickByPrefix(ids, "bafkreizzzzzzzzz", "report"); err == nil || !strings.Contains(err.Error(), "no report") {
		t.Errorf("no match: %v", err)
	}
	for _, arg := range []string{"bafkreiabc", "abcdefg", "bafkrei", "BAFKREIABCDEFGHI", "bafkrei0000000000", "x y"} {
		if err := CheckReportRef(arg); err == nil {
			t.Errorf("%q: accepted as an ID prefix", arg)
		}
	}
	for _, arg := range []string{"bafkreiabcdefgh", "abcdefgh", ids[0].String()} {
		if err := CheckReportRef(arg); err != nil {
			t.Errorf("%q: %v", arg, err)
		}
	}
}
