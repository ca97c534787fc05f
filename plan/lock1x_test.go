package plan

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// poetry18Pair is a project locked by the real Poetry 1.8.5 (lock-version 2.0): requests with
// the socks extra, colorama under a marker, pytest in group dev.
const poetry18Pair = "projectfile/testdata/poetry-1.8"

// TestPoetry18Lock: a lock Poetry 1.8 wrote is accepted with its own content-hash rule, pins
// every package, expects what Poetry 1.8 would install for the groups, and is refused once
// pyproject.toml changes.
func TestPoetry18Lock(t *testing.T) {
	tests := []struct {
		name       string
		groups     []string
		edit       func(pyproject string) string
		wantGroups []string
		wantExpect []string
		notExpect  []string
		wantReqs   []string
		wantErr    string
	}{
		{name: "default groups: main alone, as the lock has no runtime group", wantGroups: []string{"main"},
			wantExpect: []string{"requests==2.34.2", "pysocks==1.7.1", "urllib3==2.8.0", "charset-normalizer==3.5.3", "colorama==0.4.6 ; sys_platform == 'win32'"},
			notExpect:  []string{"pytest==", "iniconfig==", "tomli=="}},
		{name: "main and dev: the group's graph, its markers joined along paths", groups: []string{"main", "dev"}, wantGroups: []string{"main", "dev"},
			wantExpect: []string{"pytest==8.4.2", "iniconfig==2.3.1", "tomli==2.5.0 ; python_version < \"3.11\"",
				"typing-extensions==4.16.0 ; (python_version < \"3.11\") and (python_version < \"3.13\")",
				"colorama==0.4.6 ; (sys_platform == \"win32\") or (sys_platform == 'win32')"},
			wantReqs: []string{"pytest"}},
		{name: "a group the lock lacks, set explicitly", groups: []string{"main", "runtime"},
			wantErr: `lock_groups: "runtime" is not a group of poetry.lock, which has dev, main; set lock_groups = ["main"] (the groups of yours it has)`},
		{name: "a marker that would start a line of the constraints is refused", edit: func(s string) string {
			return strings.Replace(s, `markers = "sys_platform == 'win32'"`, `markers = "sys_platform == 'win32'\n--index-url http://127.0.0.1:1/"`, 1)
		}, wantErr: "use_lock: the markers of the dependencies on colorama in pyproject.toml and poetry.lock: package colorama: markers"},
		{name: "stale: pyproject.toml edited after poetry lock", edit: func(s string) string {
			return strings.Replace(s, `pytest = "^8.3"`, `pytest = "^8.4"`, 1)
		}, wantErr: "poetry.lock does not match pyproject.toml: its content-hash is eafaf60c43f40eda98a4caa01bd37af98582238ca566a7b1ec643f059cbfd67c"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, errs := lockOptions(t, poetry18Pair, func(o *Options) {
				o.LockGroups = tt.groups
				if tt.edit != nil {
					path := filepath.Join(o.SourceDir, "pyproject.toml")
					data, err := os.ReadFile(path)
					if err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(path, []byte(tt.edit(string(data))), 0o644); err != nil {
						t.Fatal(err)
					}
				}
			})
			if tt.wantErr != "" {
				if err := errorsText(errs); !strings.Contains(err, tt.wantErr) {
					t.Fatalf("errors %q lack %q", err, tt.wantErr)
				}
				return
			}
			if len(errs) != 0 {
				t.Fatalf("Prepare: %v", errs)
			}
			if !slices.Equal(o.LockGroups, tt.wantGroups) {
				t.Errorf("lock_groups = %q, want %q", o.LockGroups, tt.wantGroups)
			}
			if want := "Dependencies pinned to poetry.lock, groups " + strings.Join(tt.wantGroups, ", "); o.LockSummary() != want {
				t.Errorf("build log line %q, want %q", o.LockSummary(), want)
			}
			li, err := ReadLockInstall(o)
			if err != nil {
				t.Fatal(err)
			}
			expected := lines(li.Expected)
			for _, w := range tt.wantExpect {
				if !slices.Contains(expected, w) {
					t.Errorf("expected.txt lacks %q:\n%s", w, li.Expected)
				}
			}
			for _, n := range tt.notExpect {
				if slices.ContainsFunc(expected, func(l string) bool { return strings.HasPrefix(l, n) }) {
					t.Errorf("expected.txt holds %s, which no chosen group installs:\n%s", n, li.Expected)
				}
			}
			// Every locked package is pinned, chosen or not.
			lock := pairLock(t, poetry18Pair)
			constraints := lines(li.Constraints)
			if len(constraints) != len(lock.Packages) {
				t.Errorf("%d constraints for %d locked packages:\n%s", len(constraints), len(lock.Packages), li.Constraints)
			}
			if !slices.ContainsFunc(constraints, func(l string) bool { return strings.HasPrefix(l, "pytest==8.4.2 --hash=sha256:") }) {
				t.Errorf("constraints lack pytest's pin:\n%s", li.Constraints)
			}
			if reqs := lines(li.Requirements); !slices.Equal(reqs, tt.wantReqs) {
				t.Errorf("requirements %q, want %q", reqs, tt.wantReqs)
			}
		})
	}
}

// lines are a LockInstall file's lines after its header.
func lines(data []byte) []string {
	all := strings.Split(strings.TrimSpace(string(data)), "\n")
	return slices.DeleteFunc(all, func(l string) bool { return strings.HasPrefix(l, "#") || l == "" })
}

// errorsText is the errors' messages, a line each.
func errorsText(errs []error) string {
	var msgs []string
	for _, e := range errs {
		msgs = append(msgs, e.Error())
	}
	return strings.Join(msgs, "\n")
}
