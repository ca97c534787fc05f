package engine

import (
	"encoding/base64"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protowire"
)

// Records are encoded here field by field, as BuildKit's control.proto numbers them.

func timestamp(t time.Time) []byte {
	b := protowire.AppendTag(nil, timestampSeconds, protowire.VarintType)
	b = protowire.AppendVarint(b, uint64(t.Unix()))
	b = protowire.AppendTag(b, timestampNanos, protowire.VarintType)
	return protowire.AppendVarint(b, uint64(t.Nanosecond()))
}

func appendString(b []byte, num protowire.Number, s string) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendString(b, s)
}

func appendMessage(b []byte, num protowire.Number, m []byte) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendBytes(b, m)
}

type testVertex struct {
	digest, name, err  string
	cached             bool
	started, completed time.Time
}

func encodeVertex(v testVertex) []byte {
	b := appendString(nil, vertexDigest, v.digest)
	b = appendString(b, 2, "sha256:input") // inputs: skipped by the reader
	b = appendString(b, vertexName, v.name)
	if v.cached {
		b = protowire.AppendTag(b, vertexCached, protowire.VarintType)
		b = protowire.AppendVarint(b, 1)
	}
	if !v.started.IsZero() {
		b = appendMessage(b, vertexStarted, timestamp(v.started))
	}
	if !v.completed.IsZero() {
		b = appendMessage(b, vertexCompleted, timestamp(v.completed))
	}
	if v.err != "" {
		b = appendString(b, vertexError, v.err)
	}
	return b
}

func encodeLog(digest, msg string) []byte {
	b := appendString(nil, logVertex, digest)
	b = appendMessage(b, 2, timestamp(time.Unix(1, 0)))
	b = protowire.AppendTag(b, 3, protowire.VarintType) // stream: stdout
	b = protowire.AppendVarint(b, 1)
	return appendMessage(b, logMsg, []byte(msg))
}

// traceMessage is one line of the engine's stream holding a BuildKit progress record.
func traceMessage(t testing.TB, vertexes []testVertex, logs [][2]string) string {
	t.Helper()
	var record []byte
	for _, v := range vertexes {
		record = appendMessage(record, statusVertexes, encodeVertex(v))
	}
	// A status with byte counts: not shown.
	record = appendMessage(record, 2, appendString(nil, 1, "extracting"))
	for _, l := range logs {
		record = appendMessage(record, statusLogs, encodeLog(l[0], l[1]))
	}
	aux, err := json.Marshal(base64.StdEncoding.EncodeToString(record))
	if err != nil {
		t.Fatal(err)
	}
	return `{"id":"moby.buildkit.trace","aux":` + string(aux) + `}`
}

func TestReadMessagesBuildKit(t *testing.T) {
	t0 := time.Unix(1_800_000_000, 0)
	run := "[2/3] RUN bash /opt/openhands-plan/plan.sh --steps preflight"
	stream := strings.Join([]string{
		traceMessage(t, []testVertex{
			{digest: "sha256:a", name: "[internal] load build definition from Dockerfile"},
			{digest: "sha256:b", name: "[1/3] FROM docker.io/library/debian:bookworm", cached: true},
		}, nil),
		traceMessage(t, []testVertex{
			{digest: "sha256:a", name: "[internal] load build definition from Dockerfile", started: t0, completed: t0.Add(200 * time.Millisecond)},
			{digest: "sha256:c", name: run, started: t0},
		}, [][2]string{{"sha256:c", "[1/13] preflight\nplatform: Deb"}}),
		traceMessage(t, []testVertex{
			// A repeated record of a finished vertex says nothing again.
			{digest: "sha256:a", name: "[internal] load build definition from Dockerfile", started: t0, completed: t0.Add(200 * time.Millisecond)},
		}, [][2]string{{"sha256:c", "ian 12\r\n[1/13] preflight: done in 0s"}}),
		traceMessage(t, []testVertex{
			{digest: "sha256:c", name: run, started: t0, completed: t0.Add(1500 * time.Millisecond)},
			{digest: "sha256:d", name: "[3/3] RUN false", started: t0, completed: t0.Add(time.Second), err: "process \"/bin/sh -c false\" did not complete successfully: exit code: 1"},
		}, nil),
		`{"aux":{"ID":"sha256:0123"},"id":"moby.image.id"}`,
	}, "\n")
	ui := &recordingUi{}
	res, err := ReadMessages(strings.NewReader(stream), ui)
	if err != nil {
		t.Fatal(err)
	}
	// Numbers follow the order vertexes are first seen; a vertex is said when it starts.
	want := []string{
		"#2 [1/3] FROM docker.io/library/debian:bookworm",
		"#2 CACHED",
		"#1 [internal] load build definition from Dockerfile",
		"#1 DONE 0.2s",
		"#3 " + run,
		"#3 [1/13] preflight",
		"#3 platform: Debian 12",
		"#3 [1/13] preflight: done in 0s",
		"#3 DONE 1.5s",
		"#4 [3/3] RUN false",
		`#4 ERROR: process "/bin/sh -c false" did not complete successfully: exit code: 1`,
	}
	if !slices.Equal(ui.lines, want) {
		t.Errorf("said:\n%s\nwant:\n%s", strings.Join(ui.lines, "\n"), strings.Join(want, "\n"))
	}
	// Dockerfile steps are the "[k/n]" vertexes: FROM (cached), the plan's RUN and RUN false;
	// the plan's own "[1/13] preflight" output is no step.
	if res.Steps != 3 || res.CachedSteps != 1 {
		t.Errorf("steps %d, cached %d; want 3, 1", res.Steps, res.CachedSteps)
	}
	if res.ImageID != "sha256:0123" {
		t.Errorf("image id %q, want the moby.image.id aux", res.ImageID)
	}

	for name, bad := range map[string]string{
		"not a string": `{"id":"moby.buildkit.trace","aux":{"ID":"x"}}`,
		"not base64":   `{"id":"moby.buildkit.trace","aux":"%%%"}`,
		"not protobuf": `{"id":"moby.buildkit.trace","aux":"` + base64.StdEncoding.EncodeToString([]byte{0x0a, 0x05, 0x01}) + `"}`,
	} {
		t.Run(name, func(t *testing.T) {
			// An unreadable record is said once and does not fail the build.
			ui := &recordingUi{}
			res, err := ReadMessages(strings.NewReader(bad+"\n"+bad+"\n"+`{"aux":{"ID":"sha256:0123"}}`), ui)
			if err != nil || res.ImageID != "sha256:0123" {
				t.Errorf("result %+v, error %v; want the image id and no error", res, err)
			}
			if len(ui.lines) != 1 || !strings.Contains(ui.lines[0], "BuildKit progress record") {
				t.Errorf("said %q, want one line naming the BuildKit progress record", ui.lines)
			}
		})
	}
}
