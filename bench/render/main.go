// Command render writes the plan script the openhands-runtime provisioner would run for a
// source tree and the stand-in binaries, so the benchmark's shell+file baseline runs the
// identical script; with -builder-template it prints the rig's builder template instead (the
// one the acceptance tests build), so the benchmark measures the same template, and with
// -agent-server-template the agent-server's (bench/agent-server.sh).
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/openhands-runtime/packer-plugin-openhands/acctest/rig"
	"github.com/openhands-runtime/packer-plugin-openhands/plan"
)

func main() {
	src := flag.String("source", "", "OpenHands checkout")
	mm := flag.String("micromamba", "", "micromamba binary")
	uv := flag.String("uv", "", "uv binary")
	vscode := flag.String("vscode-server", "", "openvscode-server release tarball")
	out := flag.String("o", "plan.sh", "output")
	repository := flag.String("builder-template", "", "print the builder template naming its images this repository")
	base := flag.String("base", "", "base image of the builder template")
	attributes := flag.String("attributes", "", "more lines of the builder template's source block")
	agentServer := flag.String("agent-server-template", "", "print the rig's agent-server builder template (release -agent-server-version) naming its images this repository")
	agentServerVersion := flag.String("agent-server-version", "", "the agent-server release of -agent-server-template")
	flag.Parse()
	if *agentServer != "" {
		// The rig's variables, as scripts/rig.sh env prints them.
		env := &rig.Env{TrixieImage: os.Getenv("OPENHANDS_RIG_TRIXIE_IMAGE"), IndexURL: os.Getenv("OPENHANDS_RIG_INDEX_URL"), UV: os.Getenv("OPENHANDS_RIG_UV")}
		tmpl, err := rig.AgentServerBuilderTemplate(env, *agentServer, rig.AgentServerRelease(*agentServerVersion), false, "")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		// The source block ends with the real-install attributes: more go before its brace.
		fmt.Print(strings.Replace(tmpl, "}\n\nbuild {", *attributes+"\n}\n\nbuild {", 1))
		return
	}
	if *repository != "" {
		fmt.Print(rig.BuilderTemplate(*base, *src, *repository, *attributes, ""))
		return
	}
	o := plan.Options{SourceDir: *src, MicromambaPath: *mm, UVPath: *uv, VSCodeServerPath: *vscode}
	if errs := o.Prepare(); len(errs) > 0 {
		fmt.Fprintln(os.Stderr, errs)
		os.Exit(1)
	}
	files, err := plan.ListSource(*src)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	in, err := plan.ComputeInputs(o, files)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := os.WriteFile(*out, []byte(plan.New(o, in).Script("bench")), 0o755); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	// The files generated from poetry.lock, next to the script as the bundle ships them.
	li, err := plan.ReadLockInstall(o)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if li == nil {
		return
	}
	dir := filepath.Join(filepath.Dir(*out), plan.BundleLock)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	for _, f := range li.Files() {
		if err := os.WriteFile(filepath.Join(dir, f[0]), []byte(f[1]), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
}
