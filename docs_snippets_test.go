package main

import (
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/openhands-runtime/packer-plugin-openhands/acctest/rig"
)

// docPages are the pages whose snippets are checked: the repository README and every page
// under docs/ (component pages, guides, the integration README).
func docPages(t *testing.T) []string {
	t.Helper()
	pages := []string{"README.md"}
	err := filepath.WalkDir("docs", func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && (strings.HasSuffix(path, ".md") || strings.HasSuffix(path, ".mdx")) {
			pages = append(pages, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return pages
}

// snippet is one fenced code block of a page.
type snippet struct {
	page string
	line int // of the opening fence
	lang string
	text string
}

func (s snippet) String() string { return fmt.Sprintf("%s:%d", s.page, s.line) }

var fence = regexp.MustCompile("^(\\s*)```\\s*([A-Za-z0-9_-]*)\\s*$")

// fencedBlocks returns every fenced code block of the pages in the given languages.
func fencedBlocks(t *testing.T, langs ...string) []snippet {
	t.Helper()
	var out []snippet
	for _, page := range docPages(t) {
		data, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(string(data), "\n")
		for i := 0; i < len(lines); i++ {
			m := fence.FindStringSubmatch(lines[i])
			if m == nil {
				continue
			}
			start, indent, lang := i, m[1], m[2]
			var body []string
			for i++; i < len(lines) && strings.TrimSpace(lines[i]) != "```"; i++ {
				body = append(body, strings.TrimPrefix(lines[i], indent))
			}
			if i == len(lines) {
				t.Fatalf("%s:%d: a code block is never closed", page, start+1)
			}
			if slices.Contains(langs, lang) {
				out = append(out, snippet{page: page, line: start + 1, lang: lang, text: strings.Join(body, "\n") + "\n"})
			}
		}
	}
	return out
}

// hclSnippet is a snippet parsed and turned into a complete template.
type hclSnippet struct {
	snippet
	// fragment: the snippet holds blocks of a build block (provisioner, post-processor), so
	// the template wraps them in a build of a docker source, after its variable blocks.
	fragment bool
	// declared are the variables the snippet declares.
	declared []string
	template string
}

// hclSnippets parses every hcl block of the pages and completes it into a template:
//   - a snippet holding provisioner or post-processor blocks is a fragment of a build block:
//     its variable blocks stay at the top level and the rest is wrapped in
//     `build { sources = [a docker source] ... }`;
//   - a snippet without a packer block gets one requiring the docker, amazon and openhands
//     plugins;
//   - a snippet without a build block (a packer block alone) gets a build of a docker source.
//
// Nothing else is added: a snippet that refers to a variable it does not declare fails, as it
// would for a reader who copies it.
func hclSnippets(t *testing.T) []hclSnippet {
	t.Helper()
	var out []hclSnippet
	for _, s := range fencedBlocks(t, "hcl") {
		file, diags := hclsyntax.ParseConfig([]byte(s.text), s.String(), hcl.InitialPos)
		if diags.HasErrors() {
			t.Errorf("%s: the snippet is not valid HCL: %s", s, diags.Error())
			continue
		}
		hs := hclSnippet{snippet: s}
		hasPacker, hasBuild := false, false
		// variables and body are the snippet's variable blocks and the rest of it.
		var variables strings.Builder
		body, cut := "", 0
		for _, b := range file.Body.(*hclsyntax.Body).Blocks {
			switch b.Type {
			case "build":
				hasBuild = true
			case "provisioner", "post-processor", "post-processors":
				hs.fragment = true
			case "packer":
				hasPacker = true
			case "variable":
				hs.declared = append(hs.declared, b.Labels[0])
				r := b.Range()
				variables.WriteString(s.text[r.Start.Byte:r.End.Byte] + "\n")
				body += s.text[cut:r.Start.Byte]
				cut = r.End.Byte
			}
		}
		body += s.text[cut:]
		var tmpl strings.Builder
		if !hasPacker {
			tmpl.WriteString(`packer {
  required_plugins {
    amazon    = { source = "github.com/hashicorp/amazon", version = ">= 1.8.0" }
    docker    = { source = "github.com/hashicorp/docker", version = ">= 1.1.2" }
    openhands = { source = "github.com/openhands-runtime/openhands", version = ">= 0.1.0" }
  }
}
`)
		}
		const source = `source "docker" "snippet" {
  image  = "debian:bookworm"
  commit = true
}
`
		switch {
		case hs.fragment:
			tmpl.WriteString(variables.String() + source + "\nbuild {\n  sources = [\"source.docker.snippet\"]\n\n" + body + "}\n")
		case !hasBuild:
			tmpl.WriteString(s.text + "\n" + source + "\nbuild {\n  sources = [\"source.docker.snippet\"]\n}\n")
		default:
			tmpl.WriteString(s.text)
		}
		hs.template = tmpl.String()
		out = append(out, hs)
	}
	return out
}

// TestDocSnippetsParse runs without packer: every hcl snippet of the pages is HCL, declares
// every variable it uses (a reader copies it as it is), and the pages hold as many as they did
// (a snippet silently dropped from the check fails here).
func TestDocSnippetsParse(t *testing.T) {
	snippets := hclSnippets(t)
	if len(snippets) < 13 {
		t.Errorf("found %d hcl snippets in the README and docs/, want at least 13: was a fence's language changed?", len(snippets))
	}
	for _, s := range snippets {
		if _, diags := hclsyntax.ParseConfig([]byte(s.template), s.String(), hcl.InitialPos); diags.HasErrors() {
			t.Errorf("%s: the completed template is not valid HCL: %s", s, diags.Error())
		}
		for _, m := range regexp.MustCompile(`\bvar\.([A-Za-z0-9_-]+)`).FindAllStringSubmatch(s.text, -1) {
			if !slices.Contains(s.declared, m[1]) {
				t.Errorf("%s: the snippet uses var.%s without declaring it", s, m[1])
			}
		}
	}
}

// TestAccDocSnippetsValidate runs `packer validate` on every hcl snippet of the README and the
// pages under docs/, completed as hclSnippets says, in a directory where the paths the
// snippets use below ${path.root} exist (OpenHands: the fixture checkout; bin/: the
// stand-ins), with the docker and amazon plugins and this plugin: an option renamed, a
// variable used but not declared, a value the plugin refuses, and the page's snippet fails.
func TestAccDocSnippetsValidate(t *testing.T) {
	if rigEnv == nil {
		t.Skip("acceptance tests run with PACKER_ACC=1 (make testacc)")
	}
	tarball, err := rig.VSCodeServerTarball()
	if err != nil {
		t.Fatal(err)
	}
	standins := rig.StandinsDir()
	links := map[string]string{
		"OpenHands":      rig.FixtureSourceDir(),
		"bin/micromamba": filepath.Join(standins, "micromamba"),
		"bin/uv":         filepath.Join(standins, "uv"),
		"bin/openvscode-server-v1.98.2-linux-x64.tar.gz": tarball,
		// Each architecture's files of the air-gapped guide's two-architecture snippets: the
		// stand-ins are scripts and the stand-in tarball has no node, so of no architecture.
		"bin/x86_64/micromamba":  filepath.Join(standins, "micromamba"),
		"bin/aarch64/micromamba": filepath.Join(standins, "micromamba"),
		"bin/x86_64/uv":          filepath.Join(standins, "uv"),
		"bin/aarch64/uv":         filepath.Join(standins, "uv"),
		"bin/x86_64/openvscode-server-v1.98.2-linux-x64.tar.gz":    tarball,
		"bin/aarch64/openvscode-server-v1.98.2-linux-arm64.tar.gz": tarball,
	}
	values := map[string]string{
		"vscode_server_sha256":       strings.Repeat("ab", 32),
		"vscode_server_sha256_x64":   strings.Repeat("ab", 32),
		"vscode_server_sha256_arm64": strings.Repeat("cd", 32),
		"source_dir":                 rig.FixtureSourceDir(),
		"micromamba_path":            filepath.Join(standins, "micromamba"),
		"uv_path":                    filepath.Join(standins, "uv"),
		"vscode_server_path":         tarball,
	}
	for _, s := range hclSnippets(t) {
		t.Run(strings.NewReplacer("/", "_", ".", "_", ":", "_L").Replace(s.String()), func(t *testing.T) {
			dir := t.TempDir()
			for name, target := range links {
				path := filepath.Join(dir, name)
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.Symlink(target, path); err != nil {
					t.Fatal(err)
				}
			}
			template := filepath.Join(dir, "snippet.pkr.hcl")
			if err := os.WriteFile(template, []byte(s.template), 0o644); err != nil {
				t.Fatal(err)
			}
			args := []string{"validate"}
			for _, name := range s.declared {
				if v, ok := values[name]; ok {
					args = append(args, "-var", name+"="+v)
				}
			}
			out, err := exec.Command(rigEnv.Packer, append(args, template)...).CombinedOutput()
			if err != nil {
				t.Errorf("%s: packer validate of the snippet fails: %v\n%s\ntemplate:\n%s", s, err, out, s.template)
			}
		})
	}
}

// ecrAPIOperations are the ECR operations the post-processor calls: the methods of its ecrAPI
// interface (post-processor/ecr/registry.go), read from the source.
func ecrAPIOperations(t *testing.T) []string {
	t.Helper()
	file, err := parser.ParseFile(token.NewFileSet(), filepath.Join("post-processor", "ecr", "registry.go"), nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var ops []string
	ast.Inspect(file, func(n ast.Node) bool {
		spec, ok := n.(*ast.TypeSpec)
		if !ok || spec.Name.Name != "ecrAPI" {
			return true
		}
		for _, m := range spec.Type.(*ast.InterfaceType).Methods.List {
			for _, name := range m.Names {
				ops = append(ops, name.Name)
			}
		}
		return false
	})
	if len(ops) == 0 {
		t.Fatal("post-processor/ecr/registry.go has no ecrAPI interface: update this test")
	}
	return ops
}

// pushActions are the registry operations of an image push (the Docker engine's, through the
// registry API that ECR authorizes with these IAM actions).
var pushActions = []string{"ecr:BatchCheckLayerAvailability", "ecr:InitiateLayerUpload", "ecr:UploadLayerPart",
	"ecr:CompleteLayerUpload", "ecr:PutImage", "ecr:BatchGetImage"}

// TestDocumentedIAMPolicies checks the IAM policies of the post-processor's page: every json
// block there is a policy document, the policy without repository creation allows exactly the
// ECR operations the code calls (but CreateRepository) plus those of a push, the one with
// repository creation adds CreateRepository and TagResource, the KMS one allows the grants
// ECR makes on the key, and the mount one reads other repositories' blobs. A new ECR call in the code fails here until the page lists it.
func TestDocumentedIAMPolicies(t *testing.T) {
	type statement struct {
		Sid      string
		Effect   string
		Action   any
		Resource any
	}
	type policy struct {
		Version   string
		Statement []statement
	}
	calls := ecrAPIOperations(t)
	base := slices.Clone(pushActions)
	for _, op := range calls {
		if op != "CreateRepository" {
			base = append(base, "ecr:"+op)
		}
	}
	slices.Sort(base)
	withCreate := slices.Sorted(slices.Values(append(slices.Clone(base), "ecr:CreateRepository", "ecr:TagResource")))
	kms := []string{"kms:CreateGrant", "kms:DescribeKey", "kms:RetireGrant"}
	// Reading other repositories' blobs: what a mount from them needs.
	mount := []string{"ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer"}

	var found []string
	for _, s := range fencedBlocks(t, "json") {
		if !strings.HasSuffix(s.page, filepath.Join("post-processors", "ecr.mdx")) {
			continue
		}
		var p policy
		if err := json.Unmarshal([]byte(s.text), &p); err != nil {
			t.Errorf("%s: not a JSON policy document: %v", s, err)
			continue
		}
		if p.Version != "2012-10-17" || len(p.Statement) == 0 {
			t.Errorf("%s: a policy needs Version 2012-10-17 and statements", s)
			continue
		}
		var actions []string
		for _, st := range p.Statement {
			if st.Effect != "Allow" {
				t.Errorf("%s: statement %q is not an Allow", s, st.Sid)
			}
			switch a := st.Action.(type) {
			case string:
				actions = append(actions, a)
			case []any:
				for _, x := range a {
					actions = append(actions, fmt.Sprint(x))
				}
			}
		}
		slices.Sort(actions)
		actions = slices.Compact(actions)
		switch {
		case slices.Equal(actions, base):
			found = append(found, "push")
		case slices.Equal(actions, withCreate):
			found = append(found, "create")
		case slices.Equal(actions, kms):
			found = append(found, "kms")
		case slices.Equal(actions, mount):
			found = append(found, "mount")
		default:
			t.Errorf("%s: the policy allows\n%q\nwant one of\n%q (push to an existing repository)\n%q (with repository creation)\n%q (KMS)\n%q (mounts from other repositories)",
				s, actions, base, withCreate, kms, mount)
		}
	}
	slices.Sort(found)
	if !slices.Equal(found, []string{"create", "kms", "mount", "push"}) {
		t.Errorf("the post-processor's page has the policies %q, want one each of create, kms, mount, push", found)
	}
}

// TestClaimsTableNamesRealTests checks docs/CLAIMS.md: every test it names exists, so the
// table cannot point at a test that was renamed or removed.
func TestClaimsTableNamesRealTests(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("docs", "CLAIMS.md"))
	if err != nil {
		t.Fatal(err)
	}
	defined := map[string]bool{}
	err = filepath.WalkDir(".", func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && strings.HasPrefix(d.Name(), ".") && path != "." {
			return filepath.SkipDir
		}
		if strings.HasSuffix(path, "_test.go") {
			src, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			for _, m := range regexp.MustCompile(`(?m)^func ((?:Test|Fuzz|Benchmark)\w+)\(`).FindAllStringSubmatch(string(src), -1) {
				defined[m[1]] = true
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	named := regexp.MustCompile("`((?:Test|Fuzz|Benchmark)\\w+)`").FindAllStringSubmatch(string(data), -1)
	if len(named) < 20 {
		t.Errorf("docs/CLAIMS.md names %d tests, want at least 20", len(named))
	}
	for _, m := range named {
		if !defined[m[1]] {
			t.Errorf("docs/CLAIMS.md names %s, which no _test.go defines", m[1])
		}
	}
}
