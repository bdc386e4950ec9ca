// Command vulngate reads `govulncheck -format json` from standard input and
// decides whether CI passes.
//
// It fails on every vulnerability that Blip's code can reach (a finding with
// a function in its trace), in a module dependency (fixed by bumping
// go.mod) and in the standard library (fixed by a newer Go release: go.mod's
// toolchain line names the patched one, and .ci/run and the GitHub workflow
// build with at least that release, see .ci/go-toolchain.sh). Only where no
// patched release can be had may -fail-stdlib=false turn standard-library
// findings into a loud warning; CI never passes it.
//
// Usage:
//
//	govulncheck -db file:///path -format json ./... | go -C tools run ./vulngate [-fail-stdlib=false]
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

func main() {
	if err := run(os.Args[1:], os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "vulngate:", err)
		os.Exit(1)
	}
}

// message is one object of govulncheck's JSON stream (protocol v1).
type message struct {
	Config *struct {
		ScannerVersion string `json:"scanner_version"`
		DB             string `json:"db"`
		GoVersion      string `json:"go_version"`
		ScanLevel      string `json:"scan_level"`
	} `json:"config"`
	OSV *struct {
		ID      string `json:"id"`
		Summary string `json:"summary"`
	} `json:"osv"`
	Finding *struct {
		OSV          string `json:"osv"`
		FixedVersion string `json:"fixed_version"`
		Trace        []struct {
			Module   string `json:"module"`
			Version  string `json:"version"`
			Package  string `json:"package"`
			Function string `json:"function"`
			Receiver string `json:"receiver"`
		} `json:"trace"`
	} `json:"finding"`
}

// vuln is a reachable vulnerability, merged over its traces.
type vuln struct {
	id, module, version, fixed, summary string
	symbols                             map[string]bool
}

func run(args []string, stdin io.Reader, stdout io.Writer) error {
	fs := flag.NewFlagSet("vulngate", flag.ContinueOnError)
	failStdlib := fs.Bool("fail-stdlib", true, "fail on reachable standard-library vulnerabilities (false: only warn)")
	if err := fs.Parse(args); err != nil {
		return err
	}

	dec := json.NewDecoder(stdin)
	summaries := map[string]string{}
	found := map[string]*vuln{}
	sawConfig := false
	goVersion := ""
	for {
		var m message
		err := dec.Decode(&m)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("reading govulncheck output: %w", err)
		}
		switch {
		case m.Config != nil:
			sawConfig = true
			goVersion = m.Config.GoVersion
			fmt.Fprintf(stdout, "govulncheck %s, %s, db %s, scan level %s\n",
				m.Config.ScannerVersion, m.Config.GoVersion, m.Config.DB, m.Config.ScanLevel)
		case m.OSV != nil:
			summaries[m.OSV.ID] = m.OSV.Summary
		case m.Finding != nil && len(m.Finding.Trace) > 0 && m.Finding.Trace[0].Function != "":
			f := m.Finding
			top := f.Trace[0]
			key := f.OSV + " " + top.Module
			v := found[key]
			if v == nil {
				v = &vuln{id: f.OSV, module: top.Module, version: top.Version, fixed: f.FixedVersion, symbols: map[string]bool{}}
				found[key] = v
			}
			sym := top.Package + "." + top.Function
			if top.Receiver != "" {
				sym = top.Package + "." + strings.TrimPrefix(top.Receiver, "*") + "." + top.Function
			}
			v.symbols[sym] = true
		}
	}
	if !sawConfig {
		return errors.New("no govulncheck config message: did govulncheck run? (see its stderr above)")
	}

	var modules, stdlib []*vuln
	for _, v := range found {
		v.summary = summaries[v.id]
		if v.module == "stdlib" || v.module == "toolchain" {
			stdlib = append(stdlib, v)
		} else {
			modules = append(modules, v)
		}
	}
	report(stdout, "reachable vulnerabilities in module dependencies", modules)
	report(stdout, "reachable vulnerabilities in the Go standard library ("+goVersion+")", stdlib)

	switch {
	case len(modules) > 0:
		return fmt.Errorf("%d reachable vulnerabilit(ies) in dependencies: upgrade the modules named above", len(modules))
	case len(stdlib) > 0 && *failStdlib:
		return fmt.Errorf("%d reachable standard-library vulnerabilit(ies) in %s: raise go.mod's toolchain line to a release at or above each 'fixed in' and build with it (.ci/go-toolchain.sh)",
			len(stdlib), goVersion)
	case len(stdlib) > 0:
		fmt.Fprintf(stdout, "WARNING: %d reachable standard-library vulnerabilit(ies) in %s, passed only because of -fail-stdlib=false;\n"+
			"WARNING: release builds must use a Go release at or above each 'fixed in'.\n",
			len(stdlib), goVersion)
		fmt.Fprintln(stdout, "vulngate: no reachable vulnerability in module dependencies")
		return nil
	}
	fmt.Fprintln(stdout, "vulngate: no reachable vulnerability")
	return nil
}

func report(w io.Writer, title string, vulns []*vuln) {
	fmt.Fprintf(w, "%s: %d\n", title, len(vulns))
	sort.Slice(vulns, func(i, j int) bool { return vulns[i].id < vulns[j].id })
	for _, v := range vulns {
		syms := make([]string, 0, len(v.symbols))
		for s := range v.symbols {
			syms = append(syms, s)
		}
		sort.Strings(syms)
		if len(syms) > 4 {
			syms = append(syms[:4], fmt.Sprintf("and %d more", len(syms)-4))
		}
		fixed := v.fixed
		if fixed == "" {
			fixed = "no fix yet"
		}
		fmt.Fprintf(w, "  %s %s@%s (fixed in %s): %s\n    reached: %s\n",
			v.id, v.module, v.version, fixed, v.summary, strings.Join(syms, ", "))
	}
}
