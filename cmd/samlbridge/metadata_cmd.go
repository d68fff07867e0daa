package main

import (
	"context"
	"errors"
	"io"

	"github.com/samlbridge/samlbridge/metadata"
)

// runMetadata prints the IdP metadata of a configuration exactly as
// /saml/metadata serves it (signed), or unsigned with --unsigned.
func runMetadata(_ context.Context, args []string, stdout, stderr io.Writer, env toolEnv) error {
	fs := newFlagSet("metadata", stderr)
	path := fs.String("config", "", "YAML configuration file")
	unsigned := fs.Bool("unsigned", false, "print the metadata without its signature")
	if err := fs.Parse(args); err != nil {
		return usageError{err}
	}
	if *path == "" || fs.NArg() > 0 {
		return usageError{errors.New("metadata needs --config FILE and no other argument")}
	}
	r, err := loadConfigAt(*path, env.now())
	if err != nil {
		return err
	}
	md, err := buildIDPMetadata(r, env, *unsigned)
	if err != nil {
		return err
	}
	_, err = stdout.Write(md)
	return err
}

// buildIDPMetadata is what serve publishes at /saml/metadata for r, at
// env's time: the same function builds both.
func buildIDPMetadata(r *Resolved, env toolEnv, unsigned bool) ([]byte, error) {
	if unsigned {
		return metadata.IDPMetadata(idpMetadataConfig(r, baseURL(r), env.now()))
	}
	_, md, err := idpMetadata(r, baseURL(r), env.now())
	return md, err
}
