package plan

import (
	"bytes"
	"debug/elf"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/openhands-runtime/packer-plugin-openhands/acctest/fixture"
)

func elfHeader(t *testing.T, m elf.Machine) []byte { return fixture.ELFHeader(t, m) }

func elfFile(t *testing.T, dir, rel string, m elf.Machine) string {
	return fixture.ELFFile(t, dir, rel, m)
}

// tarGzFile writes a .tar.gz of the files (name, content pairs) at dir/rel.
func tarGzFile(t *testing.T, dir, rel string, files ...[2]string) string {
	return fixture.WriteFile(t, dir, rel, string(tarGz(t, files...)), 0o644)
}

func TestArchTable(t *testing.T) {
	for _, tt := range []struct {
		platform, machine string
		ok                bool
	}{
		{"linux/amd64", "x86_64", true},
		{"linux/arm64", "aarch64", true},
		{"linux/arm64/v8", "aarch64", true},
		{"linux/arm/v7", "", false},
		{"windows/amd64", "", false},
		{"", "", false},
	} {
		a, ok := ArchOf(tt.platform)
		if ok != tt.ok || a.Machine != tt.machine {
			t.Errorf("ArchOf(%q) = %+v, %v; want %s, %v", tt.platform, a, ok, tt.machine, tt.ok)
		}
		if ok {
			if back, found := ArchByMachine(a.Machine); !found || back != a {
				t.Errorf("ArchByMachine(%q) = %+v, want %+v", a.Machine, back, a)
			}
		}
	}
}

// TestPlatformFileErrors: every supplied executable is checked against each platform it goes
// to, with the provisioner's rule (targets nil: a tool with per-platform entries goes to every
// architecture, one without them to the target's own) and the builder's (SetTargets).
func TestPlatformFileErrors(t *testing.T) {
	dir := t.TempDir()
	x86 := fixture.ELFFile(t, dir, "x86/micromamba", elf.EM_X86_64)
	arm := fixture.ELFFile(t, dir, "arm/micromamba", elf.EM_AARCH64)
	arm32 := fixture.ELFFile(t, dir, "arm32/micromamba", elf.EM_ARM)
	script := fixture.WriteFile(t, dir, "script/micromamba", "#!/bin/sh\nexec micromamba-real \"$@\"\n", 0o755)
	uvX86 := tarGzFile(t, dir, "uv-x86_64.tar.gz", [2]string{"uv-x86_64-unknown-linux-gnu/uv", string(fixture.ELFHeader(t, elf.EM_X86_64))})
	uvArm := tarGzFile(t, dir, "uv-aarch64.tar.gz", [2]string{"uv-aarch64-unknown-linux-gnu/uv", string(fixture.ELFHeader(t, elf.EM_AARCH64))})
	// node after the server's script, as in the releases' order: the scan reads on for it.
	vscodeX64 := tarGzFile(t, dir, "openvscode-server-linux-x64.tar.gz",
		[2]string{"openvscode-server-v1.98.2-linux-x64/bin/openvscode-server", "#!/usr/bin/env sh\n"},
		[2]string{"openvscode-server-v1.98.2-linux-x64/node", string(fixture.ELFHeader(t, elf.EM_X86_64))})
	vscodeNoNode := tarGzFile(t, dir, "openvscode-server-standin.tar.gz",
		[2]string{"openvscode-server-v1.98.2-linux-x64/bin/openvscode-server", "#!/usr/bin/env python3\n"})
	both := []string{"linux/amd64", "linux/arm64"}
	tests := []struct {
		name    string
		targets []string // nil: the provisioner's
		set     func(o *Options)
		want    []string // each error, whole; none: accepted
	}{
		{"provisioner: one file goes to the target's own platform", nil, func(o *Options) { o.MicromambaPath = x86 }, nil},
		{"provisioner: each architecture its own", nil, func(o *Options) {
			o.MicromambaPathByPlatform = map[string]string{"linux/amd64": x86, "linux/arm64": arm}
		}, nil},
		{"provisioner: the own file for the platform without an entry", nil, func(o *Options) {
			o.MicromambaPath, o.MicromambaPathByPlatform = x86, map[string]string{"linux/arm64": arm}
		}, nil},
		{"provisioner: an x86_64 entry for arm64", nil, func(o *Options) {
			o.MicromambaPathByPlatform = map[string]string{"linux/amd64": x86, "linux/arm64": x86}
		}, []string{`micromamba_path_by_platform["linux/arm64"]: "` + x86 + `" is an x86_64 executable, not aarch64: give it the linux/arm64 (aarch64) one`}},
		{"provisioner: an aarch64 own file for amd64", nil, func(o *Options) {
			o.MicromambaPath, o.MicromambaPathByPlatform = arm, map[string]string{"linux/arm64": arm}
		}, []string{`micromamba_path: "` + arm + `" is an aarch64 executable, but it goes to linux/amd64 targets, which have no entry in micromamba_path_by_platform; ` +
			`give micromamba_path_by_platform["linux/amd64"] an x86_64 one`}},
		{"provisioner: a script for both", nil, func(o *Options) {
			o.MicromambaPathByPlatform = map[string]string{"linux/amd64": script, "linux/arm64": script}
		}, nil},
		{"provisioner: an unknown platform", nil, func(o *Options) {
			o.UVPathByPlatform = map[string]string{"linux/s390x": x86}
		}, []string{`uv_path_by_platform: "linux/s390x" is not a platform the plan installs for; use linux/amd64 or linux/arm64`}},
		{"provisioner: own options no platform takes", nil, func(o *Options) {
			o.MicromambaPath, o.MicromambaPathByPlatform = x86, map[string]string{"linux/amd64": x86, "linux/arm64": arm}
		}, []string{"micromamba_path: no platform takes it: each of linux/amd64, linux/arm64 has its own entries in the micromamba_*_by_platform options, " +
			"which replace the tool's own options for it; remove micromamba_path, or move it into micromamba_path_by_platform"}},
		{"builder: an x86_64 executable for both platforms", both, func(o *Options) { o.MicromambaPath = x86 },
			[]string{`micromamba_path: "` + x86 + `" is an x86_64 executable, but linux/arm64 is built; give micromamba_path_by_platform["linux/arm64"] an aarch64 one`}},
		{"builder: a 32-bit arm executable", []string{"linux/arm64"}, func(o *Options) { o.MicromambaPath = arm32 },
			[]string{`micromamba_path: "` + arm32 + `" is an EM_ARM executable, but linux/arm64 is built; give micromamba_path_by_platform["linux/arm64"] an aarch64 one`}},
		{"builder: a variant of arm64", []string{"linux/arm64/v8"}, func(o *Options) { o.MicromambaPath = arm }, nil},
		{"builder: the engine's own platform is not known", []string{""}, func(o *Options) { o.MicromambaPath = arm }, nil},
		{"builder: each platform its own, and all errors at once", both, func(o *Options) {
			o.MicromambaPathByPlatform = map[string]string{"linux/amd64": x86, "linux/arm64": arm}
			o.UVPath = uvX86
			o.TiniPathByPlatform = map[string]string{"linux/arm64": arm} // tini is the agent-server's only
		}, []string{
			`uv_path: "` + uvX86 + `" is an x86_64 executable, but linux/arm64 is built; give uv_path_by_platform["linux/arm64"] an aarch64 one`,
			`tini_path_by_platform: set, but only runtime = "agent-server" installs tini; remove it`,
		}},
		{"builder: a uv tarball per platform", both, func(o *Options) {
			o.UVPathByPlatform = map[string]string{"linux/amd64": uvX86, "linux/arm64": uvArm}
		}, nil},
		{"builder: an entry without platforms", []string{""}, func(o *Options) {
			o.UVPathByPlatform = map[string]string{"linux/arm64": uvArm}
		}, []string{`uv_path_by_platform: "linux/arm64" is not one of the platforms built (only the engine's own: set platforms or docker_platform to build it)`}},
		{"builder: an entry for a platform not built", []string{"linux/amd64"}, func(o *Options) {
			o.UVPathByPlatform = map[string]string{"linux/arm64": uvArm}
		}, []string{`uv_path_by_platform: "linux/arm64" is not one of the platforms built (linux/amd64)`}},
		{"builder: openvscode-server's node is checked", both, func(o *Options) {
			o.VSCodeServerSHA256, o.VSCodeServerPathByPlatform = "", map[string]string{"linux/amd64": vscodeX64, "linux/arm64": vscodeX64}
		}, []string{`vscode_server_path_by_platform["linux/arm64"]: "` + vscodeX64 + `" is an x86_64 executable, not aarch64: give it the linux/arm64 (aarch64) one`}},
		{"builder: a tree without node carries no architecture", both, func(o *Options) {
			o.VSCodeServerSHA256, o.VSCodeServerPathByPlatform = "", map[string]string{"linux/amd64": vscodeNoNode, "linux/arm64": vscodeNoNode}
		}, nil},
		{"builder: a platform's download with both its url and path", both, func(o *Options) {
			o.MicromambaPath = x86
			o.MicromambaPathByPlatform = map[string]string{"linux/arm64": arm}
			o.MicromambaURLByPlatform = map[string]string{"linux/arm64": "https://mirror.example/micromamba"}
		}, []string{`micromamba_path_by_platform["linux/arm64"]: set either micromamba_path_by_platform["linux/arm64"] or micromamba_url_by_platform["linux/arm64"] ` +
			`with micromamba_sha256_by_platform["linux/arm64"], not both`}},
		{"builder: one platform downloads, the other is supplied", both, func(o *Options) {
			o.MicromambaPath = x86
			o.MicromambaURLByPlatform = map[string]string{"linux/arm64": "https://mirror.example/micromamba"}
			o.MicromambaSHA256ByPlatform = map[string]string{"linux/arm64": testSHA}
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := Options{SourceDir: fixture.SourceDir(t), VSCodeServerSHA256: testSHA}
			tt.set(&o)
			if tt.targets != nil {
				o.SetTargets(tt.targets)
			}
			if got, want := errorsText(o.Prepare()), strings.Join(tt.want, "\n"); got != want {
				t.Errorf("errors:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

// TestForPlatform: each platform takes a tool from its own entries when it has any, else from
// the tool's own options; the result has no per-platform options left, and its sum is named
// by the option it came from.
func TestForPlatform(t *testing.T) {
	o := Options{
		MicromambaPath:               "/files/micromamba-x86_64",
		MicromambaPathByPlatform:     map[string]string{"linux/arm64": "/files/micromamba-aarch64"},
		VSCodeServerSHA256:           strings.Repeat("a", 64),
		VSCodeServerSHA256ByPlatform: map[string]string{"linux/arm64": strings.Repeat("b", 64)},
		UVURL:                        "https://mirror.example/uv.tar.gz",
		UVSHA256:                     strings.Repeat("c", 64),
		UVPathByPlatform:             map[string]string{"linux/arm64": "/files/uv-aarch64"},
	}
	for _, tt := range []struct {
		platform, micromamba, vscodeSum, vscodeSumOption, uvURL, uvPath string
	}{
		{"linux/amd64", "/files/micromamba-x86_64", strings.Repeat("a", 64), "vscode_server_sha256", "https://mirror.example/uv.tar.gz", ""},
		{"linux/arm64", "/files/micromamba-aarch64", strings.Repeat("b", 64), `vscode_server_sha256_by_platform["linux/arm64"]`, "", "/files/uv-aarch64"},
	} {
		one := o.ForPlatform(tt.platform)
		if one.MicromambaPath != tt.micromamba || one.VSCodeServerSHA256 != tt.vscodeSum || one.UVURL != tt.uvURL || one.UVPath != tt.uvPath {
			t.Errorf("%s: micromamba %q, openvscode-server sum %q, uv %q %q; want %q, %q, %q %q", tt.platform,
				one.MicromambaPath, one.VSCodeServerSHA256, one.UVURL, one.UVPath, tt.micromamba, tt.vscodeSum, tt.uvURL, tt.uvPath)
		}
		if got := toolVSCodeServer.sumOption(one); got != tt.vscodeSumOption {
			t.Errorf("%s: the openvscode-server sum is named %q, want %q", tt.platform, got, tt.vscodeSumOption)
		}
		for _, tool := range Tools {
			if tool.perPlatform(one) {
				t.Errorf("%s: %s keeps per-platform entries", tt.platform, tool.Name)
			}
		}
	}
	if o.MicromambaPath != "/files/micromamba-x86_64" || len(o.MicromambaPathByPlatform) != 1 {
		t.Error("ForPlatform changed the options it was called on")
	}
}

// TestBundleCarriesEachPlatformsFile: a provisioner's bundle carries each architecture's file
// under bin/<uname -m>/, digested apart; the rendered script takes the detected
// architecture's file, URL and sum (uname stands in for each architecture), and a URL with
// credentials stays out of the script and out of the exported environment.
func TestBundleCarriesEachPlatformsFile(t *testing.T) {
	dir := t.TempDir()
	x86 := fixture.ELFFile(t, dir, "x86/micromamba", elf.EM_X86_64)
	arm := fixture.ELFFile(t, dir, "arm/micromamba", elf.EM_AARCH64)
	armData, _ := os.ReadFile(arm)
	x86Data, _ := os.ReadFile(x86)
	const secretURL = "https://builder:s3cret-by-platform@mirror.internal/uv-aarch64.tar.gz"
	o := Options{
		SourceDir:                fixture.SourceDir(t),
		VSCodeServerSHA256:       testSHA,
		MicromambaPathByPlatform: map[string]string{"linux/amd64": x86, "linux/arm64": arm},
		UVURLByPlatform:          map[string]string{"linux/arm64": secretURL},
		UVSHA256ByPlatform:       map[string]string{"linux/arm64": strings.ToUpper(testSHA)},
		UseLock:                  boolPtr(false),
	}
	if errs := o.Prepare(); len(errs) != 0 {
		t.Fatal(errs)
	}
	files, err := ListSource(o.SourceDir)
	if err != nil {
		t.Fatal(err)
	}
	var bundle bytes.Buffer
	var p *Plan
	in, err := WriteBundle(&bundle, o, files, func(in Inputs) string { p = New(o, in); return p.Script("test") })
	if err != nil {
		t.Fatal(err)
	}
	if in.Supplied["micromamba/x86_64"] != sha256Hex(x86Data) || in.Supplied["micromamba/aarch64"] != sha256Hex(armData) || in.Supplied["micromamba"] != "" {
		t.Errorf("supplied digests %v, want one per architecture", in.Supplied)
	}
	if computed, err := ComputeInputs(o, files); err != nil || computed.Supplied["micromamba/aarch64"] != in.Supplied["micromamba/aarch64"] {
		t.Errorf("ComputeInputs gives %v (%v), WriteBundle %v", computed.Supplied, err, in.Supplied)
	}
	// The SBOM names each architecture's own file and download.
	for machine, want := range map[string]Origin{
		"x86_64":  {Supplied: x86, SHA256: sha256Hex(x86Data)},
		"aarch64": {Supplied: arm, SHA256: sha256Hex(armData)},
	} {
		if got := toolMicromamba.Origin(o, in, machine); got != want {
			t.Errorf("micromamba's origin on %s is %+v, want %+v", machine, got, want)
		}
	}
	if got := toolUV.Origin(o, in, "aarch64"); got != (Origin{URL: RedactURL(secretURL), SHA256: testSHA}) {
		t.Errorf("uv's origin on aarch64 is %+v, want its per-platform URL without credentials", got)
	}
	_, payload := splitBundle(t, bundle.Bytes())
	got := map[string]string{}
	for _, e := range readPayload(t, payload) {
		got[e.name] = e.content
	}
	if got["bin/x86_64/micromamba"] != string(x86Data) || got["bin/aarch64/micromamba"] != string(armData) {
		t.Errorf("the bundle does not carry each architecture's micromamba under bin/<uname -m>/")
	}
	if _, ok := got["bin/micromamba"]; ok {
		t.Error("the bundle carries a micromamba for no architecture")
	}

	script := p.Script("test")
	if strings.Contains(script, "s3cret-by-platform") {
		t.Fatal("the script holds the per-platform URL's password")
	}
	planDir := t.TempDir()
	fixture.WriteFile(t, planDir, BundleSecrets, p.SecretsScript(), 0o600)
	for _, tt := range []struct {
		machine string
		// want: micromamba's file, its sum option; uv's URL, sum, file; whether the URL is
		// exported: the pinned release's is (the pinned fill exports it), one with
		// credentials is not (oh_run_step exports it for uv's step alone).
		want []string
	}{
		{"x86_64", []string{planDir + "/bin/x86_64/micromamba", "", toolUV.Pinned["x86_64"].URL, toolUV.Pinned["x86_64"].SHA256, "", "exported"}},
		{"aarch64", []string{planDir + "/bin/aarch64/micromamba", "", secretURL, testSHA, "", "not exported"}},
	} {
		// The script up to the call of oh_main, then the detection with uname answering for
		// the architecture; run as a file, so OH_BUNDLE is its directory.
		probe := strings.TrimSuffix(script, "oh_main \"$@\"\n") + `uname() { echo "$MACHINE"; }
oh_detect_platform >/dev/null
printf '%s\n' "$OH_MICROMAMBA_FILE" "$OH_MICROMAMBA_SUM_OPTION" "$OH_UV_URL" "$OH_UV_SHA256" "$OH_UV_FILE"
if export -p | grep -q ' OH_UV_URL='; then echo exported; else echo not exported; fi
`
		path := fixture.WriteFile(t, planDir, BundleScript, probe, 0o755)
		cmd := exec.Command("bash", path)
		cmd.Env = append(os.Environ(), "MACHINE="+tt.machine)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", tt.machine, err, out)
		}
		want := strings.Join(tt.want, "\n") + "\n"
		if string(out) != want {
			t.Errorf("%s: the script chose\n%s\nwant\n%s", tt.machine, out, want)
		}
	}
}
