package sms_test

import (
	"testing"

	"github.com/vigil-mesh/vigil/internal/testkit"
)

// TestMain fails the package's tests if any goroutine they started is
// still running at the end.
func TestMain(m *testing.M) { testkit.VerifyNoLeaks(m) }
