package plan

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/openhands-runtime/packer-plugin-openhands/acctest/fixture"
)

// plainTar is an uncompressed tarball of one file.
func plainTar(t *testing.T, name, body string) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o755, Size: int64(len(body)), Typeflag: tar.TypeReg}); err != nil {
		t.Fatal(err)
	}
	if _, err := tw.Write([]byte(body)); err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func zipOf(t *testing.T, name, body string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte(body)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestSuppliedFiles: a file given with uv_path or micromamba_path is the executable, or a
// .tar.gz holding it (unpacked on the target, as a download is); any other archive is refused
// at validation with the command that unpacks it. vscode_server_path must be the release
// tarball holding bin/openvscode-server.
func TestSuppliedFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	elf := append([]byte("\x7fELF\x02\x01\x01"), make([]byte, 600)...)
	tests := []struct {
		name   string
		modify func(o *Options)
		want   []string // substrings of the one error; none for valid options
	}{
		{"uv executable", func(o *Options) { o.UVPath = write("uv", elf) }, nil},
		{"uv script", func(o *Options) { o.UVPath = write("uv.sh", []byte("#!/bin/sh\necho uv\n")) }, nil},
		{"uv release .tar.gz", func(o *Options) {
			o.UVPath = write("uv-x86_64-unknown-linux-gnu.tar.gz", tarGz(t, [2]string{"uv-x86_64-unknown-linux-gnu/uvx", "x"}, [2]string{"uv-x86_64-unknown-linux-gnu/uv", "uv"}))
		}, nil},
		{"uv .tar.gz without uv", func(o *Options) { o.UVPath = write("other.tar.gz", tarGz(t, [2]string{"dir/uvx", "x"})) },
			[]string{"uv_path: ", "is a .tar.gz without a file called uv"}},
		{"uv zip", func(o *Options) { o.UVPath = write("uv.zip", zipOf(t, "uv/uv", "uv")) },
			[]string{"uv_path: ", "is a zip archive, not the uv executable: unpack it (unzip uv.zip) and set uv_path to the uv inside"}},
		{"uv plain tar", func(o *Options) { o.UVPath = write("uv.tar", plainTar(t, "uv", "uv")) },
			[]string{"is a tar archive", "(tar -xf uv.tar)"}},
		{"micromamba tar.bz2", func(o *Options) { o.MicromambaPath = write("micromamba.tar.bz2", []byte("BZh91AY&SY")) },
			[]string{"micromamba_path: ", "is a bzip2 archive, not the micromamba executable", "(tar -xjf micromamba.tar.bz2)"}},
		{"micromamba xz", func(o *Options) {
			o.MicromambaPath = write("micromamba.tar.xz", []byte{0xfd, '7', 'z', 'X', 'Z', 0, 0})
		},
			[]string{"micromamba_path: ", "is a xz archive", "tar -xJf"}},
		{"micromamba zstd", func(o *Options) { o.MicromambaPath = write("micromamba.tar.zst", []byte{0x28, 0xb5, 0x2f, 0xfd, 0}) },
			[]string{"is a zstd archive"}},
		{"vscode_server release tarball", func(o *Options) {
			o.VSCodeServerSHA256 = ""
			o.VSCodeServerPath = write("vscode.tar.gz", tarGz(t, [2]string{"openvscode-server-v1.98.2-linux-x64/bin/openvscode-server", "x"}))
		}, nil},
		{"vscode_server zip", func(o *Options) {
			o.VSCodeServerSHA256 = ""
			o.VSCodeServerPath = write("vscode.zip", zipOf(t, "bin/openvscode-server", "x"))
		}, []string{"vscode_server_path: ", "is a zip archive, not a release tarball (.tar.gz): supply openvscode-server-v1.98.2-linux-arm64.tar.gz or openvscode-server-v1.98.2-linux-x64.tar.gz"}},
		{"vscode_server executable", func(o *Options) {
			o.VSCodeServerSHA256 = ""
			o.VSCodeServerPath = write("openvscode-server", elf)
		}, []string{"vscode_server_path: ", "is not an archive, not a release tarball"}},
		{"vscode_server tarball without the server", func(o *Options) {
			o.VSCodeServerSHA256 = ""
			o.VSCodeServerPath = write("other-vscode.tar.gz", tarGz(t, [2]string{"x/bin/code", "x"}))
		}, []string{"vscode_server_path: ", "holds no bin/openvscode-server"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := Options{SourceDir: fixture.SourceDir(t), VSCodeServerSHA256: testSHA}
			tt.modify(&o)
			errs := o.Prepare()
			if len(tt.want) == 0 {
				if len(errs) != 0 {
					t.Fatalf("Prepare: %q", errs)
				}
				return
			}
			if len(errs) != 1 {
				t.Fatalf("want one error, got %d: %q", len(errs), errs)
			}
			for _, want := range tt.want {
				if !strings.Contains(errs[0].Error(), want) {
					t.Errorf("error %q does not contain %q", errs[0], want)
				}
			}
		})
	}
}

// TestSumFromNamesTheOption: the option a sum was taken from (the builder's per-platform map)
// is what validation errors and the rendered install step's checksum mismatch name; the
// pinned sum names none, and the options a copy was made from keep their own.
func TestSumFromNamesTheOption(t *testing.T) {
	o := Options{SourceDir: fixture.SourceDir(t), VSCodeServerSHA256: "abc"}
	one := o
	one.SumFrom("vscode_server", `vscode_server_sha256_by_platform["linux/arm64"]`)
	errs := one.Prepare()
	if len(errs) != 1 || errs[0].Error() != `vscode_server_sha256_by_platform["linux/arm64"]: "abc" is not 64 hexadecimal digits` {
		t.Errorf("errors %q, want one naming the per-platform option", errs)
	}
	if errs := o.Prepare(); len(errs) != 1 || !strings.HasPrefix(errs[0].Error(), "vscode_server_sha256: ") {
		t.Errorf("the original options' errors %q, want one naming vscode_server_sha256", errs)
	}

	one.VSCodeServerSHA256 = testSHA
	script := New(one, Inputs{}).Script("test")
	for _, want := range []string{
		`oh_install_tree vscode_server bin/openvscode-server "" "$OH_VSCODE_SERVER_URL" "$OH_VSCODE_SERVER_SHA256" "$OH_VSCODE_SERVER" 'vscode_server_sha256_by_platform["linux/arm64"]'`,
		`oh_install_binary uv "" "$OH_UV_URL" "$OH_UV_SHA256" "$OH_UV" ''`,
	} {
		if !strings.Contains(script, want) {
			t.Errorf("the script does not hold %s", want)
		}
	}
	one.UVSHA256, one.UVURL = testSHA, "https://mirror.example/uv.tar.gz"
	if script := New(one, Inputs{}).Script("test"); !strings.Contains(script, `"$OH_UV" 'uv_sha256'`) {
		t.Error("the uv step does not name uv_sha256, which the user set")
	}
}
