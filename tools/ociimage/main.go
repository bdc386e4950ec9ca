// Command ociimage builds Blip's container image without a Docker engine or
// a registry: it reads the Dockerfile, runs its build stage on this machine
// (the same `go build` command and flags, with the local Go release the
// build image names), and writes an OCI image layout holding the final
// stage: a base layer standing in for the distroless image (passwd and
// group with the nonroot user, Debian's CA certificates and tzdata, /tmp),
// one layer per COPY, and USER, ENV, EXPOSE, WORKDIR, STOPSIGNAL,
// HEALTHCHECK, ENTRYPOINT and CMD from the Dockerfile in the image
// configuration. Instructions it does not understand fail the build rather
// than being skipped. docs/deployment.md ("The image without Docker") says
// how CI unpacks and runs the result.
//
// Usage (from the repository root):
//
//	go -C tools run ./ociimage -root .. -out ../bin/oci -ref latest -version "$(git describe --always)"
//	umoci unpack --image bin/oci:latest bundle   # an OCI runtime bundle for runc
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Getenv); err != nil {
		fmt.Fprintln(os.Stderr, "ociimage:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout io.Writer, getenv func(string) string) error {
	fs := flag.NewFlagSet("ociimage", flag.ContinueOnError)
	root := fs.String("root", ".", "repository root (the build context)")
	dockerfile := fs.String("dockerfile", "", "Dockerfile (default: ROOT/Dockerfile)")
	out := fs.String("out", "", "OCI image layout directory to write (required)")
	ref := fs.String("ref", "latest", "name of the image in the layout's index.json")
	version := fs.String("version", "", "build argument VERSION (default: the Dockerfile's)")
	caCerts := fs.String("ca-certs", "/etc/ssl/certs/ca-certificates.crt", "CA bundle (Debian's ca-certificates)")
	zoneinfo := fs.String("zoneinfo", "/usr/share/zoneinfo", "time zone database (Debian's tzdata)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" {
		return fmt.Errorf("-out is required")
	}
	if *dockerfile == "" {
		*dockerfile = filepath.Join(*root, "Dockerfile")
	}
	created, err := sourceDateEpoch(getenv("SOURCE_DATE_EPOCH"))
	if err != nil {
		return err
	}
	work, err := os.MkdirTemp("", "ociimage-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	img, err := Build(Options{
		Root: *root, Dockerfile: *dockerfile, Version: *version,
		CACerts: *caCerts, Zoneinfo: *zoneinfo, Created: created, Work: work, Log: os.Stderr,
	})
	if err != nil {
		return err
	}
	desc, err := WriteLayout(*out, *ref, img, created)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s:%s %s (user %s, entrypoint %q, cmd %q)\n", *out, *ref, desc.Digest, img.Config.User, img.Config.Entrypoint, img.Config.Cmd)
	return nil
}

// sourceDateEpoch is the image's timestamp: SOURCE_DATE_EPOCH (seconds) if
// set, the Unix epoch otherwise, so rebuilding the same sources gives the
// same image.
func sourceDateEpoch(s string) (time.Time, error) {
	if s == "" {
		return time.Unix(0, 0).UTC(), nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH=%q: %w", s, err)
	}
	return time.Unix(n, 0).UTC(), nil
}
