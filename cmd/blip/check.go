package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/blipsocial/blip/internal/config"
)

// check implements `blip check [--deploy]`, Django's `check --deploy`.
func check(cfg config.Config, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	deploy := fs.Bool("deploy", false, "add the production deployment checklist")
	if err := fs.Parse(args); err != nil {
		return usageError{msg: err.Error()}
	}
	problems := cfg.Check(*deploy)
	for _, p := range problems {
		fmt.Fprintln(stdout, p.String())
	}
	if len(problems) == 0 {
		fmt.Fprintln(stdout, "System check identified no issues.")
		return nil
	}
	fmt.Fprintf(stdout, "System check identified %d issue(s).\n", len(problems))
	if config.HasErrors(problems) {
		return exitError{code: 1}
	}
	return nil
}
