package spectest

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2/hcldec"
)

type errorRecorder struct{ errs []string }

func (r *errorRecorder) Helper() {}
func (r *errorRecorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

// TestCheckFlatDetectsStaleFiles: the staleness check itself catches a missing field, a
// leftover field, a changed type and a missing spec entry.
func TestCheckFlatDetectsStaleFiles(t *testing.T) {
	type inner struct {
		X []string `mapstructure:"x"`
	}
	type src struct {
		A string `mapstructure:"a"`
		B int    `mapstructure:"b"`
		C *bool  `mapstructure:"c"`
		D inner  `mapstructure:"d"`
	}
	type flatOK struct {
		A *string `mapstructure:"a" cty:"a" hcl:"a"`
		B *int    `mapstructure:"b" cty:"b" hcl:"b"`
		C *bool   `mapstructure:"c" cty:"c" hcl:"c"`
	}
	type stale struct {
		A *string `mapstructure:"a" cty:"a" hcl:"a"`
		B *string `mapstructure:"b" cty:"b" hcl:"b"`
		E *int    `mapstructure:"e" cty:"e" hcl:"e"`
	}
	type srcNoStruct struct {
		A string `mapstructure:"a"`
		B int    `mapstructure:"b"`
		C *bool  `mapstructure:"c"`
	}
	spec := map[string]hcldec.Spec{"a": &hcldec.AttrSpec{Name: "a"}, "b": &hcldec.AttrSpec{Name: "b"}, "c": &hcldec.AttrSpec{Name: "c"}}

	var ok errorRecorder
	CheckFlat(&ok, reflect.TypeOf(srcNoStruct{}), reflect.TypeOf(flatOK{}), spec)
	if len(ok.errs) != 0 {
		t.Errorf("a matching flat struct was reported: %q", ok.errs)
	}

	var bad errorRecorder
	CheckFlat(&bad, reflect.TypeOf(src{}), reflect.TypeOf(stale{}), map[string]hcldec.Spec{"a": &hcldec.AttrSpec{Name: "a"}})
	all := strings.Join(bad.errs, "\n")
	for _, want := range []string{`no field for spectest.src.C ("c")`, `no field for spectest.src.D ("d")`, `.B is *string, want *int`, `.E ("e") matches no field`, `HCL2Spec() has no "b"`} {
		if !strings.Contains(all, want) {
			t.Errorf("stale flat struct: no error containing %q in:\n%s", want, all)
		}
	}
}
