package plan

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

// osReleaseFixtures are the files under testdata/os-release, copied verbatim from the
// releases they are named after.
var osReleaseFixtures = []string{
	"ubuntu-20.04", "ubuntu-22.04", "ubuntu-24.04",
	"debian-11", "debian-12", "debian-13",
	"amzn-2023", "amzn-2", "alpine-3.20", "centos-7",
}

func readOSRelease(t testing.TB, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "os-release", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func TestDetect(t *testing.T) {
	tests := []struct {
		fixture string
		// wantKey is the platform's key, or "" when the fixture must be refused.
		wantKey string
		// wantID and wantVersionID are what a refusal must name.
		wantID, wantVersionID, wantPretty string
		wantFamily                        Family
		wantAdminGroup, wantBashRC        string
	}{
		{fixture: "ubuntu-20.04", wantKey: "ubuntu-20.04", wantFamily: FamilyApt, wantAdminGroup: "sudo", wantBashRC: "/etc/bash.bashrc"},
		{fixture: "ubuntu-22.04", wantKey: "ubuntu-22.04", wantFamily: FamilyApt, wantAdminGroup: "sudo", wantBashRC: "/etc/bash.bashrc"},
		{fixture: "ubuntu-24.04", wantKey: "ubuntu-24.04", wantFamily: FamilyApt, wantAdminGroup: "sudo", wantBashRC: "/etc/bash.bashrc"},
		{fixture: "debian-11", wantKey: "debian-11", wantFamily: FamilyApt, wantAdminGroup: "sudo", wantBashRC: "/etc/bash.bashrc"},
		{fixture: "debian-12", wantKey: "debian-12", wantFamily: FamilyApt, wantAdminGroup: "sudo", wantBashRC: "/etc/bash.bashrc"},
		{fixture: "debian-13", wantKey: "debian-13", wantFamily: FamilyApt, wantAdminGroup: "sudo", wantBashRC: "/etc/bash.bashrc"},
		{fixture: "amzn-2023", wantKey: "amzn-2023", wantFamily: FamilyDnf, wantAdminGroup: "wheel", wantBashRC: "/etc/bashrc"},
		{fixture: "amzn-2", wantID: "amzn", wantVersionID: "2", wantPretty: "Amazon Linux 2"},
		{fixture: "alpine-3.20", wantID: "alpine", wantVersionID: "3.20.3", wantPretty: "Alpine Linux v3.20"},
		{fixture: "centos-7", wantID: "centos", wantVersionID: "7", wantPretty: "CentOS Linux 7 (Core)"},
	}
	if len(tests) != len(osReleaseFixtures) {
		t.Fatalf("%d cases for %d fixtures", len(tests), len(osReleaseFixtures))
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			p, err := Detect(readOSRelease(t, tt.fixture))
			if tt.wantKey != "" {
				if err != nil {
					t.Fatalf("Detect: %v", err)
				}
				if p.Key() != tt.wantKey {
					t.Errorf("Key() = %q, want %q", p.Key(), tt.wantKey)
				}
				if p.Family != tt.wantFamily || p.AdminGroup != tt.wantAdminGroup || p.BashRC != tt.wantBashRC {
					t.Errorf("platform %+v: want family %s, admin group %s, bash rc %s", p, tt.wantFamily, tt.wantAdminGroup, tt.wantBashRC)
				}
				if got, ok := PlatformByKey(tt.wantKey); !ok || !reflect.DeepEqual(got, p) {
					t.Errorf("PlatformByKey(%q) = %+v, %v; want %+v", tt.wantKey, got, ok, p)
				}
				return
			}
			if err == nil {
				t.Fatalf("Detect accepted %s as %+v", tt.fixture, p)
			}
			if !reflect.DeepEqual(p, Platform{}) {
				t.Errorf("a refusal returned platform %+v", p)
			}
			var ue *UnsupportedPlatformError
			if !errors.As(err, &ue) {
				t.Fatalf("error %T %v is not an *UnsupportedPlatformError", err, err)
			}
			if ue.ID != tt.wantID || ue.VersionID != tt.wantVersionID || ue.PrettyName != tt.wantPretty {
				t.Errorf("error fields %+v, want ID %q VERSION_ID %q PRETTY_NAME %q", ue, tt.wantID, tt.wantVersionID, tt.wantPretty)
			}
			msg := err.Error()
			for _, want := range []string{
				`ID="` + tt.wantID + `"`,
				`VERSION_ID="` + tt.wantVersionID + `"`,
				tt.wantPretty,
				"Amazon Linux 2023", // the supported list
				"Debian 12",
			} {
				if !strings.Contains(msg, want) {
					t.Errorf("message %q does not contain %q", msg, want)
				}
			}
		})
	}
}

func TestDetectEveryPlatformHasAFixture(t *testing.T) {
	have := map[string]bool{}
	for _, f := range osReleaseFixtures {
		have[f] = true
	}
	for _, key := range PlatformKeys() {
		if !have[key] {
			t.Errorf("platform %s has no os-release fixture", key)
		}
	}
}

func TestDetectNeverUsesOtherFields(t *testing.T) {
	// Amazon Linux 2 says "Amazon Linux" everywhere AL2023 does; only VERSION_ID differs.
	al2 := readOSRelease(t, "amzn-2")
	for _, text := range []string{
		strings.ReplaceAll(al2, `PRETTY_NAME="Amazon Linux 2"`, `PRETTY_NAME="Amazon Linux 2023"`),
		al2 + "\nPLATFORM_ID=\"platform:al2023\"\n",
		"ID=amzn\n",             // no VERSION_ID at all
		"VERSION_ID=\"2023\"\n", // no ID at all
		"ID=amzn2023\n",         // the kernel release's form is no ID
		"ID=\"amzn\"\nVERSION_ID=\"2023.6.20250218\"\n",
	} {
		if p, err := Detect(text); err == nil {
			t.Errorf("Detect accepted %q as %s", text, p.Key())
		}
	}
}

func TestParseOSRelease(t *testing.T) {
	tests := []struct {
		name string
		text string
		want OSRelease
	}{
		{
			name: "unquoted",
			text: "ID=debian\nVERSION_CODENAME=bookworm\n",
			want: OSRelease{"ID": "debian", "VERSION_CODENAME": "bookworm"},
		},
		{
			name: "double quotes",
			text: `NAME="Debian GNU/Linux"` + "\n" + `VERSION_ID="12"`,
			want: OSRelease{"NAME": "Debian GNU/Linux", "VERSION_ID": "12"},
		},
		{
			name: "double quotes with shell escapes",
			text: `PRETTY_NAME="say \"hi\" to \$HOME, a \\ and a \` + "`" + `tick\` + "`" + `"`,
			want: OSRelease{"PRETTY_NAME": "say \"hi\" to $HOME, a \\ and a `tick`"},
		},
		{
			name: "escaped quote only",
			text: `NAME="a\"b"`,
			want: OSRelease{"NAME": `a"b`},
		},
		{
			// Inside shell double quotes a backslash before any other character stays.
			name: "backslash before an ordinary character is kept",
			text: `NAME="C:\new\temp \x41 \u00e9"`,
			want: OSRelease{"NAME": `C:\new\temp \x41 \u00e9`},
		},
		{
			name: "single quotes are literal",
			text: `NAME='it is "quoted" \$x'` + "\n" + `ID='ubuntu'`,
			want: OSRelease{"NAME": `it is "quoted" \$x`, "ID": "ubuntu"},
		},
		{
			name: "empty values",
			text: "A=\nB=\"\"\nC=''\n",
			want: OSRelease{"A": "", "B": "", "C": ""},
		},
		{
			name: "comments and blank lines",
			text: "# a comment\n\n   \n  # indented comment\nID=ubuntu\n\n\nVERSION_ID=\"22.04\"\n",
			want: OSRelease{"ID": "ubuntu", "VERSION_ID": "22.04"},
		},
		{
			name: "lines without = and bad keys are skipped",
			text: "garbage\nID=debian\n=novalue\nBAD KEY=x\nTAB\tKEY=y\nVERSION_ID=11\njust words here\n",
			want: OSRelease{"ID": "debian", "VERSION_ID": "11"},
		},
		{
			name: "value holding =",
			text: "CPE_NAME=\"cpe:/o:a=b\"\nX=a=b\n",
			want: OSRelease{"CPE_NAME": "cpe:/o:a=b", "X": "a=b"},
		},
		{
			name: "surrounding whitespace and CRLF",
			text: "  ID=ubuntu  \r\nVERSION_ID=\"24.04\"\r\n",
			want: OSRelease{"ID": "ubuntu", "VERSION_ID": "24.04"},
		},
		{
			name: "unbalanced quotes stay as written",
			text: "A=\"open\nB='open\nC=close\"\nD=\"\n",
			want: OSRelease{"A": `"open`, "B": `'open`, "C": `close"`, "D": `"`},
		},
		{
			name: "mismatched quote pair stays as written",
			text: `A="x'` + "\n" + `B='x"`,
			want: OSRelease{"A": `"x'`, "B": `'x"`},
		},
		{
			name: "later assignment wins",
			text: "ID=one\nID=two\n",
			want: OSRelease{"ID": "two"},
		},
		{
			name: "empty text",
			text: "",
			want: OSRelease{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ParseOSRelease(tt.text)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParseOSRelease(%q)\n got %#v\nwant %#v", tt.text, got, tt.want)
			}
		})
	}
}

func TestParseOSReleaseFixtures(t *testing.T) {
	for _, name := range osReleaseFixtures {
		rel := ParseOSRelease(readOSRelease(t, name))
		for _, key := range []string{"ID", "VERSION_ID", "PRETTY_NAME", "NAME"} {
			if rel[key] == "" {
				t.Errorf("%s: %s is empty", name, key)
			}
		}
		for k, v := range rel {
			if strings.ContainsAny(v, "\"'") {
				t.Errorf("%s: %s=%q kept its quotes", name, k, v)
			}
		}
	}
}

func FuzzParseOSRelease(f *testing.F) {
	for _, name := range osReleaseFixtures {
		f.Add(readOSRelease(f, name))
	}
	f.Add("ID=\"amzn\"\nVERSION_ID=\"2023\"\n")
	f.Add(`ID="deb\ian"` + "\nVERSION_ID='12'\n")
	f.Add("ID=\"\nVERSION_ID=\"\"\n")
	f.Fuzz(func(t *testing.T, text string) {
		rel := ParseOSRelease(text)
		p, err := Detect(text)
		if err == nil {
			if p.ID != rel["ID"] || p.VersionID != rel["VERSION_ID"] {
				t.Fatalf("Detect returned %s for ID=%q VERSION_ID=%q", p.Key(), rel["ID"], rel["VERSION_ID"])
			}
			if _, ok := PlatformByKey(p.Key()); !ok {
				t.Fatalf("Detect returned an unknown platform %+v", p)
			}
			return
		}
		var ue *UnsupportedPlatformError
		if !errors.As(err, &ue) {
			t.Fatalf("error %T is not an *UnsupportedPlatformError", err)
		}
		if ue.ID != rel["ID"] || ue.VersionID != rel["VERSION_ID"] {
			t.Fatalf("error names ID=%q VERSION_ID=%q, parsed %q %q", ue.ID, ue.VersionID, rel["ID"], rel["VERSION_ID"])
		}
		_ = err.Error()
	})
}

// TestParseOSReleaseMatchesBash checks that Go reads the values the rendered script reads:
// oh_detect_platform sources /etc/os-release with bash.
func TestParseOSReleaseMatchesBash(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("bash is not installed")
	}
	texts := map[string]string{
		"escapes":    `ID="deb\ian"` + "\n" + `VERSION_ID="1\$2\"3\\4\` + "`" + `5"` + "\n" + `PRETTY_NAME="a\nb \x41"` + "\n" + `NAME='x\"y'` + "\n",
		"unquoted":   "ID=debian\nVERSION_ID=12\nNAME=Debian\nPRETTY_NAME=Debian\n",
		"comments":   "# c\n\nID=ubuntu\n  \nVERSION_ID=\"22.04\"\n",
		"whitespace": "  ID=ubuntu\nVERSION_ID='24.04'  \n",
	}
	for _, name := range osReleaseFixtures {
		texts[name] = readOSRelease(t, name)
	}
	keys := []string{"ID", "VERSION_ID", "NAME", "PRETTY_NAME"}
	for name, text := range texts {
		t.Run(name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "os-release")
			if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
			script := `. "$1" || exit 9; printf '%s\0' "${ID-}" "${VERSION_ID-}" "${NAME-}" "${PRETTY_NAME-}"`
			out, err := exec.Command(bash, "-c", script, "bash", file).Output()
			if err != nil {
				t.Fatalf("bash: %v", err)
			}
			values := strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00")
			if len(values) != len(keys) {
				t.Fatalf("bash printed %q", out)
			}
			rel := ParseOSRelease(text)
			for i, k := range keys {
				if rel[k] != values[i] {
					t.Errorf("%s: Go reads %q, bash reads %q", k, rel[k], values[i])
				}
			}
		})
	}
}

// TestPlatformOptionDocListsPlatforms: the platform option's documentation (options.go, from
// which the docs are generated) names every platform of the table, in its order, and no other:
// the table is the one list, the comment a checked copy of it.
func TestPlatformOptionDocListsPlatforms(t *testing.T) {
	data, err := os.ReadFile("options.go")
	if err != nil {
		t.Fatal(err)
	}
	var doc []string
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "Platform string ") {
			break
		}
		if strings.HasPrefix(line, "//") {
			doc = append(doc, line)
		} else {
			doc = nil
		}
	}
	var named []string
	for _, m := range regexp.MustCompile("`([a-z]+-[0-9.]+)`").FindAllStringSubmatch(strings.Join(doc, " "), -1) {
		named = append(named, m[1])
	}
	if !reflect.DeepEqual(named, PlatformKeys()) {
		t.Errorf("the platform option's comment names %q; Platforms has %q", named, PlatformKeys())
	}
}
