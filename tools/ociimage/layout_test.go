package main

import (
	"archive/tar"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

func TestWriteLayout(t *testing.T) {
	src := filepath.Join(t.TempDir(), "bin")
	if err := os.WriteFile(src, []byte("#!binary"), 0o755); err != nil {
		t.Fatal(err)
	}
	created := time.Unix(1700000000, 0).UTC()
	img := &Image{
		Config: RuntimeConfig{User: "65532:65532", Entrypoint: []string{"/bin"},
			Healthcheck: &Healthcheck{Test: []string{"CMD", "/bin", "health"}, Interval: 10 * time.Second}},
		Layers: []Layer{
			{CreatedBy: "base", Entries: []Entry{
				{Path: "etc/passwd", Mode: 0o644, Data: []byte("root:x:0:0::/:/x\n")},
				{Path: "tmp", Mode: fs.ModeDir | fs.ModeSticky | 0o777},
				{Path: "usr/share/zoneinfo/posix", Mode: fs.ModeSymlink | 0o777, Link: "."},
			}},
			{CreatedBy: "COPY", Entries: []Entry{
				{Path: "bin", Mode: 0o755, Source: src},
				{Path: "data", Mode: fs.ModeDir | 0o755, UID: 65532, GID: 65532},
			}},
		},
		History: []History{{Created: created, CreatedBy: "base"}, {Created: created, CreatedBy: "COPY"}},
	}
	dir := t.TempDir()
	first, err := WriteLayout(dir, "v1", img, created)
	if err != nil {
		t.Fatal(err)
	}

	// Every blob is named by its digest and sized as its descriptor says.
	var index Index
	readJSONInto(t, filepath.Join(dir, "index.json"), &index)
	if len(index.Manifests) != 1 || index.Manifests[0].Digest != first.Digest || index.Manifests[0].Annotations[refNameKey] != "v1" {
		t.Fatalf("index = %+v", index)
	}
	var man Manifest
	readBlob(t, dir, first, &man)
	var cfg ImageConfig
	readBlob(t, dir, man.Config, &cfg)
	if cfg.Config.User != "65532:65532" || cfg.OS != "linux" || !cfg.Created.Equal(created) || len(cfg.RootFS.DiffIDs) != 2 {
		t.Errorf("config = %+v", cfg)
	}
	var raw struct{ Config map[string]any }
	readBlob(t, dir, man.Config, &raw)
	if hc, _ := raw.Config["Healthcheck"].(map[string]any); hc["Interval"] != float64(10*time.Second) {
		t.Errorf("Healthcheck in the config = %v, want Docker's nanosecond durations", hc)
	}

	// Layer 0: parents before children, modes, owners and links kept; its
	// diff ID is the digest of the uncompressed tar.
	want := []string{
		"etc/ d755 0", "etc/passwd -644 0", "tmp/ d1777 0",
		"usr/ d755 0", "usr/share/ d755 0", "usr/share/zoneinfo/ d755 0", "usr/share/zoneinfo/posix l777 0 -> .",
	}
	if got := listLayer(t, dir, man.Layers[0], cfg.RootFS.DiffIDs[0]); !reflect.DeepEqual(got, want) {
		t.Errorf("layer 0 =\n%q\nwant\n%q", got, want)
	}
	want = []string{"bin -755 0", "data/ d755 65532"}
	if got := listLayer(t, dir, man.Layers[1], cfg.RootFS.DiffIDs[1]); !reflect.DeepEqual(got, want) {
		t.Errorf("layer 1 =\n%q\nwant\n%q", got, want)
	}

	// Reproducible: the same image again has the same digest, and replaces
	// the name in index.json rather than adding a second entry.
	again, err := WriteLayout(dir, "v1", img, created)
	if err != nil {
		t.Fatal(err)
	}
	readJSONInto(t, filepath.Join(dir, "index.json"), &index)
	if again.Digest != first.Digest || len(index.Manifests) != 1 {
		t.Errorf("second write: %s (first %s), %d manifests", again.Digest, first.Digest, len(index.Manifests))
	}
}

// readBlob checks a blob against its descriptor and decodes it.
func readBlob(t *testing.T, dir string, d Descriptor, v any) {
	t.Helper()
	data := blobBytes(t, dir, d)
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatal(err)
	}
}

func blobBytes(t *testing.T, dir string, d Descriptor) []byte {
	t.Helper()
	data, err := os.ReadFile(blobPath(dir, d.Digest))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	if "sha256:"+hex.EncodeToString(sum[:]) != d.Digest || int64(len(data)) != d.Size {
		t.Fatalf("blob %s: digest or size (%d, want %d) does not match", d.Digest, len(data), d.Size)
	}
	return data
}

// listLayer lists a layer as "name type+mode uid[ -> link]" lines, checking
// its diff ID.
func listLayer(t *testing.T, dir string, d Descriptor, diffID string) []string {
	t.Helper()
	if d.MediaType != mediaLayer {
		t.Errorf("layer media type %q", d.MediaType)
	}
	f, err := os.Open(blobPath(dir, d.Digest))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	tr := tar.NewReader(io.TeeReader(gz, h))
	var out []string
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		kind := map[byte]string{tar.TypeDir: "d", tar.TypeReg: "-", tar.TypeSymlink: "l"}[hdr.Typeflag]
		line := fmt.Sprintf("%s %s%o %d", hdr.Name, kind, hdr.Mode, hdr.Uid)
		if hdr.Linkname != "" {
			line += " -> " + hdr.Linkname
		}
		out = append(out, line)
	}
	_, _ = io.Copy(io.Discard, io.TeeReader(gz, h))
	if got := "sha256:" + hex.EncodeToString(h.Sum(nil)); got != diffID {
		t.Errorf("diff ID %s, want %s", diffID, got)
	}
	return out
}
