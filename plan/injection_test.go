package plan

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/openhands-runtime/packer-plugin-openhands/acctest/fixture"
)

// injected is a value that runs `touch marker` if a shell ever evaluates it as code, in the
// forms a value can take: alone, in a URL, a path, a package name, after a word. n picks the
// form; the shell syntaxes alternate, with a space or, past checks that refuse spaces, $IFS.
func injected(marker string, n int) string {
	code := []string{"$(touch " + marker + ")", "`touch " + marker + "`", "$(touch${IFS}" + marker + ")", "`touch${IFS}" + marker + "`"}[n%4]
	return []string{code, "https://example.com/" + code, "/opt/" + code, "pkg" + code, "a'" + code + "'"}[n/4%5]
}

const injectionForms = 20

// stringOptions lists the string, []string and map[string]string options of Options by their HCL name (through
// the squashed Layout and the verify block), each with a setter. verify.commands is shell by
// design and left out.
func stringOptions() map[string]func(*Options, string) {
	out := map[string]func(*Options, string){}
	var walk func(typ reflect.Type, prefix string, get func(*Options) reflect.Value)
	walk = func(typ reflect.Type, prefix string, get func(*Options) reflect.Value) {
		for i := 0; i < typ.NumField(); i++ {
			f, i := typ.Field(i), i
			name, opts, _ := strings.Cut(f.Tag.Get("mapstructure"), ",")
			field := func(o *Options) reflect.Value { return get(o).Field(i) }
			switch {
			case !f.IsExported():
			case opts == "squash":
				walk(f.Type, prefix, field)
			case f.Type.Kind() == reflect.Struct:
				walk(f.Type, prefix+name+".", field)
			case prefix+name == "verify.commands":
			case f.Type.Kind() == reflect.String:
				out[prefix+name] = func(o *Options, v string) { field(o).SetString(v) }
			case f.Type == reflect.TypeOf([]string(nil)):
				out[prefix+name] = func(o *Options, v string) { field(o).Set(reflect.ValueOf([]string{v})) }
			case f.Type == reflect.TypeOf(map[string]string(nil)):
				// The *_by_platform options: the value for a platform, rendered as the others.
				out[prefix+name] = func(o *Options, v string) { field(o).Set(reflect.ValueOf(map[string]string{"linux/arm64": v})) }
			}
		}
	}
	walk(reflect.TypeOf(Options{}), "", func(o *Options) reflect.Value { return reflect.ValueOf(o).Elem() })
	return out
}

// TestNoShellInjection puts shell code into every string option, in every form, and into
// the names of source files, supplied tools and the source directory; for each value that
// passes validation it renders the plan and runs its option variables and helpers in bash,
// and it runs the bundle's launcher, which unpacks the hostile names, with the plan's real
// code step copying them. No marker file may appear; the values must come through as data.
func TestNoShellInjection(t *testing.T) {
	requireRoot(t)
	markers := t.TempDir()
	// File names: in the source tree, the source directory and the supplied tools' paths. A
	// name holds no slash, so its code touches a relative path: every shell here runs in the
	// markers directory.
	hostileNames := []string{"$(touch name-1)", "`touch name-2`", "a\nb$(touch name-3)", `q'"\` + "\xff\xfe", "-rf", " lead"}
	src := filepath.Join(t.TempDir(), "src $(touch dir)")
	fixture.WriteFile(t, src, "pyproject.toml", "[project]\nname = \"openhands-ai\"\n", 0o644)
	for _, n := range hostileNames {
		fixture.WriteFile(t, src, "openhands/"+n, n, 0o644)
		fixture.WriteFile(t, src, "skills/"+n+".md", "", 0o644) // 0-byte
	}
	bin := t.TempDir()
	raw := Options{
		SourceDir:          src,
		VSCodeServerSHA256: testSHA,
		UVPath:             fixture.WriteFile(t, bin, "uv $(touch uv)`touch uv-2`", "uv", 0o755),
		UseLock:            boolPtr(false),
	}
	base := raw
	if errs := base.Prepare(); len(errs) != 0 {
		t.Fatalf("the hostile file names are refused: %v", errs)
	}
	files, err := ListSource(src)
	if err != nil {
		t.Fatal(err)
	}

	var accepted []string
	n := 0
	for name, set := range stringOptions() {
		for form := 0; form < injectionForms; form++ {
			n++
			marker := filepath.Join(markers, fmt.Sprint(n))
			value := injected(marker, form)
			o := raw // Prepare fills defaults, which a second Prepare may refuse
			if name == "environment_vars" {
				value = "INJECTION_TEST_VALUE=" + value
			}
			set(&o, value)
			if errs := o.Prepare(); len(errs) != 0 {
				continue
			}
			accepted = append(accepted, fmt.Sprintf("%s = %q", name, value))
			t.Run(fmt.Sprintf("%s/%d", name, form), func(t *testing.T) {
				p := New(o, Inputs{SourceTree: "t"})
				checkDockerfileLines(t, p.Dockerfile("debian:bookworm", "test"))
				checkDockerfileLines(t, p.SourceDockerfile("debian:bookworm", "test"))
				// The script up to its last line, which would run the steps: options,
				// helpers, platform detection, checks and step functions are defined.
				script := strings.TrimSuffix(p.Script("test"), "oh_main \"$@\"\n")
				dir := t.TempDir()
				fixture.WriteFile(t, dir, "plan.sh", script, 0o755)
				check := `. "$1" && printf '%s' "${INJECTION_TEST_VALUE-}"`
				r := runCommand(t, nil, "bash", "-c", "cd "+shellQuote(markers)+" && "+check, "bash", filepath.Join(dir, "plan.sh"))
				if r.code != 0 {
					t.Fatalf("sourcing the rendered options failed (%d): %s", r.code, r.out)
				}
				if _, v, ok := strings.Cut(value, "="); name == "environment_vars" && ok && r.out != v {
					t.Errorf("environment_vars value came through as %q, want %q", r.out, v)
				}
			})
		}
	}
	t.Logf("%d hostile option values, %d accepted by validation and run:\n%s", n, len(accepted), strings.Join(accepted, "\n"))
	// Validation refuses most of these values; environment_vars values are free text.
	if !slices.ContainsFunc(accepted, func(s string) bool { return strings.HasPrefix(s, "environment_vars") }) {
		t.Error("no environment_vars value was accepted: the test no longer reaches the script")
	}

	// The bundle, unpacked by its launcher as on a target, with a plan.sh that runs the
	// plan's own code step on the unpacked tree.
	code := t.TempDir()
	var codeStep string
	for _, s := range New(base, Inputs{}).Steps {
		if s.Name == "code" {
			codeStep = s.Commands[0].Shell
		}
	}
	script := "#!/usr/bin/env bash\nset -euo pipefail\nOH_BUNDLE=$(cd \"$(dirname \"$0\")\" && pwd)\nOH_CODE=" + shellQuote(code) +
		"\nOH_USER=$(id -un)\n" + codeStep + "\n"
	var buf bytes.Buffer
	if _, err := WriteBundle(&buf, base, files, func(Inputs) string { return script }); err != nil {
		t.Fatal(err)
	}
	bundle := fixture.WriteFile(t, t.TempDir(), "b"+BundleSuffix, buf.String(), 0o600)
	if r := runCommand(t, nil, "sh", "-c", "cd "+shellQuote(markers)+" && "+RunCommand(bundle)); r.code != 0 {
		t.Fatalf("the bundle failed (%d): %s", r.code, r.out)
	}
	for _, f := range files {
		if _, err := os.Lstat(filepath.Join(code, filepath.FromSlash(f.Rel))); err != nil {
			t.Errorf("%q was not copied by the code step: %v", f.Rel, err)
		}
	}

	ran, err := os.ReadDir(markers)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ran {
		t.Errorf("shell code in a value ran: marker %s exists", m.Name())
	}
}

// checkDockerfileLines fails when a line of a Dockerfile is not an instruction the plan
// writes or a comment: a value with a newline would have started an instruction of its own.
func checkDockerfileLines(t *testing.T, dockerfile string) {
	t.Helper()
	for _, line := range strings.Split(strings.TrimSuffix(dockerfile, "\n"), "\n") {
		word, _, _ := strings.Cut(line, " ")
		if !slices.Contains([]string{"#", "FROM", "USER", "COPY", "RUN", "ENV", "WORKDIR"}, word) {
			t.Errorf("Dockerfile line %q is not one the plan writes:\n%s", line, dockerfile)
		}
	}
}
