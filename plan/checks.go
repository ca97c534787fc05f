package plan

import (
	"fmt"
	"regexp"
	"strings"
)

// Check is one verification of a finished runtime. Its shell code prints what it found; its
// status is that of its last command (errexit does not apply inside), 0 when the runtime passes.
type Check struct {
	Name  string
	Shell string
}

// Checks lists the verification checks for the options, in report order.
func Checks(o Options) []Check {
	var out []Check
	for _, m := range o.Verify.Imports {
		out = append(out, Check{
			Name:  "import " + m,
			Shell: fmt.Sprintf(`"$OH_ENV_PY" -c 'import %s as m; print(getattr(m, "__version__", "imported"))'`, m),
		})
	}
	out = append(out,
		Check{
			Name: "editable install",
			Shell: `location=$("$OH_ENV_PY" -c 'import openhands, os; print(os.path.dirname(os.path.abspath(openhands.__file__)))')
echo "openhands from $location"
[ "$location" = "$OH_CODE/openhands" ]`,
		},
		Check{
			Name: "package count",
			Shell: fmt.Sprintf(`count=$("$OH_UV" pip list --python "$OH_ENV_PY" --format freeze | grep -c .)
echo "$count distributions (at least %[1]d wanted)"
[ "$count" -ge %[1]d ]`, *o.Verify.MinPackages),
		},
		Check{
			Name: "micromamba ownership",
			Shell: `stray=$(find "$OH_PREFIX/micromamba" ! -user "$OH_USER" -print -quit 2>&1)
if [ -n "$stray" ]; then echo "not owned by $OH_USER: $stray"; exit 1; fi
echo "$OH_PREFIX/micromamba owned by $OH_USER"`,
		},
		Check{
			Name: "interpreter path",
			Shell: `interpreter=$(sed -n 's/^OH_INTERPRETER_PATH=//p' /etc/environment | tail -n 1)
echo "OH_INTERPRETER_PATH=$interpreter"
[ -n "$interpreter" ] && [ -x "$interpreter" ]`,
		},
	)
	if *o.InstallBrowser {
		out = append(out, Check{
			Name: "chromium",
			Shell: `found=$(find "$PLAYWRIGHT_BROWSERS_PATH" -mindepth 1 -maxdepth 1 -name 'chromium-*' -print -quit 2>/dev/null)
echo "${found:-no chromium-* under $PLAYWRIGHT_BROWSERS_PATH}"
[ -n "$found" ]`,
		})
	}
	for i, c := range o.Verify.Commands {
		out = append(out, Check{Name: fmt.Sprintf("command %d", i+1), Shell: c})
	}
	return out
}

func verifyStep(o Options) Step {
	return Step{
		Name:     "verify",
		User:     o.User,
		Commands: []Command{{Shell: "oh_verify"}},
	}
}

// renderChecks renders oh_verify, which runs every check, reports each by name and fails
// listing all that failed, not only the first.
func renderChecks(b *strings.Builder, checks []Check) {
	b.WriteString("oh_verify() {\n\tlocal failed='' output rc\n")
	for i, c := range checks {
		fn := fmt.Sprintf("oh_check_%d", i+1)
		fmt.Fprintf(b, "\t%s() {\n%s\n\t}\n", fn, indent(c.Shell, "\t\t"))
		fmt.Fprintf(b, "\trc=0\n\toutput=$(%s 2>&1) || rc=$?\n", fn)
		fmt.Fprintf(b, "\tif [ \"$rc\" -eq 0 ]; then\n\t\toh_say \"check %s: ok ($(oh_one_line \"$output\"))\"\n", shellDoubleQuoted(c.Name))
		fmt.Fprintf(b, "\telse\n\t\toh_say \"check %s: FAILED ($(oh_one_line \"$output\"))\"\n", shellDoubleQuoted(c.Name))
		fmt.Fprintf(b, "\t\tfailed=\"$failed, %s\"\n\tfi\n", shellDoubleQuoted(c.Name))
	}
	b.WriteString("\tif [ -n \"$failed\" ]; then\n\t\toh_say \"verification failed: ${failed#, }\"\n\t\treturn 1\n\tfi\n")
	fmt.Fprintf(b, "\toh_say \"verification passed: %d checks\"\n}\n", len(checks))
}

var doubleQuoteSpecial = regexp.MustCompile("([\"$`\\\\])")

// shellDoubleQuoted escapes s for use inside a double-quoted shell string.
func shellDoubleQuoted(s string) string { return doubleQuoteSpecial.ReplaceAllString(s, `\$1`) }
