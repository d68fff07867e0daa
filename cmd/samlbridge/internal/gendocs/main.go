// Command gendocs regenerates the reference sections of the documentation
// from the code (see package docgen): the configuration keys in
// docs/configuration.md and the attributes in docs/attributes.md. It is
// run by "go generate ./cmd/samlbridge".
//
// Usage:
//
//	gendocs [-root DIR]
//
// -root is the repository root (default "."; go generate runs it with
// ../.. from cmd/samlbridge).
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/samlbridge/samlbridge/cmd/samlbridge/internal/docgen"
)

func main() {
	root := flag.String("root", ".", "repository root")
	flag.Parse()
	if err := run(*root); err != nil {
		fmt.Fprintf(os.Stderr, "gendocs: %v\n", err)
		os.Exit(1)
	}
}

func run(root string) error {
	docs, err := docgen.Generate(root)
	if err != nil {
		return err
	}
	for _, d := range docs {
		if err := os.WriteFile(filepath.Join(root, d.Path), []byte(d.Want), 0o644); err != nil {
			return err
		}
	}
	return nil
}
