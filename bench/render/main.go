// Command render writes the plan script the openhands-runtime provisioner would run for a
// source tree and the stand-in binaries, so the benchmark's shell+file baseline runs the
// identical script.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/openhands-runtime/packer-plugin-openhands/plan"
)

func main() {
	src := flag.String("source", "", "OpenHands checkout")
	mm := flag.String("micromamba", "", "micromamba binary")
	uv := flag.String("uv", "", "uv binary")
	vscode := flag.String("vscode-server", "", "openvscode-server release tarball")
	out := flag.String("o", "plan.sh", "output")
	flag.Parse()
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
}
