package metadata

import (
	"errors"
	"testing"

	"github.com/crewjam/saml"
)

func TestResolveACS(t *testing.T) {
	t.Parallel()
	d := defaultDoc(t)
	post := saml.HTTPPostBinding
	d.acs = []string{
		acsEl(post, "https://sp.example.org/acs1", 1, ""),
		acsEl(saml.HTTPArtifactBinding, "https://sp.example.org/art", 2, ""),
		acsEl(post, "https://sp.example.org/acs3", 3, "true"),
	}
	sps, err := ParseServiceProviders(d.bytes(), ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sp := sps[0]
	idx := func(i int) *int { return &i }
	tests := []struct {
		name     string
		url      string
		index    *int
		binding  string
		wantLoc  string
		wantErr  error
		wantIdx  int
		checkIdx bool
	}{
		{name: "default", wantLoc: "https://sp.example.org/acs3"},
		{name: "default with POST binding", binding: post, wantLoc: "https://sp.example.org/acs3"},
		{name: "by URL", url: "https://sp.example.org/acs1", binding: post, wantLoc: "https://sp.example.org/acs1"},
		{name: "by index", index: idx(1), wantLoc: "https://sp.example.org/acs1", wantIdx: 1, checkIdx: true},
		{name: "index of a non-POST endpoint", index: idx(2), wantErr: ErrACSNotFound},
		{name: "unknown index", index: idx(99), wantErr: ErrACSNotFound},
		{name: "URL not in metadata", url: "https://evil.example/acs", wantErr: ErrACSNotFound},
		{name: "URL of a non-POST endpoint", url: "https://sp.example.org/art", wantErr: ErrACSNotFound},
		{name: "near miss: case", url: "https://SP.example.org/acs1", wantErr: ErrACSNotFound},
		{name: "near miss: port", url: "https://sp.example.org:443/acs1", wantErr: ErrACSNotFound},
		{name: "near miss: suffix", url: "https://sp.example.org/acs1.evil.com", wantErr: ErrACSNotFound},
		{name: "near miss: query", url: "https://sp.example.org/acs1?x=1", wantErr: ErrACSNotFound},
		{name: "near miss: dot segments", url: "https://sp.example.org/x/../acs1", wantErr: ErrACSNotFound},
		{name: "URL and index", url: "https://sp.example.org/acs1", index: idx(1), wantErr: ErrACSNotFound},
		{name: "artifact binding", binding: saml.HTTPArtifactBinding, wantErr: ErrBindingNotSupported},
		{name: "redirect binding", url: "https://sp.example.org/acs1", binding: saml.HTTPRedirectBinding, wantErr: ErrBindingNotSupported},
		{name: "PAOS with index", index: idx(1), binding: "urn:oasis:names:tc:SAML:2.0:bindings:PAOS", wantErr: ErrBindingNotSupported},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := sp.ResolveACS(tt.url, tt.index, tt.binding)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if tt.wantErr != nil {
				if got.Location != "" {
					t.Errorf("got endpoint %+v along with an error", got)
				}
				return
			}
			if got.Location != tt.wantLoc || got.Binding != post {
				t.Errorf("got %+v, want POST %s", got, tt.wantLoc)
			}
			if tt.checkIdx && got.Index != tt.wantIdx {
				t.Errorf("index %d, want %d", got.Index, tt.wantIdx)
			}
		})
	}
}

func TestResolveACSWithoutEndpoints(t *testing.T) {
	t.Parallel()
	if _, err := (&ServiceProvider{}).ResolveACS("", nil, ""); !errors.Is(err, ErrACSNotFound) {
		t.Errorf("err = %v, want ErrACSNotFound", err)
	}
}
