package projectfile

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf16"
)

// pythonJSON writes v as Python's json.dumps(v, sort_keys=True) does with its defaults:
// ", " and ": " separators, every non-ASCII character escaped.
func pythonJSON(b *strings.Builder, v any) error {
	switch v := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		b.WriteString(strconv.FormatBool(v))
	case string:
		pythonJSONString(b, v)
	case int64:
		b.WriteString(strconv.FormatInt(v, 10))
	case float64:
		b.WriteString(pythonFloat(v))
	case []any:
		b.WriteString("[")
		for i, item := range v {
			if i > 0 {
				b.WriteString(", ")
			}
			if err := pythonJSON(b, item); err != nil {
				return err
			}
		}
		b.WriteString("]")
	case map[string]any:
		b.WriteString("{")
		// Byte order of UTF-8 is code point order, as Python sorts.
		for i, k := range slices.Sorted(maps.Keys(v)) {
			if i > 0 {
				b.WriteString(", ")
			}
			pythonJSONString(b, k)
			b.WriteString(": ")
			if err := pythonJSON(b, v[k]); err != nil {
				return err
			}
		}
		b.WriteString("}")
	default:
		// TOML dates and times: json.dumps itself refuses them, so Poetry cannot lock such a file.
		return fmt.Errorf("a %T value, which Poetry's hash cannot hold", v)
	}
	return nil
}

func pythonJSONString(b *strings.Builder, s string) {
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\b':
			b.WriteString(`\b`)
		case r == '\f':
			b.WriteString(`\f`)
		case r >= 0x20 && r < 0x7f:
			b.WriteRune(r)
		case r > 0xffff:
			hi, lo := utf16.EncodeRune(r)
			fmt.Fprintf(b, `\u%04x\u%04x`, hi, lo)
		default:
			fmt.Fprintf(b, `\u%04x`, r)
		}
	}
	b.WriteByte('"')
}

// pythonFloat is Python's repr of a float: positional from 1e-4 up to 1e16, with ".0" when
// integral; otherwise exponent notation such as 1e+16 and 1.5e-05.
func pythonFloat(f float64) string {
	if abs := math.Abs(f); abs != 0 && (abs < 1e-4 || abs >= 1e16) {
		return pythonExponent(strconv.FormatFloat(f, 'e', -1, 64))
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return s
}

// pythonExponent pads a Go exponent to Python's at least two digits (1e+16, 1.5e-05).
func pythonExponent(s string) string {
	mant, exp, _ := strings.Cut(s, "e")
	sign, digits := exp[:1], strings.TrimLeft(exp[1:], "0")
	if len(digits) < 2 {
		digits = strings.Repeat("0", 2-len(digits)) + digits
	}
	return mant + "e" + sign + digits
}
