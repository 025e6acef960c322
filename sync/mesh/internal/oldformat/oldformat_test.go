package oldformat_test

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"testing"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/sync/mesh/internal/oldformat"
)

// Check gives every verdict that the release before forward compatibility
// gave, recorded by running it (incident/testdata/formatv0), word for
// word, and what it rejects is a rejection (the engine strikes for it).
func TestVerdictsOfThePreviousRelease(t *testing.T) {
	b, err := os.ReadFile("../../../../incident/testdata/formatv0/verdicts.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases []struct {
		Name    string `json:"name"`
		Record  string `json:"record"`
		Verdict string `json:"verdict"`
	}
	if err := json.Unmarshal(b, &cases); err != nil {
		t.Fatal(err)
	}
	if len(cases) < 10 {
		t.Fatalf("only %d recorded verdicts", len(cases))
	}
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			raw, err := base64.StdEncoding.DecodeString(c.Record)
			if err != nil {
				t.Fatal(err)
			}
			got := "ok"
			if err := oldformat.Check(raw); err != nil {
				got = "rejected: " + err.Error()
				if !incident.IsRejected(err) {
					t.Errorf("%v is not a rejection", err)
				}
			}
			if got != c.Verdict {
				t.Errorf("verdict %q, the previous release gave %q", got, c.Verdict)
			}
		})
	}
}
