// Package runtimeprovisioner is the openhands-runtime provisioner: it applies the OpenHands
// runtime install plan through whatever communicator the build has, with one upload and one remote
// command per run.
package runtimeprovisioner

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	cdx "github.com/CycloneDX/cyclonedx-go"
	"github.com/hashicorp/hcl/v2/hcldec"
	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"
	"github.com/hashicorp/packer-plugin-sdk/uuid"

	"github.com/openhands-runtime/packer-plugin-openhands/plan"
	"github.com/openhands-runtime/packer-plugin-openhands/sbom"
	"github.com/openhands-runtime/packer-plugin-openhands/version"
)

// cancelTimeout bounds the command that stops the remote plan after a cancelled build.
const cancelTimeout = 30 * time.Second

// stopWait bounds the wait for the plan to stop once its input has ended, before the stop
// command is sent: the launcher's stop takes well under a second.
const stopWait = 10 * time.Second

// Provisioner applies the plan.
type Provisioner struct {
	config Config
	// stopWait replaces the constant stopWait when set (tests).
	stopWait time.Duration
}

func (p *Provisioner) ConfigSpec() hcldec.ObjectSpec { return p.config.FlatMapstructure().HCL2Spec() }

func (p *Provisioner) Prepare(raws ...interface{}) error { return p.config.Prepare(raws...) }

func (p *Provisioner) Provision(ctx context.Context, ui packersdk.Ui, comm packersdk.Communicator, generatedData map[string]interface{}) error {
	started := time.Now()
	o := p.config.Options
	redact := redactor(o.Secrets())
	ui = redactingUi{Ui: ui, redact: redact}

	// The agent-server is installed from packages: no checkout to ship.
	var files []plan.SourceFile
	if o.InstallsCheckout() {
		var err error
		if files, err = plan.ListSource(o.SourceDir); err != nil {
			return err
		}
	}
	bundle, err := os.CreateTemp("", "openhands-plan-*"+plan.BundleSuffix)
	if err != nil {
		return fmt.Errorf("creating the plan bundle: %w", err)
	}
	defer os.Remove(bundle.Name())
	defer bundle.Close()

	var steps int
	var secrets []byte
	inputs, err := plan.WriteBundle(bundle, o, files, func(in plan.Inputs) string {
		pl := plan.New(o, in)
		secrets = plan.SecretsFrame(pl)
		pl.Inventory = p.config.Settings.Enabled()
		steps = len(pl.Steps)
		return pl.Script(version.PluginVersion.FormattedVersion())
	})
	if err != nil {
		return fmt.Errorf("creating the plan bundle: %w", err)
	}
	info, err := bundle.Stat()
	if err != nil {
		return err
	}
	if _, err := bundle.Seek(0, 0); err != nil {
		return err
	}

	remote := "/tmp/openhands-plan-" + uuid.TimeOrderedUUID() + plan.BundleSuffix
	ui.Sayf("Uploading the OpenHands runtime plan (%d steps, %d source files, %s)", steps, len(files), humanBytes(info.Size()))
	if s := o.LockSummary(); s != "" {
		ui.Say(s)
	}
	if err := comm.Upload(remote, bundle, &info); err != nil {
		return fmt.Errorf("uploading the plan bundle to %s: %w", remote, err)
	}

	uploaded := time.Now()
	out := &planOutput{}
	// The plan's standard input sends the secrets frame, then nothing, and ends when the build
	// is cancelled, and when this process or the connection goes: the launcher then stops the
	// plan and exits.
	stdin, stdinW := io.Pipe()
	defer stdinW.Close()
	// A terminal's Ctrl-C reaches this process with packer (one process group), before
	// packer's cancellation does through the builder; packer cancels on SIGINT and SIGTERM.
	// Packer does not wait for a cancelled provisioner: its provision step returns at once
	// and packer exits 100-200 ms later, ending this process. Acting on the signal itself
	// starts the plan's stop at once, and gives the lines saying so a chance to be shown.
	interrupt := make(chan os.Signal, 1)
	signal.Notify(interrupt, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(interrupt)
	// Not ctx: a cancelled command is left running by the communicators, and its end is
	// what tells that the plan stopped.
	runCtx, abandon := context.WithCancel(context.WithoutCancel(ctx))
	defer abandon()
	run := &planRun{
		cmd: &packersdk.RemoteCmd{Command: plan.RunCommand(remote, plan.StopOnEOF),
			Stdin: io.MultiReader(bytes.NewReader(secrets), stdin), Stdout: out, Stderr: out},
		ended:   make(chan error, 1),
		input:   stdinW,
		abandon: abandon,
	}
	go func() { run.ended <- run.cmd.RunWithUi(runCtx, comm, ui) }()
	var runErr error
	select {
	case runErr = <-run.ended:
	case <-ctx.Done():
		return p.cancel(comm, remote, ui, run, ctx.Err())
	case <-interrupt:
		return p.cancel(comm, remote, ui, run, context.Canceled)
	}
	if ctx.Err() != nil {
		// Cancelled as the plan ended: it is not running.
		return fmt.Errorf("the OpenHands runtime plan was cancelled: %w", ctx.Err())
	}
	if runErr != nil {
		return fmt.Errorf("running the OpenHands runtime plan: %w", runErr)
	}
	if status := run.cmd.ExitStatus(); status != 0 {
		return fmt.Errorf("openhands-runtime: %w", out.failure(status, redact))
	}
	ui.Sayf("OpenHands runtime provisioned in %s (bundle and upload %s, plan %s)",
		roundDuration(time.Since(started)), roundDuration(uploaded.Sub(started)), roundDuration(time.Since(uploaded)))
	if p.config.Settings.Enabled() {
		return p.writeSBOM(out, inputs, generatedData, ui)
	}
	return nil
}

// writeSBOM writes the SBOM of the provisioned target from the inventory the plan printed.
// A provisioner cannot add to the build's artifact (HCP Packer metadata comes from the
// builder's artifact alone), so the path and digest are reported in the build's output.
func (p *Provisioner) writeSBOM(out *planOutput, inputs plan.Inputs, generatedData map[string]interface{}, ui packersdk.Ui) error {
	inv, err := out.completeInventory()
	if err != nil {
		return fmt.Errorf("openhands-runtime: the SBOM: %w", err)
	}
	subject := sbom.Subject{Name: p.config.PackerBuildName, Type: cdx.ComponentTypePlatform}
	if generatedData["ConnType"] == "docker" {
		subject.Type = cdx.ComponentTypeContainer
	}
	if subject.Name == "" {
		subject.Name = "openhands-runtime"
	}
	// A machine image's builder shares the one it started from (the amazon builders'
	// SourceAMI); the docker builder shares no base image.
	var base sbom.Base
	if ami, ok := generatedData["SourceAMI"].(string); ok && ami != "" {
		base.Name = ami
	}
	// A provisioned target has no creation time of its own to date the documents with.
	created, err := sbom.DocumentTime()
	if err != nil {
		return fmt.Errorf("openhands-runtime: the SBOM: %w", err)
	}
	w, err := sbom.Write(p.config.Options, p.config.Settings, sbom.Input{
		Subject: subject, Inventory: inv, Inputs: inputs, Base: base,
		PluginVersion: version.PluginVersion.FormattedVersion(), Created: created,
	}, "")
	if err != nil {
		return fmt.Errorf("openhands-runtime: %w", err)
	}
	ui.Sayf("SBOM written to %s (%d components, %s), provenance to %s", w.Path, w.Components, w.Digest, w.ProvenancePath)
	return nil
}

// roundDuration keeps a duration readable in a report: 10 ms steps.
func roundDuration(d time.Duration) time.Duration { return d.Round(10 * time.Millisecond) }

// planRun is the plan's remote command while it runs.
type planRun struct {
	cmd *packersdk.RemoteCmd
	// ended receives RunWithUi's result.
	ended chan error
	// input is the writing end of the plan's standard input.
	input io.Closer
	// abandon makes RunWithUi return with the command still running.
	abandon context.CancelFunc
}

// cancel stops the plan of a cancelled or interrupted build: it ends the plan's input, which
// makes the launcher stop the plan and exit, and waits for that exit; when none comes within
// stopWait (or the connection went with it), the stop command ends the plan.
func (p *Provisioner) cancel(comm packersdk.Communicator, remote string, ui packersdk.Ui, run *planRun, cause error) error {
	run.input.Close()
	// Said first: Packer may end before the plan has stopped.
	ui.Say("Build cancelled: stopping the OpenHands runtime plan on the target")
	cancelled := fmt.Errorf("the OpenHands runtime plan was cancelled: %w", cause)
	wait := p.stopWait
	if wait == 0 {
		wait = stopWait
	}
	select {
	case err := <-run.ended:
		if err == nil && run.cmd.ExitStatus() != packersdk.CmdDisconnect {
			ui.Say("Stopped the OpenHands runtime plan on the target")
			return cancelled
		}
	case <-time.After(wait):
		run.abandon()
	}
	p.stop(comm, remote, ui)
	return cancelled
}

// stop ends the remote plan and its children after the build was cancelled; the
// communicators leave a started command running.
func (p *Provisioner) stop(comm packersdk.Communicator, remote string, ui packersdk.Ui) {
	ctx, cancel := context.WithTimeout(context.Background(), cancelTimeout)
	defer cancel()
	cmd := &packersdk.RemoteCmd{Command: plan.CancelCommand(remote)}
	err := cmd.RunWithUi(ctx, comm, ui)
	if err == nil && cmd.ExitStatus() == 0 {
		ui.Say("Stopped the OpenHands runtime plan on the target")
		return
	}
	if err == nil {
		err = errors.New("the stop command failed")
	}
	ui.Errorf("Could not stop the plan on the target (%v); it may still be running", err)
}

func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
