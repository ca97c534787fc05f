package plan

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/openhands-runtime/packer-plugin-openhands/acctest/fixture"
)

// builtOptions are prepared options that differ from the defaults in everything the checks
// read.
func builtOptions(t *testing.T) Options {
	t.Helper()
	o, errs := lockOptions(t, realPair, func(o *Options) {
		o.Layout = Layout{
			Prefix: "/srv/oh", User: "agent", EnvName: "rt", PythonVersion: "3.11",
			InstallBrowser: boolPtr(false), PlaywrightBrowsersPath: "/opt/pw", InstallVSCodeServer: boolPtr(false),
			Verify: Verify{Imports: []string{"openhands"}, MinPackages: intPtr(40), Commands: []string{`test -d "$OH_CODE" && echo '<ok>'`},
				Launch: boolPtr(false), StartServer: boolPtr(true), StartServerTimeout: intPtr(30)},
		}
		o.PasswordlessSudo = boolPtr(false)
		o.VSCodeServerSHA256 = ""
	})
	if len(errs) != 0 || !o.lockInUse() {
		t.Fatalf("Prepare: %v (use_lock %v)", errs, *o.UseLock)
	}
	return o
}

// TestRecordReadsBackTheBuildsChecks: the record of a build, written and read back, gives
// the very checks the build ran, for default and non-default options.
func TestRecordReadsBackTheBuildsChecks(t *testing.T) {
	defaults := Options{SourceDir: fixture.SourceDir(t), VSCodeServerSHA256: testSHA}
	if errs := defaults.Prepare(); len(errs) != 0 {
		t.Fatal(errs)
	}
	for name, o := range map[string]Options{"defaults": defaults, "non-default": builtOptions(t)} {
		t.Run(name, func(t *testing.T) {
			written := NewRecord(o).JSON()
			if strings.Contains(written, "\n") {
				t.Errorf("the record spans lines: %s", written)
			}
			r, err := ReadRecord([]byte(written))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(Checks(r.Options()), Checks(o)) {
				t.Errorf("the record's checks differ from the build's:\n%v\nwant\n%v", checkNames(Checks(r.Options())), checkNames(Checks(o)))
			}
		})
	}
}

func checkNames(checks []Check) []string {
	var names []string
	for _, c := range checks {
		names = append(names, c.Name)
	}
	return names
}

// TestRecordHoldsNoSecret: options holding every kind of secret give a record with none of
// them; a verify command holding a secret's value is refused, since the record keeps it.
func TestRecordHoldsNoSecret(t *testing.T) {
	o := Options{
		SourceDir:             fixture.SourceDir(t),
		VSCodeServerSHA256:    testSHA,
		IndexURL:              "https://u:one@a.internal/simple",
		ExtraIndexURLs:        []string{"https://u:two@b.internal/simple"},
		ChannelAlias:          "https://u:three@c.internal",
		MicromambaURL:         "https://u:four@d.internal/mm",
		MicromambaSHA256:      testSHA,
		EnvironmentVars:       []string{"HTTPS_PROXY=http://u:five@proxy:3128"},
		SecretEnvironmentVars: []string{"API_TOKEN=six-secret"},
		UseLock:               boolPtr(false),
	}
	if errs := o.Prepare(); len(errs) != 0 {
		t.Fatal(errs)
	}
	secrets := o.Secrets()
	if len(secrets) != 6 {
		t.Fatalf("Secrets() = %q, want the six", secrets)
	}
	record := NewRecord(o).JSON()
	for _, s := range secrets {
		if strings.Contains(record, s) {
			t.Errorf("the record holds the secret %q: %s", s, record)
		}
	}

	o.Verify.Commands = []string{"true", `curl -H "Authorization: six-secret" http://127.0.0.1:1/`}
	o.LockGroups = nil // defaulted by the first Prepare
	errs := o.Prepare()
	if len(errs) != 1 || !strings.HasPrefix(errs[0].Error(), "verify.commands[1]: holds the value of a secret") || strings.Contains(errs[0].Error(), "six-secret") {
		t.Errorf("Prepare = %v, want verify.commands[1] refused without its secret shown", errs)
	}
}

func TestReadRecordRefuses(t *testing.T) {
	tests := []struct{ name, data, want string }{
		{"not JSON", "prefix=/openhands", "not a record of build options: invalid character"},
		{"no version", `{"prefix":"/openhands"}`, "the record has no version (0)"},
		{"a newer format", `{"version":2}`, "version 2 of the record was written by a newer plugin, which this one (version 1) cannot read: update the plugin"},
		{"a relative prefix", `{"version":1,"prefix":"opt/oh"}`, `prefix: "opt/oh" must be an absolute, clean path`},
		{"a bad user", `{"version":1,"user":"Agent Smith"}`, `user: "Agent Smith" is not a valid user name`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ReadRecord([]byte(tt.data))
			fixture.WantError(t, err, tt.want)
		})
	}
	// What a record leaves out takes its default.
	r, err := ReadRecord([]byte(`{"version":1,"prefix":"/srv/oh"}`))
	if err != nil || r.Prefix != "/srv/oh" || r.User != DefaultUser || !*r.InstallBrowser || *r.Verify.MinPackages != DefaultMinPackages {
		t.Errorf("ReadRecord = %+v, %v", r, err)
	}
}

// TestVerifyOptions: a runtime with a record is verified with its options, whatever the
// verifier's defaults; what the verifier sets of the layout must agree with the record, and
// its verify settings replace the record's; a runtime without one is verified with the
// verifier's options and their defaults.
func TestVerifyOptions(t *testing.T) {
	built := NewRecord(builtOptions(t))
	tests := []struct {
		name      string
		set       Layout
		record    *Record
		check     func(o Options) bool
		conflicts []Conflict
	}{
		{name: "no record: the defaults", record: nil,
			check: func(o Options) bool {
				return o.Prefix == DefaultPrefix && *o.InstallBrowser && *o.PasswordlessSudo && !o.lockInUse()
			}},
		{name: "no record: what is set", set: Layout{Prefix: "/x", InstallBrowser: boolPtr(false)},
			check: func(o Options) bool { return o.Prefix == "/x" && !*o.InstallBrowser && o.User == DefaultUser }},
		{name: "a record, nothing set: the record's", record: &built,
			check: func(o Options) bool {
				return o.Prefix == "/srv/oh" && o.User == "agent" && !*o.InstallBrowser && !*o.InstallVSCodeServer && !*o.PasswordlessSudo &&
					o.lockInUse() && *o.Verify.MinPackages == 40 && *o.Verify.StartServer
			}},
		{name: "a record, the same values set", record: &built,
			set: Layout{Prefix: "/srv/oh", User: "agent", EnvName: "rt", PythonVersion: "3.11", InstallBrowser: boolPtr(false),
				PlaywrightBrowsersPath: "/opt/pw", InstallVSCodeServer: boolPtr(false)},
			check: func(o Options) bool { return o.Prefix == "/srv/oh" }},
		{name: "a record, verify set: the verifier's checks", record: &built,
			set: Layout{Verify: Verify{Imports: []string{}, MinPackages: intPtr(7), Commands: []string{"true"}, Launch: boolPtr(true),
				StartServer: boolPtr(false), StartServerTimeout: intPtr(9)}},
			check: func(o Options) bool {
				v := o.Verify
				return len(v.Imports) == 0 && *v.MinPackages == 7 && v.Commands[0] == "true" && *v.Launch && !*v.StartServer && *v.StartServerTimeout == 9 &&
					o.Prefix == "/srv/oh"
			}},
		{name: "a record, contradictions", record: &built,
			set: Layout{Prefix: "/openhands", User: "openhands", EnvName: "rt", InstallBrowser: boolPtr(true), InstallVSCodeServer: boolPtr(false),
				PythonVersion: "3.12", PlaywrightBrowsersPath: "/opt/playwright-browsers"},
			conflicts: []Conflict{
				{"prefix", `"/openhands"`, `"/srv/oh"`},
				{"user", `"openhands"`, `"agent"`},
				{"python_version", `"3.12"`, `"3.11"`},
				{"install_browser", "true", "false"},
				{"playwright_browsers_path", `"/opt/playwright-browsers"`, `"/opt/pw"`},
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, conflicts := VerifyOptions(tt.set, tt.record)
			if !reflect.DeepEqual(conflicts, tt.conflicts) {
				t.Errorf("conflicts %+v, want %+v", conflicts, tt.conflicts)
			}
			if tt.check != nil && !tt.check(o) {
				t.Errorf("options %+v", o.Layout)
			}
		})
	}
	if *built.Verify.MinPackages != 40 {
		t.Errorf("VerifyOptions changed the record it was given")
	}
}

// TestRecordCommands: the directories step's commands write the record, readable by all
// whatever the umask, and replace the record of an earlier run with other options.
func TestRecordCommands(t *testing.T) {
	file := filepath.Join(t.TempDir(), "etc", "openhands-runtime", "build-options.json")
	earlier := NewRecord(builtOptions(t))
	earlier.Prefix = "/elsewhere"
	built := NewRecord(builtOptions(t))
	for _, r := range []Record{earlier, built} {
		if out, err := exec.Command("bash", "-c", "umask 077\n"+recordCommands(r, file)).CombinedOutput(); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if r, err := ReadRecord(data); err != nil || !reflect.DeepEqual(r, built) {
		t.Errorf("the file reads back as %+v (%v), want %+v", r, err, built)
	}
	if fi, err := os.Stat(file); err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("the record's mode is %v (%v), want 0644", fi.Mode(), err)
	}
	if entries, _ := os.ReadDir(filepath.Dir(file)); len(entries) != 1 {
		t.Errorf("the record's directory holds %v, want the record alone", entries)
	}
}
