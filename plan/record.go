package plan

import (
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"strconv"
	"strings"
)

// RecordPath is where a runtime keeps the record of the options it was built with: a fixed
// path, so that a verification that does not know the prefix finds it, root's and readable by
// all. A machine holds the record of the last plan applied to it.
const RecordPath = "/etc/openhands-runtime/build-options.json"

// StateRecord is the artifact state under which the builder hands the record (its JSON) to
// the post-processors of the same build.
const StateRecord = "openhands_build_options"

// recordVersion is the version of the record's format this plugin writes and reads.
const recordVersion = 1

// Record is what a runtime records of the options it was built with: where it is, how it is
// checked, and the other options the checks read. It holds no secret: none of these options
// takes a URL or an environment variable, and Prepare refuses a verify command holding a
// secret's value.
type Record struct {
	Version int `json:"version"`
	Layout
	PasswordlessSudo bool `json:"passwordless_sudo"`
	UseLock          bool `json:"use_lock"`
}

// NewRecord is the record of a runtime built with o, which must have been prepared.
func NewRecord(o Options) Record {
	return Record{Version: recordVersion, Layout: o.Layout, PasswordlessSudo: *o.PasswordlessSudo, UseLock: o.lockInUse()}
}

// JSON is the record as written, on one line.
func (r Record) JSON() string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // verify commands keep their && and >
	if err := enc.Encode(r); err != nil {
		panic(err) // strings, bools and ints only
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// ReadRecord reads a record written by NewRecord's JSON and checks its layout as the options
// are checked, each error naming its option.
func ReadRecord(data []byte) (Record, error) {
	var r Record
	if err := json.Unmarshal(data, &r); err != nil {
		return Record{}, fmt.Errorf("not a record of build options: %w", err)
	}
	switch {
	case r.Version > recordVersion:
		return Record{}, fmt.Errorf("version %d of the record was written by a newer plugin, which this one (version %d) cannot read: update the plugin", r.Version, recordVersion)
	case r.Version < 1:
		return Record{}, fmt.Errorf("the record has no version (%d): it was not written by the plugin", r.Version)
	}
	r.Layout.SetDefaults()
	if err := errors.Join(r.Layout.Errors()...); err != nil {
		return Record{}, err
	}
	return r, nil
}

// Options are the options a verification of the recorded runtime uses.
func (r Record) Options() Options {
	o := Options{Layout: r.Layout, PasswordlessSudo: &r.PasswordlessSudo, UseLock: &r.UseLock}
	o.SetDefaults()
	return o
}

// Conflict is a layout option set on a verifier whose value differs from the runtime's record;
// the values are as a template writes them.
type Conflict struct {
	Option, Set, Recorded string
}

// VerifyOptions are the options that verify a runtime: the record's when it has one (nil when
// not), with the checks' settings (verify) set on the verifier taking precedence, or the
// verifier's own with their defaults. set holds only what the user set: empty strings and nil
// pointers are unset. A layout option set that differs from the record is a conflict: the
// checks would look where the runtime is not.
func VerifyOptions(set Layout, r *Record) (Options, []Conflict) {
	if r == nil {
		o := Options{Layout: set}
		o.SetDefaults()
		return o, nil
	}
	var conflicts []Conflict
	for _, f := range []struct{ option, set, recorded string }{
		{"prefix", quoted(set.Prefix), quoted(r.Prefix)},
		{"user", quoted(set.User), quoted(r.User)},
		{"env_name", quoted(set.EnvName), quoted(r.EnvName)},
		{"python_version", quoted(set.PythonVersion), quoted(r.PythonVersion)},
		{"python_source", quoted(set.PythonSource), quoted(r.PythonSource)},
		{"install_browser", optionalText(set.InstallBrowser), fmt.Sprint(*r.InstallBrowser)},
		{"playwright_browsers_path", quoted(set.PlaywrightBrowsersPath), quoted(r.PlaywrightBrowsersPath)},
		{"install_vscode_server", optionalText(set.InstallVSCodeServer), fmt.Sprint(*r.InstallVSCodeServer)},
		{"install_nodejs", optionalText(set.InstallNodeJS), fmt.Sprint(*r.InstallNodeJS)},
	} {
		if f.set != "" && f.set != f.recorded {
			conflicts = append(conflicts, Conflict{f.option, f.set, f.recorded})
		}
	}
	merged := *r
	v, want := &merged.Verify, set.Verify
	if want.Imports != nil {
		v.Imports = want.Imports
	}
	if want.MinPackages != nil {
		v.MinPackages = want.MinPackages
	}
	if want.Commands != nil {
		v.Commands = want.Commands
	}
	if want.Launch != nil {
		v.Launch = want.Launch
	}
	if want.StartServer != nil {
		v.StartServer = want.StartServer
	}
	if want.StartServerTimeout != nil {
		v.StartServerTimeout = want.StartServerTimeout
	}
	return merged.Options(), conflicts
}

// quoted is a set string option's value as HCL writes it, "" when unset.
func quoted(s string) string {
	if s == "" {
		return ""
	}
	return strconv.Quote(s)
}

// optionalText is a set bool option's value as text, "" when unset.
func optionalText(b *bool) string {
	if b == nil {
		return ""
	}
	return fmt.Sprint(*b)
}

// recordCommands write the record at file (RecordPath), root's and readable by all, in place
// of what is there: the directories step's last commands.
func recordCommands(r Record, file string) string {
	return fmt.Sprintf(`install -d -m 0755 %s
printf '%%s\n' %s >%[3]s.tmp
chmod 0644 %[3]s.tmp
mv -f %[3]s.tmp %[3]s`, shellQuote(path.Dir(file)), shellQuote(r.JSON()), shellQuote(file))
}

// secretsIn names the verify commands holding one of the secrets: the record would keep them.
func (l Layout) secretsIn(secrets []string) []error {
	var errs []error
	for i, c := range l.Verify.Commands {
		for _, s := range secrets {
			if s != "" && strings.Contains(c, s) {
				errs = append(errs, fmt.Errorf("verify.commands[%d]: holds the value of a secret (a URL option's credentials or a secret_environment_vars value), "+
					"which the runtime's record of its build options (%s) would keep: read it from its variable instead", i, RecordPath))
				break
			}
		}
	}
	return errs
}
