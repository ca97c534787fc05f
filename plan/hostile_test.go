package plan

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/openhands-runtime/packer-plugin-openhands/acctest/fixture"
)

// TestValidateRefusesHostileOptions: options that validation used to let through and that the
// plan then acted on as root. Each row names the finding it guards; each is refused at
// validate with an error that names the option and says what to do.
func TestValidateRefusesHostileOptions(t *testing.T) {
	src := t.TempDir()
	fixture.WriteFile(t, src, "pyproject.toml", "[project]\nname = \"openhands-ai\"\n", 0o644)
	tests := []struct {
		finding string
		set     func(*Options)
		want    []string
	}{
		{"prefix with ; and > lands in a RUN line of the Dockerfile", func(o *Options) { o.Prefix = "/opt/oh;id>/tmp/pwned;" },
			[]string{"prefix:", "letters, digits"}},
		{"prefix with | and *", func(o *Options) { o.Prefix = "/opt/oh|x*" }, []string{"prefix:"}},
		{"prefix with a vertical tab, form feed or carriage return", func(o *Options) { o.Prefix = "/opt/oh\v\f\r" }, []string{"prefix:"}},
		{"prefix with U+00A0, which Docker splits ENV words on", func(o *Options) { o.Prefix = "/opt/oh\u00a0X=1" }, []string{"prefix:"}},
		{"playwright_browsers_path with a newline", func(o *Options) { o.PlaywrightBrowsersPath = "/opt/pw\nRUN id" }, []string{"playwright_browsers_path:"}},
		{"/usr/local as prefix, handed to the runtime user", func(o *Options) { o.Prefix = "/usr/local" }, []string{"prefix:", "system directory", "/usr/local/openhands"}},
		{"/etc as prefix", func(o *Options) { o.Prefix = "/etc" }, []string{"prefix:", "system directory"}},
		{"/tmp as prefix, whose mode the directories step resets", func(o *Options) { o.Prefix = "/tmp" }, []string{"prefix:", "system directory"}},
		{"/var as prefix", func(o *Options) { o.Prefix = "/var" }, []string{"prefix:", "system directory"}},
		{"/home as prefix", func(o *Options) { o.Prefix = "/home" }, []string{"prefix:", "system directory"}},
		{"a prefix under /etc", func(o *Options) { o.Prefix = "/etc/openhands" }, []string{"prefix:", "system directory"}},
		{"environment_vars overriding the plan's prefix", func(o *Options) { o.EnvironmentVars = []string{"OH_PREFIX=/"} },
			[]string{"environment_vars[0]: OH_PREFIX is set by the plan itself"}},
		{"environment_vars overriding the plan's user", func(o *Options) { o.EnvironmentVars = []string{"OH_USER=root"} }, []string{"environment_vars[0]: OH_USER"}},
		{"BASH_ENV runs a file in every bash", func(o *Options) { o.EnvironmentVars = []string{"BASH_ENV=/tmp/x"} }, []string{"environment_vars[0]: BASH_ENV"}},
		// Found by FuzzRenderPlan: bash drops NUL and mangles \x01 next to it, so the value would
		// not reach the steps as written.
		{"control characters in a value", func(o *Options) {
			o.EnvironmentVars = []string{"A=x\x00\x01y"}
			o.SecretEnvironmentVars = []string{"B=\x7f"}
		}, []string{"environment_vars[0]: the value of A holds the control character U+0000", "secret_environment_vars[0]: the value of B holds a control character"}},
		{"LD_PRELOAD loads a library into every root process", func(o *Options) { o.EnvironmentVars = []string{"LD_PRELOAD=/tmp/x.so"} }, []string{"environment_vars[0]: LD_PRELOAD"}},
		{"PATH replaces the commands root runs", func(o *Options) { o.EnvironmentVars = []string{"PATH=/tmp"} }, []string{"environment_vars[0]: PATH"}},
		{"secret_environment_vars overriding the plan", func(o *Options) { o.SecretEnvironmentVars = []string{"OH_UID=0"} }, []string{"secret_environment_vars[0]: OH_UID"}},
		{"user root passes as a name", func(o *Options) { o.User = "root" }, []string{"user:", "system or login account"}},
		{"user daemon", func(o *Options) { o.User = "daemon" }, []string{"user:", "system or login account"}},
		{"user ec2-user, Packer's SSH login on AL2023", func(o *Options) { o.User = "ec2-user" }, []string{"user:", "system or login account"}},
		{"python_version 3.99 fails only at install", func(o *Options) { o.PythonVersion = "3.99" }, []string{"python_version:", "3.99", "3.12"}},
		{"env_name .. escapes the envs directory", func(o *Options) { o.EnvName = ".." }, []string{"env_name:"}},
		{"env_name starting an option", func(o *Options) { o.EnvName = "-rf" }, []string{"env_name:"}},
	}
	for _, tt := range tests {
		t.Run(tt.finding, func(t *testing.T) {
			o := Options{SourceDir: src, VSCodeServerSHA256: testSHA, UseLock: boolPtr(false)}
			tt.set(&o)
			errs := o.Prepare()
			var all []string
			for _, e := range errs {
				all = append(all, e.Error())
			}
			got := strings.Join(all, "\n")
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("validation errors %q lack %q", got, w)
				}
			}
		})
	}
	// A linked pyproject.toml passed validation and was never shipped.
	linked := t.TempDir()
	fixture.WriteFile(t, src, "real-pyproject.toml", "[project]\nname = \"openhands-ai\"\n", 0o644)
	if err := os.Symlink(filepath.Join(src, "real-pyproject.toml"), filepath.Join(linked, "pyproject.toml")); err != nil {
		t.Fatal(err)
	}
	o := Options{SourceDir: linked, VSCodeServerSHA256: testSHA, UseLock: boolPtr(false)}
	if errs := o.Prepare(); len(errs) == 0 || !strings.Contains(errs[0].Error(), "pyproject.toml in") || !strings.Contains(errs[0].Error(), "symbolic link") {
		t.Errorf("a linked pyproject.toml: %v, want it refused", errs)
	}
	// What the rules must still accept.
	for _, ok := range []func(*Options){
		func(o *Options) { o.Prefix = "/opt/openhands" },
		func(o *Options) { o.Prefix = "/usr/local/openhands" },
		func(o *Options) { o.Prefix = "/home/builder/openhands_2.0" },
		func(o *Options) { o.User = "agent-1" },
		func(o *Options) { o.EnvName = "oh.env_1" },
		func(o *Options) { o.PythonVersion = "3.13" },
		func(o *Options) {
			o.EnvironmentVars = []string{"HTTPS_PROXY=http://proxy.internal:3128", "PIP_NO_COLOR=1"}
		},
	} {
		o := Options{SourceDir: src, VSCodeServerSHA256: testSHA, UseLock: boolPtr(false)}
		ok(&o)
		if errs := o.Prepare(); len(errs) != 0 {
			t.Errorf("an ordinary option set was refused: %v", errs)
		}
	}
}
