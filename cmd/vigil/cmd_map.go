package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/vigil-mesh/vigil/incident/act"
)

// vigil map load FILE.mbtiles: this device's basemap for the app's maps,
// checked and kept encrypted in the home. vigil map show; vigil map
// remove.
func (c *cli) cmdMap(args []string) error {
	if len(args) == 0 {
		return usagef("map: want load, show or remove")
	}
	switch args[0] {
	case "load":
		return c.mapLoad(args[1:])
	case "show":
		return c.mapShow(args[1:])
	case "remove":
		return c.mapRemove(args[1:])
	}
	return usagef("map: unknown subcommand %q (load, show, remove)", args[0])
}

func (c *cli) mapLoad(args []string) error {
	fs := newFlags("map load")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("map load: want one FILE.mbtiles (raster tiles: PNG, JPEG or WebP)")
	}
	f, err := os.Open(c.path(pos[0]))
	if err != nil {
		return err
	}
	defer f.Close()
	return c.withDesk(func(d *act.Desk) error {
		in, err := d.LoadBasemap(act.BasemapLoad{Name: filepath.Base(pos[0]), From: f})
		if err != nil {
			return err
		}
		if c.json {
			return c.printJSON(in)
		}
		c.printBasemap(in)
		fmt.Fprintln(c.stderr, "Loaded as this device's basemap, encrypted in its home; the app's maps draw it under the dots. It is not sent to other members.")
		return nil
	})
}

func (c *cli) mapShow(args []string) error {
	fs := newFlags("map show")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	return c.withDesk(func(d *act.Desk) error {
		in, err := d.BasemapInfo()
		if err != nil {
			return err
		}
		if c.json {
			return c.printJSON(in)
		}
		if in == nil {
			fmt.Fprintln(c.stderr, "No basemap: the app's maps are dots on a grid. Load one with: vigil map load FILE.mbtiles")
			return nil
		}
		c.printBasemap(*in)
		return nil
	})
}

func (c *cli) mapRemove(args []string) error {
	fs := newFlags("map remove")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	return c.withDesk(func(d *act.Desk) error {
		gone, err := d.RemoveBasemap()
		if err != nil {
			return err
		}
		if c.json {
			return c.printJSON(map[string]bool{"removed": gone})
		}
		if gone {
			fmt.Fprintln(c.stderr, "Basemap removed.")
		} else {
			fmt.Fprintln(c.stderr, "No basemap to remove.")
		}
		return nil
	})
}

func (c *cli) printBasemap(in act.BasemapInfo) {
	name := in.Name
	if name == "" {
		name = "(unnamed)"
	}
	zooms := make([]string, len(in.Zooms))
	for i, z := range in.Zooms {
		zooms[i] = strconv.Itoa(z)
	}
	fmt.Fprintf(c.stdout, "name         %s\n", name)
	fmt.Fprintf(c.stdout, "bounds       %s (west,south,east,north)\n", in.Bounds)
	fmt.Fprintf(c.stdout, "zooms        %s\n", strings.Join(zooms, " "))
	fmt.Fprintf(c.stdout, "tiles        %d (%s, %.1f MiB)\n", in.Tiles, formatOr(in.Format), float64(in.Bytes)/(1<<20))
	if in.Attribution != "" {
		fmt.Fprintf(c.stdout, "attribution  %s\n", in.Attribution)
	}
}

func formatOr(f string) string {
	if f == "" {
		return "format not stated"
	}
	return f
}
