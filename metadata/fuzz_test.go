package metadata

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestTestdataSeeds pins what the fuzz seeds are, so that they stay
// meaningful.
func TestTestdataSeeds(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file    string
		wantSPs int
		wantErr error
	}{
		{"sp_minimal.xml", 1, nil},
		{"sp_aggregate.xml", 1, nil},
		{"sp_javascript_acs.xml", 0, ErrInvalidMetadata},
		{"sp_doctype.xml", 0, ErrInvalidMetadata},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			data, err := os.ReadFile(filepath.Join("testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			sps, err := ParseServiceProviders(data, ParseOptions{Now: fixedNow})
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if len(sps) != tt.wantSPs {
				t.Errorf("%d SPs, want %d", len(sps), tt.wantSPs)
			}
		})
	}
}

// FuzzParseMetadata checks that the metadata parser never panics and that
// whatever it accepts satisfies the invariants the rest of the bridge
// relies on.
func FuzzParseMetadata(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.xml"))
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`<md:EntitiesDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata"><md:EntitiesDescriptor/></md:EntitiesDescriptor>`))
	now := func() time.Time { return time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC) }
	f.Fuzz(func(t *testing.T, data []byte) {
		sps, err := ParseServiceProviders(data, ParseOptions{Now: now})
		if err != nil {
			if !errors.Is(err, ErrInvalidMetadata) {
				t.Fatalf("error does not wrap ErrInvalidMetadata: %v", err)
			}
			return
		}
		for _, sp := range sps {
			if sp.EntityID == "" || len(sp.ACS) == 0 || sp.DefaultACS.Location == "" {
				t.Fatalf("accepted SP without entity ID or POST ACS: %+v", sp)
			}
			for _, e := range sp.ACS {
				if err := checkLocation(e.Location, false); err != nil {
					t.Fatalf("accepted ACS %q: %v", e.Location, err)
				}
			}
			if sp.AuthnRequestsSigned && len(sp.SigningCerts) == 0 {
				t.Fatal("accepted a signing SP without signing keys")
			}
		}
	})
}
