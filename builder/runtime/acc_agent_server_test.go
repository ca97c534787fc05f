package runtimebuilder

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/packer-plugin-sdk/acctest"
	"github.com/pelletier/go-toml/v2"

	"github.com/openhands-runtime/packer-plugin-openhands/internal/rig"
)

// agentServerVersion is the release the V1 tests install: the four packages from PyPI through
// the rig's local index.
const agentServerVersion = "1.58.2"

// TestAccBuilderAgentServer builds the V1 runtime from PyPI: the real uv installs the four
// agent-server packages at agent_server_version from the rig's index into a venv on the
// micromamba environment's Python (Debian 13's 3.13 through the micromamba stand-in:
// conda-forge is out of reach here), the launch check starts the server with a session key,
// and then OpenHands' own DockerWorkspace starts the image as SDK users do and runs a command
// in it. Node.js 22 comes from a supplied release tarball (nodejs.org is out of reach: the
// rig lays out the release's own node and npm from the npm registry) and is on the image's
// PATH. A rebuild with the same options finds the image by its content tag.
func TestAccBuilderAgentServer(t *testing.T) {
	if rigEnv == nil {
		t.Skip("acceptance tests run with PACKER_ACC=1 (make testacc)")
	}
	repo := accImageRepository(t, "agent-server")
	installs := rig.AgentServerRelease(agentServerVersion) + fmt.Sprintf("\n  install_nodejs = true\n  nodejs_path = %q", rigEnv.NodeJS)
	tmpl, err := rig.AgentServerBuilderTemplate(rigEnv, repo, installs, false, "")
	if err != nil {
		t.Fatal(err)
	}
	acctest.TestPlugin(t, &acctest.PluginTestCase{
		Name:     "builder_agent_server",
		Template: tmpl,
		Check: rig.AgentServerBuilt(t, "check agent-server versions: ok", "check self-contained venv: ok", "check tini: ok",
			"check node.js: ok (node v22.14.0, npm 10.9.2)"),
	})
	image := repo + ":acc"
	config := rig.InImage(t, image, "", `id -un; id -u; stat -c '%U %a' /workspace/project; command -v tini; command -v node; npx --version`)
	if want := "openhands\n10001\nopenhands 755\n/usr/bin/tini\n/openhands/nodejs/bin/node\n10.9.2"; config != want {
		t.Errorf("in the image: %q, want %q", config, want)
	}
	inspect, err := rig.Docker("image", "inspect", "--format", "{{json .Config.Entrypoint}} {{json .Config.ExposedPorts}} {{.Config.User}} {{.Config.WorkingDir}}", image)
	if err != nil {
		t.Fatal(err)
	}
	if want := `["tini","--","/openhands/agent-server/bin/python","-m","openhands.agent_server"] {"8000/tcp":{},"8001/tcp":{}} openhands /`; strings.TrimSpace(inspect) != want {
		t.Errorf("image config %s, want %s", strings.TrimSpace(inspect), want)
	}
	rig.RequireWorkspaceCommand(t, rigEnv, image, agentServerVersion)
	acctest.TestPlugin(t, &acctest.PluginTestCase{
		Name:     "builder_agent_server_unchanged",
		Template: tmpl,
		Check: func(cmd *exec.Cmd, logfile string) error {
			if err := rig.BuildSucceeded(cmd, logfile); err != nil {
				return err
			}
			if log := rig.ReadLog(t, logfile); !strings.Contains(log, "nothing to build") {
				return fmt.Errorf("the rebuild with the same options built again")
			}
			return nil
		},
	})
}

// TestAccBuilderAgentServerTwoPlatforms builds the V1 runtime for linux/amd64 and linux/arm64
// in one source on this x86_64 machine, each platform with its own real uv
// (uv_path_by_platform): the arm64 Debian 13 base and uv run under qemu-user-static and take
// the arm64 wheels from the index. Each image is of its platform and so is its compiled code,
// and OpenHands' DockerWorkspace drives the amd64 one. The arm64 server is not started:
// emulated, its first start took longer than this test may (see
// rig.AgentServerBuilderTemplate); the other tests start the server.
func TestAccBuilderAgentServerTwoPlatforms(t *testing.T) {
	if rigEnv == nil {
		t.Skip("acceptance tests run with PACKER_ACC=1 (make testacc)")
	}
	if rigEnv.Arm64Image == "" {
		t.Skip("this machine cannot run arm64 userland (scripts/rig.sh said why)")
	}
	repo := accImageRepository(t, "agent-server-platforms")
	tmpl, err := rig.AgentServerBuilderTemplate(rigEnv, repo, rig.AgentServerRelease(agentServerVersion), true, "")
	if err != nil {
		t.Fatal(err)
	}
	acctest.TestPlugin(t, &acctest.PluginTestCase{
		Name:     "builder_agent_server_platforms",
		Template: tmpl,
		Check: func(cmd *exec.Cmd, logfile string) error {
			if err := rig.BuildSucceeded(cmd, logfile); err != nil {
				return err
			}
			log := rig.ReadLog(t, logfile)
			for _, line := range []string{"check agent-server versions: ok", "check self-contained venv: ok"} {
				if strings.Count(log, line) != 2 {
					return fmt.Errorf("the build log has %q %d times, want once per platform", line, strings.Count(log, line))
				}
			}
			return nil
		},
	})
	for _, p := range []struct{ tag, platform, machine, elf string }{
		{"acc-amd64", "linux/amd64", "x86_64", "62"},
		{"acc-arm64", "linux/arm64", "aarch64", "183"},
	} {
		image := repo + ":" + p.tag
		arch, err := rig.Docker("image", "inspect", "--format", "{{.Os}}/{{.Architecture}}", image)
		if err != nil {
			t.Fatal(err)
		}
		// pydantic-core is compiled: its module must be the platform's wheel's (ELF machine
		// 62 for x86_64, 183 for aarch64). Docker may warn first that the image's platform
		// is not the engine's.
		got := rig.InImage(t, image, "", `tini --version; uname -m
/openhands/agent-server/bin/python -c 'import glob, struct
so = glob.glob("/openhands/agent-server/lib/python3.13/site-packages/pydantic_core/_pydantic_core*.so")[0]
with open(so, "rb") as f: print(struct.unpack("<H", f.read(20)[18:20])[0])'`)
		if want := "tini version 0.19.0\n" + p.machine + "\n" + p.elf; strings.TrimSpace(arch) != p.platform || !strings.HasSuffix(got, want) {
			t.Errorf("%s: image %s, in it %q; want %s and %q", image, strings.TrimSpace(arch), got, p.platform, want)
		}
	}
	rig.RequireWorkspaceCommand(t, rigEnv, repo+":acc-amd64", agentServerVersion)
}

// TestAccBuilderAgentServerCheckout builds the V1 runtime from a software-agent-sdk checkout
// (the rig's: the four packages' sources from their sdists, locked by the real uv): every
// distribution in the image is at its uv.lock version, the dev group is left out, and
// OpenHands' DockerWorkspace drives the image. Its Python is uv's (python_source = "uv"): the
// real uv installs it from a downloads JSON of the rig's (python-build-standalone's releases
// are out of reach; see rig.PythonDownloads), and no micromamba is in the image. A change to a
// package's source rebuilds only
// the source layers on the lock-tag image; a uv.lock whose hash of a distribution is wrong
// fails the build at the install, naming the distribution.
func TestAccBuilderAgentServerCheckout(t *testing.T) {
	if rigEnv == nil {
		t.Skip("acceptance tests run with PACKER_ACC=1 (make testacc)")
	}
	src := filepath.Join(t.TempDir(), "software-agent-sdk")
	if out, err := exec.Command("cp", "-r", rigEnv.SDKSrc, src).CombinedOutput(); err != nil {
		t.Fatalf("copying the SDK checkout: %v: %s", err, out)
	}
	repo := accImageRepository(t, "agent-server-checkout")
	downloads, python := rig.PythonDownloads(t, rigEnv)
	installs := rig.AgentServerCheckout(src) + rig.AgentServerUVPython(downloads)
	tmpl, err := rig.AgentServerBuilderTemplate(rigEnv, repo, installs, false, "")
	if err != nil {
		t.Fatal(err)
	}
	acctest.TestPlugin(t, &acctest.PluginTestCase{
		Name:     "builder_agent_server_checkout",
		Template: tmpl,
		Check: rig.AgentServerBuilt(t, "check agent-server versions: ok",
			"check self-contained venv: ok (/openhands/agent-server/bin/python runs /openhands/python/cpython-"+python+"-linux-x86_64-gnu/bin/python3.13, installed by uv)"),
	})
	image := repo + ":acc"
	if got := rig.InImage(t, image, "", `command -v micromamba /openhands/micromamba/bin/micromamba; ls -A /openhands/python`); got != ".gitignore\n.lock\ncpython-3.13-linux-x86_64-gnu\ncpython-"+python+"-linux-x86_64-gnu" {
		t.Errorf("uv's Python directory, or a micromamba, in the image: %q", got)
	}
	locked := uvLockVersions(t, filepath.Join(src, "uv.lock"))
	installed := rig.InImage(t, image, "", `/openhands/agent-server/bin/python -c 'import importlib.metadata as m
for d in m.distributions(): print(d.metadata["Name"], d.version)'`)
	count := 0
	for _, line := range strings.Split(installed, "\n") {
		name, version, _ := strings.Cut(line, " ")
		want, ok := locked[normalizedName(name)]
		if !ok {
			t.Errorf("%s %s is installed, but not in uv.lock", name, version)
			continue
		}
		if version != want {
			t.Errorf("%s is installed at %s, uv.lock has %s", name, version, want)
		}
		count++
	}
	if count < 150 {
		t.Errorf("only %d distributions installed:\n%s", count, installed)
	}
	if _, ok := locked["pytest"]; !ok || strings.Contains(installed, "\npytest ") {
		t.Errorf("the dev group's pytest: in the lock %t, installed:\n%s", ok, installed)
	}
	rig.RequireWorkspaceCommand(t, rigEnv, image, agentServerVersion)

	// A source change: only the source layers.
	init := filepath.Join(src, "openhands-sdk", "openhands", "sdk", "__init__.py")
	f, err := os.OpenFile(init, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintln(f, "\nPACKER_ACC_SOURCE_CHANGE = True")
	f.Close()
	acctest.TestPlugin(t, &acctest.PluginTestCase{
		Name:     "builder_agent_server_checkout_source_change",
		Template: tmpl,
		Check: func(cmd *exec.Cmd, logfile string) error {
			if err := rig.AgentServerBuilt(t)(cmd, logfile); err != nil {
				return err
			}
			if log := rig.ReadLog(t, logfile); !strings.Contains(log, "exists: building the source layers on it") {
				return fmt.Errorf("a source change did not build on the lock-tag image")
			}
			return nil
		},
	})
	if got := rig.InImage(t, image, "", `/openhands/agent-server/bin/python -c 'import openhands.sdk as s; print(s.PACKER_ACC_SOURCE_CHANGE)'`); !strings.HasSuffix(got, "\nTrue") {
		t.Errorf("the changed source is not what the image runs: %q", got)
	}

	// A wrong hash in the lock: uv refuses the distribution.
	lock := filepath.Join(src, "uv.lock")
	data, err := os.ReadFile(lock)
	if err != nil {
		t.Fatal(err)
	}
	tampered := tamperWheelHash(t, string(data), "annotated-types")
	if err := os.WriteFile(lock, []byte(tampered), 0o644); err != nil {
		t.Fatal(err)
	}
	acctest.TestPlugin(t, &acctest.PluginTestCase{
		Name:     "builder_agent_server_checkout_wrong_hash",
		Template: tmpl,
		Check: func(cmd *exec.Cmd, logfile string) error {
			if cmd.ProcessState.Success() {
				return fmt.Errorf("the build with a wrong hash in uv.lock succeeded")
			}
			log := rig.ReadLog(t, logfile)
			for _, line := range strings.Split(log, "\n") {
				if strings.Contains(line, "Hash mismatch for `annotated-types") {
					t.Logf("the build failed as it should: %s", line)
					return nil
				}
			}
			return fmt.Errorf("the failed build does not name the distribution whose hash is wrong")
		},
	})
}

// uvLockVersions are the versions uv.lock pins, by normalized name.
func uvLockVersions(t *testing.T, path string) map[string]string {
	t.Helper()
	var lock struct {
		Package []struct{ Name, Version string } `toml:"package"`
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := toml.Unmarshal(data, &lock); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, p := range lock.Package {
		out[normalizedName(p.Name)] = p.Version
	}
	return out
}

func normalizedName(name string) string {
	return strings.ToLower(strings.NewReplacer("_", "-", ".", "-").Replace(name))
}

// tamperWheelHash changes the first digit of every hash of the package's files in uv.lock.
func tamperWheelHash(t *testing.T, lock, name string) string {
	t.Helper()
	start := strings.Index(lock, "[[package]]\nname = \""+name+"\"\n")
	if start < 0 {
		t.Fatalf("uv.lock has no %s", name)
	}
	end := start + 1 + strings.Index(lock[start+1:], "[[package]]")
	section := regexp.MustCompile(`sha256:[0-9a-f]`).ReplaceAllStringFunc(lock[start:end], func(h string) string {
		if strings.HasSuffix(h, "0") {
			return h[:len(h)-1] + "1"
		}
		return h[:len(h)-1] + "0"
	})
	return lock[:start] + section + lock[end:]
}
