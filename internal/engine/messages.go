package engine

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/docker/docker/pkg/jsonmessage"
	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"
)

// Result is what a stream reported besides its text.
type Result struct {
	// ImageID is the image a build made (aux {"ID": ...}).
	ImageID string
	// Digest is the manifest digest a push uploaded (aux {"Digest": ...}).
	Digest string
	// Steps and CachedSteps count a build's Dockerfile instructions and those served from
	// the layer cache: the legacy builder's "Step 3/9 : ..." and " ---> Using cache" lines,
	// BuildKit's "[3/9] ..." vertexes and their cached flag.
	Steps, CachedSteps int
}

// ReadMessages says the stream's text to the UI line by line and returns what its aux
// records reported and the build steps it counted, or the engine's error message. Status
// lines are said once each; progress updates with byte counts are not. BuildKit's progress
// records are said as `docker build --progress=plain` prints them.
func ReadMessages(r io.Reader, ui packersdk.Ui) (Result, error) {
	dec := json.NewDecoder(r)
	var res Result
	var partial strings.Builder
	var buildkit *buildkitProgress
	flush := func() {
		if partial.Len() > 0 {
			ui.Say(partial.String())
			partial.Reset()
		}
	}
	for {
		var m jsonmessage.JSONMessage
		if err := dec.Decode(&m); err == io.EOF {
			flush()
			return res, nil
		} else if err != nil {
			return res, fmt.Errorf("reading the engine's output: %w", err)
		}
		if m.Error != nil {
			flush()
			return res, errors.New(strings.TrimSpace(m.Error.Message))
		}
		text := m.Stream
		switch {
		case m.Aux != nil && m.ID == buildkitTraceID:
			if buildkit == nil {
				buildkit = newBuildkitProgress(&res)
			}
			lines, err := buildkit.lines(*m.Aux)
			if err != nil && !buildkit.unreadable {
				// Progress is for people: a record this reader cannot decode does not fail
				// a build the engine completes. Said once.
				buildkit.unreadable = true
				lines = "(" + err.Error() + "; later unreadable records are skipped)\n"
			}
			text = lines
		case m.Aux != nil:
			var aux struct{ ID, Digest string }
			if json.Unmarshal(*m.Aux, &aux) == nil {
				res.ImageID = cmp.Or(aux.ID, res.ImageID)
				res.Digest = cmp.Or(aux.Digest, res.Digest)
			}
		}
		if text == "" && m.Status != "" && !counting(m.Progress) {
			text = strings.TrimSpace(m.ID+" "+m.Status) + "\n"
		}
		for text != "" {
			line, rest, found := strings.Cut(text, "\n")
			partial.WriteString(line)
			if !found {
				break
			}
			// BuildKit's lines start with "#N ", so only the legacy builder's match here.
			if line := partial.String(); strings.HasPrefix(line, "Step ") {
				res.Steps++
			} else if strings.Contains(line, "---> Using cache") {
				res.CachedSteps++
			}
			flush()
			text = rest
		}
	}
}

// counting tells a progress update ("Pushing [==>  ] 12MB/80MB") from a status change
// ("Layer already exists", "Pulling fs layer"), which carries an empty progress detail.
func counting(p *jsonmessage.JSONProgress) bool {
	return p != nil && (p.Current > 0 || p.Total > 0)
}
