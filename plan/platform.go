package plan

import (
	"bufio"
	"fmt"
	"sort"
	"strings"
)

// Family is a group of platforms that share package manager and layout, so the plan renders
// the same commands for every member.
type Family string

const (
	// FamilyApt covers Debian and Ubuntu.
	FamilyApt Family = "apt"
	// FamilyDnf covers Amazon Linux 2023.
	FamilyDnf Family = "dnf"
)

// Platform is one supported operating system release.
type Platform struct {
	// ID and VersionID are the os-release values that identify the platform.
	ID        string
	VersionID string
	Name      string
	Family    Family
	// AdminGroup is the group whose members may use sudo.
	AdminGroup string
	// BashRC is the system-wide bash startup file.
	BashRC string
}

// Key is the platform's name in configuration, e.g. "ubuntu-22.04".
func (p Platform) Key() string { return p.ID + "-" + p.VersionID }

// Platforms is every platform the plan supports, in the order docs and errors list them.
var Platforms = []Platform{
	{ID: "ubuntu", VersionID: "20.04", Name: "Ubuntu 20.04", Family: FamilyApt, AdminGroup: "sudo", BashRC: "/etc/bash.bashrc"},
	{ID: "ubuntu", VersionID: "22.04", Name: "Ubuntu 22.04", Family: FamilyApt, AdminGroup: "sudo", BashRC: "/etc/bash.bashrc"},
	{ID: "ubuntu", VersionID: "24.04", Name: "Ubuntu 24.04", Family: FamilyApt, AdminGroup: "sudo", BashRC: "/etc/bash.bashrc"},
	{ID: "debian", VersionID: "11", Name: "Debian 11", Family: FamilyApt, AdminGroup: "sudo", BashRC: "/etc/bash.bashrc"},
	{ID: "debian", VersionID: "12", Name: "Debian 12", Family: FamilyApt, AdminGroup: "sudo", BashRC: "/etc/bash.bashrc"},
	{ID: "debian", VersionID: "13", Name: "Debian 13", Family: FamilyApt, AdminGroup: "sudo", BashRC: "/etc/bash.bashrc"},
	{ID: "amzn", VersionID: "2023", Name: "Amazon Linux 2023", Family: FamilyDnf, AdminGroup: "wheel", BashRC: "/etc/bashrc"},
}

// PlatformKeys lists the accepted values of the platform option besides "auto".
func PlatformKeys() []string {
	keys := make([]string, len(Platforms))
	for i, p := range Platforms {
		keys[i] = p.Key()
	}
	return keys
}

// PlatformByKey finds a platform by its configuration name.
func PlatformByKey(key string) (Platform, bool) {
	for _, p := range Platforms {
		if p.Key() == key {
			return p, true
		}
	}
	return Platform{}, false
}

// Families returns the distinct families of the given platforms, in table order.
func Families(platforms []Platform) []Family {
	var out []Family
	seen := map[Family]bool{}
	for _, p := range platforms {
		if !seen[p.Family] {
			seen[p.Family] = true
			out = append(out, p.Family)
		}
	}
	return out
}

// OSRelease holds the fields of an /etc/os-release file.
type OSRelease map[string]string

// ParseOSRelease reads os-release text (os-release(5): KEY=value lines, values optionally
// quoted with shell quoting rules; comments and blank lines ignored).
func ParseOSRelease(text string) OSRelease {
	out := OSRelease{}
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		key, value, ok := strings.Cut(line, "=")
		if !ok || key == "" || strings.ContainsAny(key, " \t") {
			continue
		}
		out[key] = unquoteOSReleaseValue(value)
	}
	return out
}

func unquoteOSReleaseValue(v string) string {
	if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
		if v[0] == '\'' {
			return v[1 : len(v)-1]
		}
		// Shell double quotes, not Go's: a backslash escapes only $ ` " and \, and stays
		// before any other character ("\n" is a backslash and an n, as bash reads it).
		return strings.NewReplacer(`\"`, `"`, `\\`, `\`, "\\$", "$", "\\`", "`").Replace(v[1 : len(v)-1])
	}
	return v
}

// UnsupportedPlatformError says which os-release was found and what would have been accepted.
type UnsupportedPlatformError struct {
	ID, VersionID, PrettyName string
}

func (e *UnsupportedPlatformError) Error() string {
	found := fmt.Sprintf("ID=%q VERSION_ID=%q", e.ID, e.VersionID)
	if e.PrettyName != "" {
		found += fmt.Sprintf(" (%s)", e.PrettyName)
	}
	return fmt.Sprintf("unsupported platform: /etc/os-release has %s; supported: %s", found, SupportedList())
}

// SupportedList names the supported platforms for messages.
func SupportedList() string {
	names := make([]string, len(Platforms))
	for i, p := range Platforms {
		names[i] = p.Name
	}
	return strings.Join(names, ", ")
}

// Detect maps os-release text to a supported platform. Only ID and VERSION_ID decide: the
// kernel release (uname -r) is never read, because its AL2023 form is what breaks Poetry.
func Detect(osRelease string) (Platform, error) {
	rel := ParseOSRelease(osRelease)
	for _, p := range Platforms {
		if rel["ID"] == p.ID && rel["VERSION_ID"] == p.VersionID {
			return p, nil
		}
	}
	return Platform{}, &UnsupportedPlatformError{ID: rel["ID"], VersionID: rel["VERSION_ID"], PrettyName: rel["PRETTY_NAME"]}
}

// sortedKeys is used wherever a map is rendered, so output is stable.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
