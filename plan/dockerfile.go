package plan

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/openhands-runtime/packer-plugin-openhands/internal/artifact"
	"github.com/openhands-runtime/packer-plugin-openhands/plan/tarball"
)

// Paths inside the builder's build context and in the image.
const (
	contextDir   = "openhands-plan"
	imagePlanDir = "/opt/openhands-plan"
)

// dockerLayer is one group of steps that becomes one RUN instruction, after the COPY of what
// the steps need.
type dockerLayer struct {
	copyFrom string // a context directory copied to the code directory first, if any
	// planFiles is a context directory copied next to plan.sh first when the plan has the
	// step planFor, which reads it.
	planFiles string
	planFor   StepID
	steps     []StepID
}

// The builder's layers after the first one (every step before the runtime's firstLayerEnd,
// which depend on the options only) are the runtime's. Layers are ordered by what
// invalidates them: options first, then the dependency files, then the source tree. The
// dependency install sees only the dependency files (and a stub package, so the editable
// install resolves), so a source change reuses every layer up to the copy of the source tree.

// Dockerfile renders the plan as a Dockerfile for the legacy builder or BuildKit. Every RUN
// runs as root and the plan switches to the runtime user for its steps, as on a provisioned
// machine: one RUN per layer, no USER round trips.
func (p *Plan) Dockerfile(from, version string) string {
	var b strings.Builder
	p.dockerfileHead(&b, from, version)
	b.WriteString("USER root\n")
	fmt.Fprintf(&b, "COPY %s/%s %s/\n", contextDir, BundleScript, imagePlanDir)
	// Only the tool steps read supplied files.
	fmt.Fprintf(&b, "COPY %s/bin/ %s/bin/\n", contextDir, imagePlanDir)
	rt := runtimeOf(p.Options.Layout)
	later := slices.Concat(rt.layers, []dockerLayer{rt.sourceLayer})
	names := p.StepNames()
	first := slices.IndexFunc(names, func(name StepID) bool {
		return slices.ContainsFunc(later, func(l dockerLayer) bool { return slices.Contains(l.steps, name) })
	})
	p.renderLayer(&b, dockerLayer{steps: names[:first]})
	for _, l := range later {
		p.renderLayer(&b, l)
	}
	fmt.Fprintf(&b, "ENV %s\n", strings.Join(dockerPairs(p.Options), " "))
	for _, instruction := range rt.image(p.Options) {
		fmt.Fprintf(&b, "%s\n", instruction)
	}
	return b.String()
}

// SourceDockerfile renders only the source layer, on an image that already holds everything
// but the source: a lock-tag image made from the same options, which ends as root with the
// same ENV and WORKDIR, so every instruction less is a layer less to commit.
func (p *Plan) SourceDockerfile(from, version string) string {
	var b strings.Builder
	p.dockerfileHead(&b, from, version)
	fmt.Fprintf(&b, "COPY %s/%s %s/\n", contextDir, BundleScript, imagePlanDir)
	rt := runtimeOf(p.Options.Layout)
	image := rt.image(p.Options)
	// An image config naming a user leaves the image built on as that user: the layer runs
	// as root, and the config is set again after it.
	asUser := slices.ContainsFunc(image, func(instruction string) bool { return strings.HasPrefix(instruction, "USER ") })
	if asUser {
		b.WriteString("USER root\n")
	}
	if p.Options.InstallsCheckout() {
		// The image built on holds the source tree of the build that made it.
		fmt.Fprintf(&b, "RUN rm -rf %s\n", strings.Join(rt.staleSource(p.Options), " "))
	}
	p.renderLayer(&b, rt.sourceLayer)
	if asUser {
		for _, instruction := range image {
			fmt.Fprintf(&b, "%s\n", instruction)
		}
	}
	return b.String()
}

func (p *Plan) dockerfileHead(b *strings.Builder, from, version string) {
	fmt.Fprintf(b, "# OpenHands runtime image, rendered by packer-plugin-openhands %s from its install plan.\n", version)
	fmt.Fprintf(b, "FROM %s\n", from)
}

// renderLayer writes a layer's COPY and RUN, with only the steps the plan has; a layer
// without any is left out.
func (p *Plan) renderLayer(b *strings.Builder, l dockerLayer) {
	var steps []StepID
	for _, name := range l.steps {
		if slices.Contains(p.StepNames(), name) {
			steps = append(steps, name)
		}
	}
	if len(steps) == 0 {
		return
	}
	// What is copied to the code directory is the code step's to install.
	if l.copyFrom != "" && slices.Contains(steps, StepCode) {
		fmt.Fprintf(b, "COPY --chown=%[1]s:%[1]s %s/%s/ %s/\n", p.Options.User, contextDir, l.copyFrom, p.Options.codeDir())
	}
	if l.planFiles != "" && slices.Contains(steps, l.planFor) {
		fmt.Fprintf(b, "COPY %s/%s/ %s/%s/\n", contextDir, l.planFiles, imagePlanDir, l.planFiles)
	}
	fmt.Fprintf(b, "RUN bash %s/%s --steps %s\n", imagePlanDir, BundleScript, joinSteps(steps, ","))
}

// DockerfileName is the Dockerfile's name in the build context.
const DockerfileName = "Dockerfile"

// stubPackage lets the editable install of the dependency layer resolve before the real
// package arrives with the source layer, which replaces it.
const stubPackage = "openhands/__init__.py"

// WriteDockerContext writes the build context as a tar stream: the Dockerfile, plan.sh (which
// depends on the options only, so source changes keep its layer), supplied binaries, the
// dependency files apart, and the source tree.
func WriteDockerContext(w io.Writer, p *Plan, dockerfile, script string, files []SourceFile) error {
	o := p.Options
	tw := tar.NewWriter(w)
	bw := tarball.NewWriter(tw)
	if err := bw.AddBytes(DockerfileName, []byte(dockerfile), 0o644); err != nil {
		return err
	}
	if err := bw.AddBytes(contextDir+"/"+BundleScript, []byte(script), 0o755); err != nil {
		return err
	}
	// bin/ always exists, so the COPY of it never fails when nothing is supplied.
	if err := bw.AddDirs(contextDir + "/bin/.keep"); err != nil {
		return err
	}
	for _, t := range Tools {
		for _, f := range t.suppliedFiles(o) {
			if _, err := bw.AddFile(contextDir+"/"+f.bundle, f.path, 0o755, nil); err != nil {
				return fmt.Errorf("%s: %w", f.option, err)
			}
		}
	}
	for _, f := range files {
		mode := int64(0o644)
		if f.Executable {
			mode = 0o755
		}
		if f.Dependency || f.Rel == "README.md" || f.Rel == "LICENSE" {
			if _, err := bw.AddFile(contextDir+"/deps/"+f.Rel, f.Abs, mode, nil); err != nil {
				return err
			}
		}
		if _, err := bw.AddFile(contextDir+"/"+BundleCode+"/"+f.Rel, f.Abs, mode, nil); err != nil {
			return err
		}
	}
	if err := bw.AddBytes(contextDir+"/deps/"+stubPackage, nil, 0o644); err != nil {
		return err
	}
	var in Inputs
	if err := addLock(bw, &in, contextDir+"/"+BundleLock, o); err != nil {
		return err
	}
	return tw.Close()
}

// ContentTags names an image by what went into it, as OpenHands' runtime builder did: the lock
// tag by the base image, the options (through the rendered Dockerfile and plan) and the
// dependency files; the source tag adds the source tree.
func ContentTags(version, baseImageID, dockerfile, script string, in Inputs) (lock, source string) {
	h := sha256.New()
	parts := []string{baseImageID, dockerfile, script, in.DependencyFiles}
	if in.Lock != "" {
		// Only when set, so the tags of installs without the lock stay as they were.
		parts = append(parts, in.Lock)
	}
	for _, t := range Tools {
		parts = append(parts, in.Supplied[t.Name])
	}
	for _, part := range parts {
		fmt.Fprintf(h, "%d:%s\n", len(part), part)
	}
	lockDigest := hex.EncodeToString(h.Sum(nil))[:16]
	h.Write([]byte(in.SourceTree))
	sourceDigest := hex.EncodeToString(h.Sum(nil))[:16]
	prefix := artifact.ContentTagPrefix + strings.NewReplacer("+", "_").Replace(version)
	return prefix + "_" + lockDigest, prefix + "_" + lockDigest + "_" + sourceDigest
}
