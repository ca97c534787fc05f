package rig

import (
	"strings"
	"testing"

	"github.com/openhands-runtime/packer-plugin-openhands/plan"
)

// runtimeImageChecks are what every runtime image must hold with the default options,
// whichever component made it: user, ownership, the editable install, the environment.
var runtimeImageChecks = []struct{ name, user, script, want string }{
	{"user and groups", "", "id openhands", "uid=1000(openhands) gid=1000(openhands) groups=1000(openhands),27(sudo)"},
	{"sudoers drop-in", "", "stat -c '%a %U' /etc/sudoers.d/openhands && visudo -cf /etc/sudoers.d/openhands >/dev/null && echo valid", "440 root\nvalid"},
	{"micromamba tree owned by openhands", "", "find /openhands/micromamba ! -user openhands | wc -l", "0"},
	{"editable install", "openhands", "/openhands/micromamba/envs/openhands/bin/python3.12 -c 'import openhands; print(openhands.__file__)'", "/openhands/code/openhands/__init__.py"},
	{"imports", "openhands", "/openhands/micromamba/envs/openhands/bin/python3.12 -c 'import pydantic, openai, litellm, openhands.core.config; print(\"ok\")'", "ok"},
	{"interpreter in /etc/environment", "", "grep -c '^OH_INTERPRETER_PATH=/openhands/micromamba/envs/openhands/bin/python' /etc/environment; grep -c '^PLAYWRIGHT_BROWSERS_PATH=/opt/playwright-browsers$' /etc/environment", "1\n1"},
	{"bashrc block written once", "", "grep -c 'micromamba activate' /etc/bash.bashrc /root/.bashrc /home/openhands/.bashrc", "/etc/bash.bashrc:1\n/root/.bashrc:1\n/home/openhands/.bashrc:1"},
	{"activated login shell", "openhands", "bash -ic 'command -v python' 2>/dev/null", "/openhands/micromamba/envs/openhands/bin/python"},
	{"dummy files", "", "cat /openhands/code/third_party/__init__.py | wc -c; SKIP_VSCODE_BUILD=1 python3 /openhands/code/build_vscode.py", "0\nSkipping VSCode build"},
	{"hidden and cache files left out", "", "ls -A /openhands/code; ls /openhands/code/openhands", "build_vscode.py\nopenhands\npoetry.lock\npyproject.toml\nskills\nthird_party\n__init__.py\ncore\nruntime"},
	{"no bytecode written by root", "", "find /openhands/micromamba -name '*.pyc' -user root | wc -l", "0"},
	{"no uv cache left", "", "ls -d /root/.cache/uv /home/openhands/.cache/uv 2>/dev/null | wc -l", "0"},
	{"bundle removed", "", "ls /tmp | grep -c openhands-plan || true", "0"},
}

// CheckRuntimeImage runs the runtime image checks in throwaway containers of image, then
// the plan's standalone verification with the default options, as a component that checks
// an image it did not build would.
func CheckRuntimeImage(t *testing.T, image string) {
	t.Helper()
	NoPoetryCalls(t, image)
	for _, c := range runtimeImageChecks {
		if got := InImage(t, image, c.user, c.script); got != c.want {
			t.Errorf("%s: got\n%s\nwant\n%s", c.name, got, c.want)
		}
	}
	var o plan.Options
	o.SetDefaults()
	out := InImage(t, image, "", plan.New(o, plan.Inputs{}).VerifyScript("acceptance"))
	if !strings.Contains(out, "verification passed") {
		t.Errorf("the standalone verification failed in %s:\n%s", image, out)
	}
}

// poetryCallLog is where the micromamba stand-in's Poetry records each call (POETRY_CALLS).
const poetryCallLog = "/tmp/poetry-standin-calls"

// NoPoetryCalls requires that nothing started the stand-in's Poetry while image was built, not
// even a call whose failure was hidden; then it hides one in a throwaway container to show
// that such a call would have been recorded. The launch checks' `poetry run` goes through the
// plan's shim, which runs its command without starting Poetry.
func NoPoetryCalls(t *testing.T, image string) {
	t.Helper()
	if calls := InImage(t, image, "", "cat "+poetryCallLog+" 2>/dev/null || true"); calls != "" {
		t.Errorf("Poetry was started while %s was built:\n%s", image, calls)
	}
	hidden := InImage(t, image, "openhands", "/openhands/micromamba/envs/openhands/bin/python -m poetry install >/dev/null 2>&1 || true; cat "+poetryCallLog)
	if hidden != "python -m poetry install" {
		t.Errorf("a hidden Poetry call in %s is not in %s: %q", image, poetryCallLog, hidden)
	}
}
