// Package acctest is the root of the plugin's test support, apart from its production code
// under internal/: the rig the acceptance tests run real `packer build`s on (rig), the AWS
// doubles (ecrtest), the check of the components' generated HCL2 specs (spectest), the files
// unit tests share (fixture) and the in-memory Docker engine of the components' unit tests
// (enginefake). Named after packer-plugin-sdk's acctest, which holds the same for plugins;
// nothing here is linked into the plugin.
package acctest
