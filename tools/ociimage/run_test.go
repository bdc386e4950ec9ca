package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/blipsocial/blip/tools/internal/livetest"
)

// TestImageRuns builds the image from the Dockerfile, unpacks it with
// umoci (which checks every digest) into an OCI runtime bundle, and runs
// it with an OCI runtime (runc) on the host's network against PostgreSQL
// and Redis, with the compose file's hardening (read-only root, a tmpfs
// /tmp, no capabilities). It checks that the server runs as the image's
// non-root user, that /health/ answers 200, that the image's HEALTHCHECK
// command succeeds inside the container, and that the image's stop signal
// stops it cleanly. BLIP_TEST_OCI_RUNTIME names the runtime; .ci/run sets
// it, so the test runs there rather than skipping. It needs root.
func TestImageRuns(t *testing.T) {
	runtime := os.Getenv("BLIP_TEST_OCI_RUNTIME")
	if runtime == "" {
		t.Skip("BLIP_TEST_OCI_RUNTIME (an OCI runtime such as runc) is not set; .ci/run sets it")
	}
	umoci, err := exec.LookPath("umoci")
	if err != nil {
		t.Fatalf("umoci (Debian's umoci package) is needed to unpack the image: %v", err)
	}
	dbURL, redisURL := livetest.Services(t)
	root := livetest.RepoRoot(t)
	dir := t.TempDir()

	began := time.Now()
	var buildLog bytes.Buffer
	img, err := Build(Options{
		Root: root, Dockerfile: filepath.Join(root, "Dockerfile"), Version: "ocitest",
		CACerts: "/etc/ssl/certs/ca-certificates.crt", Zoneinfo: "/usr/share/zoneinfo",
		Created: time.Unix(0, 0).UTC(), Work: filepath.Join(dir, "work"), Log: &buildLog,
	})
	if err != nil {
		t.Fatalf("build: %v\n%s", err, buildLog.String())
	}
	layout := filepath.Join(dir, "oci")
	if _, err := WriteLayout(layout, "test", img, time.Unix(0, 0).UTC()); err != nil {
		t.Fatal(err)
	}
	t.Logf("image built in %s", time.Since(began).Round(time.Millisecond))

	// Everything below reads the image as written, not the Go value.
	cfg := readImageConfig(t, layout, "test")
	if cfg.Config.User == "" || strings.HasPrefix(cfg.Config.User, "0:") || cfg.Config.User == "0" || cfg.Config.User == "root" {
		t.Fatalf("image user %q: the image must run as a non-root user", cfg.Config.User)
	}
	uid, gid := parseUser(t, cfg.Config.User)

	bundle := filepath.Join(dir, "bundle")
	if out, err := exec.Command(umoci, "unpack", "--image", layout+":test", bundle).CombinedOutput(); err != nil {
		t.Fatalf("umoci unpack: %v\n%s", err, out)
	}
	checkRootfs(t, filepath.Join(bundle, "rootfs"), uid)

	// The bundle's process is the image's ENTRYPOINT and CMD as its USER,
	// in its WORKDIR, with its ENV: umoci derives it from the image.
	spec := readJSON(t, filepath.Join(bundle, "config.json"))
	process := spec["process"].(map[string]any)
	user := process["user"].(map[string]any)
	if int(user["uid"].(float64)) != uid || int(user["gid"].(float64)) != gid {
		t.Errorf("bundle user %v, want %d:%d", user, uid, gid)
	}
	if args := toStrings(process["args"]); !slices.Equal(args, append(slices.Clone(cfg.Config.Entrypoint), cfg.Config.Cmd...)) {
		t.Errorf("bundle args %q, want ENTRYPOINT %q + CMD %q", args, cfg.Config.Entrypoint, cfg.Config.Cmd)
	}
	if process["cwd"] != cfg.Config.WorkingDir {
		t.Errorf("bundle cwd %v, want WORKDIR %q", process["cwd"], cfg.Config.WorkingDir)
	}

	// Adapt the bundle to this machine: the host's network (PostgreSQL and
	// Redis listen on its loopback), a free port instead of the image's
	// :8000 (HTTP_ADDR, which the health check reads too), the settings a
	// deployment passes in, and the compose file's hardening.
	addr := livetest.FreeAddr(t)
	process["terminal"] = false
	process["env"] = withEnv(toStrings(process["env"]), map[string]string{
		"HTTP_ADDR":           addr,
		"DATABASE_URL":        livetest.SchemaURL(t, dbURL),
		"REDIS_URL":           livetest.RedisDB(t, redisURL),
		"SECRET_KEY":          livetest.RandomHex(t, 32),
		"ALLOWED_HOSTS":       "127.0.0.1",
		"SECURE_SSL_REDIRECT": "0",
		"AUTO_MIGRATE":        "1",
	})
	process["capabilities"] = map[string]any{} // cap_drop: [ALL]
	process["noNewPrivileges"] = true          // no-new-privileges:true
	spec["root"] = map[string]any{"path": "rootfs", "readonly": true}
	spec["mounts"] = append(toAny(spec["mounts"]), map[string]any{
		"destination": "/tmp", "type": "tmpfs", "source": "tmpfs",
		"options": []string{"nosuid", "nodev", "mode=1777"},
	})
	linux := spec["linux"].(map[string]any)
	var namespaces []any
	for _, ns := range toAny(linux["namespaces"]) {
		if ns.(map[string]any)["type"] != "network" {
			namespaces = append(namespaces, ns)
		}
	}
	linux["namespaces"] = namespaces
	writeJSON(t, filepath.Join(bundle, "config.json"), spec)

	id := "blip-ocitest-" + livetest.RandomHex(t, 4)
	logPath := filepath.Join(dir, "container.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	pidFile := filepath.Join(dir, "container.pid")
	run := exec.Command(runtime, "run", "--detach", "--bundle", bundle, "--pid-file", pidFile, id)
	run.Stdout, run.Stderr = logFile, logFile
	err = run.Run()
	_ = logFile.Close()
	t.Cleanup(func() {
		if out, err := exec.Command(runtime, "delete", "--force", id).CombinedOutput(); err != nil && !strings.Contains(string(out), "does not exist") {
			t.Logf("%s delete --force %s: %v: %s", runtime, id, err, out)
		}
		if t.Failed() {
			data, _ := os.ReadFile(logPath)
			t.Logf("----- container output -----\n%s", tail(data, 4000))
		}
	})
	if err != nil {
		data, _ := os.ReadFile(logPath)
		t.Fatalf("%s run: %v\n%s", runtime, err, data)
	}
	livetest.WaitStatus(t, "http://"+addr+"/health/", 200, 60*time.Second)
	t.Logf("container serving at %s", time.Since(began).Round(time.Millisecond))

	// The server process, seen from the host, runs as the image's user
	// with no capabilities.
	pidData, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	status, err := os.ReadFile("/proc/" + strings.TrimSpace(string(pidData)) + "/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		fmt.Sprintf("Uid:\t%d\t%d\t%d\t%d", uid, uid, uid, uid),
		fmt.Sprintf("Gid:\t%d\t%d\t%d\t%d", gid, gid, gid, gid),
		"CapEff:\t0000000000000000",
	} {
		if !strings.Contains(string(status), want) {
			t.Errorf("container process status lacks %q:\n%s", want, status)
		}
	}

	// The image's HEALTHCHECK, as Docker runs it: its command inside the
	// container (as the process's user, with its environment), each try
	// bounded by the timeout, healthy when one of the retries succeeds.
	hc := cfg.Config.Healthcheck
	if hc == nil || len(hc.Test) < 2 || hc.Test[0] != "CMD" {
		t.Fatalf("image healthcheck %+v: want CMD [...]", hc)
	}
	retries := max(hc.Retries, 1)
	timeout := max(hc.Timeout, time.Second)
	var lastErr error
	for i := range retries {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		out, err := exec.CommandContext(ctx, runtime, append([]string{"exec", id}, hc.Test[1:]...)...).CombinedOutput()
		cancel()
		if err == nil {
			t.Logf("HEALTHCHECK %q (try %d): %s", hc.Test[1:], i+1, bytes.TrimSpace(out))
			lastErr = nil
			break
		}
		lastErr = fmt.Errorf("%w: %s", err, out)
		time.Sleep(time.Second)
	}
	if lastErr != nil {
		t.Errorf("HEALTHCHECK %q failed %d times: %v", hc.Test[1:], retries, lastErr)
	}

	// The image's STOPSIGNAL drains and stops the server.
	signal := cmp.Or(cfg.Config.StopSignal, "SIGTERM")
	if out, err := exec.Command(runtime, "kill", id, strings.TrimPrefix(signal, "SIG")).CombinedOutput(); err != nil {
		t.Fatalf("%s kill %s %s: %v: %s", runtime, id, signal, err, out)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		out, err := exec.Command(runtime, "state", id).Output()
		var st struct{ Status string }
		if err == nil && json.Unmarshal(out, &st) == nil && st.Status == "stopped" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("container still %q 30s after %s", st.Status, signal)
		}
		time.Sleep(200 * time.Millisecond)
	}
	data, _ := os.ReadFile(logPath)
	if !bytes.Contains(data, []byte(`"msg":"stopped"`)) {
		t.Errorf("no clean stop in the container's log after %s:\n%s", signal, tail(data, 2000))
	}
}

// readImageConfig follows index.json → manifest → config for ref.
func readImageConfig(t *testing.T, layout, ref string) ImageConfig {
	t.Helper()
	var index Index
	readJSONInto(t, filepath.Join(layout, "index.json"), &index)
	for _, m := range index.Manifests {
		if m.Annotations[refNameKey] != ref {
			continue
		}
		var man Manifest
		readJSONInto(t, blobPath(layout, m.Digest), &man)
		var cfg ImageConfig
		readJSONInto(t, blobPath(layout, man.Config.Digest), &cfg)
		return cfg
	}
	t.Fatalf("%s: no image named %q", layout, ref)
	return ImageConfig{}
}

// checkRootfs checks what the image must hold: the binary (root-owned,
// executable), the WORKDIR owned by the image's user, CA certificates,
// time zones and a world-writable /tmp.
func checkRootfs(t *testing.T, rootfs string, uid int) {
	t.Helper()
	for _, c := range []struct {
		path string
		mode os.FileMode
		uid  int
	}{
		{"blip", 0o755, 0},
		{"data", os.ModeDir | 0o755, uid},
		{"etc/ssl/certs/ca-certificates.crt", 0o644, 0},
		{"usr/share/zoneinfo/UTC", 0o644, 0},
		{"usr/share/zoneinfo/Europe/Paris", 0o644, 0},
		{"tmp", os.ModeDir | os.ModeSticky | 0o777, 0},
	} {
		fi, err := os.Stat(filepath.Join(rootfs, c.path))
		if err != nil {
			t.Errorf("rootfs: %v", err)
			continue
		}
		owner := fileOwner(fi)
		if fi.Mode() != c.mode || owner != c.uid {
			t.Errorf("rootfs /%s: mode %v owner %d, want %v owner %d", c.path, fi.Mode(), owner, c.mode, c.uid)
		}
	}
	host, _ := os.ReadFile("/etc/ssl/certs/ca-certificates.crt")
	image, _ := os.ReadFile(filepath.Join(rootfs, "etc/ssl/certs/ca-certificates.crt"))
	if len(image) == 0 || !bytes.Equal(host, image) {
		t.Errorf("rootfs CA bundle (%d bytes) differs from the host's (%d bytes)", len(image), len(host))
	}
}

func parseUser(t *testing.T, user string) (uid, gid int) {
	t.Helper()
	u, g, ok := strings.Cut(user, ":")
	if !ok {
		g = u
	}
	uid, err1 := strconv.Atoi(u)
	gid, err2 := strconv.Atoi(g)
	if err1 != nil || err2 != nil {
		t.Fatalf("image user %q: want numeric uid[:gid] (the image has no user database lookups at run time)", user)
	}
	return uid, gid
}

func blobPath(layout, digest string) string {
	return filepath.Join(layout, "blobs", "sha256", strings.TrimPrefix(digest, "sha256:"))
}

func readJSON(t *testing.T, path string) map[string]any {
	t.Helper()
	var v map[string]any
	readJSONInto(t, path, &v)
	return v
}

func readJSONInto(t *testing.T, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func writeJSON(t *testing.T, path string, v any) {
	t.Helper()
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

func toAny(v any) []any {
	s, _ := v.([]any)
	return s
}

func toStrings(v any) []string {
	var out []string
	for _, x := range toAny(v) {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}

// withEnv sets each of set in env, replacing a variable the image sets.
func withEnv(env []string, set map[string]string) []string {
	out := make([]string, 0, len(env)+len(set))
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		if _, ok := set[k]; !ok {
			out = append(out, kv)
		}
	}
	for k, v := range set {
		out = append(out, k+"="+v)
	}
	return out
}

// fileOwner is the owning uid of a file (-1 if unknown).
func fileOwner(fi os.FileInfo) int {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return int(st.Uid)
	}
	return -1
}

func tail(data []byte, n int) []byte {
	if len(data) > n {
		return data[len(data)-n:]
	}
	return data
}
