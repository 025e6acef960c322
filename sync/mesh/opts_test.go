package mesh_test

import (
	"time"

	"github.com/vigil-mesh/vigil/sync/mesh"
)

// noReceipts keeps a coordinator's node from issuing receipts during a
// test, so record counts stay predictable.
func noReceipts(c *mesh.Config) { c.ReceiptInterval = time.Hour }

// slowPeriodic leaves only on-connect reconciliation and gossip.
func slowPeriodic(c *mesh.Config) { c.Interval = time.Hour }
