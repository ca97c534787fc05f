package rig

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// ReadLog returns the log acctest.TestPlugin's `packer build` wrote.
func ReadLog(t *testing.T, logfile string) string {
	t.Helper()
	data, err := os.ReadFile(logfile)
	if err != nil {
		t.Fatalf("reading the packer log: %v", err)
	}
	return string(data)
}

// BuildSucceeded and BuildFailed check the exit of acctest.TestPlugin's `packer build`.
func BuildSucceeded(cmd *exec.Cmd, logfile string) error {
	if cmd.ProcessState == nil || cmd.ProcessState.ExitCode() != 0 {
		return fmt.Errorf("packer build failed; see %s", logfile)
	}
	return nil
}

func BuildFailed(cmd *exec.Cmd, logfile string) error {
	if cmd.ProcessState == nil || cmd.ProcessState.ExitCode() == 0 {
		return fmt.Errorf("packer build succeeded but should have failed; see %s", logfile)
	}
	return nil
}

// VerifiedBuild is an acctest.TestPlugin Check: the build succeeded and the plan's
// verification passed during it.
func VerifiedBuild(t *testing.T) func(*exec.Cmd, string) error {
	return func(cmd *exec.Cmd, logfile string) error {
		if err := BuildSucceeded(cmd, logfile); err != nil {
			return err
		}
		if !strings.Contains(ReadLog(t, logfile), "verification passed") {
			return fmt.Errorf("verification did not pass; see %s", logfile)
		}
		return nil
	}
}
