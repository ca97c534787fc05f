package ecrpostprocessor

import (
	"fmt"
	"os"
	"strings"
)

// parentPackerCommand is the Packer command that started this plugin ("build", "validate"),
// read from the parent process's command line, or "" where it cannot be read (no /proc).
// Packer passes post-processors nothing that tells a build from a validate.
func parentPackerCommand() string {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", os.Getppid()))
	if err != nil {
		return ""
	}
	return packerCommand(strings.Split(strings.TrimRight(string(data), "\x00"), "\x00"))
}

// packerCommand is the subcommand of a packer command line: the first argument after the
// program that is not a flag (global flags such as -machine-readable come before it).
func packerCommand(args []string) string {
	for _, a := range args[min(1, len(args)):] {
		if !strings.HasPrefix(a, "-") {
			return a
		}
	}
	return ""
}
