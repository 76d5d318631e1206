package main

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/go-dsynth/go-dsynth/config"
)

// runInit writes a working default configuration (dsynth.ini, a sample
// LiveSystem-make.conf and the data directories) into -C's directory, or
// /etc/dsynth with data under /build/synth. It never overwrites.
func runInit(_ context.Context, r *runner, args []string) error {
	if len(args) > 0 {
		return &usageError{msg: fmt.Sprintf("init takes no arguments, got %q", args)}
	}
	s, err := config.WriteDefault(r.opts.configDir)
	if err != nil {
		return err
	}
	fmt.Fprintf(r.stdout, "Wrote %s and %s\n", filepath.Join(s.Dir, config.IniName),
		filepath.Join(s.Dir, config.DefaultProfileName+"-make.conf"))
	fmt.Fprintf(r.stdout, "Created the data directories under %s\n", s.DataRoot)
	fmt.Fprintf(r.stdout, "Put a %s ports tree in %s (or point Directory_portsdir at one) before building.\n",
		s.Profile.OperatingSystem, s.Profile.PortsDir)
	return nil
}
