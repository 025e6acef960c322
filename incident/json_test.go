package incident

import (
	"math/rand/v2"
	"testing"
)

func TestAuthorText(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	authors := make([]Author, 3000) // more than the cache holds, with collisions
	for i := range authors {
		for k := range authors[i] {
			authors[i][k] = byte(rng.Uint32())
		}
	}
	authors[1] = authors[0]
	authors[2][0], authors[2][1] = authors[0][0], authors[0][1] // same slot, other key
	for range 2 {
		for i := range authors {
			if got, want := authorText(&authors[i]), authors[i].String(); got != want {
				t.Fatalf("authorText = %q, want %q", got, want)
			}
		}
	}
}

// JSON's pointers point at copies: an anonymiser may change them.
func TestJSONCopies(t *testing.T) {
	lat := int64(1500000)
	v := ReportView{Report: ReportPayload{Category: "polling.violence", Title: "t", Lat: &lat}, RetractReason: "r"}
	j := v.JSON(false)
	*j.Category, *j.Title, *j.Lat, *j.RetractReason = "x", "x", 9, "x"
	if v.Report.Category != "polling.violence" || v.Report.Title != "t" || lat != 1500000 || v.RetractReason != "r" {
		t.Fatalf("JSON's fields alias the view: %+v", v)
	}
	if k := v.JSON(false); *k.Category != "polling.violence" || *k.Family != "polling" || *k.Lat != 1.5 || k.Lon != nil || k.Description != nil {
		t.Fatalf("JSON = %+v", k)
	}
}
