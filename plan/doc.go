// Package plan is the install plan of an OpenHands runtime, held as data, and its renderings.
//
// The model: the options every component shares (options.go, with their defaults, checks and
// secrets in defaults.go, validate.go and secrets.go), the ordered steps (plan.go, named by
// stepid.go's StepIDs, their shell in steps/*.sh filled by stepshell.go), one row
// per runtime (runtime.go, agentserver*.go, with the agent-server's Python in pythonsource.go)
// and per installed tool (tools.go, perplatform.go, supplied.go), the supported platforms
// (platform.go), the launch environment (launch.go), the checks (checks.go, their code in
// checks/*.sh and checks/*.py) and the record of
// the options (record.go). The lock's part of the
// install (lockinstall.go) and the agent-server checkout's checks (agentservercheckout.go)
// decide from the options what package projectfile reads.
//
// The renderings: the bash script (script.go, scriptvariables.go, lib.sh), the provisioner's
// bundle (bundle.go), the layered Dockerfile and its build context (dockerfile.go), the
// shipped source and its digests (source.go) and the inventory of a finished runtime
// (inventory.go). Package tarball writes the bundle's and the context's tar streams.
package plan
