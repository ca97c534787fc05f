package plan

import (
	_ "embed"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

//go:embed lib.sh
var libShell string

// stepFailedPrefix starts the line the script prints when a step fails (oh_step_failed, rendered
// from StepFailedLine); FindStepFailure reads it back.
const stepFailedPrefix = "openhands-runtime: step "

// MaxOutputLine is the longest line of a plan's or a check's output that the plugin reads
// as one line. Readers never drop what follows a longer one: the engine's reader fails,
// naming the limit, and the provisioner cuts the line there and reads on.
const MaxOutputLine = 1 << 20

// wholeSeconds is d in seconds, rounded up: curl and wget take whole seconds.
func wholeSeconds(d time.Duration) int64 { return int64((d + time.Second - 1) / time.Second) }

// StepFailedLine is the failure line of a step; the script's oh_step_failed is rendered from it
// with shell expansions for name and code.
func StepFailedLine(name, code string) string {
	return stepFailedPrefix + name + " failed with exit code " + code
}

// FindStepFailure finds a step's failure line in a line of output. The failure line follows the
// step's output, which may not end with a newline: it can end a line rather than start one, so
// before is what precedes it.
func FindStepFailure(line string) (step string, code int, before string, ok bool) {
	i := strings.LastIndex(line, stepFailedPrefix)
	if i < 0 {
		return "", 0, "", false
	}
	name, rest, found := strings.Cut(line[i+len(stepFailedPrefix):], " failed with exit code ")
	n, err := strconv.Atoi(rest)
	if !found || err != nil || name == "" || strings.ContainsAny(name, " \t") {
		return "", 0, "", false
	}
	return name, n, line[:i], true
}

// Targets returns the platforms a script must handle: the one named by the options, or all
// of them for "auto".
func (p *Plan) Targets() []Platform {
	if pl, ok := PlatformByKey(p.Options.Platform); ok {
		return []Platform{pl}
	}
	return Platforms
}

// Script renders the plan as one bash script that detects the platform, then runs every step
// in order, skipping those already done.
func (p *Plan) Script(version string) string {
	var b strings.Builder
	targets := p.Targets()
	families := Families(targets)
	fmt.Fprintf(&b, "#!/usr/bin/env bash\n# OpenHands runtime install plan, rendered by packer-plugin-openhands %s.\n", version)
	fmt.Fprintf(&b, "# Steps: %s.\n", joinSteps(p.StepNames(), ", "))
	b.WriteString("set -euo pipefail\numask 022\nexec 2>&1\n\n")

	b.WriteString("# Options. Exported so that steps run as the runtime user see them too.\n")
	b.WriteString("OH_BUNDLE=$(cd \"$(dirname \"$0\")\" && pwd)\nexport OH_BUNDLE\n")
	p.renderVariablesAndHelpers(&b)
	p.renderPlatformDetection(&b, targets)
	renderFamilyHelpers(&b, families)
	renderChecks(&b, p.Checks, runtimeOf(p.Options.Layout).interpreter)
	if p.Inventory {
		renderInventory(&b, p.Options)
	}
	b.WriteString("\n# Steps.\n")
	for _, s := range p.Steps {
		renderStep(&b, s, families)
	}
	b.WriteString("\noh_main() {\n\tcd /\n")
	b.WriteString("\tif [ \"${1:-}\" = --steps ]; then\n\t\tOH_ONLY_STEPS=${2:?--steps needs a comma-separated list}\n\tfi\n")
	b.WriteString("\toh_detect_platform || { oh_step_failed preflight 1; exit 1; }\n")
	secret := p.secretVariables()
	for i, s := range p.Steps {
		user := RootUser
		if s.User != RootUser {
			user = "user"
		}
		fmt.Fprintf(&b, "\toh_run_step %d %s %s %s %s", i+1, s.Name, user, shellQuote(s.Stamp), shellQuote(joinSteps(s.Invalidates, " ")))
		// Only the variables that hold a secret need exporting: the others are exported.
		var exports []string
		for _, name := range s.Secrets {
			if secret[name] {
				exports = append(exports, name)
			}
		}
		if len(exports) > 0 {
			b.WriteString(" " + shellQuote(strings.Join(exports, " ")))
		}
		b.WriteString("\n")
	}
	if p.Inventory {
		// Not with --steps: the builder's layers run parts of the plan, the inventory is of a
		// finished runtime (InventoryScript).
		b.WriteString("\tif [ -z \"${OH_ONLY_STEPS:-}\" ]; then\n\t\toh_inventory || { oh_step_failed inventory 1; exit 1; }\n\tfi\n")
	}
	b.WriteString("\toh_say \"openhands-runtime: plan finished in ${SECONDS}s\"\n}\n\noh_main \"$@\"\n")
	return b.String()
}

// VerifyScript renders the plan's verification checks alone, as one bash script that runs
// them as the runtime user in a finished image or machine: the same checks the plan's last
// step runs, for components that check an image they did not build. It exits 1 listing
// every failed check.
func (p *Plan) VerifyScript(version string) string {
	return p.standaloneScript("verification", version, func(b *strings.Builder) { renderChecks(b, p.Checks, runtimeOf(p.Options.Layout).interpreter) }, "oh_verify")
}

// standaloneScript renders a script that runs one function of the plan (call) in a finished
// image or machine: the options, the helpers and what render writes.
func (p *Plan) standaloneScript(what, version string, render func(*strings.Builder), call string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "#!/usr/bin/env bash\n# OpenHands runtime %s, rendered by packer-plugin-openhands %s.\n", what, version)
	b.WriteString("set -euo pipefail\nexec 2>&1\n\n")
	p.renderVariablesAndHelpers(&b)
	render(&b)
	b.WriteString("\n" + call + "\n")
	return b.String()
}

// renderPlatformDetection writes oh_detect_platform, which reads /etc/os-release (never the
// kernel release) and refuses anything but the targets before the first change.
func (p *Plan) renderPlatformDetection(b *strings.Builder, targets []Platform) {
	b.WriteString("\n# oh_detect_platform: set the platform variables from /etc/os-release, or refuse.\n")
	b.WriteString("# shellcheck disable=SC1091 # the target's own file\noh_detect_platform() {\n")
	b.WriteString("\tlocal id version_id pretty\n")
	b.WriteString("\t[ -r /etc/os-release ] || { oh_say \"openhands-runtime: /etc/os-release is missing; cannot tell the platform\"; return 1; }\n")
	b.WriteString("\tid=$(. /etc/os-release && printf '%s' \"${ID:-}\")\n")
	b.WriteString("\tversion_id=$(. /etc/os-release && printf '%s' \"${VERSION_ID:-}\")\n")
	b.WriteString("\tpretty=$(. /etc/os-release && printf '%s' \"${PRETTY_NAME:-}\")\n")
	b.WriteString("\tcase \"$id:$version_id\" in\n")
	for _, t := range targets {
		fmt.Fprintf(b, "\t%s:%s) OH_PLATFORM_NAME=%s OH_FAMILY=%s OH_ADMIN_GROUP=%s OH_BASHRC=%s ;;\n",
			t.ID, t.VersionID, shellQuote(t.Name), t.Family, t.AdminGroup, t.BashRC)
	}
	supported := make([]string, len(targets))
	for i, t := range targets {
		supported[i] = t.Name
	}
	fmt.Fprintf(b, "\t*)\n\t\toh_say \"openhands-runtime: unsupported platform: /etc/os-release has ID=\\\"$id\\\" VERSION_ID=\\\"$version_id\\\"${pretty:+ ($pretty)}; supported: %s\"\n\t\treturn 1\n\t\t;;\n\tesac\n",
		strings.Join(supported, ", "))
	fmt.Fprintf(b, "\tOH_ARCH=$(uname -m)\n\tcase $OH_ARCH in\n\t%s) ;;\n", strings.Join(archMachines(), " | "))
	fmt.Fprintf(b, "\t*)\n\t\toh_say \"openhands-runtime: unsupported architecture $OH_ARCH; supported: %s\"\n\t\treturn 1\n\t\t;;\n\tesac\n", strings.Join(archMachines(), ", "))
	b.WriteString("\tcase $OH_FAMILY in\n")
	for _, f := range Families(targets) {
		packages := slices.Concat(SystemPackages[f], runtimeOf(p.Options.Layout).systemPackages[f], p.Options.ExtraSystemPackages)
		fmt.Fprintf(b, "\t%s)\n\t\tOH_SYSTEM_PACKAGES=%s\n\t\tOH_BROWSER_LIBRARIES=%s\n\t\t;;\n", f,
			shellQuote(strings.Join(packages, " ")), shellQuote(strings.Join(BrowserLibraries[f], " ")))
	}
	b.WriteString("\tesac\n")
	if len(Families(targets)) > 1 {
		b.WriteString("\toh_define_family_helpers\n")
	}
	renderPlatformSources(b, p.Options)
	renderPinnedDownloads(b)
	b.WriteString("\texport OH_PLATFORM_NAME OH_FAMILY OH_ADMIN_GROUP OH_BASHRC OH_ARCH OH_SYSTEM_PACKAGES OH_BROWSER_LIBRARIES\n}\n")
}

// familyHelpers are the package-manager functions of each family.
var familyHelpers = map[Family]string{
	// oh_pkg_installed_names NAME...: those of the names that are installed, one a line.
	FamilyApt: `oh_pkg_installed_names() {
	# Unknown names make dpkg-query exit 1 after it listed the known ones.
	{ dpkg-query -W -f='${db:Status-Status} ${Package}\n' "$@" 2>/dev/null || true; } | while read -r status name; do
		[ "$status" != installed ] || printf '%s\n' "$name"
	done
}
oh_pkg_available() { apt-cache show "$1" >/dev/null 2>&1; }
oh_pkg_refresh() { oh_retry apt-get update -qq; }
oh_pkg_install() { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@"; }
oh_pkg_clean() {
	apt-get clean
	# Not a glob: the system-packages step runs with set -f (package specs are words).
	find /var/lib/apt/lists -mindepth 1 -maxdepth 1 -exec rm -rf {} +
}`,
	// --allowerasing lets curl replace the curl-minimal that AL2023 ships.
	// rpm prints "package NAME is not installed" for the others, which is never a name.
	FamilyDnf: `oh_pkg_installed_names() { rpm -q --qf '%{NAME}\n' "$@" 2>/dev/null || true; }
oh_pkg_available() { dnf -q list --available "$1" >/dev/null 2>&1; }
oh_pkg_refresh() { oh_retry dnf -q makecache; }
oh_pkg_install() { dnf install -y -q --allowerasing "$@"; }
oh_pkg_clean() { dnf clean all >/dev/null; }`,
}

func renderFamilyHelpers(b *strings.Builder, families []Family) {
	b.WriteString("\n# Package manager functions.\n")
	if len(families) == 1 {
		b.WriteString(familyHelpers[families[0]] + "\n")
		return
	}
	b.WriteString("oh_define_family_helpers() {\n\tcase $OH_FAMILY in\n")
	for _, f := range families {
		fmt.Fprintf(b, "\t%s)\n%s\n\t\t;;\n", f, indent(familyHelpers[f], "\t\t"))
	}
	b.WriteString("\tesac\n}\n")
}

// renderStep writes a step's run function and, when it can be skipped, its check function.
// Commands for other families are left out, or guarded when the script serves several.
func renderStep(b *strings.Builder, s Step, families []Family) {
	fn := "oh_step_" + strings.ReplaceAll(string(s.Name), "-", "_")
	check := s.Check
	if check == "" && s.Stamp != "" {
		check = "true"
	}
	if check != "" {
		fmt.Fprintf(b, "%s_check() {\n%s\n}\n", fn, indent(check, "\t"))
	}
	fmt.Fprintf(b, "%s_run() {\n", fn)
	if s.Dir != "" {
		fmt.Fprintf(b, "\tcd \"%s\"\n", s.Dir)
	}
	for _, e := range s.Env {
		k, v, _ := strings.Cut(e, "=")
		fmt.Fprintf(b, "\texport %s=%s\n", k, shellQuote(v))
	}
	for _, c := range s.Commands {
		var applies []Family
		for _, f := range families {
			if c.appliesTo(f) {
				applies = append(applies, f)
			}
		}
		switch {
		case len(applies) == 0:
			continue
		case len(applies) == len(families):
			b.WriteString(indent(c.Shell, "\t") + "\n")
		default:
			conds := make([]string, len(applies))
			for i, f := range applies {
				conds[i] = fmt.Sprintf(`[ "$OH_FAMILY" = %s ]`, f)
			}
			fmt.Fprintf(b, "\tif %s; then\n%s\n\tfi\n", strings.Join(conds, " || "), indent(c.Shell, "\t\t"))
		}
	}
	b.WriteString("}\n")
}

// shellQuote quotes s for bash, as a single-quoted word.
func shellQuote(s string) string {
	if s == "" {
		return "''"
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// ansiCQuote quotes s as one bash word on one line ($'...'): line breaks and other control
// characters become escapes, bytes past ASCII stay as they are.
func ansiCQuote(s string) string {
	var b strings.Builder
	b.WriteString("$'")
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\' || c == '\'':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\t':
			b.WriteString(`\t`)
		case c < 0x20 || c == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteString("'")
	return b.String()
}

// indent prefixes every non-empty line of s. Here-documents in steps use <<- so that the
// added tabs are stripped again.
func indent(s, prefix string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = prefix + l
		}
	}
	return strings.Join(lines, "\n")
}
