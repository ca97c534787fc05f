package plan

import (
	"go/ast"
	"go/parser"
	"go/token"
	"slices"
	"strconv"
	"testing"
)

// declaredStepIDs are the StepID constants of stepid.go, read from the source so that a
// constant added there is checked without a list of them here.
func declaredStepIDs(t *testing.T) []StepID {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "stepid.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var ids []StepID
	for _, decl := range f.Decls {
		gen, ok := decl.(*ast.GenDecl)
		if !ok || gen.Tok != token.CONST {
			continue
		}
		for _, spec := range gen.Specs {
			vs := spec.(*ast.ValueSpec)
			if typ, ok := vs.Type.(*ast.Ident); !ok || typ.Name != "StepID" {
				continue
			}
			for _, v := range vs.Values {
				lit, ok := v.(*ast.BasicLit)
				if !ok {
					t.Fatalf("a StepID constant's value is not a literal: %T", v)
				}
				name, err := strconv.Unquote(lit.Value)
				if err != nil {
					t.Fatal(err)
				}
				ids = append(ids, StepID(name))
			}
		}
	}
	if len(ids) == 0 {
		t.Fatal("no StepID constants in stepid.go")
	}
	return ids
}

// TestStepIDs: every step of every plan is a declared StepID, every declared StepID is a step
// of some plan, every step a runtime's row names (a tool's place, the builder's layers) is a
// step of a plan of that runtime, and every step whose stamp a step drops is one of some plan.
func TestStepIDs(t *testing.T) {
	declared := declaredStepIDs(t)
	planned := map[string][]StepID{} // by runtime
	var plans []*Plan
	for _, v := range scriptVariants {
		p, _, _ := renderVariant(t, v)
		plans = append(plans, p)
	}
	// The variants above hold no lock step (an install pinned to poetry.lock has it) and no
	// Node.js.
	o, errs := lockOptions(t, realPair, nil)
	if len(errs) != 0 {
		t.Fatalf("Prepare: %v", errs)
	}
	plans = append(plans, New(o, Inputs{}), agentServerPlan(t, Options{Layout: Layout{InstallNodeJS: boolPtr(true)}}))
	for _, p := range plans {
		for _, s := range p.Steps {
			if !slices.Contains(declared, s.Name) {
				t.Errorf("the %s plan has a step %q that is no StepID constant of stepid.go", p.Options.Runtime, s.Name)
			}
			if !slices.Contains(planned[p.Options.Runtime], s.Name) {
				planned[p.Options.Runtime] = append(planned[p.Options.Runtime], s.Name)
			}
		}
	}
	for _, id := range declared {
		if !slices.ContainsFunc(runtimes, func(r runtime) bool { return slices.Contains(planned[r.name], id) }) {
			t.Errorf("StepID %q is the step of no plan", id)
		}
	}
	// python-env is shared: what it invalidates may be another runtime's step (the
	// agent-server's names the action server's dependencies and browser, whose stamps it
	// never has).
	for _, p := range plans {
		for _, s := range p.Steps {
			for _, later := range s.Invalidates {
				if !slices.ContainsFunc(runtimes, func(r runtime) bool { return slices.Contains(planned[r.name], later) }) {
					t.Errorf("%s: step %s invalidates %q, a step of no plan", p.Options.Runtime, s.Name, later)
				}
			}
		}
	}
	for _, r := range runtimes {
		if len(planned[r.name]) == 0 {
			t.Fatalf("no plan of runtime %s among the variants", r.name)
		}
		known := func(where string, id StepID) {
			if !slices.Contains(planned[r.name], id) {
				t.Errorf("%s: %s names %q, a step of no %[1]s plan", r.name, where, id)
			}
		}
		for tool, before := range r.toolBefore {
			if !slices.ContainsFunc(Tools, func(t Tool) bool { return t.Step == tool }) {
				t.Errorf("%s: toolBefore places %q, no tool's step", r.name, tool)
			}
			if before != runtimeStart {
				known("toolBefore", before)
			}
		}
		for _, l := range slices.Concat(r.layers, []dockerLayer{r.sourceLayer}) {
			for _, id := range l.steps {
				known("a layer", id)
			}
			if l.planFor != "" {
				known("a layer's planFor", l.planFor)
			}
		}
	}
	for _, tool := range Tools {
		if !slices.ContainsFunc(runtimes, func(r runtime) bool { return slices.Contains(planned[r.name], tool.Step) }) {
			t.Errorf("tool %s installs in step %q, a step of no plan", tool.Name, tool.Step)
		}
	}
}
