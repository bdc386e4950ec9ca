package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/blipsocial/blip/internal/config"
)

// checkFlags declares the flags of `blip check`.
func checkFlags() (*flag.FlagSet, *bool) {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	deploy := fs.Bool("deploy", false, "add the production checklist (DEBUG, SECRET_KEY, ALLOWED_HOSTS, HTTPS redirect, HSTS, cookies, CSP)")
	return fs, deploy
}

// check implements `blip check [--deploy]`, Django's `check --deploy`.
func check(cfg config.Config, args []string, stdout io.Writer) error {
	fs, deploy := checkFlags()
	if err := parseFlagsOnly("check", fs, args); err != nil {
		return err
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
		return exitError{code: 1, msg: "check: the configuration has errors (listed above); fix each as its HINT says, then run blip check again"}
	}
	return nil
}
