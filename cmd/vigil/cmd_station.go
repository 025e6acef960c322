package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/act"
)

// vigil station import FILE.csv: a coordinator signs the mission's
// polling stations as one registry snapshot. vigil station list: the
// registry in force.
func (c *cli) cmdStation(args []string) error {
	if len(args) == 0 {
		return usagef("station: want import or list")
	}
	switch args[0] {
	case "import":
		return c.stationImport(args[1:])
	case "list":
		return c.stationList(args[1:])
	}
	return usagef("station: unknown subcommand %q (import, list)", args[0])
}

func (c *cli) stationImport(args []string) error {
	fs := newFlags("station import")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("station import: want one FILE.csv (header code,name,admin,registered,lat,lon,tags)")
	}
	// Refused before it is read whole: a registry file has a size.
	f, err := os.Open(c.path(pos[0]))
	if err != nil {
		return err
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil {
		return err
	} else if st.Size() > incident.MaxStationsCSVBytes {
		return fmt.Errorf("%s is over %d MiB: nothing imported", pos[0], incident.MaxStationsCSVBytes>>20)
	}
	data, err := io.ReadAll(io.LimitReader(f, incident.MaxStationsCSVBytes+1))
	if err != nil {
		return err
	}
	req := act.StationImport{Name: filepath.Base(pos[0]), Data: data}
	return c.withActions(func(a act.Actions) error {
		res, err := a.ImportStations(req)
		if err != nil {
			return err
		}
		if c.json {
			return c.printJSON(res)
		}
		fmt.Fprintln(c.stdout, res.Registry)
		msg := fmt.Sprintf("Imported %s as one registry snapshot (%d with coordinates, %d in the pvt sample, %s, %d registered voters).",
			incident.Plural(res.Stations, "station"), res.Located, res.Sample, incident.Plural(res.Regions, "region"), res.Registered)
		switch {
		case res.Identical:
			msg += " It is identical to the registry in force before, which it supersedes."
		case res.Supersedes != nil:
			msg += " It supersedes the registry in force before."
		}
		fmt.Fprintln(c.stderr, msg+" Members hold it once every station record has reached them.")
		return nil
	})
}

func (c *cli) stationList(args []string) error {
	fs := newFlags("station list")
	area := fs.String("area", "", "stations of one area: a level of their admin path (\"Ros Tamin\"), or a path from its widest level (\"Calvera/Ros Tamin\")")
	tag := fs.String("tag", "", "stations with this tag (pvt, stratum=NAME)")
	search := fs.String("search", "", "part of the code or the name")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("station list: unexpected %q", pos[0])
	}
	if err := checkUTF8(map[string]string{"area": *area, "tag": *tag, "search": *search}); err != nil {
		return err
	}
	return c.withActions(func(a act.Actions) error {
		list, err := a.Stations(act.StationQuery{Area: *area, Tag: *tag, Search: *search})
		if err != nil {
			return err
		}
		for _, p := range list.Pending {
			if !c.json {
				fmt.Fprintln(c.stderr, pendingLine(p))
			}
		}
		none := "No stations: the mission has no registry on this device yet (a coordinator runs `vigil station import FILE.csv`)."
		if list.Total > 0 {
			none = fmt.Sprintf("No stations match (the registry holds %d).", list.Total)
		}
		return printEach(c, list.Stations, func(v incident.StationView) any { return stationJSON(v) }, stationLine, none)
	})
}

func pendingLine(p incident.SnapshotProgress) string {
	if p.Broken {
		return fmt.Sprintf("A newer registry import (%s) does not match its stations: it is not in force.", p.Registry)
	}
	return fmt.Sprintf("A newer registry import is arriving: %d of %d stations held; the registry below stays in force until it is whole.", p.Held, p.Count)
}

// stationOut is a station in `station list --json`.
type stationOut struct {
	Code       string          `json:"code"`
	Name       string          `json:"name,omitempty"`
	Admin      []string        `json:"admin,omitempty"`
	Area       string          `json:"area,omitempty"`
	Registered uint64          `json:"registered,omitempty"`
	Lat        *float64        `json:"lat,omitempty"`
	Lon        *float64        `json:"lon,omitempty"`
	Tags       []string        `json:"tags,omitempty"`
	ID         incident.ID     `json:"id"`
	By         incident.Author `json:"by"`
	Time       string          `json:"time"`
}

func stationJSON(v incident.StationView) stationOut {
	s := v.Station
	return stationOut{Code: s.Code, Name: s.Name, Admin: s.Admin, Area: s.Area, Registered: s.Registered,
		Lat: incident.Degrees(s.Lat), Lon: incident.Degrees(s.Lon), Tags: s.Tags, ID: v.ID, By: v.By, Time: incident.FormatTime(v.Created)}
}

func stationLine(v incident.StationView) string {
	s := v.Station
	where := strings.Join(s.Admin, "/")
	if where == "" {
		where = s.Area
	}
	line := fmt.Sprintf("%-10s  %s", s.Code, s.Name)
	if where != "" {
		line += "  (" + where + ")"
	}
	if s.Registered > 0 {
		line += fmt.Sprintf("  %d voters", s.Registered)
	}
	if len(s.Tags) > 0 {
		line += "  [" + strings.Join(s.Tags, " ") + "]"
	}
	return line
}
