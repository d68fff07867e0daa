package adversarial

import (
	"bytes"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"testing"

	dsig "github.com/russellhaering/goxmldsig"

	"github.com/samlbridge/samlbridge/internal/samltest"
)

// TestX01X02SizeCaps: oversized bodies and DEFLATE bombs are refused
// before any XML work, within the per-request memory and CPU bounds the
// harness checks on every request (top-25 #6).
func TestX01X02SizeCaps(t *testing.T) {
	w := newWorld(t)
	t.Run("X-01 2 MiB POST body", func(t *testing.T) {
		body := "SAMLRequest=" + strings.Repeat("A", 2<<20)
		w.postForm(t, w.ssoURL(), body).local(t, http.StatusRequestEntityTooLarge, "too_large")
	})
	t.Run("X-01 oversized XML inside a small-enough body", func(t *testing.T) {
		xml := []byte(`<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol">` + strings.Repeat(" ", 900<<10) + `</samlp:AuthnRequest>`)
		w.postRequest(t, xml, "").local(t, http.StatusRequestEntityTooLarge, "too_large")
	})
	t.Run("X-02 DEFLATE bomb of 32 MiB", func(t *testing.T) {
		bomb := bytes.Repeat([]byte{' '}, 32<<20)
		q := "SAMLRequest=" + url.QueryEscape(base64.StdEncoding.EncodeToString(samltest.Deflate(bomb)))
		if len(q) > 64<<10 {
			t.Fatalf("the bomb's query is %d bytes; it must fit a request line", len(q))
		}
		w.get(t, w.ssoURL()+"?"+q).local(t, http.StatusRequestEntityTooLarge, "too_large")
	})
}

// TestX03ToX10HostileXML: XML the parsers would accept but must not be
// trusted is refused before any signature or DOM work (top-25 #6).
func TestX03ToX10HostileXML(t *testing.T) {
	w := newWorld(t)
	genuine := string(requestXML(t, w.authnRequest(t, nil, nil)))
	open := genuine[:strings.Index(genuine, ">")+1]
	// Short element names keep these under the 256 KiB body cap, so the
	// structural caps, not the size cap, must catch them.
	deep := func(n int) string {
		return open + strings.Repeat("<a>", n) + strings.Repeat("</a>", n) + "</samlp:AuthnRequest>"
	}
	for _, tt := range []struct {
		name, xml, reason string
	}{
		{"X-03 XXE external entity", `<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>` + strings.Replace(genuine, "</samlp:AuthnRequest>", "&x;</samlp:AuthnRequest>", 1), "malformed"},
		{"X-03 external DTD", `<?xml version="1.0"?><!DOCTYPE r SYSTEM "http://127.0.0.1:1/x.dtd">` + genuine, "malformed"},
		{"X-04 billion laughs", `<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>` + strings.Replace(genuine, "</samlp:AuthnRequest>", "&c;</samlp:AuthnRequest>", 1), "malformed"},
		{"X-05 DOCTYPE without entities", `<!DOCTYPE samlp:AuthnRequest>` + genuine, "malformed"},
		{"X-06 10,000 levels deep", deep(10000), "malformed"},
		{"X-06 30,000 sibling elements", strings.Replace(genuine, "</samlp:AuthnRequest>", strings.Repeat("<a/>", 30000)+"</samlp:AuthnRequest>", 1), "malformed"},
		{"X-07 unclosed root", strings.TrimSuffix(genuine, "</samlp:AuthnRequest>"), "malformed"},
		{"X-07 two roots", genuine + genuine, "malformed"},
		{"X-08 duplicate attribute", strings.Replace(genuine, " ID=", ` Destination="https://evil.example/" ID=`, 1), "malformed"},
		{"X-08 namespaced twin of the ACS attribute", strings.Replace(genuine, "AssertionConsumerServiceURL=", `xmlns:x="urn:x" x:AssertionConsumerServiceURL="https://evil.example/acs" AssertionConsumerServiceURL=`, 1), "malformed"},
		{"X-10 UTF-16 declaration on UTF-8 bytes", `<?xml version="1.0" encoding="UTF-16"?>` + genuine, "malformed"},
		{"X-10 invalid UTF-8", strings.Replace(genuine, "</samlp:AuthnRequest>", "\xff\xfe</samlp:AuthnRequest>", 1), "malformed"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if base64.StdEncoding.EncodedLen(len(tt.xml)) >= 256<<10 {
				t.Fatalf("the input is %d bytes: the body cap would catch it first", len(tt.xml))
			}
			w.postRequest(t, []byte(tt.xml), "").local(t, http.StatusBadRequest, tt.reason)
		})
	}
}

// TestX11ParameterPollution: a binding parameter sent twice is refused,
// whichever copy an attacker hoped would win (top-25 #6).
func TestX11ParameterPollution(t *testing.T) {
	w := newWorld(t)
	data := requestXML(t, w.authnRequest(t, nil, nil))
	q, err := samltest.RedirectQuery(data, "first", w.spKey(), samltest.RSASHA256)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ name, query string }{
		{"two RelayStates", q + "&RelayState=second"},
		{"two SAMLRequests", q + "&SAMLRequest=AAAA"},
		{"two Signatures", q + "&Signature=AAAA"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w.get(t, w.ssoURL()+"?"+tt.query).local(t, http.StatusBadRequest, "duplicate_parameter")
		})
	}
	t.Run("SAMLRequest in both the URL and the POST body", func(t *testing.T) {
		body := "SAMLRequest=" + url.QueryEscape(base64.StdEncoding.EncodeToString(mustBytes(t, w.signedXML(t, w.authnRequest(t, nil, nil)))))
		w.postForm(t, w.ssoURL()+"?SAMLRequest=AAAA", body).local(t, http.StatusBadRequest, "duplicate_parameter")
	})
}

// TestLIB09QuadraticCanonicalisation is Appendix A.5 of the catalogue: a
// genuinely signed request with thousands of nested elements after the
// Signature and the Reference transform switched to C14N 1.1 cost
// goxmldsig v1.4.0 44 s and 3.4 GB at 300 KB. Here it is refused within
// the harness's bounds (64 MiB, 1 s of CPU): at the catalogue's size by
// the body cap, and below the cap by the structural caps, before any
// canonicalisation (top-25 #5).
func TestLIB09QuadraticCanonicalisation(t *testing.T) {
	w := newWorld(t)
	for _, tt := range []struct {
		name   string
		levels int
		tag    string
		status int
		reason string
	}{
		{"8,000 levels, 300 KB", 8000, "samlp:Extensions", http.StatusRequestEntityTooLarge, "too_large"},
		{"20,000 levels under the body cap", 20000, "a", http.StatusBadRequest, "malformed"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			el := w.signedXML(t, w.authnRequest(t, nil, nil))
			el.FindElement("./Signature/SignedInfo/Reference/Transforms/Transform[2]").CreateAttr("Algorithm", string(dsig.CanonicalXML11AlgorithmId))
			if err := samltest.Resign(el.FindElement("./Signature"), w.spKey()); err != nil {
				t.Fatal(err)
			}
			parent := el
			for range tt.levels {
				parent = parent.CreateElement(tt.tag)
			}
			data := mustBytes(t, el)
			if big := len(data) >= 256<<10; big != (tt.status == http.StatusRequestEntityTooLarge) {
				t.Fatalf("the crafted request is %d bytes; the case assumes otherwise", len(data))
			}
			r := w.postRequest(t, data, "")
			r.local(t, tt.status, tt.reason)
			t.Logf("%d bytes refused with HTTP %d after %v of CPU and %d KiB allocated", len(data), r.status, r.cpu, r.alloc>>10)
		})
	}
}
