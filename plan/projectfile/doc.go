// Package projectfile reads the files a Python checkout describes itself with: pyproject.toml
// (the project's name and version, a uv workspace's members, the groups' requirements),
// poetry.lock (its packages, groups and markers, the Poetry 1.x graph walk, Poetry's
// content-hash and the grammar every rendered string must pass) and uv.lock (what the checks
// compare with the checkout). All three are read with one TOML library, go-toml.
//
// It knows nothing of the plugin's options: package plan decides from them which lock to use
// and how, and words the errors after the option that led to them.
package projectfile
