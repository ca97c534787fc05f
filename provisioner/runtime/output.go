package runtimeprovisioner

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"

	"github.com/openhands-runtime/packer-plugin-openhands/plan"
)

// tailLines is how much of a failed step's output the error repeats.
const tailLines = 15

// planOutput watches the plan's output as it streams, keeping the last lines and the step
// that failed, so the error can say which step failed and why without scrolling back.
type planOutput struct {
	mu         sync.Mutex
	partial    []byte
	lines      []string
	failedStep string
	failedCode int
	// inventory collects the inventory lines (the SBOM's data), which are neither shown nor
	// part of the tail; inventoryErr is the first unreadable one.
	inventory    plan.Inventory
	inventoryErr error
}

func (o *planOutput) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.partial = append(o.partial, p...)
	for {
		i := bytes.IndexByte(o.partial, '\n')
		if i < 0 {
			break
		}
		o.line(strings.TrimRight(string(o.partial[:i]), "\r"))
		o.partial = o.partial[i+1:]
	}
	// A command that prints without newlines (a progress bar, a binary by mistake) must not
	// grow the buffer without end: what passes the limit is read as a line of its own.
	for len(o.partial) >= plan.MaxOutputLine {
		o.line(string(o.partial[:plan.MaxOutputLine]))
		o.partial = o.partial[plan.MaxOutputLine:]
	}
	return len(p), nil
}

func (o *planOutput) line(l string) {
	if ok, err := o.inventory.Add(l); ok {
		if err != nil && o.inventoryErr == nil {
			o.inventoryErr = err
		}
		return
	}
	if name, code, before, ok := plan.FindStepFailure(l); ok {
		o.failedStep, o.failedCode = name, code
		if before == "" {
			return
		}
		l = before
	}
	o.lines = append(o.lines, l)
	if len(o.lines) > tailLines {
		o.lines = o.lines[len(o.lines)-tailLines:]
	}
}

// failure describes a failed run for the error the build ends with.
// noSpace is how ENOSPC reads in every tool's message: Python's "[Errno 28] No space left on
// device", uv's "(os error 28)", tar's and cp's.
const noSpace = "No space left on device"

func (o *planOutput) failure(exitStatus int, redact func(string) string) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	// The last line may lack its newline (a killed command): it belongs to the tail too.
	if last := strings.TrimRight(string(o.partial), "\r"); last != "" {
		o.partial = nil
		o.line(last)
	}
	tail := redact(strings.Join(o.lines, "\n    "))
	switch {
	case exitStatus == plan.ExitNeedsSudo:
		return fmt.Errorf("the plan needs root: %s", tail)
	case exitStatus == plan.ExitNoUnpack:
		return fmt.Errorf("the plan could not be unpacked on the target: %s", tail)
	case exitStatus == plan.ExitNoSecrets:
		// The communicator lost the start of the command's standard input.
		return fmt.Errorf("the plan did not receive its secrets frame on standard input (the communicator may not pass "+
			"standard input to remote commands); nothing was installed: %s", tail)
	case exitStatus == packersdk.CmdDisconnect:
		// The launcher stops the plan when its input goes with the connection.
		return fmt.Errorf("the connection to the target was lost while the plan ran, and the plan stopped there; "+
			"set max_retries on the provisioner to run it again (the steps done are skipped); last output:\n    %s", tail)
	case o.failedStep != "" && strings.Contains(tail, noSpace):
		// Said first: the tail may be a traceback of the tool that hit the full disk.
		return fmt.Errorf("step %q failed: the target's disk is full (%s); free space on the filesystem of the prefix "+
			"(min_free_disk_gb sets what the preflight step requires) and run the build again; last output:\n    %s", o.failedStep, noSpace, tail)
	case o.failedStep != "":
		return fmt.Errorf("step %q failed with exit code %d; last output:\n    %s", o.failedStep, o.failedCode, tail)
	default:
		return fmt.Errorf("the plan exited with code %d; last output:\n    %s", exitStatus, tail)
	}
}

// completeInventory is the inventory the plan printed, once it ran to the end.
func (o *planOutput) completeInventory() (*plan.Inventory, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	switch {
	case o.inventoryErr != nil:
		return nil, o.inventoryErr
	case !o.inventory.Complete:
		return nil, errors.New("the plan printed no complete inventory")
	}
	inv := o.inventory
	return &inv, nil
}

// redactingUi hides credentials (from index_url and the like) in everything shown.
type redactingUi struct {
	packersdk.Ui
	redact func(string) string
}

func (u redactingUi) Say(s string) {
	// RunWithUi shows the plan's output line by line with Say: the inventory is data for the
	// SBOM (planOutput collects it), not something to show.
	if plan.IsInventoryLine(s) {
		return
	}
	u.Ui.Say(u.redact(s))
}
func (u redactingUi) Message(s string) { u.Say(s) }
func (u redactingUi) Error(s string)   { u.Ui.Error(u.redact(s)) }
func (u redactingUi) Sayf(format string, args ...any) {
	u.Say(fmt.Sprintf(format, args...))
}
func (u redactingUi) Errorf(format string, args ...any) {
	u.Error(fmt.Sprintf(format, args...))
}

// redactor replaces each secret with ****. Longer secrets go first: the replacer tries them
// in order, and a secret that starts a longer one would otherwise leave the rest visible.
func redactor(secrets []string) func(string) string {
	secrets = slices.Clone(secrets)
	slices.SortStableFunc(secrets, func(a, b string) int { return len(b) - len(a) })
	var pairs []string
	for _, s := range secrets {
		if s != "" {
			pairs = append(pairs, s, "****")
		}
	}
	if len(pairs) == 0 {
		return func(s string) string { return s }
	}
	r := strings.NewReplacer(pairs...)
	return r.Replace
}
