package main

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/memoryrelay/memoryrelay"
)

func version(ctx context.Context, args []string, sys *system) error {
	fs := newFlags(sys, "version", "version", "Print the version of memoryrelay, of the module it was built from, and of Go.")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usagef("version takes no arguments")
	}
	fmt.Fprintf(sys.stdout, "memoryrelay %s\n", memoryrelay.Version)
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Path != "" {
		mod := bi.Main.Version
		if mod == "" {
			mod = "(devel)"
		}
		line := "module " + bi.Main.Path + " " + mod
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				line += " " + s.Value
			case "vcs.modified":
				if s.Value == "true" {
					line += " (modified)"
				}
			}
		}
		fmt.Fprintln(sys.stdout, line)
	}
	fmt.Fprintf(sys.stdout, "go %s %s/%s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return nil
}
