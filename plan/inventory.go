package plan

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/openhands-runtime/packer-plugin-openhands/plan/projectfile"
)

// The inventory is what a finished runtime holds, printed by the target itself (oh_inventory)
// as lines the plugin reads back from the plan's output and turns into an SBOM: the plugin
// carries no cataloguer, and collecting adds no remote command to a provisioning run.
//
// Every line starts with inventoryPrefix, then a kind and its tab-separated fields:
//
//	os       ID VERSION_ID ARCH                        (/etc/os-release, uname -m)
//	deb      NAME VERSION ARCH SOURCE SOURCE_VERSION    (dpkg, installed packages only)
//	rpm      NAME VERSION-RELEASE ARCH EPOCH SOURCERPM (rpm, without gpg-pubkey)
//	pypi     NAME VERSION                              (the environment's distributions)
//	tool     NAME VERSION                              (first line of the tool's --version)
//	chromium DIRECTORY                                 (Playwright's chromium-<revision>)
//	end      COUNT                                     (lines before it; a cut output lacks it)
const inventoryPrefix = "openhands-inventory\t"

// inventoryPython lists the environment's distributions as the package count check counts
// them: by normalized name, the first on the path winning, as an import would.
const inventoryPython = `import importlib.metadata, re
seen = {}
for d in importlib.metadata.distributions():
    name = d.metadata["Name"] or ""
    key = re.sub(r"[-_.]+", "-", name).lower()
    if key and key not in seen:
        seen[key] = (name, d.version)
for key in sorted(seen):
    print("pypi\t%s\t%s" % seen[key])`

// renderInventory writes oh_inventory, which prints the inventory lines, or fails naming
// what failed: a partial inventory would be a wrong SBOM. It runs as root with the plan's
// variables and reads the package database present, not the family detected, so that it also
// runs alone in an image (InventoryScript).
func renderInventory(b *strings.Builder, o Options) {
	b.WriteString("\n# oh_inventory: what the runtime holds, as lines the plugin turns into its SBOM.\n")
	b.WriteString(`oh_inventory_lines() {
	local id version_id
	# shellcheck disable=SC1091 # the target's own file
	id=$(. /etc/os-release && printf '%s' "${ID:-}") || return 1
	# shellcheck disable=SC1091
	version_id=$(. /etc/os-release && printf '%s' "${VERSION_ID:-}") || return 1
	printf 'os\t%s\t%s\t%s\n' "$id" "$version_id" "$(uname -m)"
	if command -v dpkg-query >/dev/null 2>&1; then
		dpkg-query -W -f='${db:Status-Status}\t${Package}\t${Version}\t${Architecture}\t${source:Package}\t${source:Version}\n' |
			sed -n 's/^installed\t/deb\t/p' || return 1
	elif command -v rpm >/dev/null 2>&1; then
		rpm -qa --qf 'rpm\t%{NAME}\t%{VERSION}-%{RELEASE}\t%{ARCH}\t%{EPOCHNUM}\t%{SOURCERPM}\n' |
			awk -F '\t' '$2 != "gpg-pubkey"' || return 1
	fi
	if [ -x ` + runtimeOf(o.Layout).interpreter + ` ]; then
		` + runtimeOf(o.Layout).interpreter + ` -I - <<'OH_INVENTORY_PYTHON' || return 1
` + inventoryPython + `
OH_INVENTORY_PYTHON
	fi
`)
	for _, t := range Tools {
		if !t.Enabled(o) {
			continue
		}
		// sed, not head: it reads to the end, so the tool never dies of a closed pipe.
		fmt.Fprintf(b, "\tif [ -x %s ]; then\n\t\tprintf 'tool\\t%s\\t%%s\\n' \"$(%s 2>&1 | sed -n '1{s/\\t/ /g;p}')\" || return 1\n\tfi\n",
			t.executable(), t.Name, t.versionShell())
	}
	if *o.InstallBrowser {
		b.WriteString("\tif [ -d \"$PLAYWRIGHT_BROWSERS_PATH\" ]; then\n\t\tfind \"$PLAYWRIGHT_BROWSERS_PATH\" -mindepth 1 -maxdepth 1 -name 'chromium-*' -printf 'chromium\\t%f\\n' | sort || return 1\n\tfi\n")
	}
	b.WriteString(`}
oh_inventory() {
	local lines
	lines=$(oh_inventory_lines 2>&1) || { oh_say "openhands-runtime: the inventory failed: $(oh_one_line "$lines")"; return 1; }
	printf '%s\n' "$lines" | awk -v p='` + strings.TrimSuffix(inventoryPrefix, "\t") + `' '{ print p "\t" $0 } END { print p "\tend\t" NR }'
}
`)
}

// InventoryScript renders the inventory alone, as one bash script run as root in a finished
// image: the builder's and the ECR post-processor's way to the same lines the provisioner
// reads from the plan's output.
func (p *Plan) InventoryScript(version string) string {
	return p.standaloneScript("inventory", version, func(b *strings.Builder) { renderInventory(b, p.Options) }, "oh_inventory")
}

// SystemPackage is an installed package of the operating system's package manager.
type SystemPackage struct {
	// Type is "deb" or "rpm".
	Type                string
	Name, Version, Arch string
	// Source and SourceVersion name the source package (deb), or the source rpm (rpm).
	Source, SourceVersion string
	// Epoch is the rpm epoch, "0" when none.
	Epoch string
}

// Distribution is a Python distribution of the runtime environment.
type Distribution struct{ Name, Version string }

// Inventory is what a runtime holds, read from the inventory lines.
type Inventory struct {
	OSID, OSVersionID, Arch string
	Packages                []SystemPackage
	Python                  []Distribution
	// Tools are the installed tools' version lines, by Tool.Name.
	Tools map[string]string
	// Chromium are Playwright's browser directories (chromium-<revision>).
	Chromium []string
	// Complete is set by the end line, when as many lines as it counts came before it.
	Complete bool

	lines int
}

// IsInventoryLine tells whether a line of output is an inventory line, which is data for the
// plugin rather than something to show.
func IsInventoryLine(line string) bool { return strings.HasPrefix(line, inventoryPrefix) }

// Add reads one line of output; it returns false for a line that is not an inventory line.
func (inv *Inventory) Add(line string) (bool, error) {
	rest, ok := strings.CutPrefix(line, inventoryPrefix)
	if !ok {
		return false, nil
	}
	f := strings.Split(rest, "\t")
	want := map[string]int{"os": 4, "deb": 6, "rpm": 6, "pypi": 3, "tool": 3, "chromium": 2, "end": 2}[f[0]]
	if want == 0 || len(f) != want {
		return true, fmt.Errorf("unreadable inventory line %q", line)
	}
	switch f[0] {
	case "os":
		inv.OSID, inv.OSVersionID, inv.Arch = f[1], f[2], f[3]
	case "deb":
		inv.Packages = append(inv.Packages, SystemPackage{Type: "deb", Name: f[1], Version: f[2], Arch: f[3], Source: f[4], SourceVersion: f[5]})
	case "rpm":
		inv.Packages = append(inv.Packages, SystemPackage{Type: "rpm", Name: f[1], Version: f[2], Arch: f[3], Epoch: f[4], Source: f[5]})
	case "pypi":
		inv.Python = append(inv.Python, Distribution{Name: f[1], Version: f[2]})
	case "tool":
		if inv.Tools == nil {
			inv.Tools = map[string]string{}
		}
		inv.Tools[f[1]] = f[2]
	case "chromium":
		inv.Chromium = append(inv.Chromium, f[1])
	case "end":
		n, err := strconv.Atoi(f[1])
		if err != nil || n != inv.lines {
			return true, fmt.Errorf("the inventory counted %s lines, %d arrived: the output was cut", f[1], inv.lines)
		}
		inv.Complete = true
		return true, nil
	}
	inv.lines++
	return true, nil
}

// ParseInventory reads the inventory lines of a whole output, ignoring every other line.
func ParseInventory(output string) (*Inventory, error) {
	inv := &Inventory{}
	for _, l := range strings.Split(output, "\n") {
		if _, err := inv.Add(strings.TrimRight(l, "\r")); err != nil {
			return nil, err
		}
	}
	if !inv.Complete {
		return nil, fmt.Errorf("the output holds no complete inventory (%d lines without the end line)", inv.lines)
	}
	return inv, nil
}

// Origin is where an installed tool came from, for the SBOM.
type Origin struct {
	// URL is the download, without credentials; empty for a supplied file.
	URL string
	// SHA256 is the checksum the plan verified: the pinned or given sum of the download, or
	// the digest of the supplied file. Empty when the plan verified none.
	SHA256 string
	// Supplied is the local file uploaded instead of a download (`<tool>_path`).
	Supplied string
}

// Origin tells where the tool installed on a target of architecture arch (`uname -m`) came
// from, as the script chose it.
func (t Tool) Origin(o Options, in Inputs, arch string) Origin {
	a, _ := ArchByMachine(arch)
	src := t.sourceFor(o, a.Platform)
	url, sum, path := src.url, src.sum, src.path
	switch {
	case path != "":
		return Origin{Supplied: path, SHA256: in.Supplied[t.suppliedKey(o, arch)]}
	case url != "":
		return Origin{URL: RedactURL(url), SHA256: strings.ToLower(sum)}
	}
	d := t.Pinned[arch]
	if sum == "" {
		sum = d.SHA256
	}
	return Origin{URL: d.URL, SHA256: strings.ToLower(sum)}
}

// LockedPins are the packages of poetry.lock the install is pinned to, or nil when the
// options do not use the lock. Options must have been prepared.
func LockedPins(o Options) ([]projectfile.Pin, error) {
	if !o.lockInUse() {
		return nil, nil
	}
	lock, _, err := readLockPair(o.SourceDir)
	if err != nil {
		return nil, err
	}
	return lock.Select(o.LockGroups), nil
}
