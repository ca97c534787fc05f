package projectfile

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Keys of pyproject.toml that Poetry's content-hash covers (Poetry's Locker: the legacy keys
// of [tool.poetry] are hashed as null when absent, unless [project] or [dependency-groups]
// has content).
var (
	contentHashLegacyKeys  = []string{"dependencies", "source", "extras", "dev-dependencies"}
	contentHashPoetryKeys  = append(append([]string(nil), contentHashLegacyKeys...), "group")
	contentHashProjectKeys = []string{"requires-python", "dependencies", "optional-dependencies"}
)

// generatedByPattern finds the Poetry version in a lock's first line, as Poetry's own
// freshness check does.
var generatedByPattern = regexp.MustCompile(`Poetry ([^ ]+)`)

// AcceptedContentHashes are the content-hashes Poetry (2.3 and later) takes as fresh for this
// lock and pyproject.toml: the one it writes, and, for a lock whose first line says an older
// Poetry wrote it, the hash without [dependency-groups] that Poetry computed before 2.3 (when
// it differs).
func (l *PoetryLock) AcceptedContentHashes(pyproject map[string]any) ([]string, error) {
	if l.Legacy() {
		// Poetry 1.x hashes [tool.poetry] alone, whatever else pyproject.toml holds.
		h, err := hashRelevant(relevantPoetryKeys(pyproject, true))
		return []string{h}, err
	}
	current, err := PoetryContentHash(pyproject, true)
	if err != nil || !poetryBefore23(l.GeneratedBy) {
		return []string{current}, err
	}
	old, err := PoetryContentHash(pyproject, false)
	if err != nil || old == current {
		return []string{current}, err
	}
	return []string{current, old}, nil
}

// versionPattern is a PEP 440 version without epoch: its release numbers, then its pre-,
// post- and development release parts; preReleasePattern tells those parts of a release that
// comes before the release alone.
var (
	versionPattern = regexp.MustCompile(`(?i)^\s*v?(\d+(?:\.\d+)*)((?:[-_.]?(?:alpha|beta|preview|pre|rc|a|b|c)[-_.]?\d*)?` +
		`(?:-\d+|[-_.]?(?:post|rev|r)[-_.]?\d*)?(?:[-_.]?dev[-_.]?\d*)?)(?:\+[a-z0-9]+(?:[-_.][a-z0-9]+)*)?\s*$`)
	preReleasePattern = regexp.MustCompile(`(?i)^[-_.]?(alpha|beta|preview|pre|rc|a|b|c|dev)`)
)

// poetryBefore23 tells whether a Poetry version is older than 2.3.0 by PEP 440's order: a
// release below 2.3.0, or a pre-release or development release of 2.3.0. A version that is
// not PEP 440 is not older: Poetry then checks the current hash alone.
func poetryBefore23(version string) bool {
	m := versionPattern.FindStringSubmatch(version)
	if m == nil {
		return false
	}
	release := strings.Split(m[1], ".")
	for i, min := range []int{2, 3, 0} {
		n := 0
		if i < len(release) {
			n, _ = strconv.Atoi(release[i])
		}
		if n != min {
			return n < min
		}
	}
	for _, part := range release[3:] {
		if n, _ := strconv.Atoi(part); n != 0 {
			return false
		}
	}
	return preReleasePattern.MatchString(m[2])
}

// PoetryContentHash computes the content-hash Poetry writes to poetry.lock for a parsed
// pyproject.toml: the SHA-256 of Python's json.dumps(relevant, sort_keys=True), where relevant
// holds the dependency sections of [project], [tool.poetry] and, with groups (Poetry 2.3 and
// later), [dependency-groups]. It follows Poetry's Locker._get_content_hash; the hash without
// groups was checked against real locks (OpenHands 0.62's, Poetry's own), the one with groups
// against that function run on the test pairs, not against a lock Poetry wrote.
func PoetryContentHash(pyproject map[string]any, groups bool) (string, error) {
	project, _ := pyproject["project"].(map[string]any)
	relevant := map[string]any{}
	relevantProject := map[string]any{}
	for _, k := range contentHashProjectKeys {
		if v, ok := project[k]; ok && v != nil {
			relevantProject[k] = v
		}
	}
	if len(relevantProject) > 0 {
		relevant["project"] = relevantProject
	}
	if g, ok := pyproject["dependency-groups"].(map[string]any); groups && ok && len(g) > 0 {
		relevant["dependency-groups"] = g
	}
	relevantPoetry := relevantPoetryKeys(pyproject, len(relevant) == 0)
	if len(relevant) > 0 {
		relevant["tool"] = map[string]any{"poetry": relevantPoetry}
	} else {
		// Neither [project] nor [dependency-groups]: Poetry hashes the [tool.poetry] keys at
		// the top level.
		relevant = relevantPoetry
	}
	return hashRelevant(relevant)
}

// relevantPoetryKeys are the keys of [tool.poetry] Poetry hashes; with legacyNulls, the
// legacy keys are held as null when absent (Poetry 1.x always, Poetry 2 without [project]).
func relevantPoetryKeys(pyproject map[string]any, legacyNulls bool) map[string]any {
	poetry, _ := dig(pyproject, "tool", "poetry").(map[string]any)
	relevant := map[string]any{}
	for _, k := range contentHashPoetryKeys {
		v, ok := poetry[k]
		if !ok && (!slices.Contains(contentHashLegacyKeys, k) || !legacyNulls) {
			continue
		}
		relevant[k] = v
	}
	return relevant
}

// hashRelevant is the SHA-256 of Python's json.dumps(relevant, sort_keys=True).
func hashRelevant(relevant map[string]any) (string, error) {
	var b strings.Builder
	if err := pythonJSON(&b, relevant); err != nil {
		return "", fmt.Errorf("cannot compute Poetry's content-hash of pyproject.toml: %w", err)
	}
	sum := sha256.Sum256([]byte(b.String()))
	return hex.EncodeToString(sum[:]), nil
}
