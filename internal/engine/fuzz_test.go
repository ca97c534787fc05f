package engine

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// FuzzReadMessages reads malformed, truncated and hostile engine streams: no panic, and
// every line said to the UI is one line.
func FuzzReadMessages(f *testing.F) {
	t0 := time.Unix(1_800_000_000, 0)
	valid := strings.Join([]string{
		`{"stream":"Step 1/4 : FROM debian:bookworm\n"}`,
		`{"stream":" ---\u003e Using cache\n"}`,
		`{"status":"Pulling fs layer","progressDetail":{},"id":"a1b2c3"}`,
		`{"status":"Pushing","progressDetail":{"current":1,"total":9},"id":"a1b2c3"}`,
		`{"aux":{"ID":"sha256:0123","Digest":"sha256:feed"}}`,
		traceMessage(f, []testVertex{{digest: "sha256:c", name: "[2/3] RUN x", started: t0}}, [][2]string{{"sha256:c", "a\r\nb"}}),
		`{"errorDetail":{"message":"boom"},"error":"boom"}`,
	}, "\n")
	f.Add([]byte(valid))
	for _, n := range []int{1, 17, len(valid) / 2, len(valid) - 3} {
		f.Add([]byte(valid[:n])) // truncated mid-record
	}
	f.Add([]byte(`{"stream":"\xff\u0000$(touch /tmp/pwned)"}{"aux":null}{"id":"moby.buildkit.trace","aux":"AAAA"}`))
	f.Add([]byte(`[1,2]"x"{"aux":{"ID":7}}`))
	f.Fuzz(func(t *testing.T, stream []byte) {
		ui := &recordingUi{}
		ReadMessages(bytes.NewReader(stream), ui)
		for _, l := range ui.lines {
			if strings.Contains(l, "\n") {
				t.Fatalf("said %q, more than one line", l)
			}
		}
	})
}

// FuzzBuildkitRecord decodes arbitrary protobuf bytes as two BuildKit progress records in a
// row (the second sees the state the first left): no panic, and the text either is empty or
// ends a line.
func FuzzBuildkitRecord(f *testing.F) {
	t0 := time.Unix(1_800_000_000, 0)
	v := encodeVertex(testVertex{digest: "sha256:c", name: "[2/3] RUN x", started: t0})
	done := encodeVertex(testVertex{digest: "sha256:c", name: "[2/3] RUN x", started: t0, completed: t0.Add(time.Second), err: "exit 1"})
	f.Add(appendMessage(nil, statusVertexes, v), appendMessage(appendMessage(nil, statusLogs, encodeLog("sha256:c", "partial")), statusVertexes, done))
	f.Add(appendMessage(nil, statusVertexes, encodeVertex(testVertex{digest: "d", name: "[1/3] FROM y", cached: true})), []byte{0x0a, 0x05, 0x01})
	f.Add([]byte{0x1a, 0xff, 0xff, 0xff, 0xff, 0x0f}, []byte{0x08, 0x80})
	f.Fuzz(func(t *testing.T, first, second []byte) {
		var res Result
		p := newBuildkitProgress(&res)
		for _, record := range [][]byte{first, second} {
			aux, _ := json.Marshal(base64.StdEncoding.EncodeToString(record))
			lines, err := p.lines(aux)
			if err == nil && lines != "" && !strings.HasSuffix(lines, "\n") {
				t.Fatalf("lines %q do not end a line", lines)
			}
		}
	})
}
