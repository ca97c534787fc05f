package engine

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"

	"google.golang.org/protobuf/encoding/protowire"
)

// buildkitTraceID marks the messages of a BuildKit build whose aux holds a progress record:
// a StatusResponse of BuildKit's control API (moby.buildkit.v1), protobuf-encoded, base64 in
// a JSON string.
const buildkitTraceID = "moby.buildkit.trace"

// Field numbers of moby.buildkit.v1.StatusResponse and the messages it holds
// (api/services/control/control.proto), and of google.protobuf.Timestamp.
const (
	statusVertexes = 1
	statusLogs     = 3

	vertexDigest    = 1
	vertexName      = 3
	vertexCached    = 4
	vertexStarted   = 5
	vertexCompleted = 6
	vertexError     = 7

	logVertex = 1
	logMsg    = 4

	timestampSeconds = 1
	timestampNanos   = 2
)

// buildkitProgress turns BuildKit's progress records into the lines `docker build
// --progress=plain` prints: "#N name" when a step starts, its output as "#N line", and
// "#N CACHED", "#N DONE 1.2s" or "#N ERROR: ...". Steps are numbered in the order seen.
// The vertexes of Dockerfile instructions are counted in the result.
type buildkitProgress struct {
	result  *Result
	numbers map[string]int
	started map[string]time.Time
	ended   map[string]bool
	partial map[string]string // a log line of a vertex not ended by a newline yet
	// unreadable is set once a record could not be decoded.
	unreadable bool
}

func newBuildkitProgress(result *Result) *buildkitProgress {
	return &buildkitProgress{result: result, numbers: map[string]int{}, started: map[string]time.Time{}, ended: map[string]bool{}, partial: map[string]string{}}
}

// dockerfileStep is the name BuildKit gives a Dockerfile instruction: "[ 3/9] RUN ...".
var dockerfileStep = regexp.MustCompile(`^\[\s*\d+/\d+\] `)

type vertex struct {
	digest, name, err  string
	cached             bool
	started, completed time.Time
}

// lines decodes one aux value and returns the lines it adds, each ending in a newline.
func (p *buildkitProgress) lines(aux json.RawMessage) (string, error) {
	var encoded string
	if err := json.Unmarshal(aux, &encoded); err != nil {
		return "", fmt.Errorf("a BuildKit progress record is not a string: %w", err)
	}
	raw, err := base64.StdEncoding.DecodeString(encoded)
	if err != nil {
		return "", fmt.Errorf("a BuildKit progress record is not base64: %w", err)
	}
	var out strings.Builder
	err = eachField(raw, func(num protowire.Number, typ protowire.Type, value []byte) error {
		switch num {
		case statusVertexes:
			v, err := decodeVertex(value)
			if err != nil {
				return err
			}
			p.vertex(&out, v)
		case statusLogs:
			var digest string
			var msg []byte
			err := eachField(value, func(num protowire.Number, _ protowire.Type, value []byte) error {
				switch num {
				case logVertex:
					digest = string(value)
				case logMsg:
					msg = value
				}
				return nil
			})
			if err != nil {
				return err
			}
			p.log(&out, digest, string(msg))
		}
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("decoding a BuildKit progress record: %w", err)
	}
	return out.String(), nil
}

func (p *buildkitProgress) number(digest string) int {
	n, ok := p.numbers[digest]
	if !ok {
		n = len(p.numbers) + 1
		p.numbers[digest] = n
	}
	return n
}

func (p *buildkitProgress) vertex(out *strings.Builder, v vertex) {
	if p.ended[v.digest] {
		return
	}
	n := p.number(v.digest)
	if _, seen := p.started[v.digest]; !seen && (!v.started.IsZero() || v.cached) {
		p.started[v.digest] = v.started
		fmt.Fprintf(out, "#%d %s\n", n, v.name)
		if dockerfileStep.MatchString(v.name) {
			p.result.Steps++
		}
	}
	switch {
	case v.err != "":
		p.flushLog(out, v.digest)
		fmt.Fprintf(out, "#%d ERROR: %s\n", n, v.err)
	case v.cached:
		if dockerfileStep.MatchString(v.name) {
			p.result.CachedSteps++
		}
		fmt.Fprintf(out, "#%d CACHED\n", n)
	case !v.completed.IsZero():
		p.flushLog(out, v.digest)
		fmt.Fprintf(out, "#%d DONE %.1fs\n", n, v.completed.Sub(p.started[v.digest]).Seconds())
	default:
		return
	}
	p.ended[v.digest] = true
}

func (p *buildkitProgress) log(out *strings.Builder, digest, msg string) {
	n := p.number(digest)
	text := p.partial[digest] + strings.ReplaceAll(msg, "\r\n", "\n")
	for {
		line, rest, found := strings.Cut(text, "\n")
		if !found {
			p.partial[digest] = text
			return
		}
		fmt.Fprintf(out, "#%d %s\n", n, line)
		text = rest
	}
}

func (p *buildkitProgress) flushLog(out *strings.Builder, digest string) {
	if rest := p.partial[digest]; rest != "" {
		fmt.Fprintf(out, "#%d %s\n", p.number(digest), rest)
		delete(p.partial, digest)
	}
}

func decodeVertex(b []byte) (vertex, error) {
	var v vertex
	err := eachField(b, func(num protowire.Number, typ protowire.Type, value []byte) error {
		var err error
		switch num {
		case vertexDigest:
			v.digest = string(value)
		case vertexName:
			v.name = string(value)
		case vertexCached:
			v.cached = len(value) > 0 && value[0] != 0
		case vertexStarted:
			v.started, err = decodeTimestamp(value)
		case vertexCompleted:
			v.completed, err = decodeTimestamp(value)
		case vertexError:
			v.err = string(value)
		}
		return err
	})
	return v, err
}

func decodeTimestamp(b []byte) (time.Time, error) {
	var seconds, nanos int64
	err := eachField(b, func(num protowire.Number, _ protowire.Type, value []byte) error {
		n, _ := protowire.ConsumeVarint(value)
		switch num {
		case timestampSeconds:
			seconds = int64(n)
		case timestampNanos:
			nanos = int64(n)
		}
		return nil
	})
	return time.Unix(seconds, nanos), err
}

// eachField calls fn with every field of a protobuf message: for a length-delimited field its
// bytes, for a varint its encoding (decoded where needed), other wire types skipped.
func eachField(b []byte, fn func(protowire.Number, protowire.Type, []byte) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return protowire.ParseError(n)
		}
		b = b[n:]
		var value []byte
		switch typ {
		case protowire.BytesType:
			v, m := protowire.ConsumeBytes(b)
			if m < 0 {
				return protowire.ParseError(m)
			}
			value, n = v, m
		case protowire.VarintType:
			_, m := protowire.ConsumeVarint(b)
			if m < 0 {
				return protowire.ParseError(m)
			}
			value, n = b[:m], m
		default:
			m := protowire.ConsumeFieldValue(num, typ, b)
			if m < 0 {
				return protowire.ParseError(m)
			}
			n = m
		}
		b = b[n:]
		if value != nil || typ == protowire.BytesType {
			if err := fn(num, typ, value); err != nil {
				return err
			}
		}
	}
	return nil
}
