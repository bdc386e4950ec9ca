package main

import (
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// command describes one subcommand for help and flag parsing.
type command struct {
	name     string // as typed after blip
	synopsis string // arguments, for the usage line
	summary  string
	// flags returns a fresh flag set with every flag of the command; the
	// command parses its arguments with the same constructor, so help
	// cannot miss a flag.
	flags func() *flag.FlagSet
}

// commands lists every subcommand in the order help shows them.
func commands() []command {
	noFlags := func(name string) func() *flag.FlagSet {
		return func() *flag.FlagSet { return flag.NewFlagSet(name, flag.ContinueOnError) }
	}
	return []command{
		{"serve", "", "run the HTTP API (the default command); migrates first when AUTO_MIGRATE=1", noFlags("serve")},
		{"migrate", "[up|down|status]", "apply every migration (up, the default), roll back one (down), or list them (status)", noFlags("migrate")},
		{"check", "[--deploy]", "validate the configuration; each problem has an id and a HINT; exit 1 on errors",
			func() *flag.FlagSet { fs, _ := checkFlags(); return fs }},
		{"user", "create --email E --username U [flags]", "create an account (password prompted on a terminal, or --password-stdin)",
			func() *flag.FlagSet { fs, _ := userCreateFlags(); return fs }},
		{"seed", "[flags]", "demo and benchmark data (users seed_000001 …); re-runnable; refuses APP_ENV=production without --force",
			func() *flag.FlagSet { fs, _ := seedFlags(); return fs }},
		{"health", "[--live]", "probe the server on HTTP_ADDR (for container health checks); exit 0 only on 200",
			func() *flag.FlagSet { fs, _ := healthFlags(); return fs }},
		{"flush-expired", "", "delete expired and revoked sessions and old idempotency keys (run it daily)", noFlags("flush-expired")},
		{"version", "", "print the version", noFlags("version")},
	}
}

func findCommand(name string) (command, bool) {
	for _, c := range commands() {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

func isHelpFlag(arg string) bool {
	return arg == "-h" || arg == "--help" || arg == "-help" || arg == "--h"
}

// printUsage writes the top-level help: every command with every flag.
func printUsage(w io.Writer) {
	fmt.Fprint(w, "usage: blip [command] [flags]\n\ncommands:\n")
	for _, c := range commands() {
		fmt.Fprintf(w, "\n  blip %s\n      %s\n", strings.TrimSpace(c.name+" "+c.synopsis), c.summary)
		printFlags(w, c.flags(), "      ")
	}
	fmt.Fprint(w, `
Configuration comes from the environment and a .env file in the working
directory (the environment wins); .env.example lists every variable.
"blip <command> --help" shows one command.
`)
}

// printCommandHelp writes one command's usage and flags.
func printCommandHelp(w io.Writer, c command) {
	fmt.Fprintf(w, "usage: blip %s\n\n%s\n", strings.TrimSpace(c.name+" "+c.synopsis), c.summary)
	fs := c.flags()
	if hasFlags(fs) {
		fmt.Fprint(w, "\nflags:\n")
		printFlags(w, fs, "  ")
	}
}

func hasFlags(fs *flag.FlagSet) bool {
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	return n > 0
}

// printFlags writes each flag as `--name value  usage (default x)`.
func printFlags(w io.Writer, fs *flag.FlagSet, indent string) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fs.VisitAll(func(f *flag.Flag) {
		kind, usage := flag.UnquoteUsage(f)
		name := "--" + f.Name
		if kind != "" {
			name += " " + kind
		}
		if f.DefValue != "" && f.DefValue != "0" && f.DefValue != "false" {
			usage += fmt.Sprintf(" (default %s)", f.DefValue)
		}
		fmt.Fprintf(tw, "%s%s\t%s\n", indent, name, usage)
	})
	_ = tw.Flush() // w is stdout or a buffer: nothing to do about a failed help write
}

// parseFlags parses args with c's flags for a command that takes no
// positional argument; a mistake becomes a usageError naming it.
func parseFlags(c command, args []string) error {
	return parseFlagsOnly(c.name, c.flags(), args)
}

// parseFlagsOnly parses args with fs, the flags of command name, which
// takes no positional argument.
func parseFlagsOnly(name string, fs *flag.FlagSet, args []string) error {
	rest, err := parseInto(name, fs, args)
	if err != nil {
		return err
	}
	return noArgs(name, rest)
}

// parseInto parses args with fs, the flags of command name, and returns
// the positional arguments. The flag package's own error output is
// silenced: the usageError is the one line the user sees.
func parseInto(name string, fs *flag.FlagSet, args []string) ([]string, error) {
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	if err := fs.Parse(args); err != nil {
		return nil, usagef("%s: %v; run \"blip %s --help\" to see its flags", name, err, name)
	}
	return fs.Args(), nil
}

// noArgs is the error for positional arguments a command does not take.
func noArgs(name string, rest []string) error {
	if len(rest) == 0 {
		return nil
	}
	return usagef("%s: unexpected argument %q; run \"blip %s --help\" for its usage", name, rest[0], name)
}
