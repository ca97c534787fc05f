// Command vscode-tarball prints the path of the openvscode-server stand-in tarball, writing it
// first when needed, for the offline demo and benchmarks (shell scripts) that upload it with
// vscode_server_path.
package main

import (
	"fmt"
	"os"

	"github.com/openhands-runtime/packer-plugin-openhands/acctest/rig"
)

func main() {
	path, err := rig.VSCodeServerTarball()
	if err != nil {
		fmt.Fprintln(os.Stderr, "vscode-tarball:", err)
		os.Exit(1)
	}
	fmt.Println(path)
}
