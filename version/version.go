// Package version holds the plugin's version, stamped at build time with
// -ldflags "-X github.com/openhands-runtime/packer-plugin-openhands/version.Version=X".
package version

import "github.com/hashicorp/packer-plugin-sdk/version"

var (
	// Version is the release version, without the leading v.
	Version = "0.1.0"
	// VersionPrerelease is "dev" for local builds and empty for releases.
	VersionPrerelease = "dev"
	// VersionMetadata is optional build metadata.
	VersionMetadata = ""
	// PluginVersion is what `describe` and plugin-check report.
	PluginVersion = version.NewPluginVersion(Version, VersionPrerelease, VersionMetadata)
)
