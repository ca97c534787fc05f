package plan

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/openhands-runtime/packer-plugin-openhands/acctest/fixture"
)

// withVSCodeServerSHA256 gives options that would download openvscode-server the checksum
// a download needs (none is pinned), as a template must.
func withVSCodeServerSHA256(o *Options) {
	if o.VSCodeServerPath == "" && o.VSCodeServerSHA256 == "" && len(o.VSCodeServerSHA256ByPlatform) == 0 && (o.InstallVSCodeServer == nil || *o.InstallVSCodeServer) {
		o.VSCodeServerSHA256 = testSHA
	}
}

func boolPtr(b bool) *bool { return &b }
func intPtr(i int) *int    { return &i }

const testSHA = "8e5c6e5523dffc2dcf615bd995554c84c9feb4e577808a3fb8698a639d3f8d9c"

func TestPrepareDefaults(t *testing.T) {
	src := fixture.SourceDir(t)
	o := Options{SourceDir: src, VSCodeServerSHA256: testSHA}
	if errs := o.Prepare(); len(errs) != 0 {
		t.Fatalf("Prepare: %v", errs)
	}
	strs := []struct{ name, got, want string }{
		{"prefix", o.Prefix, "/openhands"},
		{"user", o.User, "openhands"},
		{"env_name", o.EnvName, "openhands"},
		{"python_version", o.PythonVersion, "3.12"},
		{"platform", o.Platform, "auto"},
		{"conda_channel", o.CondaChannel, "conda-forge"},
		{"playwright_browsers_path", o.PlaywrightBrowsersPath, "/opt/playwright-browsers"},
		{"source_dir", o.SourceDir, src},
	}
	for _, s := range strs {
		if s.got != s.want {
			t.Errorf("%s = %q, want %q", s.name, s.got, s.want)
		}
	}
	bools := []struct {
		name string
		got  *bool
	}{
		{"system_packages", o.SystemPackages},
		{"install_browser", o.InstallBrowser},
		{"passwordless_sudo", o.PasswordlessSudo},
		{"skip_vscode_build", o.SkipVSCodeBuild},
	}
	for _, b := range bools {
		if b.got == nil || !*b.got {
			t.Errorf("%s = %v, want true", b.name, b.got)
		}
	}
	ints := []struct {
		name string
		got  *int
		want int
	}{
		{"network_retries", o.NetworkRetries, 3},
		{"min_free_disk_gb", o.MinFreeDiskGB, 5},
		{"verify.min_packages", o.Verify.MinPackages, 300},
	}
	for _, i := range ints {
		if i.got == nil || *i.got != i.want {
			t.Errorf("%s = %v, want %d", i.name, i.got, i.want)
		}
	}
	if o.UID != nil {
		t.Errorf("uid = %d, want unset (1000 or the next free id, chosen on the target)", *o.UID)
	}
	if o.SkipVerify {
		t.Error("skip_verify defaults to true")
	}
	if want := []string{"jupyterlab", "notebook", "flake8"}; !reflect.DeepEqual(o.ExtraPipPackages, want) {
		t.Errorf("extra_pip_packages = %q, want %q", o.ExtraPipPackages, want)
	}
	if want := []string{"pydantic", "openai", "litellm", "openhands.core.config"}; !reflect.DeepEqual(o.Verify.Imports, want) {
		t.Errorf("verify.imports = %q, want %q", o.Verify.Imports, want)
	}

	// The defaults are copies: changing a prepared option never changes the package defaults.
	o.ExtraPipPackages[0] = "changed"
	o.Verify.Imports[0] = "changed"
	if DefaultExtraPipPackages[0] != "jupyterlab" || DefaultImports[0] != "pydantic" {
		t.Error("Prepare shares the default slices with the options")
	}
}

func TestPrepareKeepsExplicitValues(t *testing.T) {
	o := Options{
		SourceDir: fixture.SourceDir(t),
		Layout: Layout{
			InstallVSCodeServer: boolPtr(false),
			Prefix:              "/opt/oh",
			User:                "agent",
			EnvName:             "oh-3.11",
			PythonVersion:       "3.11",
			InstallBrowser:      boolPtr(false),
			Verify:              Verify{Imports: []string{}, MinPackages: intPtr(0)},
		},
		UID:              intPtr(1500),
		Platform:         "debian-12",
		SystemPackages:   boolPtr(false),
		PasswordlessSudo: boolPtr(false),
		SkipVSCodeBuild:  boolPtr(false),
		ExtraPipPackages: []string{},
		NetworkRetries:   intPtr(0),
		MinFreeDiskGB:    intPtr(0),
	}
	if errs := o.Prepare(); len(errs) != 0 {
		t.Fatalf("Prepare: %v", errs)
	}
	if o.ExtraPipPackages == nil || len(o.ExtraPipPackages) != 0 {
		t.Errorf("an explicitly empty extra_pip_packages became %#v", o.ExtraPipPackages)
	}
	if o.Verify.Imports == nil || len(o.Verify.Imports) != 0 {
		t.Errorf("an explicitly empty verify.imports became %#v", o.Verify.Imports)
	}
	if *o.SystemPackages || *o.InstallBrowser || *o.PasswordlessSudo || *o.SkipVSCodeBuild {
		t.Error("an explicit false was replaced by the default")
	}
	if *o.NetworkRetries != 0 || *o.MinFreeDiskGB != 0 || *o.Verify.MinPackages != 0 {
		t.Error("an explicit 0 was replaced by the default")
	}
	if o.Prefix != "/opt/oh" || o.User != "agent" || o.UID == nil || *o.UID != 1500 || o.EnvName != "oh-3.11" || o.PythonVersion != "3.11" || o.Platform != "debian-12" {
		t.Errorf("explicit values changed: %+v", o)
	}
}

func TestPrepareAcceptsValidValues(t *testing.T) {
	dir := t.TempDir()
	bin := fixture.WriteFile(t, dir, "micromamba", "#!/bin/sh\n", 0o755)
	for _, platform := range append([]string{"auto"}, PlatformKeys()...) {
		o := Options{
			SourceDir:           fixture.SourceDir(t),
			Platform:            platform,
			UID:                 intPtr(60000),
			ExtraSystemPackages: []string{"ffmpeg", "libgl1-mesa-glx", "gcc-c++", "python3.11"},
			MicromambaPath:      bin,
			UVURL:               "https://mirror.internal/uv-x86_64-unknown-linux-gnu.tar.gz",
			UVSHA256:            strings.ToUpper(testSHA),
			VSCodeServerURL:     "https://mirror.internal/openvscode-server-v1.98.2-linux-x64.tar.gz",
			VSCodeServerSHA256:  testSHA,
			CondaChannel:        "https://conda.mirror.internal/conda-forge",
			ChannelAlias:        "http://conda.mirror.internal",
			IndexURL:            "https://user:pw@pypi.mirror.internal/simple",
			ExtraIndexURLs:      []string{"https://a.internal/simple", "http://b.internal:8080/simple"},
			ExtraPipPackages:    []string{"flake8", "notebook>=7", "jupyterlab==4.2.*", "uvicorn[standard]>=0.30,<1"},
			EnvironmentVars:     []string{"HTTP_PROXY=http://proxy:3128", "_X=", "A1=with spaces and 'quotes'"},
			NetworkRetries:      intPtr(20),
			Layout: Layout{
				Verify: Verify{Imports: []string{"openhands", "a_b.c_d"}, Commands: []string{"true"}},
			},
		}
		if errs := o.Prepare(); len(errs) != 0 {
			t.Errorf("platform %s: Prepare: %v", platform, errs)
		}
	}
}

func TestPrepareErrors(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "no-such-thing")
	notDir := fixture.WriteFile(t, t.TempDir(), "file", "x", 0o644)
	noPyproject := t.TempDir()
	binary := fixture.WriteFile(t, t.TempDir(), "uv", "bin", 0o755)
	aDir := t.TempDir()

	tests := []struct {
		name   string
		modify func(o *Options)
		// want are substrings of the one error expected.
		want []string
	}{
		{"source_dir missing", func(o *Options) { o.SourceDir = "" }, []string{"source_dir:", "required"}},
		{"source_dir does not exist", func(o *Options) { o.SourceDir = missing }, []string{"source_dir:", missing, "does not exist"}},
		{"source_dir not a dir", func(o *Options) { o.SourceDir = notDir }, []string{"source_dir:", notDir, "not a directory"}},
		{"source_dir without pyproject.toml", func(o *Options) { o.SourceDir = noPyproject }, []string{"source_dir:", "pyproject.toml"}},
		{"prefix relative", func(o *Options) { o.Prefix = "openhands" }, []string{"prefix:", `"openhands"`, "absolute"}},
		{"prefix unclean", func(o *Options) { o.Prefix = "/opt/../openhands" }, []string{"prefix:"}},
		{"prefix root", func(o *Options) { o.Prefix = "/" }, []string{"prefix:"}},
		{"prefix with a space", func(o *Options) { o.Prefix = "/opt/open hands" }, []string{"prefix:"}},
		{"prefix with a quote", func(o *Options) { o.Prefix = "/opt/it's" }, []string{"prefix:"}},
		{"playwright_browsers_path relative", func(o *Options) { o.PlaywrightBrowsersPath = "browsers" }, []string{"playwright_browsers_path:"}},
		{"user upper case", func(o *Options) { o.User = "OpenHands" }, []string{"user:", `"OpenHands"`}},
		{"user with a space", func(o *Options) { o.User = "open hands" }, []string{"user:"}},
		{"user too long", func(o *Options) { o.User = strings.Repeat("a", 33) }, []string{"user:"}},
		{"user starting with a digit", func(o *Options) { o.User = "1oh" }, []string{"user:"}},
		{"uid zero is root", func(o *Options) { o.UID = intPtr(0) }, []string{"uid:", "0 is out of range", "1-60000"}},
		{"uid negative", func(o *Options) { o.UID = intPtr(-1) }, []string{"uid:", "-1", "out of range"}},
		{"uid too large", func(o *Options) { o.UID = intPtr(60001) }, []string{"uid:", "60001", "out of range"}},
		{"env_name bad", func(o *Options) { o.EnvName = "my env" }, []string{"env_name:"}},
		{"python_version without minor", func(o *Options) { o.PythonVersion = "3" }, []string{"python_version:", `"3"`}},
		{"python_version with patch", func(o *Options) { o.PythonVersion = "3.12.1" }, []string{"python_version:"}},
		{"python_version 2", func(o *Options) { o.PythonVersion = "2.7" }, []string{"python_version:"}},
		{"platform unknown", func(o *Options) { o.Platform = "amzn-2" }, append([]string{"platform:", `"amzn-2"`, `"auto"`}, PlatformKeys()...)},
		{"extra_system_packages without system_packages", func(o *Options) {
			o.SystemPackages = boolPtr(false)
			o.ExtraSystemPackages = []string{"git-lfs"}
		}, []string{"extra_system_packages:", "system_packages = false"}},
		{"extra_system_packages bad", func(o *Options) { o.ExtraSystemPackages = []string{"git", "rm -rf"} }, []string{"extra_system_packages[1]:", `"rm -rf"`}},
		{"micromamba_url without sha", func(o *Options) { o.MicromambaURL = "https://example.com/micromamba" }, []string{"micromamba_sha256:", "required"}},
		{"micromamba_sha256 without url", func(o *Options) { o.MicromambaSHA256 = testSHA }, []string{"micromamba_url:", "required"}},
		{"micromamba_sha256 bad", func(o *Options) {
			o.MicromambaURL = "https://example.com/micromamba"
			o.MicromambaSHA256 = "abc123"
		}, []string{"micromamba_sha256:", `"abc123"`, "64"}},
		{"micromamba_url not http", func(o *Options) {
			o.MicromambaURL = "file:///tmp/micromamba"
			o.MicromambaSHA256 = testSHA
		}, []string{"micromamba_url:", "http(s)"}},
		{"uv_sha256 too short", func(o *Options) {
			o.UVURL = "https://example.com/uv.tar.gz"
			o.UVSHA256 = testSHA[:63]
		}, []string{"uv_sha256:"}},
		{"uv path and url both set", func(o *Options) {
			o.UVPath = binary
			o.UVURL = "https://example.com/uv.tar.gz"
			o.UVSHA256 = testSHA
		}, []string{"uv_path:", "not both"}},
		{"micromamba path and sha both set", func(o *Options) {
			o.MicromambaPath = binary
			o.MicromambaSHA256 = testSHA
		}, []string{"micromamba_path:", "not both"}},
		{"uv_path missing", func(o *Options) { o.UVPath = missing }, []string{"uv_path:", missing, "does not exist"}},
		{"vscode server download without a checksum", func(o *Options) { o.VSCodeServerSHA256 = "" }, []string{
			"vscode_server_sha256: required", "publishes no checksums", "vscode_server_path", "install_vscode_server = false"}},
		{"vscode_server_sha256 bad", func(o *Options) { o.VSCodeServerSHA256 = "abc" }, []string{"vscode_server_sha256:", `"abc"`, "64"}},
		{"vscode_server_url without sha", func(o *Options) {
			o.VSCodeServerSHA256 = ""
			o.VSCodeServerURL = "https://mirror.internal/openvscode-server.tar.gz"
		}, []string{"vscode_server_sha256:", "required with vscode_server_url"}},
		{"vscode_server_path and sha both set", func(o *Options) { o.VSCodeServerPath = binary }, []string{"vscode_server_path:", "not both"}},
		{"vscode_server_path missing", func(o *Options) {
			o.VSCodeServerSHA256 = ""
			o.VSCodeServerPath = missing
		}, []string{"vscode_server_path:", missing, "does not exist"}},
		{"vscode server options while left out", func(o *Options) { o.InstallVSCodeServer = boolPtr(false) }, []string{
			"vscode_server_sha256: set, but install_vscode_server = false"}},
		{"verify.start_server_timeout zero", func(o *Options) { o.Verify.StartServerTimeout = intPtr(0) }, []string{"verify.start_server_timeout:", "at least 1"}},
		{"micromamba_path a directory", func(o *Options) { o.MicromambaPath = aDir }, []string{"micromamba_path:", "not a regular file"}},
		{"conda_channel bad", func(o *Options) { o.CondaChannel = "ftp://mirror/conda" }, []string{"conda_channel:"}},
		{"channel_alias bad", func(o *Options) { o.ChannelAlias = "conda.mirror.internal" }, []string{"channel_alias:"}},
		// micromamba takes the channel on its command line, which ps shows.
		{"conda_channel with credentials", func(o *Options) { o.CondaChannel = "https://ci:pw@conda.internal/api/conda-forge" }, []string{
			`conda_channel: "https://ci:xxxxx@conda.internal/api/conda-forge" carries credentials`, "channel_alias", `conda_channel = "conda-forge"`}},
		{"conda_channel with a token", func(o *Options) { o.CondaChannel = "https://tok3n@conda.internal/conda-forge" }, []string{"conda_channel:", "carries credentials"}},
		{"index_url not http", func(o *Options) { o.IndexURL = "ftp://pypi.internal/simple" }, []string{"index_url:", "http(s)"}},
		{"index_url without host", func(o *Options) { o.IndexURL = "https:///simple" }, []string{"index_url:"}},
		{"index_url with a quote", func(o *Options) { o.IndexURL = "https://pypi.internal/'simple" }, []string{"index_url:", "quotes"}},
		{"extra_index_urls[1] bad", func(o *Options) {
			o.ExtraIndexURLs = []string{"https://ok.internal/simple", "pypi.internal/simple"}
		}, []string{"extra_index_urls[1]:", `"pypi.internal/simple"`}},
		{"extra_pip_packages bad", func(o *Options) { o.ExtraPipPackages = []string{"flake8", "notebook; rm -rf /"} }, []string{"extra_pip_packages[1]:"}},
		{"extra_pip_packages with an option", func(o *Options) { o.ExtraPipPackages = []string{"--pre"} }, []string{"extra_pip_packages[0]:"}},
		{"environment_vars without =", func(o *Options) { o.EnvironmentVars = []string{"A=1", "NOVALUE"} }, []string{"environment_vars[1]:", `"NOVALUE"`}},
		{"environment_vars bad key", func(o *Options) { o.EnvironmentVars = []string{"1A=x"} }, []string{"environment_vars[0]:"}},
		{"environment_vars key with a dash", func(o *Options) { o.EnvironmentVars = []string{"MY-VAR=x"} }, []string{"environment_vars[0]:"}},
		{"secret_environment_vars without =", func(o *Options) { o.SecretEnvironmentVars = []string{"A=1", "s3cr3t"} }, []string{"secret_environment_vars[1]:", "KEY=value"}},
		{"secret_environment_vars also public", func(o *Options) {
			o.EnvironmentVars = []string{"HTTPS_PROXY=http://proxy.internal:3128"}
			o.SecretEnvironmentVars = []string{"HTTPS_PROXY=http://ci:pw@proxy.internal:3128"}
		}, []string{"secret_environment_vars[0]:", "HTTPS_PROXY is also set in environment_vars"}},
		{"network_retries negative", func(o *Options) { o.NetworkRetries = intPtr(-1) }, []string{"network_retries:", "-1", "out of range"}},
		{"network_retries too many", func(o *Options) { o.NetworkRetries = intPtr(21) }, []string{"network_retries:", "21", "out of range"}},
		{"download_stall_timeout under a second", func(o *Options) { o.DownloadStallTimeout = 500 * time.Millisecond }, []string{"download_stall_timeout:", "500ms", "out of range", "1s to 1h"}},
		{"download_connect_timeout over an hour", func(o *Options) { o.DownloadConnectTimeout = 2 * time.Hour }, []string{"download_connect_timeout:", "2h0m0s", "out of range"}},
		{"min_free_disk_gb negative", func(o *Options) { o.MinFreeDiskGB = intPtr(-5) }, []string{"min_free_disk_gb:", "-5"}},
		{"verify.imports bad", func(o *Options) { o.Verify.Imports = []string{"os", "import os; os.system('x')"} }, []string{"verify.imports[1]:"}},
		{"verify.imports dotted wrong", func(o *Options) { o.Verify.Imports = []string{"openhands..core"} }, []string{"verify.imports[0]:"}},
		{"verify.min_packages negative", func(o *Options) { o.Verify.MinPackages = intPtr(-1) }, []string{"verify.min_packages:"}},
		{"verify.commands empty", func(o *Options) { o.Verify.Commands = []string{"true", "  \t\n"} }, []string{"verify.commands[1]:", "empty"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := Options{SourceDir: fixture.SourceDir(t), VSCodeServerSHA256: testSHA}
			tt.modify(&o)
			errs := o.Prepare()
			if len(errs) != 1 {
				t.Fatalf("want one error, got %d: %q", len(errs), errs)
			}
			msg := errs[0].Error()
			for _, want := range tt.want {
				if !strings.Contains(msg, want) {
					t.Errorf("error %q does not contain %q", msg, want)
				}
			}
		})
	}
}

func TestPrepareReportsEveryError(t *testing.T) {
	o := Options{
		SourceDir: filepath.Join(t.TempDir(), "missing"),
		Layout: Layout{
			Prefix:        "relative",
			User:          "Bad User",
			PythonVersion: "three",
			Verify:        Verify{Imports: []string{"not a module"}, Commands: []string{""}},
		},
		UID:              intPtr(70000),
		Platform:         "windows-11",
		MicromambaURL:    "https://example.com/micromamba",
		UVURL:            "https://example.com/uv",
		UVSHA256:         "nothex",
		IndexURL:         "ftp://user:hunter2@pypi.internal/simple",
		ExtraIndexURLs:   []string{"https://ok.internal/simple", "nope"},
		ExtraPipPackages: []string{"$(reboot)"},
		EnvironmentVars:  []string{"=x"},
		NetworkRetries:   intPtr(99),
	}
	errs := o.Prepare()
	var msgs []string
	for _, e := range errs {
		msgs = append(msgs, e.Error())
	}
	all := strings.Join(msgs, "\n")
	for _, option := range []string{
		"source_dir:", "prefix:", "user:", "uid:", "python_version:", "platform:",
		"micromamba_sha256:", "uv_sha256:", "index_url:", "extra_index_urls[1]:",
		"extra_pip_packages[0]:", "environment_vars[0]:", "network_retries:",
		"verify.imports[0]:", "verify.commands[0]:", "vscode_server_sha256:",
	} {
		n := 0
		for _, m := range msgs {
			if strings.HasPrefix(m, option) {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%d errors start with %q; errors:\n%s", n, option, all)
		}
	}
	if len(errs) != 16 {
		t.Errorf("want 16 errors, got %d:\n%s", len(errs), all)
	}
	if strings.Contains(all, "hunter2") {
		t.Errorf("an error shows the index_url password:\n%s", all)
	}
}

func TestSecrets(t *testing.T) {
	tests := []struct {
		name string
		o    Options
		want []string
	}{
		{"none", Options{IndexURL: "https://pypi.internal/simple"}, nil},
		{"index_url password", Options{IndexURL: "https://builder:s3cr3t@pypi.internal/simple"}, []string{"s3cr3t"}},
		{"escaped password", Options{IndexURL: "https://builder:p%40ss@pypi.internal/simple"}, []string{"p@ss", "p%40ss"}}, // output may show either form,
		{"token as user name", Options{IndexURL: "https://tok3n@pypi.internal/simple"}, []string{"tok3n"}},
		{"every URL option", Options{
			IndexURL:       "https://u:one@a/simple",
			ChannelAlias:   "https://u:two@b",
			MicromambaURL:  "https://u:three@c/mm",
			UVURL:          "https://u:four@d/uv",
			ExtraIndexURLs: []string{"https://e/simple", "https://u:five@f/simple"},
		}, []string{"one", "two", "three", "four", "five"}},
		// A secret variable's whole value; a proxy's password, as written and decoded.
		{"environment variables", Options{
			EnvironmentVars:       []string{"NO_PROXY=localhost", "HTTPS_PROXY=http://u:p%40ss@proxy:3128", "HOSTS=socks5://tok3n@a,http://u:two@b"},
			SecretEnvironmentVars: []string{"EMPTY=", "API_TOKEN=t0ken"},
		}, []string{"p@ss", "p%40ss", "tok3n", "two", "t0ken"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.o.Secrets(); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Secrets() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestRedactURL(t *testing.T) {
	tests := []struct {
		raw, want, secret string
	}{
		{"https://pypi.internal/simple", "https://pypi.internal/simple", ""},
		{"https://builder:s3cr3t@pypi.internal/simple", "https://builder:xxxxx@pypi.internal/simple", "s3cr3t"},
		{"https://builder:p%40ss@pypi.internal/simple", "https://builder:xxxxx@pypi.internal/simple", "p%40ss"},
		{"https://builder:p@ss@pypi.internal/simple", "https://builder:xxxxx@pypi.internal/simple", "p@ss"},
		{"ftp://builder:s3cr3t@pypi.internal/simple", "ftp://builder:xxxxx@pypi.internal/simple", "s3cr3t"},
		{"https://pypi.internal/pkg@1.0", "https://pypi.internal/pkg@1.0", ""},
		// Strings that do not parse must not show their password either: they are exactly
		// the ones the validation errors print.
		{"https://builder:s3cr3t@pypi internal/simple", "", "s3cr3t"},
		{"https://builder:s3/cr3t@pypi.internal/simple", "", "s3/cr3t"},
		{"https://builder:s3cr3t@pypi.internal/%zz", "", "s3cr3t"},
		{"builder:s3cr3t@pypi.internal/simple", "", "s3cr3t"},
		{"not a url", "not a url", ""},
	}
	for _, tt := range tests {
		got := RedactURL(tt.raw)
		if tt.want != "" && got != tt.want {
			t.Errorf("RedactURL(%q) = %q, want %q", tt.raw, got, tt.want)
		}
		if tt.secret != "" && strings.Contains(got, tt.secret) {
			t.Errorf("RedactURL(%q) = %q shows the password", tt.raw, got)
		}
	}
}

// TestSecretsAndRedactionAgree checks the promise the provisioner relies on: a password in
// index_url is a secret and never appears in the redacted URL or in an error message.
func TestSecretsAndRedactionAgree(t *testing.T) {
	const password = "Pa55-w0rd_Q"
	for _, raw := range []string{
		"https://builder:" + password + "@pypi.internal/simple",
		"http://builder:" + password + "@pypi.internal:8080/simple/",
	} {
		o := Options{SourceDir: fixture.SourceDir(t), IndexURL: raw, VSCodeServerSHA256: testSHA}
		if errs := o.Prepare(); len(errs) != 0 {
			t.Fatalf("Prepare: %v", errs)
		}
		if got := o.Secrets(); !reflect.DeepEqual(got, []string{password}) {
			t.Errorf("Secrets() = %q, want the password", got)
		}
		if r := RedactURL(raw); strings.Contains(r, password) {
			t.Errorf("RedactURL(%q) = %q", raw, r)
		}
		// The same URL with a typo: the error names index_url, never the password.
		o = Options{SourceDir: fixture.SourceDir(t), IndexURL: strings.Replace(raw, "http", "htp", 1), VSCodeServerSHA256: testSHA}
		errs := o.Prepare()
		if len(errs) != 1 || !strings.HasPrefix(errs[0].Error(), "index_url:") {
			t.Fatalf("Prepare: %v", errs)
		}
		if strings.Contains(errs[0].Error(), password) {
			t.Errorf("error %q shows the password", errs[0])
		}
	}
}
