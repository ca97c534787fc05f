package plan

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"unicode"

	"github.com/pelletier/go-toml/v2"
)

// FuzzRenderPlan renders the plan from fuzzed options and a fuzzed poetry.lock (its content
// hash kept valid, as an edited lock would keep it) and asserts, for every input validation
// accepts: the script parses (bash -n); sourcing its options gives back each fuzzed value
// byte for byte, so no fuzzed byte escaped its quoting; the Dockerfiles hold one known
// instruction per line and no white space but spaces and tabs, which Docker would split
// words on; uv's constraints and requirements files hold one requirement per line, none
// an option.
func FuzzRenderPlan(f *testing.F) {
	f.Add("/opt/openhands", "agent", "oh", "3.12", "plain", "https://pypi.internal/simple", "requests", "2.32.0", `python_version >= "3.8"`)
	f.Add("/opt/oh;id>/tmp/x", "root", "..", "3.99", "$(id)`id`'\"\\", "https://u:p@h/simple?token=t", "--index-url", "2.32.0\n--index-url x", "\n-r /etc/passwd")
	f.Add("/srv/oh-1.0/x_y", "agent", "oh.env", "3.13", "$(touch x)`id`'\"\\\nline2\t$HOME", "https://pypi.internal/simple", "requests", "2.32.0.post1+local", "")
	f.Add("/opt/oh\u00a0X=1", "a", "-rf", "3.13", "a\nb\r\vc", "https://h/s", "a", "1.0 --hash=sha256:x", `extra == "x y -z"`)
	f.Fuzz(func(t *testing.T, prefix, user, envName, python, envValue, indexURL, pkgName, pkgVersion, marker string) {
		markers := ""
		if marker != "" {
			markers = "markers = " + tomlString(marker) + "\n"
		}
		src := writeLockedCheckout(t, "2.1", fmt.Sprintf("name = %s\nversion = %s\ngroups = [\"main\"]\n%s", tomlString(pkgName), tomlString(pkgVersion), markers))
		o := Options{
			SourceDir:          src,
			VSCodeServerSHA256: testSHA,
			Layout:             Layout{Prefix: prefix, User: user, EnvName: envName, PythonVersion: python},
			EnvironmentVars:    []string{"FUZZ_VALUE=" + envValue},
			IndexURL:           indexURL,
			LockGroups:         []string{"main"},
		}
		if errs := o.Prepare(); len(errs) != 0 {
			t.Logf("refused: %v", errs)
			return
		}
		var in Inputs
		li, err := ReadLockInstall(o)
		if err != nil {
			t.Logf("lock refused: %v", err)
			return
		}
		if li != nil {
			in.Lock = li.digest()
			for _, file := range [][]byte{li.Constraints, li.Requirements} {
				for _, line := range strings.Split(strings.TrimSuffix(string(file), "\n"), "\n") {
					if strings.HasPrefix(strings.TrimSpace(line), "-") || strings.ContainsAny(line, "\r\v\f") {
						t.Fatalf("a lock file line is an option or holds a line break: %q (package %q %q, markers %q)", line, pkgName, pkgVersion, marker)
					}
				}
			}
		}
		p := New(o, in)
		for _, d := range []string{p.Dockerfile("debian:bookworm", "fuzz"), p.SourceDockerfile("debian:bookworm", "fuzz")} {
			checkDockerfileLines(t, d)
			if i := strings.IndexFunc(d, func(r rune) bool { return unicode.IsSpace(r) && r != ' ' && r != '\t' && r != '\n' }); i >= 0 {
				t.Fatalf("the Dockerfile holds white space %q that Docker splits words on:\n%s", d[i:i+1], d)
			}
		}
		script := strings.TrimSuffix(p.Script("fuzz"), "oh_main \"$@\"\n")
		path := filepath.Join(t.TempDir(), "plan.sh")
		if err := os.WriteFile(path, []byte(script), 0o644); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command("bash", "-n", path).CombinedOutput(); err != nil {
			t.Fatalf("bash -n: %v\n%s", err, out)
		}
		out, err := exec.Command("bash", "-c", `. "$1" && printf '%s\0%s\0%s\0%s' "$FUZZ_VALUE" "$OH_PREFIX" "$OH_USER" "$OH_ENV"`, "bash", path).Output()
		if err != nil {
			t.Fatalf("sourcing the options: %v", err)
		}
		// Prepare fills in defaults for what was left empty (and refuses control characters).
		want := strings.Join([]string{envValue, o.Prefix, o.User, o.EnvName}, "\x00")
		if string(out) != want {
			t.Fatalf("the options came back as %q, want %q", out, want)
		}
	})
}

// tomlString is s as a TOML basic string.
func tomlString(s string) string {
	b, err := toml.Marshal(map[string]string{"v": s})
	if err != nil {
		return `""`
	}
	_, v, _ := strings.Cut(strings.TrimSpace(string(b)), " = ")
	return v
}
