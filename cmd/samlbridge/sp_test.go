package main

import (
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// serveMetadata serves body at /md on loopback, or status 500 when body
// is empty, and returns the URL.
func serveMetadata(t *testing.T, body string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if body == "" {
			http.Error(w, "down", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/samlmetadata+xml")
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/md"
}

// aggregateXML wraps two SP entities in an EntitiesDescriptor.
func aggregateXML(t *testing.T) string {
	t.Helper()
	strip := func(s string) string {
		return strings.Replace(s, `xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" `, "", 1)
	}
	return `<md:EntitiesDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata">` +
		strip(spMetadataXML(t, "https://a.example/", "https://a.example/acs", true)) +
		strip(spMetadataXML(t, "https://b.example/", "https://b.example/acs", false)) + `</md:EntitiesDescriptor>`
}

// TestSPList lists SPs from two files, a metadata URL and an MDQ service
// (golden), and checks that a metadata URL that fails makes the command
// fail naming the URL, after listing what did load.
func TestSPList(t *testing.T) {
	remoteURL := serveMetadata(t, spMetadataXML(t, "https://remote.example/", "https://remote.example/acs", false))
	dir := t.TempDir()
	files := map[string]string{
		"sp.xml":  spMetadataXML(t, "https://sp.example/", "https://sp.example/acs", false),
		"agg.xml": aggregateXML(t),
	}
	entries := `  - {metadata_file: sp.xml, attributes: [name, firstName, nin]}
  - {metadata_file: agg.xml}
  - {metadata_url: "` + remoteURL + `", metadata_allow_unsigned: true, attributes: [email]}
  - {mdq_url: "https://mdq.example/entities/", metadata_allow_unsigned: true}
`
	p := writeToolConfig(t, dir, entries, files)
	code, out, stderr := runTool(t, runSPList, toolsEnv(""), "--config", p)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	// The URL's port varies: replace it and undo tabwriter's padding.
	golden(t, "sp_list.golden", regexp.MustCompile(` {2,}`).ReplaceAllString(strings.ReplaceAll(out, remoteURL, "REMOTE_URL"), "  "))

	t.Run("failing metadata URL", func(t *testing.T) {
		down := serveMetadata(t, "")
		dir := t.TempDir()
		p := writeToolConfig(t, dir, `  - {metadata_file: sp.xml}
  - {metadata_url: "`+down+`", metadata_allow_unsigned: true}
`, files)
		code, out, stderr := runTool(t, runSPList, toolsEnv(""), "--config", p)
		if code != 1 {
			t.Fatalf("exit %d, want 1:\n%s%s", code, out, stderr)
		}
		if !strings.Contains(stderr, "service_providers[1].metadata_url") || !strings.Contains(stderr, down) || !strings.Contains(stderr, "HTTP status 500") {
			t.Errorf("stderr does not name the failing URL and why:\n%s", stderr)
		}
		if !strings.Contains(out, "https://sp.example/") {
			t.Errorf("the SPs that loaded are not listed:\n%s", out)
		}
	})
	t.Run("metadata URL judged at the tool's now", func(t *testing.T) {
		// Valid by the real clock, expired at the tool's now: the tool
		// must see it as the bridge would at that time.
		validUntil := time.Now().Add(24 * time.Hour).UTC().Truncate(time.Second)
		md := strings.Replace(spMetadataXML(t, "https://later.example/", "https://later.example/acs", false),
			"<md:EntityDescriptor ", `<md:EntityDescriptor validUntil="`+validUntil.Format(time.RFC3339)+`" `, 1)
		u := serveMetadata(t, md)
		dir := t.TempDir()
		p := writeToolConfig(t, dir, `  - {metadata_url: "`+u+`", metadata_allow_unsigned: true}
`, files)
		later := toolEnv{Now: func() time.Time { return validUntil.Add(24 * time.Hour) }, Stdin: strings.NewReader("")}
		code, out, stderr := runTool(t, runSPList, later, "--config", p)
		if code != 1 || strings.Contains(out, "https://later.example/") {
			t.Fatalf("exit %d, listed:\n%s%s\nwant the expired SP refused", code, out, stderr)
		}
		if !strings.Contains(stderr, "service_providers[0].metadata_url") || !strings.Contains(stderr, "validUntil") {
			t.Errorf("stderr does not say the metadata expired:\n%s", stderr)
		}
	})
	t.Run("failing file", func(t *testing.T) {
		dir := t.TempDir()
		p := writeToolConfig(t, dir, "  - {metadata_file: missing.xml}\n", nil)
		code, _, stderr := runTool(t, runSPList, toolsEnv(""), "--config", p)
		if code != 1 || !strings.Contains(stderr, "service_providers[0].metadata_file") {
			t.Errorf("exit %d, want 1 naming the file:\n%s", code, stderr)
		}
	})
}

// TestSPAdd checks what "sp add" prints for valid metadata (golden), that
// bad metadata or a policy the bridge would refuse exits 1 naming the
// problem, and that it works on a URL and on an SP already registered.
func TestSPAdd(t *testing.T) {
	dir := t.TempDir()
	good := writeFile(t, dir, "good.xml", spMetadataXML(t, "https://new.example/", "https://new.example/acs", true))
	code, out, stderr := runTool(t, runSPAdd, toolsEnv(""), good, "--attributes", "name,firstName,lastName")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	golden(t, "sp_add.golden", strings.ReplaceAll(out, dir, "DIR"))

	insecure := writeFile(t, dir, "insecure.xml", spMetadataXML(t, "https://insecure.example/", "http://insecure.example/acs", false))
	loopback := writeFile(t, dir, "loopback.xml", spMetadataXML(t, "https://loop.example/", "http://127.0.0.1:9/acs", false))
	notSAML := writeFile(t, dir, "not.xml", `<html/>`)
	noEnc := writeFile(t, dir, "noenc.xml", strings.Replace(spMetadataXML(t, "https://noenc.example/", "https://noenc.example/acs", false), `use="encryption"`, `use="signing"`, 1))
	cfgDir := t.TempDir()
	cfg := writeToolConfig(t, cfgDir, "  - {metadata_file: sp.xml, attributes: [name, email], release: [email]}\n",
		map[string]string{"sp.xml": spMetadataXML(t, "https://sp.example/", "https://sp.example/acs", false)})
	tests := []struct {
		name  string
		args  []string
		code  int
		wants []string // in stdout for 0, stderr otherwise
	}{
		{"http ACS", []string{insecure}, 1, []string{"https://insecure.example/", "http://insecure.example/acs"}},
		{"loopback http ACS refused by default", []string{loopback}, 1, []string{"http://127.0.0.1:9/acs"}},
		{"loopback http ACS allowed", []string{loopback, "--allow-insecure-acs"}, 0, []string{"index 0  HTTP-POST  http://127.0.0.1:9/acs", "allow_insecure_acs: true"}},
		{"not SAML metadata", []string{notSAML}, 1, []string{"not.xml", "want an md:EntityDescriptor"}},
		{"missing file", []string{filepath.Join(dir, "nope.xml")}, 1, []string{"nope.xml"}},
		{"nin without encryption key", []string{noEnc, "--attributes", "name,nin"}, 1, []string{"national number (nin) but its metadata has no encryption key"}},
		{"unknown attribute", []string{good, "--attributes", "shoeSize"}, 2, []string{`unknown attribute "shoeSize"`}},
		{"release outside attributes", []string{good, "--attributes", "name", "--release", "email"}, 2, []string{`"email" is not in its attributes`}},
		{"no input", nil, 2, []string{"exactly one"}},
		{"registered SP uses its configuration", []string{filepath.Join(cfgDir, "sp.xml"), "--config", cfg}, 0, []string{
			"already registered", "may receive (attributes:): name, email", "what its metadata requests): email", "withheld (not in attributes:): firstName",
			"nothing to add"}},
		{"new SP with a configuration", []string{good, "--config", cfg}, 0, []string{"must be signed", "may receive (attributes:): name, firstName, lastName"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, stderr := runTool(t, runSPAdd, toolsEnv(""), tt.args...)
			where := stderr
			if tt.code == 0 {
				where = out
			}
			if code != tt.code {
				t.Fatalf("exit %d, want %d:\n%s%s", code, tt.code, out, stderr)
			}
			for _, w := range tt.wants {
				if !strings.Contains(where, w) {
					t.Errorf("output lacks %q:\n%s", w, where)
				}
			}
		})
	}

	t.Run("URL", func(t *testing.T) {
		u := serveMetadata(t, spMetadataXML(t, "https://remote.example/", "https://remote.example/acs", false))
		code, out, stderr := runTool(t, runSPAdd, toolsEnv(""), u)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		for _, w := range []string{"entityID: https://remote.example/", "metadata_url: " + `"` + u + `"`, "metadata_allow_unsigned: true", "nothing was written"} {
			if !strings.Contains(out, w) {
				t.Errorf("output lacks %q:\n%s", w, out)
			}
		}
		code, _, stderr = runTool(t, runSPAdd, toolsEnv(""), serveMetadata(t, ""))
		if code != 1 || !strings.Contains(stderr, "HTTP status 500") {
			t.Errorf("a failing URL: exit %d:\n%s", code, stderr)
		}
	})
}
