package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
)

// invocation is a `docker compose` command line: the global options that
// select and load the project, then the command and its arguments.
type invocation struct {
	files       []string // -f, --file
	envFiles    []string // --env-file
	profiles    []string // --profile
	projectName string   // -p, --project-name
	projectDir  string   // --project-directory
	command     string   // up, down, run, …
	args        []string
}

// parseInvocation reads the arguments after `docker compose`.
func parseInvocation(args []string) (invocation, error) {
	var inv invocation
	for len(args) > 0 {
		a := args[0]
		if !strings.HasPrefix(a, "-") {
			inv.command, inv.args = a, args[1:]
			return inv, nil
		}
		name, value, hasValue := strings.Cut(a, "=")
		var dst *[]string
		var one *string
		switch name {
		case "-f", "--file":
			dst = &inv.files
		case "--env-file":
			dst = &inv.envFiles
		case "--profile":
			dst = &inv.profiles
		case "-p", "--project-name":
			one = &inv.projectName
		case "--project-directory":
			one = &inv.projectDir
		default:
			return inv, fmt.Errorf("global option %s is not supported by this checker", a)
		}
		if !hasValue {
			if len(args) < 2 {
				return inv, fmt.Errorf("option %s needs a value", a)
			}
			value, args = args[1], args[1:]
		}
		args = args[1:]
		if dst != nil {
			*dst = append(*dst, value)
		} else {
			*one = value
		}
	}
	return inv, errors.New("no command given")
}

// services returns the services a command names: `run SERVICE …`, `up
// [SERVICE…]`, with `--scale SERVICE=N` checked too. Options that take a
// value are skipped with it.
func (inv invocation) services() []string {
	valueFlags := map[string]bool{
		"-e": true, "--env": true, "--name": true, "-u": true, "--user": true, "-w": true, "--workdir": true,
		"--entrypoint": true, "-v": true, "--volume": true, "-p": true, "--publish": true, "-l": true, "--label": true,
		"--scale": true, "-t": true, "--timeout": true, "--pull": true, "--wait-timeout": true, "--exit-code-from": true,
	}
	var names []string
	for i := 0; i < len(inv.args); i++ {
		a := inv.args[i]
		if a == "--scale" && i+1 < len(inv.args) {
			svc, _, _ := strings.Cut(inv.args[i+1], "=")
			names = append(names, svc)
		}
		if strings.HasPrefix(a, "-") {
			if valueFlags[a] {
				i++
			}
			continue
		}
		names = append(names, a)
		if inv.command == "run" || inv.command == "exec" {
			break // the rest is the command run in the container
		}
	}
	return names
}

// load loads the project as docker compose v2 does for this command: the
// same compose-go options in the same order (docker/compose's
// buildProjectOptions), the environment first, then --env-file or the
// project directory's .env. `down` and other commands that need only the
// project's name load it the way docker compose's projectOrName does,
// without env_file and environment resolution, but interpolated all the
// same: a required variable that is missing fails them too.
func (inv invocation) load(ctx context.Context) (*types.Project, error) {
	var extra []cli.ProjectOptionsFn
	switch inv.command {
	case "down", "stop", "ps", "logs", "rm", "kill", "restart", "start", "pause", "unpause", "top", "events":
		extra = append(extra, cli.WithDiscardEnvFile, cli.WithoutEnvironmentResolution)
	}
	opts := []cli.ProjectOptionsFn{
		cli.WithWorkingDirectory(inv.projectDir),
		cli.WithOsEnv,
	}
	if _, ok := os.LookupEnv("PWD"); !ok {
		if pwd, err := os.Getwd(); err == nil {
			opts = append(opts, cli.WithEnv([]string{"PWD=" + pwd}))
		}
	}
	opts = append(opts,
		cli.WithEnvFiles(inv.envFiles...),
		cli.WithDotEnv,
		cli.WithConfigFileEnv,
		cli.WithDefaultConfigPath,
		cli.WithEnvFiles(inv.envFiles...),
		cli.WithDotEnv,
		cli.WithDefaultProfiles(inv.profiles...),
		cli.WithName(inv.projectName),
	)
	po, err := cli.NewProjectOptions(inv.files, append(extra, opts...)...)
	if err != nil {
		return nil, err
	}
	p, err := po.LoadProject(ctx)
	if err != nil {
		return nil, err
	}
	if p.Name == "" {
		return nil, errors.New("project name can't be empty")
	}
	for _, s := range inv.services() {
		if _, ok := p.Services[s]; !ok {
			return nil, fmt.Errorf("no such service: %s", s)
		}
	}
	return p, nil
}

// fakeCompose stands in for `docker compose ARGS…`: it loads the project
// exactly as docker compose would and checks its structure, but starts
// nothing. It prints what it checked, or every problem, and returns an
// error if there is any.
func fakeCompose(ctx context.Context, args []string, stdout io.Writer) error {
	inv, err := parseInvocation(args)
	if err != nil {
		return err
	}
	p, err := inv.load(ctx)
	if err != nil {
		return fmt.Errorf("docker compose %s: %w", strings.Join(args, " "), err)
	}
	if problems := checkProject(p); len(problems) > 0 {
		return fmt.Errorf("docker compose %s:\n  %s", strings.Join(args, " "), strings.Join(problems, "\n  "))
	}
	fmt.Fprintf(stdout, "docker compose %s: loads (project %s, services %s) and passes the structure checks\n",
		strings.Join(args, " "), p.Name, strings.Join(p.ServiceNames(), ", "))
	return nil
}
