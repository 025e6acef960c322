//go:build !headless

package main

import "errors"

// cmdGUI starts the Fyne app on this home.
func (c *cli) cmdGUI(args []string) error {
	return errors.New("the app is not part of this build yet; use the commands in `vigil help`")
}
