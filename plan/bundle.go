package plan

import (
	"archive/tar"
	"compress/gzip"
	"fmt"
	"io"
	"strings"

	"github.com/openhands-runtime/packer-plugin-openhands/plan/tarball"
)

// launcherTemplate is the POSIX sh header of a bundle, run as root by RunCommand: it unpacks
// the tar.gz payload that follows it and runs plan.sh in a session of its own whose id it
// records, so a cancelled build can stop the whole process group.
const launcherTemplate = `#!/bin/sh
# OpenHands runtime plan bundle, made by packer-plugin-openhands: this header, then a tar.gz
# payload holding plan.sh, any supplied binaries and the source tree. Run it with: sh FILE
set -eu
self=$0
# The bundle and everything it unpacks go on success, on failure and on a signal (a cancelled
# build, a lost connection): the unpacked plan holds the secrets file.
pid=
trap 'rm -f "$self"' EXIT
# ... and a signal stops the plan with its children first (its own session's process group).
trap '[ -z "$pid" ] || kill -TERM -"$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null; exit 143' HUP INT TERM
payload_offset=%d
if [ "$(id -u)" != 0 ]; then
	echo "openhands-runtime: the plan bundle must run as root" >&2
	exit %d
fi
if ! command -v tar >/dev/null 2>&1 && ! command -v python3 >/dev/null 2>&1; then
	echo "openhands-runtime: the target has neither tar nor python3 to unpack the plan" >&2
	exit %d
fi
umask 077
dir=$(mktemp -d /tmp/openhands-plan.XXXXXX)
trap 'rm -rf "$dir" "$self" "${self%%.run}.pid"' EXIT
if command -v tar >/dev/null 2>&1; then
	tail -c +$((payload_offset + 1)) "$self" | tar -xzf - -C "$dir"
elif command -v python3 >/dev/null 2>&1; then
	python3 -c 'import sys, tarfile
f = open(sys.argv[1], "rb"); f.seek(int(sys.argv[2]))
tarfile.open(fileobj=f, mode="r|gz").extractall(sys.argv[3])' "$self" "$payload_offset" "$dir"
fi
rm -f "$self"
# With %[4]s, the secrets frame comes first on standard input: "secrets N", then N bytes.
# read takes the line a byte at a time and head -c no more than N, so nothing after is lost.
# N is 1 to 9 digits: anything else is not the provisioner's frame, and [ -gt ] would take a
# malformed N for false and run the plan without its secrets.
if [ "${1:-}" = %[4]s ]; then
	IFS= read -r frame || frame=
	n=${frame#"secrets "}
	case $frame in
	"secrets "[0-9]*) case $n in *[!0-9]* | ??????????*) n= ;; esac ;;
	*) n= ;;
	esac
	if [ -z "$n" ]; then
		echo "openhands-runtime: the launcher's standard input does not start with the secrets frame" >&2
		exit %[5]d
	fi
	if [ "$n" -gt 0 ]; then
		head -c "$n" >"$dir/%[6]s"
		if [ "$(wc -c <"$dir/%[6]s")" -ne "$n" ]; then
			echo "openhands-runtime: the secrets frame ended early" >&2
			exit %[5]d
		fi
	fi
fi
rc=0
# The plan reads nothing: its standard input is /dev/null, as for any background job here.
if command -v setsid >/dev/null 2>&1; then
	setsid bash "$dir/%[7]s" &
else
	bash "$dir/%[7]s" &
fi
pid=$!
echo "$pid" >"${self%%.run}.pid"
# With %[4]s, standard input is the provisioner's, which sends nothing and ends when the build
# is cancelled or its connection is lost (sshd and docker exec close it then, and no signal
# reaches a command without a terminal): the plan is stopped as on a signal. read is a
# builtin, so killing this watcher leaves no reader behind.
watch=
if [ "${1:-}" = %[4]s ]; then
	exec 3<&0
	(
		while IFS= read -r _; do :; done
		kill -TERM -"$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null
		# This launcher may be gone already, without its traps: under sudo, over an SSH
		# connection that went, it was seen to end so (the test acc_interrupt_test.go).
		rm -rf "$dir" "${self%%.run}.pid"
	) <&3 >/dev/null 2>&1 &
	watch=$!
	exec 3<&-
fi
wait "$pid" || rc=$?
[ -z "$watch" ] || kill "$watch" 2>/dev/null || true
rm -f "${self%%.run}.pid"
exit "$rc"
`

// Exit codes of the launcher itself, which the provisioner turns into specific errors.
const (
	ExitNeedsSudo = 97
	ExitNoUnpack  = 98
)

// StopOnEOF is the launcher's argument that stops the plan when its standard input ends. Its
// standard input starts with the secrets frame (SecretsFrame).
const StopOnEOF = "--stop-on-eof"

// ExitNoSecrets is the launcher's exit code when its standard input does not start with a
// whole secrets frame.
const ExitNoSecrets = 96

// SecretsFrame is what the provisioner writes first on the launcher's standard input: a line
// "secrets N", then the N bytes of the plan's secrets file (SecretsScript; N is 0 when no
// option holds a secret). The launcher writes them into the unpacked plan's directory, root's
// alone, removed with it; the uploaded bundle never holds them.
func SecretsFrame(p *Plan) []byte {
	secrets := p.SecretsScript()
	return []byte(fmt.Sprintf("secrets %d\n%s", len(secrets), secrets))
}

// BundleSuffix ends every bundle's remote file name; the pid file swaps it for ".pid".
const BundleSuffix = ".run"

// launcherHeader renders the header with its own length as the payload offset (a fixed
// point: the offset's digits are part of the length).
func launcherHeader() string {
	offset := 0
	for {
		header := fmt.Sprintf(launcherTemplate, offset, ExitNeedsSudo, ExitNoUnpack, StopOnEOF, ExitNoSecrets, BundleSecrets, BundleScript)
		if len(header) == offset {
			return header
		}
		offset = len(header)
	}
}

// CancelCommand stops the plan started from the bundle at remotePath, with its children.
func CancelCommand(remotePath string) string {
	pid := strings.TrimSuffix(remotePath, BundleSuffix) + ".pid"
	// Not `kill -TERM -- -PID`: dash, /bin/sh on Debian and Ubuntu, takes "--" for a pid.
	// A leading signal option lets every shell's kill read -PID as a process group.
	// No pid file: the launcher has ended the plan (it removes the file last) or never ran.
	kill := fmt.Sprintf(`[ ! -f %[1]s ] || kill -TERM -"$(cat %[1]s)"`, shellQuote(pid))
	return fmt.Sprintf(`if [ "$(id -u)" = 0 ]; then %s; else sudo -n sh -c %s; fi`, kill, shellQuote(kill))
}

// RunCommand is the one remote command that runs a bundle: as root directly, as any other
// login user through sudo -n (the upload may be readable by its owner only, and that owner
// is not always the login user: the docker communicator's uploads belong to the image's user).
// args go to the launcher (StopOnEOF).
func RunCommand(remotePath string, args ...string) string {
	run := `"$f"`
	for _, a := range args {
		run += " " + shellQuote(a)
	}
	return fmt.Sprintf(`f=%s; if [ "$(id -u)" = 0 ]; then exec sh %s; `+
		`elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then exec sudo -n sh %[2]s; `+
		`else rm -f "$f"; echo "openhands-runtime: the login user $(id -un) is not root and cannot run sudo without a password (sudo -n true failed); give it passwordless sudo, or connect as root" >&2; exit %[3]d; fi`,
		shellQuote(remotePath), run, ExitNeedsSudo)
}

// WriteBundle writes a self-extracting bundle: supplied binaries and the source tree are
// packed and digested in one pass, then render turns the digests into plan.sh, packed last.
func WriteBundle(w io.Writer, o Options, files []SourceFile, render func(Inputs) string) (Inputs, error) {
	var in Inputs
	if _, err := io.WriteString(w, launcherHeader()); err != nil {
		return in, err
	}
	gz, _ := gzip.NewWriterLevel(w, gzip.BestSpeed)
	tw := tar.NewWriter(gz)
	bw := tarball.NewWriter(tw)
	for _, t := range Tools {
		for _, f := range t.suppliedFiles(o) {
			sum, err := bw.AddFile(f.bundle, f.path, 0o755, nil)
			if err != nil {
				return in, fmt.Errorf("%s: %w", f.option, err)
			}
			in.supply(f.key, sum)
		}
	}
	digest := newSourceDigest()
	for _, f := range files {
		mode := int64(0o644)
		if f.Executable {
			mode = 0o755
		}
		if _, err := bw.AddFile(BundleCode+"/"+f.Rel, f.Abs, mode, digest.file(f)); err != nil {
			return in, fmt.Errorf("source_dir: %w", err)
		}
	}
	digest.fill(&in)
	if err := addLock(bw, &in, BundleLock, o); err != nil {
		return in, err
	}
	// Values holding credentials never travel in the bundle, which waits in /tmp for the run
	// and may be readable there: the launcher takes them from its standard input
	// (SecretsFrame).
	script := render(in)
	if err := bw.AddBytes(BundleScript, []byte(script), 0o755); err != nil {
		return in, err
	}
	if err := tw.Close(); err != nil {
		return in, err
	}
	return in, gz.Close()
}

// addLock packs the files generated from poetry.lock under dir, when the options pin the
// install, and records their digest.
func addLock(b *tarball.Writer, in *Inputs, dir string, o Options) error {
	li, err := ReadLockInstall(o)
	if err != nil || li == nil {
		return err
	}
	for _, f := range li.Files() {
		if err := b.AddBytes(dir+"/"+f[0], []byte(f[1]), 0o644); err != nil {
			return err
		}
	}
	in.Lock = li.digest()
	return nil
}
