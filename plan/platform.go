package plan

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
