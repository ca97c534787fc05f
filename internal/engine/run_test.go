package engine

import (
	"archive/tar"
	"bytes"
	"reflect"
	"strings"
	"testing"
)

// TestScriptContainerHasNoNetwork checks the configuration a script runs in (the ECR
// post-processor's verification, the builder's inventory): the script as root's entrypoint,
// no network, nothing published or mounted.
func TestScriptContainerHasNoNetwork(t *testing.T) {
	config, host := ScriptContainer("sha256:0123", "root", "echo checks")
	if host.NetworkMode != "none" || !host.NetworkMode.IsNone() {
		t.Errorf("NetworkMode %q, want \"none\"", host.NetworkMode)
	}
	if len(host.PortBindings) != 0 || host.PublishAllPorts || len(host.ExtraHosts) != 0 || len(host.DNS) != 0 || len(host.Links) != 0 {
		t.Errorf("network settings on a container without network: %+v", host)
	}
	if host.Privileged || len(host.Binds) != 0 || len(host.Mounts) != 0 || len(host.CapAdd) != 0 {
		t.Errorf("privileges or mounts: %+v", host)
	}
	if len(config.ExposedPorts) != 0 {
		t.Errorf("exposed ports %v", config.ExposedPorts)
	}
	if config.Image != "sha256:0123" || config.User != "root" || !reflect.DeepEqual([]string(config.Entrypoint), []string{"/bin/bash", "-c", "echo checks"}) || len(config.Cmd) != 0 {
		t.Errorf("config %+v: want the image, as root, bash -c the script, no command", config)
	}
}

// TestFileFromArchive reads the file of an archive as the Engine API gives a container's path
// (ReadFile), and refuses what is no regular file or too large.
func TestFileFromArchive(t *testing.T) {
	archive := func(hdr *tar.Header, content string) *bytes.Buffer {
		var b bytes.Buffer
		tw := tar.NewWriter(&b)
		if hdr != nil {
			hdr.Size = int64(len(content))
			if err := tw.WriteHeader(hdr); err != nil {
				t.Fatal(err)
			}
			if _, err := tw.Write([]byte(content)); err != nil {
				t.Fatal(err)
			}
		}
		tw.Close()
		return &b
	}
	tests := []struct {
		name    string
		archive *bytes.Buffer
		want    string
		wantErr string
	}{
		{"a file", archive(&tar.Header{Name: "build-options.json", Typeflag: tar.TypeReg, Mode: 0o644}, `{"version":1}`), `{"version":1}`, ""},
		{"an empty file", archive(&tar.Header{Name: "empty", Typeflag: tar.TypeReg, Mode: 0o644}, ""), "", ""},
		{"a directory", archive(&tar.Header{Name: "build-options.json/", Typeflag: tar.TypeDir, Mode: 0o755}, ""), "", "build-options.json/ is not a regular file"},
		{"a symlink", archive(&tar.Header{Name: "build-options.json", Typeflag: tar.TypeSymlink, Linkname: "/etc/shadow"}, ""), "", "build-options.json is not a regular file"},
		{"too large", archive(&tar.Header{Name: "big", Typeflag: tar.TypeReg, Mode: 0o644}, strings.Repeat("x", 65)), "", "big has 65 bytes, more than the 64 expected"},
		{"no file", archive(nil, ""), "", "the engine's archive holds no file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := fileFromArchive(tt.archive, 64)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || string(got) != tt.want {
				t.Errorf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}
