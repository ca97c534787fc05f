package plan

// StepID names a step: in the plan, the script's functions and its --steps argument, the
// builder's layers, the failure line and the records. It is a string so those keep their
// names; the constants are the only names there are, so a mistyped one does not compile
// (TestStepIDs finds a constant no plan has).
type StepID string

// The steps of every plan, in the order they can appear.
const (
	StepPreflight        StepID = "preflight"
	StepSystemPackages   StepID = "system-packages"
	StepUV               StepID = "uv"
	StepUser             StepID = "user"
	StepDirectories      StepID = "directories"
	StepMicromamba       StepID = "micromamba"
	StepPythonEnv        StepID = "python-env"
	StepVSCodeServer     StepID = "vscode-server"
	StepTini             StepID = "tini"
	StepNodeJS           StepID = "nodejs"
	StepCode             StepID = "code"
	StepLock             StepID = "lock"
	StepDependencies     StepID = "dependencies"
	StepAgentServer      StepID = "agent-server"
	StepCheckoutPackages StepID = "checkout-packages"
	StepBrowser          StepID = "browser"
	StepEnvironment      StepID = "environment"
	StepService          StepID = "service"
	StepCleanup          StepID = "cleanup"
	StepVerify           StepID = "verify"
)

// joinSteps joins step names with sep.
func joinSteps(ids []StepID, sep string) string {
	var s string
	for i, id := range ids {
		if i > 0 {
			s += sep
		}
		s += string(id)
	}
	return s
}
