package spectest

import (
	"encoding/binary"
	"fmt"
	"math/big"
	"sort"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"
)

// Hostile are string values every fuzz target is seeded with: shell code, quoting, newlines,
// Packer template syntax, HCL interpolation, non-UTF-8 bytes and path tricks.
var Hostile = []string{
	"$(touch /tmp/pwned)", "`touch /tmp/pwned`", "'; touch /tmp/pwned; '", "\"; touch /tmp/pwned; \"",
	"a\nb", "{{ .Name }}", "{{", "${x}", "%{ if true }x%{ endif }", "\xff\xfe", "../../etc/passwd", "", " ", "-rf",
}

// FuzzPrepare fuzzes a component's Prepare through its HCL2 spec, as Packer feeds it from a
// .pkr.hcl template: the fuzz input picks, for each attribute of spec (and of its nested
// blocks), whether to set it over the valid body base and to which value of the attribute's
// type; the body is written as HCL, decoded through spec and passed to prepare with extra.
// prepare must not panic; accepted, when not nil, is called with the decoded value when
// prepare accepts it, for checks of what an accepted configuration renders.
func FuzzPrepare(f *testing.F, spec hcldec.ObjectSpec, base string, extra []interface{}, prepare func(raws ...interface{}) error, accepted func(t *testing.T)) {
	f.Helper()
	if _, diags := hclwrite.ParseConfig([]byte(base), "base.pkr.hcl", hcl.InitialPos); diags.HasErrors() {
		f.Fatalf("base: %v", diags)
	}
	for _, h := range Hostile {
		f.Add(seedAll(spec, h))
	}
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		file, _ := hclwrite.ParseConfig([]byte(base), "base.pkr.hcl", hcl.InitialPos)
		writeBody(file.Body(), spec, &chooser{b: data})
		parsed, diags := hclsyntax.ParseConfig(file.Bytes(), "fuzz.pkr.hcl", hcl.InitialPos)
		if diags.HasErrors() {
			// hclwrite quotes every value it writes, so what it writes must parse.
			t.Fatalf("the written HCL does not parse: %v\n%s", diags, file.Bytes())
		}
		val, diags := hcldec.Decode(parsed.Body, spec, nil)
		if diags.HasErrors() {
			return // a value Packer itself refuses (such as a second block) never reaches Prepare
		}
		if err := prepare(append([]interface{}{val}, extra...)...); err == nil && accepted != nil {
			accepted(t)
		}
	})
}

// chooser reads fuzz bytes as decisions; once they run out every decision is zero.
type chooser struct{ b []byte }

func (c *chooser) byte() byte {
	if len(c.b) == 0 {
		return 0
	}
	v := c.b[0]
	c.b = c.b[1:]
	return v
}

func (c *chooser) bytes(n int) []byte {
	n = min(n, len(c.b))
	v := c.b[:n]
	c.b = c.b[n:]
	return v
}

// value reads a value of typ: a string as its length then its bytes, a number as a mode then
// 4 bytes (an integer, a fraction, or a number past every integer type), a list or map as a
// count then its elements.
func (c *chooser) value(typ cty.Type) cty.Value {
	switch {
	case typ == cty.String:
		return cty.StringVal(string(c.bytes(int(c.byte()))))
	case typ == cty.Bool:
		return cty.BoolVal(c.byte()&1 == 1)
	case typ == cty.Number:
		mode := c.byte() % 3
		n := int64(int32(binary.BigEndian.Uint32(append(c.bytes(4), 0, 0, 0, 0)[:4])))
		switch mode {
		case 1:
			return cty.NumberFloatVal(float64(n) / 7)
		case 2:
			return cty.NumberVal(new(big.Float).SetInt(new(big.Int).Lsh(big.NewInt(n), 80)))
		}
		return cty.NumberIntVal(n)
	case typ.IsListType():
		n := int(c.byte() % 5)
		if n == 0 {
			return cty.ListValEmpty(typ.ElementType())
		}
		elems := make([]cty.Value, n)
		for i := range elems {
			elems[i] = c.value(typ.ElementType())
		}
		return cty.ListVal(elems)
	case typ.IsMapType():
		n := int(c.byte() % 4)
		if n == 0 {
			return cty.MapValEmpty(typ.ElementType())
		}
		elems := map[string]cty.Value{}
		for i := 0; i < n; i++ {
			elems[string(c.bytes(int(c.byte()%32)))] = c.value(typ.ElementType())
		}
		return cty.MapVal(elems)
	}
	panic(fmt.Sprintf("spectest: no fuzz values for type %s", typ.FriendlyName()))
}

// writeBody sets the attributes of spec the chooser picks (an odd byte picks one), in name
// order, and a nested block when its byte is odd.
func writeBody(body *hclwrite.Body, spec hcldec.ObjectSpec, c *chooser) {
	names := make([]string, 0, len(spec))
	for name := range spec {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if c.byte()&1 == 0 {
			continue
		}
		switch s := spec[name].(type) {
		case *hcldec.AttrSpec:
			body.SetAttributeValue(s.Name, c.value(s.Type))
		case *hcldec.BlockSpec:
			if nested, ok := s.Nested.(hcldec.ObjectSpec); ok {
				writeBody(body.AppendNewBlock(s.TypeName, nil).Body(), nested, c)
			}
		}
	}
}

// seedAll encodes an input that sets every attribute (and block) of spec, each string to s,
// each number to 1, each bool to true and each list to one element.
func seedAll(spec hcldec.ObjectSpec, s string) []byte {
	var out []byte
	names := make([]string, 0, len(spec))
	for name := range spec {
		names = append(names, name)
	}
	sort.Strings(names)
	var enc func(typ cty.Type)
	enc = func(typ cty.Type) {
		switch {
		case typ == cty.String:
			b := []byte(s)[:min(len(s), 255)]
			out = append(append(out, byte(len(b))), b...)
		case typ == cty.Bool:
			out = append(out, 1)
		case typ == cty.Number:
			out = append(out, 0, 0, 0, 0, 1)
		case typ.IsListType():
			out = append(out, 1)
			enc(typ.ElementType())
		case typ.IsMapType():
			out = append(out, 1, 1, 'K')
			enc(typ.ElementType())
		}
	}
	for _, name := range names {
		out = append(out, 1)
		switch sp := spec[name].(type) {
		case *hcldec.AttrSpec:
			enc(sp.Type)
		case *hcldec.BlockSpec:
			if nested, ok := sp.Nested.(hcldec.ObjectSpec); ok {
				out = append(out, seedAll(nested, s)...)
			}
		}
	}
	return out
}
