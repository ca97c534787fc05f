package plan

import (
	"debug/elf"
	"strings"
)

// Family is a group of platforms that share package manager and layout, so the plan renders
// the same commands for every member.
type Family string

const (
	// FamilyApt covers Debian and Ubuntu.
	FamilyApt Family = "apt"
	// FamilyDnf covers Amazon Linux 2023.
	FamilyDnf Family = "dnf"
)

// Platform is one supported operating system release.
type Platform struct {
	// ID and VersionID are the os-release values that identify the platform.
	ID        string
	VersionID string
	Name      string
	Family    Family
	// AdminGroup is the group whose members may use sudo.
	AdminGroup string
	// BashRC is the system-wide bash startup file.
	BashRC string
}

// Key is the platform's name in configuration, e.g. "ubuntu-22.04".
func (p Platform) Key() string { return p.ID + "-" + p.VersionID }

// Platforms is every platform the plan supports, in the order docs and errors list them.
var Platforms = []Platform{
	{ID: "ubuntu", VersionID: "20.04", Name: "Ubuntu 20.04", Family: FamilyApt, AdminGroup: "sudo", BashRC: "/etc/bash.bashrc"},
	{ID: "ubuntu", VersionID: "22.04", Name: "Ubuntu 22.04", Family: FamilyApt, AdminGroup: "sudo", BashRC: "/etc/bash.bashrc"},
	{ID: "ubuntu", VersionID: "24.04", Name: "Ubuntu 24.04", Family: FamilyApt, AdminGroup: "sudo", BashRC: "/etc/bash.bashrc"},
	{ID: "debian", VersionID: "11", Name: "Debian 11", Family: FamilyApt, AdminGroup: "sudo", BashRC: "/etc/bash.bashrc"},
	{ID: "debian", VersionID: "12", Name: "Debian 12", Family: FamilyApt, AdminGroup: "sudo", BashRC: "/etc/bash.bashrc"},
	{ID: "debian", VersionID: "13", Name: "Debian 13", Family: FamilyApt, AdminGroup: "sudo", BashRC: "/etc/bash.bashrc"},
	{ID: "amzn", VersionID: "2023", Name: "Amazon Linux 2023", Family: FamilyDnf, AdminGroup: "wheel", BashRC: "/etc/bashrc"},
}

// PlatformKeys lists the accepted values of the platform option besides "auto".
func PlatformKeys() []string {
	keys := make([]string, len(Platforms))
	for i, p := range Platforms {
		keys[i] = p.Key()
	}
	return keys
}

// PlatformByKey finds a platform by its configuration name.
func PlatformByKey(key string) (Platform, bool) {
	for _, p := range Platforms {
		if p.Key() == key {
			return p, true
		}
	}
	return Platform{}, false
}

// Families returns the distinct families of the given platforms, in table order.
func Families(platforms []Platform) []Family {
	var out []Family
	seen := map[Family]bool{}
	for _, p := range platforms {
		if !seen[p.Family] {
			seen[p.Family] = true
			out = append(out, p.Family)
		}
	}
	return out
}

// Arch is one processor architecture the plan installs for, in each of the forms the
// components meet it: the engine's platform, `uname -m` on the target and the machine of its
// ELF executables. Archs is the one table of them; adding an architecture is a row.
type Arch struct {
	// Platform is the engine's name, the key of the `*_by_platform` options: "linux/arm64".
	Platform string
	// Machine is what `uname -m` prints on it, as the script and the pinned releases name it.
	Machine string
	// ELF is the machine of its executables.
	ELF elf.Machine
}

// Archs are the architectures the plan supports, in the order docs and errors list them.
var Archs = []Arch{
	{Platform: "linux/amd64", Machine: "x86_64", ELF: elf.EM_X86_64},
	{Platform: "linux/arm64", Machine: "aarch64", ELF: elf.EM_AARCH64},
}

// ArchOf is the architecture of an engine platform such as linux/arm64 or linux/arm64/v8 (a
// variant of a supported architecture is that architecture).
func ArchOf(platform string) (Arch, bool) {
	os, rest, _ := strings.Cut(platform, "/")
	arch, _, _ := strings.Cut(rest, "/")
	for _, a := range Archs {
		if a.Platform == os+"/"+arch {
			return a, true
		}
	}
	return Arch{}, false
}

// ArchByMachine is the architecture whose `uname -m` is machine.
func ArchByMachine(machine string) (Arch, bool) {
	for _, a := range Archs {
		if a.Machine == machine {
			return a, true
		}
	}
	return Arch{}, false
}

// archPlatforms are the engine platforms of Archs, the keys the `*_by_platform` options take.
func archPlatforms() []string {
	out := make([]string, len(Archs))
	for i, a := range Archs {
		out[i] = a.Platform
	}
	return out
}

// archMachines are the `uname -m` names of Archs.
func archMachines() []string {
	out := make([]string, len(Archs))
	for i, a := range Archs {
		out[i] = a.Machine
	}
	return out
}
