package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/vigil-mesh/vigil/incident/act"
)

func (c *cli) cmdAttachment(args []string) error {
	if len(args) == 0 || args[0] != "save" {
		if len(args) == 0 {
			return usagef("attachment: give a subcommand (want save)")
		}
		return usagef("attachment: unknown subcommand %q (want save)", args[0])
	}
	fs := newFlags("attachment save")
	out := fs.String("out", "", "the folder the files go to (made if missing); each keeps its name, never overwriting a file")
	public := fs.Bool("public", false, "save the copies that may be published: JPEG and PNG images stripped of EXIF (time, GPS, camera, serial numbers), XMP, ICC and comments; other files are not saved")
	pos, err := parse(fs, args[1:])
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("attachment save: give one report ID (or a tally's full ID)")
	}
	if *out == "" {
		return usagef("attachment save: --out is required")
	}
	dir := c.path(*out)
	return c.withActions(func(a act.Actions) error {
		files, err := a.Files(pos[0])
		if err != nil {
			return err
		}
		if len(files) == 0 {
			fmt.Fprintf(c.stderr, "%s has no files.\n", pos[0])
			return nil
		}
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return err
		}
		var skipped []string
		for i := range files {
			read := a.ReadFile
			if *public {
				read = a.PublicFile
			}
			fd, err := read(pos[0], i)
			var ae *act.Error
			if errors.As(err, &ae) && (ae.Code == act.FileGone || ae.Code == act.Forbidden || (*public && ae.Code == act.BadFile)) {
				skipped = append(skipped, ae.Msg)
				continue
			}
			if err != nil {
				return err
			}
			path, err := writeNew(dir, fd.Name, fd.Data)
			if err != nil {
				return err
			}
			if c.json {
				if err := c.printJSON(map[string]any{"path": path, "name": fd.Name, "size": len(fd.Data), "mime": fd.Mime, "sealed": fd.Sealed}); err != nil {
					return err
				}
			} else {
				fmt.Fprintln(c.stdout, path)
			}
		}
		if len(skipped) > 0 {
			for _, s := range skipped {
				fmt.Fprintf(c.stderr, "not saved: %s\n", s)
			}
			return &partialError{fmt.Sprintf("%d of %d files saved", len(files)-len(skipped), len(files))}
		}
		return nil
	})
}

// writeNew writes data to a new file named after name in dir: only its
// base name is used (a name from another device never climbs out of dir),
// and an existing file is never replaced ("photo (2).jpg" instead).
func writeNew(dir, name string, data []byte) (string, error) {
	base := filepath.Base(filepath.Clean("/" + strings.ReplaceAll(name, "\\", "/")))
	if base == "/" || base == "." || base == ".." || strings.HasPrefix(base, ".") {
		base = "file" + base
	}
	ext := filepath.Ext(base)
	stem := strings.TrimSuffix(base, ext)
	for n := 1; n < 1000; n++ {
		p := filepath.Join(dir, base)
		if n > 1 {
			p = filepath.Join(dir, fmt.Sprintf("%s (%d)%s", stem, n, ext))
		}
		f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, os.ErrExist) {
			continue
		}
		if err != nil {
			return "", err
		}
		if _, err := f.Write(data); err != nil {
			f.Close()
			os.Remove(p)
			return "", err
		}
		if err := f.Close(); err != nil {
			os.Remove(p)
			return "", err
		}
		return p, nil
	}
	return "", fmt.Errorf("%s: too many files named %s", dir, base)
}
