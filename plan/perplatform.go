package plan

import (
	"debug/elf"
	"encoding/binary"
	"fmt"
	"maps"
	"path"
	"slices"
	"strings"
)

// toolOptions point at one tool's options in Options: its own URL, sum and path, and each of
// them by engine platform (the `*_by_platform` options, keyed like Arch.Platform).
type toolOptions struct {
	URL, SHA256, Path                               *string
	URLByPlatform, SHA256ByPlatform, PathByPlatform *map[string]string
}

// platformOption is one of a tool's per-platform options: its field ("url", "sha256",
// "path") and its entries.
type platformOption struct {
	field string
	m     map[string]string
}

// byPlatform are the tool's per-platform options.
func (s toolOptions) byPlatform() []platformOption {
	return []platformOption{{"url", *s.URLByPlatform}, {"sha256", *s.SHA256ByPlatform}, {"path", *s.PathByPlatform}}
}

// source is where one platform's copy of a tool comes from: the tool's own options, or, for a
// platform with an entry in any of the tool's `*_by_platform` options, those entries alone.
type source struct {
	url, sum, path string
	// platform is the key the entries were taken from; "" for the tool's own options.
	platform string
}

// option names a field's option as the user set it for the platform: micromamba_path, or
// micromamba_path_by_platform["linux/arm64"] (platform "" for the tool's own).
func (t Tool) option(field, platform string) string {
	if platform == "" {
		return t.Name + "_" + field
	}
	return fmt.Sprintf("%s_%s_by_platform[%q]", t.Name, field, platform)
}

// platformKeys are the platforms with an entry (a non-empty value) in any of the tool's
// per-platform options, sorted.
func (t Tool) platformKeys(o Options) []string {
	keys := map[string]bool{}
	for _, f := range t.settings(&o).byPlatform() {
		for k, v := range f.m {
			if v != "" {
				keys[k] = true
			}
		}
	}
	return slices.Sorted(maps.Keys(keys))
}

// perPlatform tells whether any per-platform option of the tool has an entry.
func (t Tool) perPlatform(o Options) bool { return len(t.platformKeys(o)) > 0 }

// sourceFor is the tool's source for an engine platform ("" for the tool's own options).
func (t Tool) sourceFor(o Options, platform string) source {
	s := t.settings(&o)
	if platform != "" && slices.Contains(t.platformKeys(o), platform) {
		return source{url: (*s.URLByPlatform)[platform], sum: (*s.SHA256ByPlatform)[platform], path: (*s.PathByPlatform)[platform], platform: platform}
	}
	return source{url: *s.URL, sum: *s.SHA256, path: *s.Path}
}

// sourceSumOption is the option the source's sum is set with.
func (t Tool) sourceSumOption(o Options, src source) string {
	if src.platform == "" {
		return t.sumOption(o)
	}
	return t.option("sha256", src.platform)
}

// SetTargets records the engine platforms the options go to, when the component knows them
// (the builder's `platforms`; "" for the engine's own): validation then checks each tool's
// files against each platform's architecture, and takes per-platform keys from them alone.
// Without it, the target tells its own platform (the provisioner's, by `uname -m`): a tool
// with per-platform entries goes to every platform of Archs, its own options to those without
// an entry.
func (o *Options) SetTargets(platforms []string) { o.targets = slices.Clone(platforms) }

// ForPlatform are the options of one engine platform's install: each tool's options as that
// platform takes them, the per-platform options emptied, so the plan renders as for a build of
// one platform, naming the options the values came from. The builder renders each platform's
// image from them.
func (o Options) ForPlatform(platform string) Options {
	one := o
	one.targets = []string{platform}
	for _, t := range Tools {
		src := t.sourceFor(o, platform)
		s := t.settings(&one)
		*s.URL, *s.SHA256, *s.Path = src.url, src.sum, src.path
		*s.URLByPlatform, *s.SHA256ByPlatform, *s.PathByPlatform = nil, nil, nil
		if src.platform != "" {
			one.SumFrom(t.Name, t.option("sha256", platform))
		}
	}
	return one
}

// destination is a platform a tool's copy goes to and the source it takes; known is false for
// a platform whose architecture is not in Archs, or not known at all (the engine's own).
type destination struct {
	platform string
	arch     Arch
	known    bool
	src      source
}

// destinations are the platforms a tool goes to (see SetTargets) and the source each takes.
func (t Tool) destinations(o Options) []destination {
	platforms := o.targets
	if platforms == nil {
		if !t.perPlatform(o) {
			return []destination{{src: t.sourceFor(o, "")}} // the target's own, whichever it is
		}
		platforms = archPlatforms()
	}
	out := make([]destination, 0, len(platforms))
	for _, p := range platforms {
		a, ok := ArchOf(p)
		out = append(out, destination{platform: p, arch: a, known: ok, src: t.sourceFor(o, p)})
	}
	return out
}

// platformKeyErrors refuses per-platform entries of platforms the options never go to.
func (t Tool) platformKeyErrors(o Options) ([]error, func(string) bool) {
	valid := func(p string) bool { return slices.Contains(archPlatforms(), p) }
	if o.targets != nil {
		valid = func(p string) bool { return p != "" && slices.Contains(o.targets, p) }
	}
	var errs []error
	for _, f := range t.settings(&o).byPlatform() {
		for _, p := range slices.Sorted(maps.Keys(f.m)) {
			switch {
			case valid(p):
			case o.targets != nil:
				built := strings.Join(o.targets, ", ")
				if built == "" {
					built = "only the engine's own: set platforms or docker_platform to build it"
				}
				errs = append(errs, fmt.Errorf("%s_%s_by_platform: %q is not one of the platforms built (%s)", t.Name, f.field, p, built))
			default:
				errs = append(errs, fmt.Errorf("%s_%s_by_platform: %q is not a platform the plan installs for; use %s", t.Name, f.field, p, strings.Join(archPlatforms(), " or ")))
			}
		}
	}
	return errs, valid
}

// platformErrors checks the tool's sources: its own options, each platform's entries, and that
// every supplied executable is of the architecture of each platform it goes to.
func (t Tool) platformErrors(o Options) []error {
	errs, valid := t.platformKeyErrors(o)
	dests := t.destinations(o)
	ownUsed := slices.ContainsFunc(dests, func(d destination) bool { return d.src.platform == "" })
	sources := []source{t.sourceFor(o, "")}
	for _, p := range t.platformKeys(o) {
		if valid(p) {
			sources = append(sources, t.sourceFor(o, p))
		}
	}
	if own := sources[0]; !ownUsed && (own.url != "" || own.sum != "" || own.path != "") {
		errs = append(errs, t.unusedError(o, own))
		sources = sources[1:]
	}
	exes := map[string]executable{} // by the source's platform, for the sources without errors
	for _, src := range sources {
		e, exe := t.sourceErrors(o, src, src.platform != "" || ownUsed)
		errs = append(errs, e...)
		if len(e) == 0 {
			exes[src.platform] = exe
		}
	}
	for _, d := range dests {
		exe, ok := exes[d.src.platform]
		if !ok || d.src.path == "" || !d.known || !exe.elf || exe.machine == d.arch.ELF {
			continue
		}
		errs = append(errs, t.archError(o, d, exe))
	}
	return errs
}

// unusedError refuses the tool's own options when every platform has its own entries, which
// replace them: a value that no platform takes is a mistake to show, not to ignore.
func (t Tool) unusedError(o Options, own source) error {
	option := t.option("path", "")
	switch {
	case own.url != "":
		option = t.option("url", "")
	case own.sum != "":
		option = t.sourceSumOption(o, own)
	}
	platforms := o.targets
	if platforms == nil {
		platforms = archPlatforms()
	}
	return fmt.Errorf("%s: no platform takes it: each of %s has its own entries in the %s_*_by_platform options, which replace the tool's own "+
		"options for it; remove %[1]s, or move it into %[1]s_by_platform", option, strings.Join(platforms, ", "), t.Name)
}

// archError is the error of a supplied executable of another architecture than a platform it
// goes to, naming the option and the platform and saying which file to give.
func (t Tool) archError(o Options, d destination, exe executable) error {
	what := exe.describe()
	if d.src.platform != "" {
		return fmt.Errorf("%s: %q is %s executable, not %s: give it the %s (%s) one", t.option("path", d.platform), d.src.path, what, d.arch.Machine, d.platform, d.arch.Machine)
	}
	goes := d.platform + " is built"
	if o.targets == nil {
		goes = fmt.Sprintf("it goes to %s targets, which have no entry in %s", d.platform, t.option("path", "")+"_by_platform")
	}
	return fmt.Errorf("%s: %q is %s executable, but %s; give %s %s one", t.option("path", ""), d.src.path, what, goes, t.option("path", d.platform), article(d.arch.Machine))
}

// executable is what validation read of a supplied file: the ELF machine of the executable
// (inside a tarball, the tool's member; for openvscode-server's tree, its `node`), when it
// is an ELF file. Scripts and files of no known format carry no architecture.
type executable struct {
	elf     bool
	machine elf.Machine
}

// describe names the executable's architecture with its article: "an x86_64".
func (e executable) describe() string {
	for _, a := range Archs {
		if a.ELF == e.machine {
			return article(a.Machine)
		}
	}
	return article(e.machine.String())
}

// article puts "a" or "an" before a machine's name, as it is read out.
func article(name string) string {
	if name != "" && strings.ContainsRune("aeiouxAEIOUX", rune(name[0])) {
		return "an " + name
	}
	return "a " + name
}

// executableOf reads the ELF header at the start of head (debug/elf's layout: the magic, the
// data encoding, then e_machine at offset 18).
func executableOf(head []byte) executable {
	if len(head) < 20 || string(head[:4]) != elf.ELFMAG {
		return executable{}
	}
	var order binary.ByteOrder
	switch elf.Data(head[elf.EI_DATA]) {
	case elf.ELFDATA2LSB:
		order = binary.LittleEndian
	case elf.ELFDATA2MSB:
		order = binary.BigEndian
	default:
		return executable{}
	}
	return executable{elf: true, machine: elf.Machine(order.Uint16(head[18:20]))}
}

// suppliedFile is a file given for a tool, as the bundle and the build context carry it.
type suppliedFile struct {
	// key is its name in Inputs.Supplied: the tool's name, or <name>/<uname -m> for a
	// platform's own file in a bundle of several (suppliedKey).
	key string
	// bundle is its path in the bundle and the build context.
	bundle string
	// path is the local file, option the option it was given with.
	path, option string
}

// suppliedKey names the file a target of architecture machine installs in Inputs.Supplied.
func (t Tool) suppliedKey(o Options, machine string) string {
	if !t.perPlatform(o) {
		return t.Name
	}
	return t.Name + "/" + machine
}

// suppliedFiles are the tool's supplied files: its own, or, when it has per-platform entries
// (a provisioner's bundle for a target of any architecture), each architecture's under
// bin/<uname -m>/, the script taking its own.
func (t Tool) suppliedFiles(o Options) []suppliedFile {
	if !t.perPlatform(o) {
		if _, _, p := t.values(o); p != "" {
			return []suppliedFile{{key: t.Name, bundle: t.Bundle, path: p, option: t.option("path", "")}}
		}
		return nil
	}
	var out []suppliedFile
	for _, a := range Archs {
		src := t.sourceFor(o, a.Platform)
		if src.path == "" {
			continue
		}
		out = append(out, suppliedFile{key: t.suppliedKey(o, a.Machine), bundle: t.archBundle(a), path: src.path, option: t.option("path", src.platform)})
	}
	return out
}

// archBundle is the bundle path of an architecture's own file: bin/aarch64/uv.
func (t Tool) archBundle(a Arch) string {
	dir, base := path.Split(t.Bundle)
	return dir + a.Machine + "/" + base
}

// archVariable is the script variable of one architecture's value of a tool's variable:
// OH_UV_URL_AARCH64.
func archVariable(variable string, a Arch) string { return variable + "_" + strings.ToUpper(a.Machine) }

// platformVariables are the script variables of a tool with per-platform entries: each
// architecture's URL and sum, which oh_detect_platform gives OH_<TOOL>_URL and _SHA256.
func (t Tool) platformVariables(o Options) [][2]string {
	if !t.perPlatform(o) {
		return nil
	}
	var vars [][2]string
	for _, a := range Archs {
		src := t.sourceFor(o, a.Platform)
		vars = append(vars, [2]string{archVariable(t.shellName()+"_URL", a), shellQuote(src.url)},
			[2]string{archVariable(t.shellName()+"_SHA256", a), shellQuote(strings.ToLower(src.sum))})
	}
	return vars
}

// platformURLOptions are the per-platform URL options of a tool, with their variables.
func (t Tool) platformURLOptions(o Options) []urlOption {
	if !t.perPlatform(o) {
		return nil
	}
	var out []urlOption
	for _, a := range Archs {
		if src := t.sourceFor(o, a.Platform); src.platform != "" && src.url != "" {
			out = append(out, urlOption{t.option("url", src.platform), archVariable(t.shellName()+"_URL", a), src.url})
		}
	}
	return out
}

// renderPlatformSources writes, for each tool with per-platform entries, the choice of the
// detected architecture's URL, sum, supplied file and the option its sum came from, before the
// pinned releases fill what is left empty.
func renderPlatformSources(b *strings.Builder, o Options) {
	for _, t := range Tools {
		if !t.perPlatform(o) {
			continue
		}
		name := t.shellName()
		b.WriteString("\t# shellcheck disable=SC2089 # the sum's option name, quotes included, is data\n\tcase $OH_ARCH in\n")
		for _, a := range Archs {
			src := t.sourceFor(o, a.Platform)
			file, option := "''", "''"
			if src.path != "" {
				file = `"$OH_BUNDLE/` + t.archBundle(a) + `"`
			}
			if src.sum != "" {
				option = shellQuote(t.sourceSumOption(o, src))
			}
			fmt.Fprintf(b, "\t%s) %[2]s_URL=$%[3]s %[2]s_SHA256=$%[4]s %[2]s_FILE=%[5]s %[2]s_SUM_OPTION=%[6]s ;;\n", a.Machine, name,
				archVariable(name+"_URL", a), archVariable(name+"_SHA256", a), file, option)
		}
		fmt.Fprintf(b, "\tesac\n\t# shellcheck disable=SC2090 # the same data\n\texport %[1]s_SHA256 %[1]s_FILE %[1]s_SUM_OPTION\n", name)
	}
}

// platformStamp is the stamp of a tool with per-platform entries: each architecture's source.
func (t Tool) platformStamp(o Options, in Inputs) string {
	parts := []string{string(t.Step), "by-platform"}
	for _, a := range Archs {
		parts = append(parts, a.Machine, t.sourceStamp(t.sourceFor(o, a.Platform), in.Supplied[t.suppliedKey(o, a.Machine)]))
	}
	return digest(parts...)
}
