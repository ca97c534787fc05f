package projectfile

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
)

// Strings read from a lock file become lines of uv's constraints and requirements files,
// where a newline starts another line and a token beginning with "-" is an option
// (`--index-url` would replace index_url and any air-gapped mirror). The content-hash covers
// pyproject.toml only, so a lock edited by hand or by an attacker still passes it: every
// string the plan renders from a lock or a group's requirements is checked here against the
// grammar it claims to be, and refused otherwise.

var (
	// pep508Name is a distribution name (PEP 508).
	pep508Name = regexp.MustCompile(`^(?i:[a-z0-9]|[a-z0-9][a-z0-9._-]*[a-z0-9])$`)
	// pep440Version is a version as PEP 440 allows it to be written, local part included.
	pep440Version = regexp.MustCompile(`(?i)^v?(?:[0-9]+!)?[0-9]+(?:\.[0-9]+)*` +
		`(?:[-_.]?(?:a|b|c|rc|alpha|beta|pre|preview)[-_.]?[0-9]*)?` +
		`(?:-[0-9]+|[-_.]?(?:post|rev|r)[-_.]?[0-9]*)?` +
		`(?:[-_.]?dev[-_.]?[0-9]*)?` +
		`(?:\+[a-z0-9]+(?:[-_.][a-z0-9]+)*)?$`)
	// versionSpecifier is one clause of a version specifier (PEP 440): an operator and a
	// version, wildcards included.
	versionSpecifier = regexp.MustCompile(`^(?:===|~=|==|!=|<=|>=|<|>)\s*[A-Za-z0-9.*+!_-]+$`)
	// markerValue is what a quoted marker value may hold: what real locks use (versions,
	// platform names, extras, kernel releases, space-separated lists for `in`); a space
	// before a hyphen, which would start an option token on the line, is refused apart.
	markerValue = regexp.MustCompile(`^[A-Za-z0-9._*+!~<>=,:/() -]*$`)
	// gitReference is a commit, tag or branch name as a lock resolves it.
	gitReference = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9._/-]*$`)
	// subdirectoryPath is a relative path inside a repository.
	subdirectoryPath = regexp.MustCompile(`^[A-Za-z0-9._][A-Za-z0-9._/-]*$`)
	// extrasList is the bracketed extras after a name.
	extrasList = regexp.MustCompile(`^\[\s*[A-Za-z0-9][A-Za-z0-9._-]*(?:\s*,\s*[A-Za-z0-9][A-Za-z0-9._-]*)*\s*\]`)
)

// markerVariables are the environment markers of PEP 508, and the legacy dotted spellings
// older tools still write.
var markerVariables = map[string]bool{
	"python_version": true, "python_full_version": true, "os_name": true, "sys_platform": true,
	"platform_release": true, "platform_system": true, "platform_version": true,
	"platform_machine": true, "platform_python_implementation": true, "implementation_name": true,
	"implementation_version": true, "extra": true, "os.name": true, "sys.platform": true,
	"platform.version": true, "platform.machine": true, "platform.python_implementation": true,
	"python_implementation": true,
}

// CheckRenderedStrings checks every string of the package that the plan renders.
func (p LockedPackage) CheckRenderedStrings() error {
	if !pep508Name.MatchString(p.Name) {
		return fmt.Errorf("package name %q is not a distribution name (PEP 508)", p.Name)
	}
	if !pep440Version.MatchString(p.Version) {
		return fmt.Errorf("package %s: version %q is not a version (PEP 440)", p.Name, p.Version)
	}
	var markers []string
	switch m := p.Markers.(type) {
	case string:
		markers = append(markers, m)
	case map[string]any:
		for group, v := range m {
			s, ok := v.(string)
			if !ok {
				return fmt.Errorf("package %s: the marker of group %q is not a string", p.Name, group)
			}
			markers = append(markers, s)
		}
	}
	for _, m := range markers {
		if err := checkMarker(m); err != nil {
			return fmt.Errorf("package %s: markers %q: %w", p.Name, m, err)
		}
	}
	for _, f := range p.Files {
		if algo, sum, ok := strings.Cut(f.Hash, ":"); ok && algo == "sha256" && !SHA256Pattern.MatchString(sum) {
			return fmt.Errorf("package %s: file %q has hash %q, which is not a SHA-256", p.Name, f.File, f.Hash)
		}
	}
	if s := p.Source; s != nil && (s.Type == "git" || s.Type == "url") {
		if err := checkSourceURL(s.URL); err != nil {
			return fmt.Errorf("package %s: source url %q: %w", p.Name, s.URL, err)
		}
		if s.Type == "git" && !gitReference.MatchString(s.ResolvedReference) {
			return fmt.Errorf("package %s: resolved_reference %q is not a commit or reference name", p.Name, s.ResolvedReference)
		}
		if s.Subdirectory != "" && (!subdirectoryPath.MatchString(s.Subdirectory) || strings.Contains(s.Subdirectory, "..")) {
			return fmt.Errorf("package %s: subdirectory %q is not a relative path inside the repository", p.Name, s.Subdirectory)
		}
	}
	return nil
}

// checkSourceURL accepts an absolute URL without white space, control characters or quotes.
func checkSourceURL(raw string) error {
	if strings.ContainsFunc(raw, func(r rune) bool { return r <= ' ' || r == 0x7f || r == '"' || r == '\'' || r > 0x7e }) {
		return fmt.Errorf("holds white space, a control character, a quote or a non-ASCII character")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return err
	}
	switch u.Scheme {
	case "http", "https", "ssh", "git", "file":
	default:
		return fmt.Errorf("scheme %q is not http, https, ssh, git or file", u.Scheme)
	}
	return nil
}

// CheckRequirement checks a requirement string of a dependency group (PEP 508): a name,
// extras, then a version specifier or `@ URL`, then `; marker`.
func CheckRequirement(req string) error {
	rest := strings.TrimSpace(req)
	if strings.ContainsFunc(rest, func(r rune) bool { return r < ' ' || r == 0x7f }) {
		return fmt.Errorf("holds a control character (a line break would start another line of the requirements file)")
	}
	spec, marker, hasMarker := strings.Cut(rest, ";")
	if hasMarker {
		if err := checkMarker(marker); err != nil {
			return fmt.Errorf("marker: %w", err)
		}
	}
	spec = strings.TrimSpace(spec)
	end := strings.IndexFunc(spec, func(r rune) bool { return !(r == '.' || r == '_' || r == '-' || isAlnum(r)) })
	if end < 0 {
		end = len(spec)
	}
	if !pep508Name.MatchString(spec[:end]) {
		return fmt.Errorf("%q does not start with a distribution name (PEP 508)", spec)
	}
	spec = strings.TrimSpace(spec[end:])
	if loc := extrasList.FindStringIndex(spec); loc != nil {
		spec = strings.TrimSpace(spec[loc[1]:])
	}
	if u, ok := strings.CutPrefix(spec, "@"); ok {
		return checkSourceURL(strings.TrimSpace(u))
	}
	spec = strings.TrimSuffix(strings.TrimPrefix(spec, "("), ")")
	if strings.TrimSpace(spec) == "" {
		return nil
	}
	for _, clause := range strings.Split(spec, ",") {
		if !versionSpecifier.MatchString(strings.TrimSpace(clause)) {
			return fmt.Errorf("%q is not a version specifier (PEP 440)", strings.TrimSpace(clause))
		}
	}
	return nil
}

func isAlnum(r rune) bool {
	return (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9')
}

// checkMarker parses an environment marker (PEP 508): comparisons of marker variables and
// quoted values, joined by `and`/`or`, in parentheses.
func checkMarker(m string) error {
	toks, err := markerTokens(m)
	if err != nil {
		return err
	}
	p := markerParser{toks: toks}
	if err := p.or(); err != nil {
		return err
	}
	if p.i != len(p.toks) {
		return fmt.Errorf("unexpected %q", p.toks[p.i])
	}
	return nil
}

var markerOperators = []string{"===", "~=", "==", "!=", "<=", ">=", "<", ">"}

// markerTokens splits a marker into parentheses, operators, words and quoted values; any
// other character is refused.
func markerTokens(m string) ([]string, error) {
	var toks []string
	for i := 0; i < len(m); {
		c := m[i]
		switch {
		case c == ' ' || c == '\t':
			i++
		case c == '(' || c == ')':
			toks = append(toks, m[i:i+1])
			i++
		case c == '"' || c == '\'':
			j := strings.IndexByte(m[i+1:], c)
			if j < 0 {
				return nil, fmt.Errorf("unterminated quoted value")
			}
			v := m[i+1 : i+1+j]
			if !markerValue.MatchString(v) || strings.Contains(v, " -") {
				return nil, fmt.Errorf("quoted value %q holds a character no marker value has, or white space before a hyphen", v)
			}
			toks = append(toks, m[i:i+j+2])
			i += j + 2
		case isAlnum(rune(c)) || c == '_' || c == '.':
			j := i
			for j < len(m) && (isAlnum(rune(m[j])) || m[j] == '_' || m[j] == '.') {
				j++
			}
			toks = append(toks, m[i:j])
			i = j
		default:
			op := ""
			for _, o := range markerOperators {
				if strings.HasPrefix(m[i:], o) {
					op = o
					break
				}
			}
			if op == "" {
				return nil, fmt.Errorf("unexpected character %q", m[i:i+1])
			}
			toks = append(toks, op)
			i += len(op)
		}
	}
	return toks, nil
}

type markerParser struct {
	toks []string
	i    int
}

func (p *markerParser) peek() string {
	if p.i < len(p.toks) {
		return p.toks[p.i]
	}
	return ""
}

func (p *markerParser) or() error {
	if err := p.and(); err != nil {
		return err
	}
	for p.peek() == "or" {
		p.i++
		if err := p.and(); err != nil {
			return err
		}
	}
	return nil
}

func (p *markerParser) and() error {
	if err := p.atom(); err != nil {
		return err
	}
	for p.peek() == "and" {
		p.i++
		if err := p.atom(); err != nil {
			return err
		}
	}
	return nil
}

func (p *markerParser) atom() error {
	if p.peek() == "(" {
		p.i++
		if err := p.or(); err != nil {
			return err
		}
		if p.peek() != ")" {
			return fmt.Errorf("missing )")
		}
		p.i++
		return nil
	}
	if err := p.value(); err != nil {
		return err
	}
	switch op := p.peek(); {
	case op == "in":
		p.i++
	case op == "not" && p.i+1 < len(p.toks) && p.toks[p.i+1] == "in":
		p.i += 2
	case slices.Contains(markerOperators, op):
		p.i++
	default:
		return fmt.Errorf("expected a comparison operator, found %q", op)
	}
	return p.value()
}

func (p *markerParser) value() error {
	t := p.peek()
	if t == "" {
		return fmt.Errorf("ends where a value is expected")
	}
	if t[0] == '"' || t[0] == '\'' || markerVariables[t] {
		p.i++
		return nil
	}
	return fmt.Errorf("%q is neither a marker variable nor a quoted value", t)
}
