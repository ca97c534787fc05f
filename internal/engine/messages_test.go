package engine

import (
	"slices"
	"strings"
	"testing"

	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"
)

// recordingUi records what ReadMessages says.
type recordingUi struct {
	packersdk.MockUi
	lines []string
}

func (u *recordingUi) Say(s string) { u.lines = append(u.lines, s) }

func TestReadMessages(t *testing.T) {
	stream := strings.Join([]string{
		`{"stream":"Step 1/4 : FROM debian:bookworm\n"}`,
		`{"stream":" ---\u003e 5f1b1b1b1b1b\n"}`,
		`{"stream":"Step 2/4 : RUN bash /opt/openhands-plan/"}`,
		`{"stream":"plan.sh --steps preflight"}`,
		`{"stream":"\n ---\u003e Using cache\n ---\u003e 0a0a0a0a0a0a\nStep 3/4 : COPY x y\n"}`,
		`{"status":"Pulling fs layer","progressDetail":{},"id":"a1b2c3"}`,
		`{"status":"Digest: sha256:feed"}`,
		`{"aux":{"ID":"sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"}}`,
		`{"stream":"Successfully built 0123456789ab"}`,
	}, "\n")
	ui := &recordingUi{}
	res, err := ReadMessages(strings.NewReader(stream), ui)
	if err != nil {
		t.Fatalf("ReadMessages: %v", err)
	}
	if id := res.ImageID; id != "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" {
		t.Errorf("id %q, want the aux ID", id)
	}
	want := []string{
		"Step 1/4 : FROM debian:bookworm",
		" ---> 5f1b1b1b1b1b",
		"Step 2/4 : RUN bash /opt/openhands-plan/plan.sh --steps preflight",
		" ---> Using cache",
		" ---> 0a0a0a0a0a0a",
		"Step 3/4 : COPY x y",
		"a1b2c3 Pulling fs layer",
		"Digest: sha256:feed",
		"Successfully built 0123456789ab", // the unterminated last line, at the end of the stream
	}
	if !slices.Equal(ui.lines, want) {
		t.Errorf("said:\n%q\nwant:\n%q", ui.lines, want)
	}
	// The build's counters: "Step " lines, and " ---> Using cache".
	if res.Steps != 3 || res.CachedSteps != 1 {
		t.Errorf("steps %d, cached %d; want 3, 1", res.Steps, res.CachedSteps)
	}

	t.Run("error message", func(t *testing.T) {
		stream := `{"stream":"Step 1/2 : RUN bash /opt/openhands-plan/plan.sh --steps dependencies\n"}
{"stream":"partial output without a newline"}
{"errorDetail":{"code":1,"message":"The command '/bin/sh -c false' returned a non-zero code: 1\n"},"error":"The command '/bin/sh -c false' returned a non-zero code: 1"}
{"stream":"never read\n"}`
		ui := &recordingUi{}
		res, err := ReadMessages(strings.NewReader(stream), ui)
		if err == nil || err.Error() != "The command '/bin/sh -c false' returned a non-zero code: 1" {
			t.Errorf("error %q, want the engine's message", err)
		}
		if res.ImageID != "" {
			t.Errorf("id %q after a failure", res.ImageID)
		}
		if want := []string{"Step 1/2 : RUN bash /opt/openhands-plan/plan.sh --steps dependencies", "partial output without a newline"}; !slices.Equal(ui.lines, want) {
			t.Errorf("said %q, want %q (the partial line flushed before the error)", ui.lines, want)
		}
	})
	t.Run("push", func(t *testing.T) {
		// Status changes are said once per layer; progress updates with counts are not.
		stream := strings.Join([]string{
			`{"status":"The push refers to repository [127.0.0.1:5000/openhands]"}`,
			`{"status":"Preparing","progressDetail":{},"id":"aaa"}`,
			`{"status":"Preparing","progressDetail":{},"id":"bbb"}`,
			`{"status":"Layer already exists","progressDetail":{},"id":"aaa"}`,
			`{"status":"Pushing","progressDetail":{"current":512,"total":2048},"progress":"[==>   ] 512B/2kB","id":"bbb"}`,
			`{"status":"Pushing","progressDetail":{"current":2048,"total":2048},"progress":"[=====>] 2kB/2kB","id":"bbb"}`,
			`{"status":"Pushed","progressDetail":{},"id":"bbb"}`,
			`{"status":"latest: digest: sha256:beef size: 1234"}`,
			`{"progressDetail":{},"aux":{"Tag":"latest","Digest":"sha256:beef","Size":1234}}`,
		}, "\n")
		ui := &recordingUi{}
		res, err := ReadMessages(strings.NewReader(stream), ui)
		if err != nil {
			t.Fatal(err)
		}
		if res.Digest != "sha256:beef" || res.ImageID != "" {
			t.Errorf("result %+v, want the pushed digest only", res)
		}
		want := []string{
			"The push refers to repository [127.0.0.1:5000/openhands]",
			"aaa Preparing", "bbb Preparing", "aaa Layer already exists", "bbb Pushed",
			"latest: digest: sha256:beef size: 1234",
		}
		if !slices.Equal(ui.lines, want) {
			t.Errorf("said:\n%q\nwant:\n%q", ui.lines, want)
		}
	})
	t.Run("malformed stream", func(t *testing.T) {
		_, err := ReadMessages(strings.NewReader(`{"stream":"ok\n"}{not json`), &recordingUi{})
		if err == nil || !strings.Contains(err.Error(), "reading the engine's output") {
			t.Errorf("error %v, want a read error", err)
		}
	})
	t.Run("empty stream", func(t *testing.T) {
		ui := &recordingUi{}
		res, err := ReadMessages(strings.NewReader(""), ui)
		if res != (Result{}) || err != nil || len(ui.lines) != 0 {
			t.Errorf("result %+v, err %v, said %q", res, err, ui.lines)
		}
	})
}
