package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/blipsocial/blip/internal/config"
)

// health implements `blip health [--live]`: a probe for container
// HEALTHCHECKs in images without a shell or curl. It asks the server on
// HTTP_ADDR for /health/ (or /health/live) and exits 0 only on 200.
func health(ctx context.Context, cfg config.Config, args []string, stdout io.Writer) error {
	fs, live := healthFlags()
	if err := parseFlagsOnly("health", fs, args); err != nil {
		return err
	}
	host, port, err := net.SplitHostPort(cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("HTTP_ADDR: %w; set it to host:port, as blip serve uses it", err)
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	path := "/health/"
	if *live {
		path = "/health/live"
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+net.JoinHostPort(host, port)+path, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("health: %w; is blip serve running with this HTTP_ADDR (%s)?", err, cfg.HTTPAddr)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	fmt.Fprintf(stdout, "%d %s", resp.StatusCode, body)
	if resp.StatusCode != http.StatusOK {
		return exitError{code: 1, msg: fmt.Sprintf("health: %s answered %d, not 200: the server is not ready; its checks are above and its logs say why", path, resp.StatusCode)}
	}
	return nil
}

// healthFlags declares the flags of `blip health`.
func healthFlags() (*flag.FlagSet, *bool) {
	fs := flag.NewFlagSet("health", flag.ContinueOnError)
	live := fs.Bool("live", false, "check liveness (/health/live) instead of readiness (/health/)")
	return fs, live
}
