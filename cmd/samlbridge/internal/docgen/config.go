package docgen

import (
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"reflect"
	"strconv"
	"strings"
)

// ErrUndocumented means a configuration field lacks a doc comment, or one
// that says what it defaults to (or that it is required or optional).
var ErrUndocumented = errors.New("docgen: undocumented configuration key")

// ConfigReference renders the key reference of the configuration whose
// root struct type is named root, from the Go source src of the file
// filename (cmd/samlbridge/config.go). Every exported field with a yaml
// tag is a key; its doc comment is its documentation and must begin with
// the field's name and say "default", "required" or "optional". Struct
// types (and lists of them) are sections whose keys are listed with their
// full path; the struct type named secret is listed as a "secret" and
// documented once.
func ConfigReference(filename string, src []byte, root, secret string) (string, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, filename, src, parser.ParseComments)
	if err != nil {
		return "", fmt.Errorf("docgen: %w", err)
	}
	g := &configGen{fset: fset, types: map[string]typeInfo{}, secret: secret}
	for _, decl := range f.Decls {
		gd, ok := decl.(*ast.GenDecl)
		if !ok || gd.Tok != token.TYPE {
			continue
		}
		for _, spec := range gd.Specs {
			ts := spec.(*ast.TypeSpec)
			st, ok := ts.Type.(*ast.StructType)
			if !ok {
				continue
			}
			doc := ts.Doc
			if doc == nil && len(gd.Specs) == 1 {
				doc = gd.Doc
			}
			g.types[ts.Name.Name] = typeInfo{st: st, doc: text(doc)}
		}
	}
	if _, ok := g.types[root]; !ok {
		return "", fmt.Errorf("docgen: no struct type %s in %s", root, filename)
	}
	if _, ok := g.types[secret]; !ok {
		return "", fmt.Errorf("docgen: no struct type %s in %s", secret, filename)
	}
	top, err := g.rows(root, "", map[string]bool{})
	if err != nil {
		return "", err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Generated from the types in `%s` by `go generate ./cmd/samlbridge`; edit the doc comments there, not this section.\n\n", filename)
	fmt.Fprintf(&b, "%s\n\n", g.typeDoc(root, "The file"))
	b.WriteString("Types: a *duration* is written like `30s`, `10m` or `1h`; a relative file name is resolved against the configuration file's directory; a *secret* is `{file: PATH}` or `{env: VARIABLE}`, never the value itself.\n\n")
	b.WriteString("### Top level\n\n")
	writeTable(&b, top, func(r row) bool { return r.depth == 0 })
	for _, r := range top {
		if r.depth != 0 || r.section == "" {
			continue
		}
		fmt.Fprintf(&b, "### `%s`\n\n", r.key)
		lead := "This section"
		if r.typ == "list of mappings" {
			lead = "Each entry"
		}
		if d := g.typeDoc(r.section, lead); d != "" {
			fmt.Fprintf(&b, "%s\n\n", d)
		}
		writeTable(&b, top, func(s row) bool {
			return s.depth > 0 && strings.HasPrefix(s.key, r.key+".") || strings.HasPrefix(s.key, r.key+"[].")
		})
	}
	sec, err := g.rows(secret, "", map[string]bool{})
	if err != nil {
		return "", err
	}
	b.WriteString("### Secrets\n\n")
	fmt.Fprintf(&b, "%s\n\n", g.typeDoc(secret, "A secret"))
	writeTable(&b, sec, func(row) bool { return true })
	return b.String(), nil
}

// typeDoc is the doc comment of type name, its leading Go name replaced
// by lead ("SAMLConfig configures" → "This section configures").
func (g *configGen) typeDoc(name, lead string) string {
	d := g.types[name].doc
	if rest, ok := strings.CutPrefix(d, name+" "); ok {
		return lead + " " + rest
	}
	return d
}

type typeInfo struct {
	st  *ast.StructType
	doc string
}

type configGen struct {
	fset   *token.FileSet
	types  map[string]typeInfo
	secret string
}

// row is one key of the reference.
type row struct {
	key, typ, doc string
	depth         int
	// section is the struct type a mapping key opens (empty for scalars
	// and secrets).
	section string
}

// rows lists the keys of struct type name under prefix, depth first.
func (g *configGen) rows(name, prefix string, seen map[string]bool) ([]row, error) {
	if seen[name] {
		return nil, fmt.Errorf("docgen: type %s contains itself", name)
	}
	seen[name] = true
	defer delete(seen, name)
	var out []row
	var errs []error
	for _, field := range g.types[name].st.Fields.List {
		if field.Tag == nil || len(field.Names) == 0 {
			continue
		}
		tag, err := strconv.Unquote(field.Tag.Value)
		if err != nil {
			return nil, fmt.Errorf("docgen: %s: tag %s: %w", g.fset.Position(field.Pos()), field.Tag.Value, err)
		}
		key, _, _ := strings.Cut(reflect.StructTag(tag).Get("yaml"), ",")
		if key == "" || key == "-" {
			continue
		}
		for _, id := range field.Names {
			if !id.IsExported() {
				continue
			}
			full := key
			if prefix != "" {
				full = prefix + "." + key
			}
			doc := text(field.Doc)
			if doc == "" {
				doc = text(field.Comment)
			}
			lower := strings.ToLower(doc)
			switch {
			case doc == "":
				errs = append(errs, fmt.Errorf("%w: %s: %s.%s (%s) has no doc comment", ErrUndocumented, g.fset.Position(id.Pos()), name, id.Name, full))
				continue
			case !strings.HasPrefix(doc, id.Name+" ") && !strings.HasPrefix(doc, id.Name+","):
				errs = append(errs, fmt.Errorf("%w: %s: the doc comment of %s.%s (%s) must begin with %q", ErrUndocumented, g.fset.Position(id.Pos()), name, id.Name, full, id.Name))
				continue
			case !strings.Contains(lower, "default") && !strings.Contains(lower, "required") && !strings.Contains(lower, "optional"):
				errs = append(errs, fmt.Errorf("%w: %s: the doc comment of %s.%s (%s) says neither its default nor that it is required or optional", ErrUndocumented, g.fset.Position(id.Pos()), name, id.Name, full))
				continue
			}
			doc = "`" + key + "`" + strings.TrimPrefix(doc, id.Name)
			typ, section, elem, list := g.describe(field.Type)
			depth := strings.Count(full, ".")
			out = append(out, row{key: full, typ: typ, doc: doc, depth: depth, section: section})
			if section != "" {
				sub := full
				if list {
					sub += "[]"
				}
				r, err := g.rows(elem, sub, seen)
				if err != nil {
					errs = append(errs, err)
				}
				out = append(out, r...)
			}
		}
	}
	return out, errors.Join(errs...)
}

// describe names the YAML type of a field's Go type; for a struct type
// (or a list of them) other than the secret type, section and elem name
// it and list tells whether it is a list.
func (g *configGen) describe(e ast.Expr) (typ, section, elem string, list bool) {
	switch t := e.(type) {
	case *ast.StarExpr:
		return g.describe(t.X)
	case *ast.SelectorExpr:
		if x, ok := t.X.(*ast.Ident); ok && x.Name == "time" && t.Sel.Name == "Duration" {
			return "duration", "", "", false
		}
	case *ast.Ident:
		switch t.Name {
		case "string":
			return "string", "", "", false
		case "bool":
			return "boolean", "", "", false
		case "int":
			return "integer", "", "", false
		case g.secret:
			return "secret", "", "", false
		}
		if _, ok := g.types[t.Name]; ok {
			return "mapping", t.Name, t.Name, false
		}
	case *ast.ArrayType:
		inner, _, _, _ := g.describe(t.Elt)
		if id, ok := t.Elt.(*ast.Ident); ok {
			if _, ok := g.types[id.Name]; ok && id.Name != g.secret {
				return "list of mappings", id.Name, id.Name, true
			}
		}
		return "list of " + inner + "s", "", "", false
	case *ast.MapType:
		inner, _, _, _ := g.describe(t.Value)
		return "mapping of " + inner + "s", "", "", false
	}
	return fmt.Sprintf("%T", e), "", "", false
}

// writeTable writes the rows that keep selects as a Markdown table.
func writeTable(b *strings.Builder, rows []row, keep func(row) bool) {
	b.WriteString("| Key | Type | Meaning, default and limits |\n|---|---|---|\n")
	for _, r := range rows {
		if keep(r) {
			fmt.Fprintf(b, "| `%s` | %s | %s |\n", r.key, r.typ, cell(r.doc))
		}
	}
	b.WriteString("\n")
}

// text is a doc comment as one paragraph.
func text(cg *ast.CommentGroup) string {
	if cg == nil {
		return ""
	}
	return strings.Join(strings.Fields(cg.Text()), " ")
}
