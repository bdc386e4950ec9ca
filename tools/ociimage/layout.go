package main

import (
	"archive/tar"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"
)

// Media types of the OCI image specification (v1.1).
const (
	mediaIndex    = "application/vnd.oci.image.index.v1+json"
	mediaManifest = "application/vnd.oci.image.manifest.v1+json"
	mediaConfig   = "application/vnd.oci.image.config.v1+json"
	mediaLayer    = "application/vnd.oci.image.layer.v1.tar+gzip"
	refNameKey    = "org.opencontainers.image.ref.name"
)

// Descriptor points at a blob of the layout.
type Descriptor struct {
	MediaType   string            `json:"mediaType"`
	Digest      string            `json:"digest"`
	Size        int64             `json:"size"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

// ImageConfig is the image configuration blob. Healthcheck inside Config
// is Docker's field (the OCI specification has none); runtimes that do
// not know it ignore it.
type ImageConfig struct {
	Created      time.Time     `json:"created"`
	Architecture string        `json:"architecture"`
	OS           string        `json:"os"`
	Config       RuntimeConfig `json:"config"`
	RootFS       struct {
		Type    string   `json:"type"`
		DiffIDs []string `json:"diff_ids"`
	} `json:"rootfs"`
	History []History `json:"history"`
}

// Manifest is an OCI image manifest.
type Manifest struct {
	SchemaVersion int          `json:"schemaVersion"`
	MediaType     string       `json:"mediaType"`
	Config        Descriptor   `json:"config"`
	Layers        []Descriptor `json:"layers"`
}

// Index is an OCI image index (the layout's index.json).
type Index struct {
	SchemaVersion int          `json:"schemaVersion"`
	MediaType     string       `json:"mediaType"`
	Manifests     []Descriptor `json:"manifests"`
}

// WriteLayout writes img as an OCI image layout in dir, its manifest named
// ref in index.json (an existing image of the same name is replaced).
// Every timestamp is created, files are in path order and owners are
// numeric, so the same inputs give the same digests.
func WriteLayout(dir, ref string, img *Image, created time.Time) (Descriptor, error) {
	blobs := filepath.Join(dir, "blobs", "sha256")
	if err := os.MkdirAll(blobs, 0o755); err != nil {
		return Descriptor{}, err
	}
	cfg := ImageConfig{Created: created, Architecture: runtime.GOARCH, OS: "linux", Config: img.Config, History: img.History}
	cfg.RootFS.Type = "layers"
	var layers []Descriptor
	for _, l := range img.Layers {
		desc, diffID, err := writeLayer(blobs, l.Entries, created)
		if err != nil {
			return Descriptor{}, fmt.Errorf("layer %q: %w", l.CreatedBy, err)
		}
		layers = append(layers, desc)
		cfg.RootFS.DiffIDs = append(cfg.RootFS.DiffIDs, diffID)
	}
	cfgDesc, err := writeJSONBlob(blobs, mediaConfig, cfg)
	if err != nil {
		return Descriptor{}, err
	}
	man, err := writeJSONBlob(blobs, mediaManifest, Manifest{SchemaVersion: 2, MediaType: mediaManifest, Config: cfgDesc, Layers: layers})
	if err != nil {
		return Descriptor{}, err
	}
	man.Annotations = map[string]string{refNameKey: ref}

	index := Index{SchemaVersion: 2, MediaType: mediaIndex}
	if data, err := os.ReadFile(filepath.Join(dir, "index.json")); err == nil {
		if err := json.Unmarshal(data, &index); err != nil {
			return Descriptor{}, fmt.Errorf("%s/index.json: %w", dir, err)
		}
	}
	kept := index.Manifests[:0]
	for _, m := range index.Manifests {
		if m.Annotations[refNameKey] != ref {
			kept = append(kept, m)
		}
	}
	index.Manifests = append(kept, man)
	if err := writeJSONFile(filepath.Join(dir, "index.json"), index); err != nil {
		return Descriptor{}, err
	}
	return man, writeJSONFile(filepath.Join(dir, "oci-layout"), map[string]string{"imageLayoutVersion": "1.0.0"})
}

func writeJSONFile(path string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o644)
}

func writeJSONBlob(blobs, mediaType string, v any) (Descriptor, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return Descriptor{}, err
	}
	sum := sha256.Sum256(data)
	d := Descriptor{MediaType: mediaType, Digest: "sha256:" + hex.EncodeToString(sum[:]), Size: int64(len(data))}
	return d, os.WriteFile(filepath.Join(blobs, hex.EncodeToString(sum[:])), data, 0o644)
}

// countingWriter counts the bytes written through it.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// writeLayer writes entries as a gzip-compressed tar blob and returns its
// descriptor and its diff ID (the digest of the uncompressed tar).
func writeLayer(blobs string, entries []Entry, mtime time.Time) (Descriptor, string, error) {
	tmp, err := os.CreateTemp(blobs, "layer-*.tmp")
	if err != nil {
		return Descriptor{}, "", err
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()

	compressed := sha256.New()
	out := &countingWriter{w: io.MultiWriter(tmp, compressed)}
	gz := gzip.NewWriter(out) // no name or time in the header: reproducible
	uncompressed := sha256.New()
	tw := tar.NewWriter(io.MultiWriter(gz, uncompressed))
	if err := writeTar(tw, entries, mtime); err != nil {
		return Descriptor{}, "", err
	}
	if err := tw.Close(); err != nil {
		return Descriptor{}, "", err
	}
	if err := gz.Close(); err != nil {
		return Descriptor{}, "", err
	}
	if err := tmp.Close(); err != nil {
		return Descriptor{}, "", err
	}
	sum := hexSum(compressed)
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return Descriptor{}, "", err
	}
	if err := os.Rename(tmp.Name(), filepath.Join(blobs, sum)); err != nil {
		return Descriptor{}, "", err
	}
	return Descriptor{MediaType: mediaLayer, Digest: "sha256:" + sum, Size: out.n}, "sha256:" + hexSum(uncompressed), nil
}

func hexSum(h hash.Hash) string { return hex.EncodeToString(h.Sum(nil)) }

// writeTar writes entries in path order, adding any missing parent
// directory (root-owned, 0755) before its children.
func writeTar(tw *tar.Writer, entries []Entry, mtime time.Time) error {
	byPath := map[string]Entry{}
	for _, e := range entries {
		e.Path = strings.Trim(path.Clean(e.Path), "/")
		if e.Path == "" || e.Path == "." || strings.HasPrefix(e.Path, "..") {
			return fmt.Errorf("bad path %q", e.Path)
		}
		for p := path.Dir(e.Path); p != "."; p = path.Dir(p) {
			if _, ok := byPath[p]; !ok {
				byPath[p] = Entry{Path: p, Mode: fs.ModeDir | 0o755}
			}
		}
		byPath[e.Path] = e
	}
	paths := make([]string, 0, len(byPath))
	for p := range byPath {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		e := byPath[p]
		hdr := &tar.Header{
			Name:    e.Path,
			Mode:    int64(e.Mode.Perm()),
			Uid:     e.UID,
			Gid:     e.GID,
			ModTime: mtime,
		}
		if e.Mode&fs.ModeSticky != 0 {
			hdr.Mode |= 0o1000
		}
		var content io.Reader
		var file *os.File
		switch {
		case e.Mode.IsDir():
			hdr.Typeflag, hdr.Name = tar.TypeDir, e.Path+"/"
		case e.Mode&fs.ModeSymlink != 0:
			hdr.Typeflag, hdr.Linkname = tar.TypeSymlink, e.Link
		case e.Mode.IsRegular():
			hdr.Typeflag = tar.TypeReg
			if e.Source != "" {
				f, err := os.Open(e.Source)
				if err != nil {
					return err
				}
				file = f
				fi, err := f.Stat()
				if err != nil {
					_ = f.Close()
					return err
				}
				hdr.Size, content = fi.Size(), f
			} else {
				hdr.Size, content = int64(len(e.Data)), strings.NewReader(string(e.Data))
			}
		default:
			return fmt.Errorf("%s: unsupported file type %v", e.Path, e.Mode.Type())
		}
		err := tw.WriteHeader(hdr)
		if err == nil && content != nil {
			_, err = io.Copy(tw, content)
		}
		if file != nil {
			_ = file.Close()
		}
		if err != nil {
			return fmt.Errorf("%s: %w", e.Path, err)
		}
	}
	return nil
}
