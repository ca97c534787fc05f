package plan

import (
	"bufio"
	"fmt"
	"strings"
)

// The rendered script detects the platform itself (oh_detect_platform sources
// /etc/os-release with bash). This Go reading of os-release is the tests' oracle: the script
// must accept exactly what it accepts and name what it refuses the same way.

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

// SupportedList names the supported platforms for messages.
func SupportedList() string {
	names := make([]string, len(Platforms))
	for i, p := range Platforms {
		names[i] = p.Name
	}
	return strings.Join(names, ", ")
}
