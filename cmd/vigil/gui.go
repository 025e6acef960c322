//go:build !headless

package main

import (
	"errors"
	"log/slog"
	"runtime"
	"sync"

	"fyne.io/fyne/v2"
	fyneapp "fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/driver"

	"github.com/vigil-mesh/vigil/app"
	"github.com/vigil-mesh/vigil/incident/store"
	"github.com/vigil-mesh/vigil/mobile"
	"github.com/vigil-mesh/vigil/sync/daemon"
)

// The daemon is what the phone lifecycle sends to the background and
// back, and the phone's multicast lock is the one the daemon holds.
var (
	_ mobile.Daemon        = (*daemon.Daemon)(nil)
	_ daemon.MulticastLock = mobile.MulticastLock(nil)
)

// runOnJVM gives mobile's JNI code the Java VM through Fyne's driver; off
// Android there is none.
func runOnJVM(fn func(vm, env, ctx uintptr) error) error {
	return driver.RunNative(func(c any) error {
		ac, ok := c.(*driver.AndroidContext)
		if !ok {
			return errors.New("no Java VM on this platform")
		}
		return fn(ac.VM, ac.Env, ac.Ctx)
	})
}

// cmdGUI starts the Fyne app on this home: the app's own screens create or
// unlock the store (the passphrase from VIGIL_PASSPHRASE or
// --passphrase-file is tried first), the mesh starts once the device
// belongs to a mission, and while it runs other vigil commands on this
// home go through the control socket, as with `vigil node`.
func (c *cli) cmdGUI(args []string) error {
	fs := newFlags("gui")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if c.daemon != nil {
		return errors.New("a node already holds this home; stop it first")
	}
	if err := c.checkDisplay(); err != nil {
		return err
	}
	a := fyneapp.NewWithID("org.vigilmesh.vigil")
	if runtime.GOOS == "android" || runtime.GOOS == "ios" {
		// A phone has no flags or environment: the store lives in the
		// app's own data folder.
		h, err := mobile.Home(a.Storage().RootURI().Path())
		if err != nil {
			return err
		}
		c.home = h
	}

	var (
		mu   sync.Mutex
		net  *daemon.Daemon // the mesh, while it runs
		quit = func() { fyne.Do(a.Quit) }
	)
	home := &app.Home{
		Dir:   c.home,
		Store: c.storeOptions(),
		Daemon: daemon.Options{
			Phone: mobile.DaemonPhone, RotateIdentity: mobile.DaemonPhone,
			// Held while mDNS runs: taken at start and resume, let go at
			// pause and stop (the daemon does both).
			Multicast: mobile.NewMulticastLock(runOnJVM),
		},
		Logger: slog.New(slog.NewTextHandler(c.stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
		OnNetwork: func(d *daemon.Daemon) (func(), error) {
			mu.Lock()
			net = d
			mu.Unlock()
			cs, err := serveControl(c, d)
			if err != nil {
				// Another process serves this home's socket: the app still
				// works, other commands just cannot reach it.
				slog.New(slog.NewTextHandler(c.stderr, nil)).Warn("control socket", "err", err)
				return func() {}, nil
			}
			stopped := make(chan struct{})
			go func() {
				select {
				case <-cs.stop: // `vigil wipe` through the socket: the app must go
					quit()
				case <-stopped:
				}
			}()
			return func() {
				mu.Lock()
				net = nil
				mu.Unlock()
				close(stopped)
				cs.close()
			}, nil
		},
	}
	opts := app.Options{OnWiped: func() {}}
	if mobile.DaemonPhone {
		// Phones only: a desktop driver reports the window losing focus as
		// going to the background, and a laptop must stay connected then.
		opts.Lifecycle = &mobile.Lifecycle{Daemon: func() mobile.Daemon {
			mu.Lock()
			defer mu.Unlock()
			if net == nil {
				return nil // a nil *daemon.Daemon in the interface would not be nil
			}
			return net
		}}
	}
	if c.getenv("VIGIL_PASSPHRASE") != "" || c.passphraseFile != "" {
		p, err := c.passphrase("")
		if err != nil {
			return err
		}
		opts.Passphrase = p
	}
	u := app.New(a, home, opts)
	u.Window().ShowAndRun()
	u.Close()
	// Wiped while the app held it (`vigil wipe` through the socket): the
	// data folder is unreadable now; clear it so the home looks unused.
	_, _ = store.ClearWiped(c.home)
	return nil
}

// checkDisplay refuses, with a message instead of a GLFW panic, to open a
// window where there is no graphical session (a server, an SSH login).
func (c *cli) checkDisplay() error {
	switch runtime.GOOS {
	case "linux", "freebsd", "openbsd", "netbsd", "dragonfly":
		if c.getenv("DISPLAY") == "" && c.getenv("WAYLAND_DISPLAY") == "" {
			return errors.New("no display to open the app on (DISPLAY and WAYLAND_DISPLAY are unset); `vigil help` lists the commands, `vigil node` runs the mesh without a window")
		}
	}
	return nil
}
