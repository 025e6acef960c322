//go:build headless

package main

import "errors"

// cmdGUI: the headless build (CGO_ENABLED=0, for relays and servers) has no
// app.
func (c *cli) cmdGUI(args []string) error {
	return errors.New("this is the headless build of vigil: it has no app; run `vigil node` for the mesh, or build with `make build` for the app")
}
