package metadata

import (
	"errors"
	"testing"

	"github.com/crewjam/saml"
)

func TestResolveACS(t *testing.T) {
	t.Parallel()
	d := defaultDoc(t)
	post, art := saml.HTTPPostBinding, saml.HTTPArtifactBinding
	d.acs = []string{
		acsEl(post, "https://sp.example.org/acs1", 1, ""),
		acsEl(art, "https://sp.example.org/art", 2, ""),
		acsEl(post, "https://sp.example.org/acs3", 3, "true"),
		// One URL listed with both bindings, as crewjam's SP metadata does.
		acsEl(art, "https://sp.example.org/both", 4, ""),
		acsEl(post, "https://sp.example.org/both", 5, ""),
		acsEl(art, "https://sp.example.org/art6", 6, "true"),
	}
	sps, err := ParseServiceProviders(d.bytes(), ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sp := sps[0]
	idx := func(i int) *int { return &i }
	tests := []struct {
		name        string
		url         string
		index       *int
		binding     string
		wantLoc     string
		wantBinding string
		wantIdx     int
		wantErr     error
	}{
		{name: "default", wantLoc: "https://sp.example.org/acs3", wantBinding: post, wantIdx: 3},
		{name: "default with POST binding", binding: post, wantLoc: "https://sp.example.org/acs3", wantBinding: post, wantIdx: 3},
		{name: "by URL", url: "https://sp.example.org/acs1", binding: post, wantLoc: "https://sp.example.org/acs1", wantBinding: post, wantIdx: 1},
		{name: "by index", index: idx(1), wantLoc: "https://sp.example.org/acs1", wantBinding: post, wantIdx: 1},
		{name: "unknown index", index: idx(99), wantErr: ErrACSNotFound},
		{name: "URL not in metadata", url: "https://evil.example/acs", wantErr: ErrACSNotFound},
		{name: "near miss: case", url: "https://SP.example.org/acs1", wantErr: ErrACSNotFound},
		{name: "near miss: port", url: "https://sp.example.org:443/acs1", wantErr: ErrACSNotFound},
		{name: "near miss: suffix", url: "https://sp.example.org/acs1.evil.com", wantErr: ErrACSNotFound},
		{name: "near miss: query", url: "https://sp.example.org/acs1?x=1", wantErr: ErrACSNotFound},
		{name: "near miss: dot segments", url: "https://sp.example.org/x/../acs1", wantErr: ErrACSNotFound},
		{name: "URL and index", url: "https://sp.example.org/acs1", index: idx(1), wantErr: ErrACSNotFound},
		{name: "redirect binding", url: "https://sp.example.org/acs1", binding: saml.HTTPRedirectBinding, wantErr: ErrBindingNotSupported},
		{name: "PAOS with index", index: idx(1), binding: "urn:oasis:names:tc:SAML:2.0:bindings:PAOS", wantErr: ErrBindingNotSupported},
		{name: "SOAP binding", binding: saml.SOAPBinding, wantErr: ErrBindingNotSupported},

		// HTTP-Artifact (saml-bindings §3.6), asked for by binding, index or URL.
		{name: "artifact binding: the default artifact endpoint", binding: art, wantLoc: "https://sp.example.org/art6", wantBinding: art, wantIdx: 6},
		{name: "artifact by index", index: idx(2), wantLoc: "https://sp.example.org/art", wantBinding: art, wantIdx: 2},
		{name: "artifact by index and binding", index: idx(2), binding: art, wantLoc: "https://sp.example.org/art", wantBinding: art, wantIdx: 2},
		{name: "artifact by URL", url: "https://sp.example.org/art", wantLoc: "https://sp.example.org/art", wantBinding: art, wantIdx: 2},
		{name: "artifact by URL and binding", url: "https://sp.example.org/art", binding: art, wantLoc: "https://sp.example.org/art", wantBinding: art, wantIdx: 2},
		{name: "artifact binding with a POST index", index: idx(1), binding: art, wantErr: ErrACSNotFound},
		{name: "POST binding with an artifact index", index: idx(2), binding: post, wantErr: ErrACSNotFound},
		{name: "artifact binding with a POST URL", url: "https://sp.example.org/acs1", binding: art, wantErr: ErrACSNotFound},
		{name: "POST binding with an artifact URL", url: "https://sp.example.org/art", binding: post, wantErr: ErrACSNotFound},
		{name: "artifact URL and index", url: "https://sp.example.org/art", index: idx(2), wantErr: ErrACSNotFound},
		{name: "artifact near miss", url: "https://sp.example.org/art/", binding: art, wantErr: ErrACSNotFound},
		{name: "shared URL, no binding: POST", url: "https://sp.example.org/both", wantLoc: "https://sp.example.org/both", wantBinding: post, wantIdx: 5},
		{name: "shared URL, POST", url: "https://sp.example.org/both", binding: post, wantLoc: "https://sp.example.org/both", wantBinding: post, wantIdx: 5},
		{name: "shared URL, artifact", url: "https://sp.example.org/both", binding: art, wantLoc: "https://sp.example.org/both", wantBinding: art, wantIdx: 4},
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
			if got.Location != tt.wantLoc || got.Binding != tt.wantBinding || got.Index != tt.wantIdx {
				t.Errorf("got %+v, want %s %s index %d", got, tt.wantBinding, tt.wantLoc, tt.wantIdx)
			}
			if !sp.HasACS(got.Location, got.Binding) {
				t.Errorf("HasACS(%q, %q) = false for the endpoint ResolveACS chose", got.Location, got.Binding)
			}
		})
	}
}

// TestResolveACSArtifactNeedsSigningKey checks that an SP without a
// signing key cannot be answered by artifact: its ArtifactResolve could
// not be authenticated.
func TestResolveACSArtifactNeedsSigningKey(t *testing.T) {
	t.Parallel()
	d := defaultDoc(t)
	d.keys = []string{keyDesc("encryption", key(t, "a").Cert)}
	d.acs = append(d.acs, acsEl(saml.HTTPArtifactBinding, "https://sp.example.org/art", 2, ""))
	sps, err := ParseServiceProviders(d.bytes(), ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sp := sps[0]
	if len(sp.ArtifactACS) != 1 {
		t.Fatalf("ArtifactACS = %+v, want the one endpoint", sp.ArtifactACS)
	}
	two := 2
	for _, tc := range []struct {
		url     string
		index   *int
		binding string
	}{{"", nil, saml.HTTPArtifactBinding}, {"", &two, ""}, {"https://sp.example.org/art", nil, ""}} {
		if got, err := sp.ResolveACS(tc.url, tc.index, tc.binding); !errors.Is(err, ErrBindingNotSupported) {
			t.Errorf("ResolveACS(%q, %v, %q) = %+v, %v; want ErrBindingNotSupported", tc.url, tc.index, tc.binding, got, err)
		}
	}
	if got, err := sp.ResolveACS("", nil, ""); err != nil || got.Binding != saml.HTTPPostBinding {
		t.Errorf("default ACS = %+v, %v; want the POST endpoint", got, err)
	}
}

func TestResolveACSWithoutEndpoints(t *testing.T) {
	t.Parallel()
	for _, binding := range []string{"", saml.HTTPArtifactBinding} {
		if _, err := (&ServiceProvider{}).ResolveACS("", nil, binding); !errors.Is(err, ErrACSNotFound) {
			t.Errorf("binding %q: err = %v, want ErrACSNotFound", binding, err)
		}
	}
}
