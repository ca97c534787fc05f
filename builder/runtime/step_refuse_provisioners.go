package runtimebuilder

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync/atomic"

	"github.com/hashicorp/packer-plugin-sdk/multistep"
	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"
)

// errNoProvisioning is what a provisioner attached to this builder's source gets from the
// communicator: the builder renders the plan as a Dockerfile and runs no container a
// provisioner could work in, so such a provisioner would otherwise be skipped in silence.
var errNoProvisioning = errors.New("the openhands-runtime builder runs no container for provisioners: " +
	"put what they do in the plan (extra_system_packages, environment_vars, verify.commands), " +
	"or build with the docker builder and the openhands-runtime provisioner")

// StepRefuseProvisioners fails the build before anything is built when provisioner blocks
// are attached to the source. Packer tells a builder nothing about them at validate time; the
// provision hook returns at once when there are none, and otherwise hands each provisioner a
// communicator that refuses every operation. A provisioner that never uses the communicator
// (shell-local, breakpoint) runs to its end: it is seen by what it says through the ui, and
// the build fails after it.
type StepRefuseProvisioners struct{}

func (s *StepRefuseProvisioners) Run(ctx context.Context, state multistep.StateBag) multistep.StepAction {
	hook := state.Get("hook").(packersdk.Hook)
	ui := &witnessUi{Ui: state.Get("ui").(packersdk.Ui)}
	err := hook.Run(ctx, packersdk.HookProvision, ui, refusingCommunicator{}, nil)
	if err == nil && ui.said.Load() {
		err = errors.New("one that needs no communicator (shell-local, breakpoint) ran on the machine running Packer before the build; " + errNoProvisioning.Error())
	}
	if err != nil {
		state.Put("error", fmt.Errorf("provisioner blocks are attached to this source: %w", err))
		return multistep.ActionHalt
	}
	return multistep.ActionContinue
}

func (s *StepRefuseProvisioners) Cleanup(multistep.StateBag) {}

// refusingCommunicator refuses every operation with errNoProvisioning.
type refusingCommunicator struct{}

func (refusingCommunicator) Start(context.Context, *packersdk.RemoteCmd) error {
	return errNoProvisioning
}
func (refusingCommunicator) Upload(string, io.Reader, *os.FileInfo) error { return errNoProvisioning }
func (refusingCommunicator) UploadDir(string, string, []string) error     { return errNoProvisioning }
func (refusingCommunicator) Download(string, io.Writer) error             { return errNoProvisioning }
func (refusingCommunicator) DownloadDir(string, string, []string) error   { return errNoProvisioning }

// witnessUi notes whether anything was said through it: during the provision hook, only an
// attached provisioner speaks. Over Packer's RPC every message arrives as Say, Message, Error
// or Ask; the formatted forms are for completeness.
type witnessUi struct {
	packersdk.Ui
	said atomic.Bool
}

func (u *witnessUi) Say(m string)                 { u.said.Store(true); u.Ui.Say(m) }
func (u *witnessUi) Sayf(f string, args ...any)   { u.Say(fmt.Sprintf(f, args...)) }
func (u *witnessUi) Message(m string)             { u.said.Store(true); u.Ui.Message(m) }
func (u *witnessUi) Error(m string)               { u.said.Store(true); u.Ui.Error(m) }
func (u *witnessUi) Errorf(f string, args ...any) { u.Error(fmt.Sprintf(f, args...)) }
func (u *witnessUi) Ask(q string) (string, error) { u.said.Store(true); return u.Ui.Ask(q) }
