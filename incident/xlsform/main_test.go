package xlsform

import (
	"flag"
	"testing"

	"github.com/vigil-mesh/vigil/internal/testkit"
)

var update = flag.Bool("update", false, "rewrite the generated workbooks under testdata/forms")

func TestMain(m *testing.M) { testkit.VerifyNoLeaks(m) }
