package plan

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openhands-runtime/packer-plugin-openhands/acctest/fixture"
)

// libFunctions renders the debian-12 script and returns everything before its last line,
// `oh_main "$@"`: the options and every function, without running a step.
func libFunctions(t *testing.T) string {
	t.Helper()
	return libFunctionsFor(t, "debian-12")
}

// libFunctionsFor is libFunctions for the plan of another platform.
func libFunctionsFor(t *testing.T, platform string) string {
	t.Helper()
	return libFunctionsOf(t, Options{Platform: platform})
}

// libFunctionsOf is libFunctions for the plan of other options.
func libFunctionsOf(t *testing.T, o Options) string {
	t.Helper()
	o.SourceDir, o.VSCodeServerSHA256 = fixture.SourceDir(t), testSHA
	if errs := o.Prepare(); len(errs) != 0 {
		t.Fatalf("Prepare: %v", errs)
	}
	return planFunctions(t, New(o, goldenInputs))
}

// planFunctions writes the plan's script without its call of oh_main, for harnesses to source.
func planFunctions(t *testing.T, p *Plan) string {
	t.Helper()
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("bash is not installed")
	}
	script := p.Script("test")
	const last = "\noh_main \"$@\"\n"
	if !strings.HasSuffix(script, last) {
		t.Fatalf("the script does not end with %q", last)
	}
	path := filepath.Join(t.TempDir(), "functions.sh")
	if err := os.WriteFile(path, []byte(strings.TrimSuffix(script, last)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// shellResult is what a harness run printed (stdout and stderr together) and its status.
type shellResult struct {
	out  string
	code int
}

// runHelper sources the script's functions into bash, points the OH_* directories at temp
// dirs, makes sleep a no-op, applies env, then runs body. The script's own `exec 2>&1` makes
// every message part of out.
func runHelper(t *testing.T, functions, body string, env ...string) shellResult {
	t.Helper()
	root := t.TempDir()
	harness := fmt.Sprintf(`source %s
sleep() { :; }
export OH_PREFIX=%s/prefix OH_STAMPS=%s/stamps OH_ARCH=x86_64 OH_NETWORK_RETRIES=0 OH_DOWNLOAD_CONNECT_TIMEOUT=3 OH_DOWNLOAD_STALL_TIMEOUT=3
%s
%s
`, shellQuote(functions), shellQuote(root), shellQuote(root), strings.Join(env, "\n"), body)
	path := filepath.Join(root, "harness.sh")
	if err := os.WriteFile(path, []byte(harness), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", path)
	cmd.Dir = root
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	code := 0
	if err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			t.Fatalf("bash: %v", err)
		}
		code = ee.ExitCode()
	}
	return shellResult{out: string(out), code: code}
}

// fileServer serves fixed files on 127.0.0.1 and counts the requests for each path.
type fileServer struct {
	*httptest.Server
	mu   sync.Mutex
	hits map[string]int
}

func newFileServer(t *testing.T, files map[string][]byte) *fileServer {
	t.Helper()
	fs := &fileServer{hits: map[string]int{}}
	fs.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fs.mu.Lock()
		fs.hits[r.URL.Path]++
		fs.mu.Unlock()
		data, ok := files[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Write(data)
	}))
	t.Cleanup(fs.Close)
	if !strings.HasPrefix(fs.URL, "http://127.0.0.1:") {
		t.Fatalf("the test server listens on %s, not 127.0.0.1", fs.URL)
	}
	return fs
}

func (fs *fileServer) count(path string) int {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return fs.hits[path]
}

// withUserInfo puts user:password@ into a URL of the test server.
func withUserInfo(raw, user, password string) string {
	u, _ := url.Parse(raw)
	u.User = url.UserPassword(user, password)
	return u.String()
}

func sha256Hex(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// tarGz packs files, in the order given, into a .tar.gz.
func tarGz(t *testing.T, files ...[2]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, f := range files {
		if err := tw.WriteHeader(&tar.Header{Name: f[0], Mode: 0o755, Size: int64(len(f[1])), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(f[1])); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestLibInstallBinary(t *testing.T) {
	functions := libFunctions(t)
	bare := []byte("#!/bin/sh\necho bare-binary-ran\n")
	uv := "#!/bin/sh\necho uv-from-archive\n"
	archive := tarGz(t,
		[2]string{"uv-x86_64-unknown-linux-gnu/uvx", "#!/bin/sh\necho wrong-file\n"},
		[2]string{"uv-x86_64-unknown-linux-gnu/uv", uv},
	)
	srv := newFileServer(t, map[string][]byte{
		"/micromamba-linux-64":                   bare,
		"/uv-x86_64-unknown-linux-gnu.tar.gz":    archive,
		"/empty.tar.gz":                          tarGz(t, [2]string{"dir/other", "x"}),
		"/releases/download/1.0/mismatch-binary": []byte("not what was pinned"),
	})
	const password = "pa55-W0rd-lib"

	tests := []struct {
		name, url, sum, tool string
		supplied             string // "archive" for the uv release archive, else a script
		option               string // the option the sum came from
		retries              int
		wantCode             int
		wantRan              string   // what the installed binary prints when it ran
		wantOut              []string // substrings of the output
		path                 string   // the server path, for the request count
		wantRequests         int
	}{
		{
			name: "bare binary", tool: "micromamba", url: srv.URL + "/micromamba-linux-64", sum: sha256Hex(bare),
			wantRan: "bare-binary-ran", path: "/micromamba-linux-64", wantRequests: 1,
		},
		{
			name: "bare binary from a URL with user info", tool: "micromamba",
			url: withUserInfo(srv.URL+"/micromamba-linux-64", "builder", password), sum: sha256Hex(bare),
			wantRan: "bare-binary-ran", path: "/micromamba-linux-64", wantRequests: 1,
		},
		{
			name: "tar.gz holding dir/uv", tool: "uv", url: srv.URL + "/uv-x86_64-unknown-linux-gnu.tar.gz", sum: sha256Hex(archive),
			wantRan: "uv-from-archive", path: "/uv-x86_64-unknown-linux-gnu.tar.gz", wantRequests: 1,
		},
		{
			name: "tar.gz without the tool", tool: "uv", url: srv.URL + "/empty.tar.gz", sum: sha256Hex(tarGz(t, [2]string{"dir/other", "x"})),
			wantCode: 1, wantOut: []string{"holds no file called uv"}, path: "/empty.tar.gz", wantRequests: 1,
		},
		{
			name: "checksum mismatch", tool: "micromamba",
			url: withUserInfo(srv.URL+"/releases/download/1.0/mismatch-binary", "builder", password),
			sum: testSHA, retries: 1, wantCode: 1,
			wantOut: []string{
				"micromamba: checksum mismatch for http://****@127.0.0.1:",
				"on x86_64: expected sha256 " + testSHA + " (the plugin's pinned sum)",
				"got " + sha256Hex([]byte("not what was pinned")),
				"not retried",
			},
			// A mismatch is no network failure: one request, whatever the retries.
			path: "/releases/download/1.0/mismatch-binary", wantRequests: 1,
		},
		{
			name: "checksum mismatch of the user's sum", tool: "uv", option: `uv_sha256`,
			url: srv.URL + "/releases/download/1.0/mismatch-binary", sum: testSHA, retries: 2, wantCode: 1,
			wantOut: []string{
				"openhands-runtime: uv_sha256: checksum mismatch for http://127.0.0.1:",
				"on x86_64: expected sha256 " + testSHA + ", got",
				"not retried. Set uv_sha256 to the SHA-256 of the x86_64 file",
			},
			path: "/releases/download/1.0/mismatch-binary", wantRequests: 1,
		},
		{
			name: "supplied tar.gz holding dir/uv", tool: "uv", supplied: "archive",
			wantRan: "uv-from-archive",
		},
		{
			// A mirror that accepts the connection and never answers fails the attempt once
			// OH_DOWNLOAD_STALL_TIMEOUT (3s here) passes without a byte, naming the URL.
			name: "stalled mirror", tool: "uv", url: withUserInfo("http://"+fixture.StalledServer(t)+"/uv.tar.gz", "builder", password),
			sum: testSHA, retries: 0, wantCode: 1,
			wantOut: []string{"download of http://****@127.0.0.1:", "/uv.tar.gz timed out", "no data for 3s", "download_stall_timeout"},
		},
		{
			name: "404 retried", tool: "uv", url: withUserInfo(srv.URL+"/missing/uv.tar.gz", "builder", password),
			sum: testSHA, retries: 1, wantCode: 1,
			wantOut: []string{"(attempt 1 of 2)", "after 2 attempts"},
			path:    "/missing/uv.tar.gz", wantRequests: 2,
		},
		{
			name: "404 without retries", tool: "uv", url: srv.URL + "/missing/uv", sum: testSHA, retries: 0, wantCode: 1,
			wantOut: []string{"after 1 attempts"}, path: "/missing/uv", wantRequests: 1,
		},
		{
			name: "supplied file", tool: "uv", supplied: "SUPPLIED", url: "", sum: "",
			wantRan: "supplied-ran",
		},
		{
			name: "no URL and nothing supplied", tool: "uv", url: "", sum: "", wantCode: 1,
			wantOut: []string{"uv: no pinned download for x86_64", "uv_url", "uv_path"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := 0
			if tt.path != "" {
				before = srv.count(tt.path)
			}
			supplied := "''"
			if tt.supplied != "" {
				supplied = `"$PWD/supplied"`
			}
			write := `printf '#!/bin/sh\necho supplied-ran\n' >supplied`
			if tt.supplied == "archive" {
				write = "printf '%s' " + shellQuote(base64.StdEncoding.EncodeToString(archive)) + " | base64 -d >supplied"
			}
			body := write + `
set +e
(oh_install_binary ` + tt.tool + ` ` + supplied + ` ` + shellQuote(tt.url) + ` ` + shellQuote(tt.sum) + ` "$OH_PREFIX/bin/` + tt.tool + `" ` + shellQuote(tt.option) + `)
rc=$?
set -e
echo "status=$rc"
if [ -e "$OH_PREFIX/bin/` + tt.tool + `" ]; then
	ls -l "$OH_PREFIX/bin/` + tt.tool + `" | cut -c1-10
	"$OH_PREFIX/bin/` + tt.tool + `"
else
	echo "not installed"
fi
exit "$rc"`
			res := runHelper(t, functions, body, fmt.Sprintf("OH_NETWORK_RETRIES=%d", tt.retries))
			t.Logf("output:\n%s", res.out)
			if res.code != tt.wantCode {
				t.Errorf("exit status %d, want %d", res.code, tt.wantCode)
			}
			if tt.wantRan != "" {
				for _, want := range []string{"-rwxr-xr-x", tt.wantRan} {
					if !strings.Contains(res.out, want) {
						t.Errorf("output does not contain %q", want)
					}
				}
			} else if !strings.Contains(res.out, "not installed") {
				t.Error("a failed install left a file at the destination")
			}
			for _, want := range tt.wantOut {
				if !strings.Contains(res.out, want) {
					t.Errorf("output does not contain %q", want)
				}
			}
			for _, secret := range []string{password, "builder:"} {
				if strings.Contains(res.out, secret) {
					t.Errorf("output shows the URL's user info %q", secret)
				}
			}
			if tt.path != "" {
				if got := srv.count(tt.path) - before; got != tt.wantRequests {
					t.Errorf("%d requests for %s, want %d", got, tt.path, tt.wantRequests)
				}
			}
		})
	}
}

// TestLibFetchWithWget runs oh_fetch_checked where curl is missing, so wget downloads.
func TestLibFetchWithWget(t *testing.T) {
	functions := libFunctions(t)
	bin := t.TempDir()
	for _, tool := range []string{"wget", "sha256sum", "cut", "mv", "rm", "sed", "cat", "bash"} {
		path, err := exec.LookPath(tool)
		if err != nil {
			t.Skipf("%s is not installed", tool)
		}
		if err := os.Symlink(path, filepath.Join(bin, tool)); err != nil {
			t.Fatal(err)
		}
	}
	data := []byte("fetched with wget\n")
	srv := newFileServer(t, map[string][]byte{"/file": data})
	const password = "wget-pa55"
	u := withUserInfo(srv.URL+"/file", "builder", password)
	res := runHelper(t, functions, `PATH=`+shellQuote(bin)+`
oh_fetch_checked `+shellQuote(u)+` `+sha256Hex(data)+` "$PWD/got" && cat "$PWD/got"
oh_fetch_checked `+shellQuote(u)+` `+testSHA+` "$PWD/bad" || echo "mismatch status=$?"
[ -e "$PWD/bad" ] || [ -e "$PWD/bad.part" ] || echo "nothing left"
oh_fetch_checked `+shellQuote("http://"+fixture.StalledServer(t)+"/file")+` `+testSHA+` "$PWD/stalled" || echo "stalled status=$?"`)
	for _, want := range []string{"fetched with wget", "mismatch status=90", "expected sha256 " + testSHA, "got " + sha256Hex(data), "nothing left",
		// wget gives up once OH_DOWNLOAD_STALL_TIMEOUT (3s here) passes without data, after one try.
		"/file failed: network error, or no connection within 3s or no data for 3s", "stalled status=4"} {
		if !strings.Contains(res.out, want) {
			t.Errorf("output does not contain %q:\n%s", want, res.out)
		}
	}
	if strings.Contains(res.out, password) {
		t.Errorf("output shows the password:\n%s", res.out)
	}
}

func TestLibRetry(t *testing.T) {
	functions := libFunctions(t)
	res := runHelper(t, functions, `n=0
flaky() { n=$((n + 1)); [ "$n" -ge 3 ]; }
oh_retry flaky && echo "succeeded after $n"
oh_retry false || echo "false failed with $?"
calls=0
mismatch() { calls=$((calls + 1)); return "$OH_EXIT_NO_RETRY"; }
oh_retry mismatch || echo "mismatch failed with $? after $calls call"`, "OH_NETWORK_RETRIES=3")
	for _, want := range []string{
		// Pauses double from 5s, with up to half again of jitter.
		`command failed with exit code 1 \(attempt 1 of 4\), retrying in [5-7]s: flaky`,
		`\(attempt 2 of 4\), retrying in (1[0-5])s: flaky`,
		`succeeded after 3`,
		`\(attempt 3 of 4\), retrying in (2[0-9]|30)s: false`,
		`command failed with exit code 1 after 4 attempts: false`,
		`false failed with 1`,
		`command failed, not retried \(another attempt would fail the same way\): mismatch`,
		`mismatch failed with 90 after 1 call`,
	} {
		if !regexp.MustCompile(want).MatchString(res.out) {
			t.Errorf("output does not match %q:\n%s", want, res.out)
		}
	}
}

func TestLibRedact(t *testing.T) {
	functions := libFunctions(t)
	tests := map[string]string{
		"https://user:pw@host/path":        "https://****@host/path",
		"https://token@host/path":          "https://****@host/path",
		"https://host/path":                "https://host/path",
		"https://host/pkg@1.0":             "https://host/pkg@1.0",
		"http://u:p@127.0.0.1:8080/x?a=b@": "http://****@127.0.0.1:8080/x?****",
		"https://bucket.s3.amazonaws.com/uv.tar.gz?X-Amz-Credential=AKIA&X-Amz-Signature=pw": "https://bucket.s3.amazonaws.com/uv.tar.gz?****",
		"https://host/simple?token=pw": "https://host/simple?****",
	}
	for in, want := range tests {
		res := runHelper(t, functions, `oh_redact `+shellQuote(in)+`; echo`)
		if got := strings.TrimSuffix(res.out, "\n"); got != want {
			t.Errorf("oh_redact %q = %q, want %q", in, got, want)
		}
	}
}

func TestLibSetLine(t *testing.T) {
	functions := libFunctions(t)
	res := runHelper(t, functions, `f=$PWD/environment
printf 'LANG=C.UTF-8\nPATH="/usr/bin"\n# a comment with PATH=\nOH_INTERPRETER_PATH=/old\nPATHS=keep\n' >"$f"
chmod 0640 "$f"
for i in 1 2; do
	oh_set_line "$f" PATH 'PATH="/openhands/bin:/usr/bin"'
	oh_set_line "$f" OH_INTERPRETER_PATH "OH_INTERPRETER_PATH=/openhands/python"
	oh_set_line "$PWD/new-file" KEY "KEY=value"
done
cat "$f"
echo ---
cat "$PWD/new-file"
echo ---
stat -c %a "$f"`)
	want := `LANG=C.UTF-8
# a comment with PATH=
PATHS=keep
PATH="/openhands/bin:/usr/bin"
OH_INTERPRETER_PATH=/openhands/python
---
KEY=value
---
640
`
	if res.code != 0 || res.out != want {
		t.Errorf("status %d, output:\n%s\nwant:\n%s", res.code, res.out, want)
	}
}

func TestLibSetBlock(t *testing.T) {
	functions := libFunctions(t)
	res := runHelper(t, functions, `f=$PWD/bashrc
printf '# ~/.bashrc\nalias ll="ls -l"\n# >>> openhands runtime >>>\nold block line\n# <<< openhands runtime <<<\nexport EDITOR=vi\n' >"$f"
chmod 0600 "$f"
for i in 1 2 3; do
	oh_set_block "$f" <<-BLOCK
	export MAMBA_ROOT_PREFIX='/openhands/micromamba'
	micromamba activate 'openhands'
	BLOCK
done
oh_set_block "$PWD/empty" </dev/null
oh_set_block "$PWD/empty" </dev/null
cat "$f"
echo ---
cat "$PWD/empty"
echo ---
stat -c %a "$f"`)
	want := `# ~/.bashrc
alias ll="ls -l"
export EDITOR=vi
# >>> openhands runtime >>>
export MAMBA_ROOT_PREFIX='/openhands/micromamba'
micromamba activate 'openhands'
# <<< openhands runtime <<<
---
# >>> openhands runtime >>>
# <<< openhands runtime <<<
---
600
`
	if res.code != 0 || res.out != want {
		t.Errorf("status %d, output:\n%s\nwant:\n%s", res.code, res.out, want)
	}
}

func TestLibMissingPackages(t *testing.T) {
	functions := libFunctions(t)
	// One query for every name: a second run checks the packages in one process.
	stubs := `oh_pkg_installed_names() {
	echo "query $*" >>queries
	for name in "$@"; do
		case $name in
		present | b | libgl1-mesa-glx | opt-present) printf '%s\n' "$name" ;;
		esac
	done
}
oh_pkg_available() {
	case $1 in
	absent | d | libgl1-mesa-glx) return 0 ;;
	esac
	return 1
}
`
	tests := []struct {
		name, body, want string
	}{
		{
			name: "missing",
			body: `oh_missing_packages present absent 'a|b' 'c|d' 'libgl1|libgl1-mesa-glx' '?opt-present' '?opt-absent' '?e|f'`,
			want: "absent\nc|d\n?opt-absent\n?e|f\n",
		},
		{
			name: "one query",
			body: `oh_missing_packages present absent 'a|b' '?opt-present' >/dev/null; cat queries`,
			want: "query present absent a b opt-present\n",
		},
		{
			// A name that is a prefix or suffix of an installed one is still missing.
			name: "whole names only",
			body: `oh_missing_packages pres resent 'x|presen'`,
			want: "pres\nresent\nx|presen\n",
		},
		{
			name: "nothing missing",
			body: `oh_missing_packages present 'a|b' '?opt-present'; echo "[$(oh_missing_packages present)]"`,
			want: "[]\n",
		},
		{
			// The system-packages step expands the list unquoted under set -f: "?x" must
			// stay a word even when a file name matches it as a pattern.
			name: "the step's word splitting",
			body: `touch ax; OH_SYSTEM_PACKAGES='present ?x a|b'; set -f; oh_missing_packages $OH_SYSTEM_PACKAGES`,
			want: "?x\n",
		},
		{
			name: "pick available",
			body: `for spec in absent 'c|d' 'libgl1|libgl1-mesa-glx' '?opt-absent' 'g|h'; do printf '%s -> [%s]\n' "$spec" "$(oh_pick_available "$spec" 2>/dev/null)"; done
oh_pick_available '?opt-absent' 2>&1 >/dev/null | sed 's/^/stderr: /'`,
			want: "absent -> [absent]\nc|d -> [d]\nlibgl1|libgl1-mesa-glx -> [libgl1-mesa-glx]\n?opt-absent -> []\ng|h -> [g]\n" +
				"stderr: notice: opt-absent is not in this platform's repositories; skipped\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := runHelper(t, functions, stubs+tt.body)
			if res.code != 0 || res.out != tt.want {
				t.Errorf("status %d, output:\n%s\nwant:\n%s", res.code, res.out, tt.want)
			}
		})
	}
}

func TestLibPickID(t *testing.T) {
	functions := libFunctions(t)
	// getent answers from TAKEN_PASSWD and TAKEN_GROUP; uid/gid 1000 belongs to OWNER_1000
	// (ec2-user by default). userdel and groupdel take the ids out of those lists; whether
	// the plan makes a container image comes from IN_CONTAINER, never from the test machine.
	stub := `getent() {
	local ids taken name
	if [ "$1" = passwd ]; then ids=$TAKEN_PASSWD; else ids=$TAKEN_GROUP; fi
	for taken in $ids; do
		if [ -z "${2:-}" ] || [ "$taken" = "$2" ]; then
			name=user$taken
			[ "$taken" != 1000 ] || name=${OWNER_1000:-ec2-user}
			printf '%s:x:%s:%s::/home/%s:/bin/bash\n' "$name" "$taken" "$taken" "$name"
			[ -z "${2:-}" ] || return 0
		fi
	done
	[ -z "${2:-}" ] || return 2
}
userdel() { echo "userdel $*"; TAKEN_PASSWD=" $TAKEN_PASSWD "; TAKEN_PASSWD=${TAKEN_PASSWD// 1000 / }; }
groupdel() { echo "groupdel $*"; TAKEN_GROUP=" $TAKEN_GROUP "; TAKEN_GROUP=${TAKEN_GROUP// 1000 / }; }
oh_in_container() { [ -n "${IN_CONTAINER:-}" ]; }
`
	tests := []struct {
		name, uid, passwd, group string
		env                      []string
		wantCode                 int
		wantOut, notOut          []string
	}{
		{name: "1000 free", wantOut: []string{"id=1000"}},
		{name: "1000 taken", passwd: "1000", group: "1000", wantOut: []string{"id=1001"}},
		{name: "only gid 1000 taken", group: "1000", wantOut: []string{"id=1001"}},
		{name: "only uid 1000 taken", passwd: "1000", wantOut: []string{"id=1001"}},
		{name: "a run of taken ids", passwd: "1000 1001", group: "1002 1004", wantOut: []string{"id=1003"}},
		{name: "explicit uid free", uid: "1500", passwd: "1000", wantOut: []string{"id=1500"}},
		{
			name: "explicit uid taken", uid: "1000", passwd: "1000", group: "1000", wantCode: 1,
			wantOut: []string{"uid 1000", "option uid", "taken by user ec2-user"},
		},
		{
			name: "container: a base image user is removed", passwd: "1000", group: "1000",
			env:     []string{"IN_CONTAINER=1", "OWNER_1000=pn"},
			wantOut: []string{"userdel pn", "removed user pn of the base image, which held uid 1000", "groupdel pn", "id=1000"},
		},
		{
			name: "container: explicit uid freed too", uid: "1000", passwd: "1000", group: "1000",
			env:     []string{"IN_CONTAINER=1", "OWNER_1000=ubuntu"},
			wantOut: []string{"userdel ubuntu", "id=1000"},
		},
		{
			name: "container: the login user is never removed", passwd: "1000", group: "1000",
			env:     []string{"IN_CONTAINER=1", "SUDO_USER=ec2-user"},
			wantOut: []string{"id=1001"}, notOut: []string{"userdel", "groupdel"},
		},
		{
			name: "container: keep_uid_owner", passwd: "1000", group: "1000",
			env:     []string{"IN_CONTAINER=1", "OWNER_1000=pn", "OH_KEEP_UID_OWNER=1"},
			wantOut: []string{"id=1001"}, notOut: []string{"userdel", "groupdel"},
		},
		{
			name: "machine: nobody is removed", passwd: "1000", group: "1000",
			env:     []string{"OWNER_1000=pn"},
			wantOut: []string{"id=1001"}, notOut: []string{"userdel", "groupdel"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := runHelper(t, functions, stub+`id_=$(oh_pick_id)
echo "id=$id_"`,
				append([]string{"OH_UID=" + shellQuote(tt.uid), "TAKEN_PASSWD=" + shellQuote(tt.passwd), "TAKEN_GROUP=" + shellQuote(tt.group),
					"OH_USER=openhands", "OH_KEEP_UID_OWNER="}, tt.env...)...)
			if res.code != tt.wantCode {
				t.Errorf("exit status %d, want %d; output:\n%s", res.code, tt.wantCode, res.out)
			}
			for _, want := range tt.wantOut {
				if !strings.Contains(res.out, want) {
					t.Errorf("output does not contain %q:\n%s", want, res.out)
				}
			}
			for _, not := range tt.notOut {
				if strings.Contains(res.out, not) {
					t.Errorf("output contains %q:\n%s", not, res.out)
				}
			}
			if tt.wantCode != 0 && strings.Contains(res.out, "id=") {
				t.Errorf("the user step would go on after the refusal:\n%s", res.out)
			}
		})
	}
}

func TestLibStamps(t *testing.T) {
	functions := libFunctions(t)
	res := runHelper(t, functions, `oh_stamp_matches code abc && echo "matched before"
oh_stamp_write code abc
oh_stamp_matches code abc && echo "matched"
oh_stamp_matches code abd || echo "other value"
cat "$OH_STAMPS/code"`)
	if want := "matched\nother value\nabc\n"; res.out != want {
		t.Errorf("output:\n%s\nwant:\n%s", res.out, want)
	}
}

func TestLibOneLine(t *testing.T) {
	functions := libFunctions(t)
	res := runHelper(t, functions, `oh_one_line "$(printf 'first\nsecond\n\n   \n')"
oh_one_line "$(printf '%0400d' 0)" | wc -c`)
	if want := "second\n301\n"; res.out != want {
		t.Errorf("output %q, want %q", res.out, want)
	}
}

func TestLibRunStep(t *testing.T) {
	functions := libFunctions(t)
	steps := `OH_STEP_COUNT=9
oh_step_fails_first_run() {
	false
	echo "went on after a failing command"
}
oh_step_pipe_run() {
	false | true
	echo "went on after a failing pipeline"
}
oh_step_unset_run() {
	echo "$NO_SUCH_VARIABLE"
	echo "went on after an unset variable"
}
oh_step_counted_check() { [ -e "$PWD/done" ]; }
oh_step_counted_run() {
	touch "$PWD/done"
	echo "counted ran"
}
oh_step_always_run() { echo "always ran"; }
OH_SECRET_X=v
oh_step_env_run() { bash -c 'echo "child sees [${OH_SECRET_X:-}]"'; }
`
	tests := []struct {
		name     string
		body     string
		wantCode int
		want     []string
		notWant  []string
	}{
		{
			name: "a failing command fails the step", body: `oh_run_step 1 fails-first root 'stamp1' ''; echo "plan went on"`,
			wantCode: 1,
			want:     []string{"[1/9] fails-first", "openhands-runtime: step fails-first failed with exit code 1"},
			notWant:  []string{"went on after", "plan went on", "done in"},
		},
		{
			name: "a failing pipeline fails the step", body: `oh_run_step 2 pipe root '' ''`,
			wantCode: 1, want: []string{"step pipe failed with exit code 1"}, notWant: []string{"went on after"},
		},
		{
			name: "an unset variable fails the step", body: `oh_run_step 3 unset root '' ''`,
			wantCode: 1, want: []string{"step unset failed"}, notWant: []string{"went on after"},
		},
		{
			name: "a failed step writes no stamp", body: `oh_run_step 1 fails-first root 'stamp1' ''`,
			wantCode: 1, notWant: []string{"done in"},
		},
		{
			name: "a failed step writes no stamp, a good one does",
			body: `set +e
(oh_run_step 1 fails-first root 'stamp1' '')
set -e
oh_run_step 4 counted root 'v1' ''
grep -r . "$OH_STAMPS"`,
			want: []string{"/counted:v1"}, notWant: []string{"stamp1", "fails-first:"},
		},
		{
			// A step that fails under new options leaves no record of the old ones: a run with
			// the old options again must not skip it, since the failed run changed its work.
			name: "a failed step drops its earlier stamp",
			body: `oh_stamp_write fails-first old
set +e
(oh_run_step 1 fails-first root 'new' '')
set -e
for f in "$OH_STAMPS"/*; do echo "stamp: ${f##*/}"; done; echo listed`,
			want: []string{"listed"}, notWant: []string{"stamp: fails-first"},
		},
		{
			name: "check and stamp skip a step",
			body: `oh_run_step 4 counted root 'v1' ''
oh_run_step 4 counted root 'v1' ''
oh_run_step 4 counted root 'v2' ''
cat "$OH_STAMPS/counted"`,
			want: []string{"counted ran", "[4/9] counted: done in", "[4/9] counted: skipped (already done)", "v2"},
		},
		{
			name: "a step without a check always runs",
			body: `oh_run_step 5 always root '' ''; oh_run_step 5 always root '' ''`,
			// The time is whole seconds, 0 or 1 by when the step started: not compared.
			want:    []string{"always ran\n[5/9] always: done in ", "\n[5/9] always\nalways ran\n"},
			notWant: []string{"skipped"},
		},
		{
			// cleanup's check: nothing to clean when no skippable step did work.
			name: "only steps with a check that ran count as changes",
			body: `oh_run_step 5 always root '' ''
echo "after always: [$OH_CHANGED]"
oh_run_step 4 counted root 'v1' ''
oh_run_step 4 counted root 'v1' ''
echo "after counted: [$OH_CHANGED]"`,
			want: []string{"after always: []", "after counted: [ counted]"},
		},
		{
			// The plan's secrets are shell variables: only the steps that name them export them.
			name: "a step's secrets are exported for its run alone",
			body: `oh_run_step 6 env root '' '' 'OH_SECRET_X'
oh_run_step 7 env root '' ''`,
			want: []string{"[6/9] env\nchild sees [v]\n", "[7/9] env\nchild sees []\n"},
		},
		{
			name: "invalidated stamps are dropped",
			body: `oh_stamp_write dependencies d1; oh_stamp_write browser b1; oh_stamp_write other o1
oh_run_step 6 always root '' 'dependencies browser'
ls "$OH_STAMPS"`,
			want: []string{"always ran", "other\n"}, notWant: []string{"dependencies\n", "browser\n"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := runHelper(t, functions, steps+tt.body)
			if res.code != tt.wantCode {
				t.Errorf("exit status %d, want %d", res.code, tt.wantCode)
			}
			for _, want := range tt.want {
				if !strings.Contains(res.out, want) {
					t.Errorf("output does not contain %q:\n%s", want, res.out)
				}
			}
			for _, bad := range tt.notWant {
				if strings.Contains(res.out, bad) {
					t.Errorf("output contains %q:\n%s", bad, res.out)
				}
			}
		})
	}
}

// TestLibScrubUserinfo takes a URL's credentials out of the files under a directory: every
// occurrence, whatever characters the password holds, files without it untouched, owner and
// mode kept; a file it could not rewrite fails it, saying so.
func TestLibScrubUserinfo(t *testing.T) {
	functions := libFunctions(t)
	const meta = `{"channel": "https://ci:p.a$s*w^r~d&!@conda.internal/api/conda-forge", "url": "https://ci:p.a$s*w^r~d&!@conda.internal/api/conda-forge/python.conda"}`
	tests := []struct {
		name, url, body string
		wantCode        int
		want, wantOut   string
	}{
		{name: "credentials", url: "https://ci:p.a$s*w^r~d&!@conda.internal/api",
			want: `{"channel": "https://conda.internal/api/conda-forge", "url": "https://conda.internal/api/conda-forge/python.conda"}`},
		{name: "the host only", url: "https://ci:p.a$s*w^r~d&!@conda.internal",
			want: `{"channel": "https://conda.internal/api/conda-forge", "url": "https://conda.internal/api/conda-forge/python.conda"}`},
		{name: "no credentials", url: "https://conda.internal/api", want: meta},
		{name: "a file that cannot be rewritten", url: "https://ci:p.a$s*w^r~d&!@conda.internal/api", body: "sed() { return 1; }\n",
			wantCode: 1, want: meta, wantOut: "openhands-runtime: credentials of a URL are left in a file under "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			record := fixture.WriteFile(t, filepath.Join(dir, "envs", "openhands", "conda-meta"), "python.json", meta, 0o640)
			other := fixture.WriteFile(t, filepath.Join(dir, "pkgs"), "urls.txt", "https://conda.internal/api\n", 0o644)
			before, _ := os.Stat(other)
			res := runHelper(t, functions, tt.body+`oh_scrub_userinfo "$URL" "$DIR" || exit 1`, "URL="+shellQuote(tt.url), "DIR="+shellQuote(dir))
			if res.code != tt.wantCode || !strings.Contains(res.out, tt.wantOut) {
				t.Errorf("exit status %d, output %q; want %d, %q", res.code, res.out, tt.wantCode, tt.wantOut)
			}
			if got, _ := os.ReadFile(record); string(got) != tt.want {
				t.Errorf("the record is %s, want %s", got, tt.want)
			}
			if fi, _ := os.Stat(record); fi.Mode().Perm() != 0o640 {
				t.Errorf("the record's mode is %v", fi.Mode())
			}
			if after, _ := os.Stat(other); !after.ModTime().Equal(before.ModTime()) {
				t.Errorf("a file without credentials was rewritten")
			}
		})
	}
}

// TestPythonEnvScrubsAliasCredentials runs the python-env step of a plan whose channel_alias
// carries credentials, with a micromamba that records the channel's URL as the real one can:
// when the step passes, fails, or is stopped by a signal, no file keeps the credentials.
func TestPythonEnvScrubsAliasCredentials(t *testing.T) {
	const alias = "https://ci:pw-alias@conda.internal/api"
	functions := libFunctionsOf(t, Options{ChannelAlias: alias})
	mm := fixture.WriteFile(t, t.TempDir(), "micromamba", `#!/bin/bash
set -eu
case $1 in
create) mkdir -p "$MAMBA_ROOT_PREFIX/envs/$3/conda-meta" ;;
install)
	channel=$MAMBA_CHANNEL_ALIAS/conda-forge
	printf '{"channel": "%s", "url": "%s/python.conda"}\n' "$channel" "$channel" >"$MAMBA_ROOT_PREFIX/envs/$3/conda-meta/python.json"
	mkdir -p "$MAMBA_ROOT_PREFIX/pkgs/python/info"
	printf '{"url": "%s/python.conda"}\n' "$channel" >"$MAMBA_ROOT_PREFIX/pkgs/python/info/repodata_record.json"
	case $FAKE_END in
	fail) exit 1 ;;
	signal) kill -TERM "$PPID" ;;
	esac
	;;
esac
`, 0o755)
	for _, tt := range []struct {
		end  string
		code int
	}{{"pass", 0}, {"fail", 1}, {"signal", 143}} {
		t.Run(tt.end, func(t *testing.T) {
			res := runHelper(t, functions, `set +e
(oh_as root oh_step_python_env_run)
echo "status $?"
grep -rh conda.internal "$MAMBA_ROOT_PREFIX"`,
				"OH_CHANNEL_ALIAS="+alias, "OH_USER=root", "OH_MM="+mm, "export FAKE_END="+tt.end, `MAMBA_ROOT_PREFIX=$OH_PREFIX/micromamba`)
			if !strings.Contains(res.out, fmt.Sprintf("status %d\n", tt.code)) {
				t.Errorf("want status %d:\n%s", tt.code, res.out)
			}
			if strings.Contains(res.out, "pw-alias") || strings.Count(res.out, `"https://conda.internal/api/conda-forge`) != 3 {
				t.Errorf("the records are not scrubbed:\n%s", res.out)
			}
		})
	}
}

// TestLibRunStepAsUser runs a step as another user through runuser, like the dependencies
// and verify steps: its functions and exported options must reach it, and errexit too.
func TestLibRunStepAsUser(t *testing.T) {
	functions := libFunctions(t)
	if os.Geteuid() != 0 {
		unavailable(t, "runuser needs root")
	}
	if _, err := exec.LookPath("runuser"); err != nil {
		t.Skip("runuser is not installed")
	}
	if err := exec.Command("id", "-u", "nobody").Run(); err != nil {
		t.Skip("there is no user nobody")
	}
	res := runHelper(t, functions, `export OH_USER=nobody OH_SOME_OPTION='it'\''s exported'
oh_helper() { echo "helper as $(id -un): $OH_SOME_OPTION"; }
oh_step_mine_run() {
	oh_helper
	false
	echo "went on after a failing command"
}
OH_STEP_COUNT=1
oh_run_step 1 mine user '' ''`)
	if res.code != 1 {
		t.Errorf("exit status %d, want 1", res.code)
	}
	for _, want := range []string{"helper as nobody: it's exported", "step mine failed with exit code 1"} {
		if !strings.Contains(res.out, want) {
			t.Errorf("output does not contain %q:\n%s", want, res.out)
		}
	}
	if strings.Contains(res.out, "went on") {
		t.Errorf("the step went on after a failing command:\n%s", res.out)
	}
}

// TestLibInstallTree installs openvscode-server the way the vscode-server step does: from a
// supplied tarball or a checked download, the release directory holding the marker moved to
// the destination (replacing an older one), nothing left beside it.
func TestLibInstallTree(t *testing.T) {
	functions := libFunctions(t)
	release := tarGz(t,
		[2]string{"openvscode-server-v1.98.2-linux-x64/bin/openvscode-server", "#!/bin/sh\necho 1.98.2\n"},
		[2]string{"openvscode-server-v1.98.2-linux-x64/bin/remote-cli/openvscode-server", "#!/bin/sh\necho cli\n"},
	)
	srv := newFileServer(t, map[string][]byte{"/release.tar.gz": release, "/other.tar.gz": tarGz(t, [2]string{"x/bin/other", "x"})})
	tests := []struct {
		name, supplied, url, sum string
		wantCode                 int
		wantOut                  []string
		wantRequests             int
	}{
		{name: "supplied tarball", supplied: "release"},
		{name: "checked download", url: srv.URL + "/release.tar.gz", sum: sha256Hex(release), wantRequests: 1},
		{
			name: "download without a checksum", url: srv.URL + "/release.tar.gz", wantCode: 1,
			wantOut: []string{"vscode_server: no checksum for http://127.0.0.1:", "set vscode_server_sha256"},
		},
		{
			name: "checksum mismatch", url: srv.URL + "/release.tar.gz", sum: testSHA, wantCode: 1,
			wantOut: []string{"checksum mismatch", "expected sha256 " + testSHA}, wantRequests: 1,
		},
		{
			name: "tarball without the marker", url: srv.URL + "/other.tar.gz", sum: sha256Hex(tarGz(t, [2]string{"x/bin/other", "x"})), wantCode: 1,
			wantOut: []string{"vscode_server: the tarball holds no bin/openvscode-server"}, wantRequests: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := srv.count(strings.TrimPrefix(tt.url, srv.URL))
			supplied := ""
			if tt.supplied != "" {
				supplied = filepath.Join(t.TempDir(), "release.tar.gz")
				if err := os.WriteFile(supplied, release, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			res := runHelper(t, functions, fmt.Sprintf(`dest=$OH_PREFIX/.openvscode-server
mkdir -p "$dest/old-version-file"
oh_install_tree vscode_server bin/openvscode-server %s %s %s "$dest"
"$dest/bin/openvscode-server"
ls -A "$dest" | tr '\n' ' '; echo
ls -A "$OH_PREFIX" | tr '\n' ' '`, shellQuote(supplied), shellQuote(tt.url), shellQuote(tt.sum)))
			if res.code != tt.wantCode {
				t.Fatalf("exit status %d, want %d; output:\n%s", res.code, tt.wantCode, res.out)
			}
			for _, want := range tt.wantOut {
				if !strings.Contains(res.out, want) {
					t.Errorf("output does not contain %q:\n%s", want, res.out)
				}
			}
			if tt.url != "" {
				if got := srv.count(strings.TrimPrefix(tt.url, srv.URL)) - before; got != tt.wantRequests {
					t.Errorf("%d requests, want %d", got, tt.wantRequests)
				}
			}
			if tt.wantCode != 0 {
				return
			}
			// The release replaced what was there; no temporary directory is left in the prefix.
			if want := "1.98.2\nbin \n.openvscode-server "; res.out != want {
				t.Errorf("output %q, want %q", res.out, want)
			}
		})
	}
}

// TestSystemPackagesOptionalUnavailable runs the system-packages step of the Amazon Linux 2023
// plan against a package manager whose repositories lack ripgrep (optional there): the run
// skips it with a notice, and from then on the step's check passes, so a second run neither
// refreshes the repositories (which fails air-gapped) nor runs the step again. A required
// package that goes missing still makes the check fail.
func TestSystemPackagesOptionalUnavailable(t *testing.T) {
	functions := libFunctionsFor(t, "amzn-2023")
	// Installed: everything the plan lists but ripgrep, unless MISSING names one more.
	stubs := `oh_pkg_installed_names() {
	for name in "$@"; do
		[ "$name" = ripgrep ] || [ "$name" = "${MISSING:-}" ] || printf '%s\n' "$name"
	done
}
oh_pkg_available() { [ "$1" != ripgrep ]; }
oh_pkg_refresh() { echo refresh; }
oh_pkg_install() { echo "install $*"; }
oh_pkg_clean() { :; }
OH_FAMILY=dnf
` + renderedSystemPackages
	check := `if (set -euo pipefail; oh_step_system_packages_check) >/dev/null 2>&1; then echo check-passes; else echo check-fails; fi`
	res := runHelper(t, functions, stubs+check+`
(set -euo pipefail; oh_step_system_packages_run)
`+check+`
MISSING=jq
`+check, "FUNCTIONS="+shellQuote(functions))
	want := "check-fails\n" + // first run: ripgrep was never looked for
		"missing: ?ripgrep\nrefresh\nnotice: ripgrep is not in this platform's repositories; skipped\n" +
		"check-passes\n" + // second run: nothing to do
		"check-fails\n" // a required package removed since
	if res.code != 0 || res.out != want {
		t.Errorf("exit %d, output:\n%s\nwant:\n%s", res.code, res.out, want)
	}
}

// renderedSystemPackages sets OH_SYSTEM_PACKAGES as the rendered plan at $FUNCTIONS does.
const renderedSystemPackages = `OH_SYSTEM_PACKAGES=$(sed -n "s/^\t\tOH_SYSTEM_PACKAGES='\(.*\)'$/\1/p" "$FUNCTIONS" | head -n 1)
export OH_SYSTEM_PACKAGES
`

// TestSystemPackagesOptionalUnavailableWithDnf runs the AL2023 plan's own package functions
// (rpm and dnf command lines) against stand-in rpm and dnf executables: jq is missing and
// available, ripgrep missing and not packaged. The first run refreshes, installs jq and skips
// ripgrep with a notice; the second run's check passes, so it neither refreshes the
// repositories (which fails air-gapped) nor installs.
func TestSystemPackagesOptionalUnavailableWithDnf(t *testing.T) {
	functions := libFunctionsFor(t, "amzn-2023")
	dir := t.TempDir()
	fakes := filepath.Join(dir, "bin")
	installed, available, calls := filepath.Join(dir, "installed"), filepath.Join(dir, "available"), filepath.Join(dir, "calls")
	var have, offered []string
	for _, spec := range SystemPackages[FamilyDnf] {
		if spec != "?ripgrep" {
			offered = append(offered, spec)
			if spec != "jq" {
				have = append(have, spec)
			}
		}
	}
	for path, body := range map[string]string{
		installed: strings.Join(have, "\n") + "\n",
		available: strings.Join(offered, "\n") + "\n",
		// rpm -q --qf '%{NAME}\n' NAME...: the installed names, a line for each other; the
		// status counts those.
		filepath.Join(fakes, "rpm"): `#!/bin/bash
echo "rpm $*" >>"$CALLS"
[ "$1 $2 $3" = "-q --qf %{NAME}\n" ] || { echo "rpm stand-in: unexpected arguments: $*" >&2; exit 2; }
shift 3
missing=0
for name in "$@"; do
	if grep -qxF "$name" "$INSTALLED"; then printf '%s\n' "$name"; else echo "package $name is not installed"; missing=$((missing + 1)); fi
done
exit "$missing"
`,
		filepath.Join(fakes, "dnf"): `#!/bin/bash
echo "dnf $*" >>"$CALLS"
case "$*" in
"-q makecache" | "clean all") ;;
"-q list --available "*) grep -qxF "$4" "$AVAILABLE" || { echo "Error: No matching Packages to list" >&2; exit 1; } ;;
"install -y -q --allowerasing "*) shift 4; printf '%s\n' "$@" >>"$INSTALLED" ;;
*) echo "dnf stand-in: unexpected arguments: $*" >&2; exit 2 ;;
esac
`,
	} {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	res := runHelper(t, functions, renderedSystemPackages+`OH_STEP_COUNT=2
oh_run_step 2 system-packages root '' ''
echo "second run" >>"$CALLS"
oh_run_step 2 system-packages root '' ''
`, "FUNCTIONS="+shellQuote(functions), "export CALLS="+shellQuote(calls)+" INSTALLED="+shellQuote(installed)+
		" AVAILABLE="+shellQuote(available)+" PATH="+shellQuote(fakes)+":$PATH")
	if res.code != 0 {
		t.Fatalf("exit %d:\n%s", res.code, res.out)
	}
	for _, want := range []string{"missing: jq ?ripgrep", "notice: ripgrep is not in this platform's repositories; skipped",
		"system-packages: done in", "system-packages: skipped (already done)"} {
		if !strings.Contains(res.out, want) {
			t.Errorf("the output lacks %q:\n%s", want, res.out)
		}
	}
	data, err := os.ReadFile(calls)
	if err != nil {
		t.Fatal(err)
	}
	first, second, _ := strings.Cut(string(data), "second run\n")
	for _, want := range []string{"dnf -q makecache", "dnf -q list --available jq", "dnf -q list --available ripgrep", "dnf install -y -q --allowerasing jq\n", "dnf clean all"} {
		if !strings.Contains(first, want) {
			t.Errorf("the first run did not call %q:\n%s", want, first)
		}
	}
	if second == "" || strings.Contains(second, "dnf ") {
		t.Errorf("the second run called dnf, or nothing at all (its check queries rpm):\n%s", second)
	}
}

// TestSystemPackagesNothingMissing: the builder runs the step without its check, so the step
// itself neither refreshes the repositories (which fails without network) nor installs when
// every package is there.
func TestSystemPackagesNothingMissing(t *testing.T) {
	functions := libFunctions(t)
	stubs := `oh_pkg_installed_names() { printf '%s\n' "$@"; }
oh_pkg_available() { true; }
oh_pkg_refresh() { echo refresh; }
oh_pkg_install() { echo "install $*"; }
oh_pkg_clean() { echo clean; }
OH_SYSTEM_PACKAGES='wget curl libgl1|libgl1-mesa-glx'
export OH_SYSTEM_PACKAGES
`
	res := runHelper(t, functions, stubs+`(set -euo pipefail; oh_step_system_packages_run)`)
	if res.code != 0 || res.out != "every package is installed\n" {
		t.Errorf("exit %d, output %q; want only \"every package is installed\"", res.code, res.out)
	}
}

// TestLibCheckDisk: the preflight step refuses a filesystem with less free space than
// min_free_disk_gb, saying how much there is and what the option asks; 0 skips the check.
// The prefix does not exist yet: its nearest existing parent's filesystem counts.
func TestLibCheckDisk(t *testing.T) {
	functions := libFunctions(t)
	for _, tt := range []struct {
		need int
		fail bool
	}{
		{0, false},
		{1 << 30, true}, // an exbibyte: no test machine has it
	} {
		t.Run(fmt.Sprint(tt.need), func(t *testing.T) {
			res := runHelper(t, functions, "oh_check_disk", fmt.Sprintf("OH_MIN_FREE_DISK_GB=%d", tt.need))
			if (res.code != 0) != tt.fail {
				t.Fatalf("status %d: %s", res.code, res.out)
			}
			want := regexp.MustCompile(fmt.Sprintf(`only [0-9]+ GiB free on the filesystem of /\S*, the runtime needs %d GiB \(option min_free_disk_gb\)`, tt.need))
			if tt.fail && !want.MatchString(res.out) || !tt.fail && res.out != "" {
				t.Errorf("output %q, want %s", res.out, map[bool]string{true: want.String(), false: "none: the check is skipped"}[tt.fail])
			}
		})
	}
}

// TestLibRefusesPlantedLinks: the files root rewrites in what the runtime user owns are
// refused when they are symbolic links, and their targets stay as they were.
func TestLibRefusesPlantedLinks(t *testing.T) {
	functions := libFunctions(t)
	res := runHelper(t, functions, `printf 'secret\n' >target
ln -s "$PWD/target" bashrc
ln -s "$PWD/target" environment
oh_set_block bashrc <<<'export X=1' || echo "block refused $?"
oh_set_line environment X X=1 || echo "line refused $?"
oh_no_links "$PWD/target" && echo "a plain file passes"
cat target`)
	for _, want := range []string{"bashrc is a symbolic link (to ", "/target), which root will not follow", "block refused 1", "line refused 1", "a plain file passes", "secret"} {
		if !strings.Contains(res.out, want) {
			t.Errorf("output lacks %q:\n%s", want, res.out)
		}
	}
	if strings.Contains(res.out, "X=1") {
		t.Errorf("the link's target was written:\n%s", res.out)
	}
}
