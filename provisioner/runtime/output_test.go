package runtimeprovisioner

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"

	"github.com/openhands-runtime/packer-plugin-openhands/plan"
)

func numberedLines(prefix string, from, to int) []string {
	var out []string
	for i := from; i <= to; i++ {
		out = append(out, fmt.Sprintf("%s-%02d", prefix, i))
	}
	return out
}

func joinLines(lines []string) string { return strings.Join(lines, "\n") + "\n" }

// byteChunks splits s into one-byte writes.
func byteChunks(s string) []string {
	out := make([]string, len(s))
	for i := range s {
		out[i] = s[i : i+1]
	}
	return out
}

func TestPlanOutputWrite(t *testing.T) {
	marker := plan.StepFailedLine("dependencies", "2") + ""
	cases := []struct {
		name     string
		writes   []string
		lines    []string
		step     string
		code     int
		noMarker bool
	}{
		{name: "nothing", writes: nil, lines: nil},
		{name: "whole lines", writes: []string{"a\nb\n"}, lines: []string{"a", "b"}},
		{name: "one write per line", writes: []string{"a\n", "b\n", "c\n"}, lines: []string{"a", "b", "c"}},
		{name: "split mid-line", writes: []string{"hel", "lo\nwor", "ld\n"}, lines: []string{"hello", "world"}},
		{name: "newline alone", writes: []string{"abc", "\n", "\n"}, lines: []string{"abc", ""}},
		{name: "one byte at a time", writes: byteChunks("first line\nsecond\r\nthird\n"), lines: []string{"first line", "second", "third"}},
		{name: "CRLF", writes: []string{"a\r\nb\r\n"}, lines: []string{"a", "b"}},
		{name: "CRLF split between writes", writes: []string{"a\r", "\nb\r", "\n"}, lines: []string{"a", "b"}},
		{name: "only trailing CRs trimmed", writes: []string{"10%\r50%\r\r\n"}, lines: []string{"10%\r50%"}},
		{name: "blank lines kept", writes: []string{"a\n\nb\n"}, lines: []string{"a", "", "b"}},
		// The partial-line buffer is capped: output without newlines is read in pieces of
		// plan.MaxOutputLine rather than held whole.
		{name: "endless line cut at the cap", writes: []string{strings.Repeat("x", plan.MaxOutputLine-1), "yz", "\n"},
			lines: []string{strings.Repeat("x", plan.MaxOutputLine-1) + "y", "z"}},
		{name: "tail keeps the last 15", writes: []string{joinLines(numberedLines("line", 1, 40))}, lines: numberedLines("line", 26, 40)},
		{name: "tail of 15 exactly", writes: []string{joinLines(numberedLines("line", 1, 15))}, lines: numberedLines("line", 1, 15)},
		{
			name:   "failure line parsed, not kept",
			writes: []string{"[9/13] dependencies\nResolving...\n" + marker + "\n"},
			lines:  []string{"[9/13] dependencies", "Resolving..."},
			step:   "dependencies", code: 2,
		},
		{
			name:   "failure line split over writes, CRLF",
			writes: append([]string{"boom\r\n"}, byteChunks(marker+"\r\n")...),
			lines:  []string{"boom"},
			step:   "dependencies", code: 2,
		},
		{
			name:   "failure line with a hyphenated step",
			writes: []string{plan.StepFailedLine("system-packages", "100") + "\n"},
			step:   "system-packages", code: 100,
		},
		{
			name:     "lines that only look like a failure are kept",
			writes:   []string{"openhands-runtime: step dependencies is slow\n", "dependencies failed with exit code 3\n"},
			lines:    []string{"openhands-runtime: step dependencies is slow", "dependencies failed with exit code 3"},
			noMarker: true,
		},
		{
			name:   "failure line after output without a final newline",
			writes: []string{"Traceback: no newline", marker + "\n"},
			lines:  []string{"Traceback: no newline"},
			step:   "dependencies", code: 2,
		},
		{
			name:   "the later failure line wins",
			writes: []string{plan.StepFailedLine("code", "1") + "\n", marker + "\n"},
			step:   "dependencies", code: 2,
		},
		{
			name:   "tail after the failure line",
			writes: []string{joinLines(numberedLines("before", 1, 10)), marker + "\n", joinLines(numberedLines("after", 1, 10))},
			lines:  append(numberedLines("before", 6, 10), numberedLines("after", 1, 10)...),
			step:   "dependencies", code: 2,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var o planOutput
			for _, w := range tc.writes {
				n, err := o.Write([]byte(w))
				if n != len(w) || err != nil {
					t.Fatalf("Write(%q) = %d, %v; want %d, nil", w, n, err, len(w))
				}
			}
			got := o.lines
			if pending := strings.TrimRight(string(o.partial), "\r"); pending != "" {
				got = append(slices.Clone(got), pending)
			}
			if !slices.Equal(got, tc.lines) {
				t.Errorf("lines = %q, want %q", got, tc.lines)
			}
			if o.failedStep != tc.step || o.failedCode != tc.code {
				t.Errorf("failed step = %q, %d; want %q, %d", o.failedStep, o.failedCode, tc.step, tc.code)
			}
			if tc.noMarker && o.failedStep != "" {
				t.Errorf("a line that is no failure line set the failed step")
			}
		})
	}
}

func TestPlanOutputFailure(t *testing.T) {
	marker := plan.StepFailedLine("dependencies", "2") + "\n"
	noRedact := func(s string) string { return s }
	cases := []struct {
		name    string
		output  string
		status  int
		redact  func(string) string
		want    []string
		notWant []string
	}{
		{
			name:   "needs sudo",
			output: "openhands-runtime: the login user ubuntu is not root and cannot run sudo without a password\n",
			status: plan.ExitNeedsSudo,
			want:   []string{"the plan needs root", "cannot run sudo without a password"},
		},
		{
			name:   "needs sudo, no output",
			status: plan.ExitNeedsSudo,
			want:   []string{"needs root"},
		},
		{
			name:   "unpack",
			output: "gzip: stdin: unexpected end of file\n",
			status: plan.ExitNoUnpack,
			want:   []string{"could not be unpacked on the target", "unexpected end of file"},
		},
		{
			name:   "connection lost",
			output: "[11/15] dependencies\n",
			status: packersdk.CmdDisconnect,
			want:   []string{"the connection to the target was lost", "set max_retries", "last output:\n    [11/15] dependencies"},
		},
		{
			name:   "disk full",
			output: "Traceback (most recent call last):\nOSError: [Errno 28] No space left on device: '/openhands/x'\n" + marker,
			status: 2,
			want:   []string{`step "dependencies" failed: the target's disk is full (No space left on device)`, "min_free_disk_gb", "OSError: [Errno 28]"},
		},
		{
			name:   "step failed",
			output: joinLines(numberedLines("out", 1, 30)) + marker,
			status: 2,
			want:   append([]string{`step "dependencies" failed with exit code 2; last output:`}, numberedLines("out", 16, 30)...),
			// out-15 and earlier are beyond the tail; the marker itself is not repeated.
			notWant: []string{"out-15", "out-01", "openhands-runtime: step "},
		},
		{
			name:   "step failed: tail lines indented",
			output: "a\nb\n" + marker,
			status: 2,
			want:   []string{"last output:\n    a\n    b"},
		},
		{
			name:    "exit status without a failure line",
			output:  "Killed\n",
			status:  137,
			want:    []string{"the plan exited with code 137", "Killed"},
			notWant: []string{"step"},
		},
		{
			name:   "needs sudo beats a failure line",
			output: marker,
			status: plan.ExitNeedsSudo,
			want:   []string{"needs root"},
		},
		{
			name:   "last line without a newline",
			output: "a\nlast words",
			status: 1,
			want:   []string{"    a\n    last words"},
		},
		{
			name:    "redacted",
			output:  "Looking in indexes: https://user:s3cret@pypi.example/simple\n" + marker,
			status:  2,
			redact:  redactor([]string{"s3cret"}),
			want:    []string{"https://user:****@pypi.example/simple"},
			notWant: []string{"s3cret"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var o planOutput
			o.Write([]byte(tc.output))
			redact := tc.redact
			if redact == nil {
				redact = noRedact
			}
			err := o.failure(tc.status, redact)
			if err == nil {
				t.Fatal("failure returned nil")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not contain %q:\n%v", w, err)
				}
			}
			for _, w := range tc.notWant {
				if strings.Contains(err.Error(), w) {
					t.Errorf("error contains %q:\n%v", w, err)
				}
			}
		})
	}
}

func TestRedactor(t *testing.T) {
	cases := []struct {
		name    string
		secrets []string
		in      string
		want    string
	}{
		{name: "no secrets", in: "user:pw@host", want: "user:pw@host"},
		{name: "empty secrets ignored", secrets: []string{"", ""}, in: "abc", want: "abc"},
		{name: "one secret", secrets: []string{"s3cret"}, in: "https://u:s3cret@h/simple", want: "https://u:****@h/simple"},
		{name: "every occurrence", secrets: []string{"s3cret"}, in: "s3cret s3cret/s3cret", want: "**** ****/****"},
		{name: "several secrets", secrets: []string{"pw1", "tok2"}, in: "a pw1 b tok2 c", want: "a **** b **** c"},
		{name: "one empty among others", secrets: []string{"", "pw"}, in: "pw!", want: "****!"},
		{name: "duplicates", secrets: []string{"pw", "pw"}, in: "pw", want: "****"},
		{name: "untouched text", secrets: []string{"s3cret"}, in: "nothing to hide", want: "nothing to hide"},
		{name: "regexp characters are literal", secrets: []string{"a.b*c"}, in: "axbbc a.b*c", want: "axbbc ****"},
		// A secret that starts another must not leave the longer one's rest visible.
		{name: "a secret prefixing another", secrets: []string{"abc", "abcdef"}, in: "x abcdef y abc", want: "x **** y ****"},
		{name: "a secret inside another", secrets: []string{"cde", "abcdefg"}, in: "abcdefg", want: "****"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := redactor(tc.secrets)(tc.in); got != tc.want {
				t.Errorf("redactor(%q)(%q) = %q, want %q", tc.secrets, tc.in, got, tc.want)
			}
		})
	}
}

func TestRedactingUi(t *testing.T) {
	rec := &recordingUi{}
	ui := redactingUi{Ui: rec, redact: redactor([]string{"s3cret"})}
	ui.Say("say s3cret")
	ui.Sayf("sayf %s", "s3cret")
	ui.Message("message s3cret")
	ui.Error("error s3cret")
	ui.Errorf("errorf %s", "s3cret")
	all := strings.Join(append(rec.sayLines(), rec.errorLines()...), "\n")
	if strings.Contains(all, "s3cret") {
		t.Errorf("the Ui was shown a secret:\n%s", all)
	}
	if want := []string{"say ****", "sayf ****", "message ****"}; !slices.Equal(rec.sayLines(), want) {
		t.Errorf("Say lines = %q, want %q", rec.sayLines(), want)
	}
	if want := []string{"error ****", "errorf ****"}; !slices.Equal(rec.errorLines(), want) {
		t.Errorf("Error lines = %q, want %q", rec.errorLines(), want)
	}
}

func TestHumanBytes(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 1023: "1023 B", 1024: "1.0 KiB", 1536: "1.5 KiB", 5 << 20: "5.0 MiB", 3 << 30: "3.0 GiB"} {
		if got := humanBytes(n); got != want {
			t.Errorf("humanBytes(%d) = %q, want %q", n, got, want)
		}
	}
}
