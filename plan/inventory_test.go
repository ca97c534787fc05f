package plan

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/openhands-runtime/packer-plugin-openhands/acctest/fixture"
)

// inventoryTarget lays out a finished runtime under a temp prefix whose tools, interpreter
// and package database are scripts printing what a real one would, and renders the plan's
// InventoryScript for it. PATH holds only the fakes and the plain utilities the script uses,
// so which database the script reads is the test's choice.
func inventoryTarget(t *testing.T, platform string, fakes map[string]string) (script string, env []string) {
	t.Helper()
	root := t.TempDir()
	prefix := filepath.Join(root, "openhands")
	browsers := filepath.Join(root, "browsers")
	o := Options{SourceDir: fixture.SourceDir(t), Platform: platform, VSCodeServerSHA256: testSHA,
		Layout: Layout{Prefix: prefix, PlaywrightBrowsersPath: browsers}}
	if errs := o.Prepare(); len(errs) != 0 {
		t.Fatalf("Prepare: %v", errs)
	}
	bin := filepath.Join(root, "path")
	write := func(path, body string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte("#!/bin/bash\n"+body+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for name, body := range fakes {
		write(filepath.Join(bin, name), body)
	}
	for _, tool := range []string{"sed", "awk", "sort", "find", "uname", "cat", "tail", "cut", "tr"} {
		real, err := exec.LookPath(tool)
		if err != nil {
			t.Skipf("%s is not installed", tool)
		}
		if err := os.Symlink(real, filepath.Join(bin, tool)); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(prefix, "micromamba/envs/openhands/bin/python3.12"), `cat >/dev/null
[ -z "${FAIL_PYTHON:-}" ] || { echo "Fatal Python error: init_fs_encoding"; exit 1; }
printf 'pypi\tpydantic\t2.11.7\npypi\topenhands-ai\t0.62.0\n'`)
	write(filepath.Join(prefix, "micromamba/bin/micromamba"), `echo 2.9.0`)
	write(filepath.Join(prefix, "bin/uv"), `echo "uv 0.12.16 (abc123 2026-01-01)"`)
	write(filepath.Join(prefix, ".openvscode-server/bin/openvscode-server"), `echo "the version comes from package.json"; exit 1`)
	if err := os.WriteFile(filepath.Join(prefix, ".openvscode-server/package.json"),
		[]byte("{\n  \"name\": \"code-oss-dev\",\n  \"version\": \"1.98.2\",\n  \"dependencies\": {\n    \"x\": {\n      \"version\": \"9.9.9\"\n    }\n  }\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(browsers, "chromium-1187"), 0o755); err != nil {
		t.Fatal(err)
	}
	script = filepath.Join(root, "inventory.sh")
	if err := os.WriteFile(script, []byte(New(o, goldenInputs).InventoryScript("test")), 0o755); err != nil {
		t.Fatal(err)
	}
	return script, []string{"PATH=" + bin}
}

func TestInventoryScript(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("bash is not installed")
	}
	dpkg := `printf 'installed\tadduser\t3.134\tall\tadduser\t3.134\n'
printf 'installed\tzlib1g\t1:1.2.13.dfsg-1\tamd64\tzlib\t1:1.2.13.dfsg-1\n'
# removed, its configuration kept: not installed, so not in the SBOM
printf 'config-files\told-package\t1.0\tamd64\told-package\t1.0\n'`
	rpm := `printf 'rpm\tbash\t5.2.15-1.amzn2023.0.2\tx86_64\t0\tbash-5.2.15-1.amzn2023.0.2.src.rpm\n'
printf 'rpm\tgpg-pubkey\td832c631-5d2ce0b1\t(none)\t0\t(none)\n'
printf 'rpm\tsudo\t1.9.15-1.p5.amzn2023.0.1\tx86_64\t1\tsudo-1.9.15-1.p5.amzn2023.0.1.src.rpm\n'`
	cases := []struct {
		name, platform string
		fakes          map[string]string
		env            []string
		packages       []SystemPackage
		fail           string
	}{
		{
			name: "dpkg", platform: "debian-12", fakes: map[string]string{"dpkg-query": dpkg},
			packages: []SystemPackage{
				{Type: "deb", Name: "adduser", Version: "3.134", Arch: "all", Source: "adduser", SourceVersion: "3.134"},
				{Type: "deb", Name: "zlib1g", Version: "1:1.2.13.dfsg-1", Arch: "amd64", Source: "zlib", SourceVersion: "1:1.2.13.dfsg-1"},
			},
		},
		{
			name: "rpm", platform: "amzn-2023", fakes: map[string]string{"rpm": rpm},
			packages: []SystemPackage{
				{Type: "rpm", Name: "bash", Version: "5.2.15-1.amzn2023.0.2", Arch: "x86_64", Epoch: "0", Source: "bash-5.2.15-1.amzn2023.0.2.src.rpm"},
				{Type: "rpm", Name: "sudo", Version: "1.9.15-1.p5.amzn2023.0.1", Arch: "x86_64", Epoch: "1", Source: "sudo-1.9.15-1.p5.amzn2023.0.1.src.rpm"},
			},
		},
		{
			name: "a failing interpreter fails the inventory", platform: "debian-12", fakes: map[string]string{"dpkg-query": dpkg},
			env: []string{"FAIL_PYTHON=1"}, fail: "the inventory failed: Fatal Python error: init_fs_encoding",
		},
		{
			name: "a failing package database fails the inventory", platform: "debian-12",
			fakes: map[string]string{"dpkg-query": `echo "dpkg-query: error: parsing file '/var/lib/dpkg/status'"; exit 2`},
			fail:  "the inventory failed",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			script, env := inventoryTarget(t, tc.platform, tc.fakes)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, bash, script)
			cmd.Env = append(env, tc.env...)
			out, err := cmd.CombinedOutput()
			inv, perr := ParseInventory(string(out))
			if tc.fail != "" {
				if err == nil || perr == nil || !strings.Contains(string(out), tc.fail) {
					t.Fatalf("want a failed inventory saying %q; exit %v, parse %v, output:\n%s", tc.fail, err, perr, out)
				}
				return
			}
			if err != nil || perr != nil {
				t.Fatalf("exit %v, parse %v, output:\n%s", err, perr, out)
			}
			if inv.OSVersionID == "" || inv.Arch == "" {
				t.Errorf("os line missing: %+v", inv)
			}
			if !slices.Equal(inv.Packages, tc.packages) {
				t.Errorf("packages\n got %+v\nwant %+v", inv.Packages, tc.packages)
			}
			wantPython := []Distribution{{"pydantic", "2.11.7"}, {"openhands-ai", "0.62.0"}}
			if !slices.Equal(inv.Python, wantPython) {
				t.Errorf("python %+v, want %+v", inv.Python, wantPython)
			}
			wantTools := map[string]string{"micromamba": "2.9.0", "uv": "uv 0.12.16 (abc123 2026-01-01)", "vscode_server": "1.98.2"}
			for name, v := range wantTools {
				if inv.Tools[name] != v {
					t.Errorf("tool %s: %q, want %q", name, inv.Tools[name], v)
				}
			}
			if !slices.Equal(inv.Chromium, []string{"chromium-1187"}) {
				t.Errorf("chromium %v", inv.Chromium)
			}
		})
	}
}

func TestParseInventory(t *testing.T) {
	const p = "openhands-inventory\t"
	cases := []struct {
		name, output, err string
		packages          int
	}{
		{name: "complete, among other output", output: "step 1 done\n" + p + "os\tdebian\t12\tx86_64\n" + p + "deb\ta\t1\tall\ta\t1\nmore\n" + p + "end\t2\n", packages: 1},
		{name: "no end line", output: p + "os\tdebian\t12\tx86_64\n", err: "no complete inventory"},
		{name: "lines lost before the end line", output: p + "os\tdebian\t12\tx86_64\n" + p + "end\t2\n", err: "counted 2 lines, 1 arrived"},
		{name: "unknown kind", output: p + "apk\tmusl\t1.2\n" + p + "end\t1\n", err: "unreadable inventory line"},
		{name: "missing field", output: p + "deb\ta\t1\tall\n" + p + "end\t1\n", err: "unreadable inventory line"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			inv, err := ParseInventory(tc.output)
			if fixture.WantError(t, err, tc.err) {
				return
			}
			if len(inv.Packages) != tc.packages || !inv.Complete {
				t.Errorf("got %+v", inv)
			}
		})
	}
}

// The provisioner's script prints the inventory after the last step, and never in the
// builder's layers (--steps), which run parts of the plan.
func TestScriptInventoryAfterTheLastStep(t *testing.T) {
	o := Options{SourceDir: fixture.SourceDir(t), VSCodeServerSHA256: testSHA}
	if errs := o.Prepare(); len(errs) != 0 {
		t.Fatal(errs)
	}
	pl := New(o, goldenInputs)
	if strings.Contains(pl.Script("test"), "oh_inventory") {
		t.Error("a plan without Inventory renders the inventory")
	}
	pl.Inventory = true
	script := pl.Script("test")
	last := strings.LastIndex(script, "oh_run_step ")
	call := strings.Index(script, "if [ -z \"${OH_ONLY_STEPS:-}\" ]; then\n\t\toh_inventory || { oh_step_failed inventory 1; exit 1; }")
	if call < 0 || call < last {
		t.Errorf("the inventory is not called after the last step, outside --steps runs:\n%s", script[last:])
	}
}
