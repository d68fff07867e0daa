// Command sp is the service provider of examples/cluster: a page with a
// login button that sends a signed AuthnRequest to the bridge (through the
// proxy) and shows the attributes of the verified response. It is built
// on crewjam/saml and holds the AuthnRequest IDs it is waiting for in
// memory.
//
// Usage:
//
//	sp --url http://127.0.0.1:8445 --key sp.key --cert sp.crt --write-metadata sp.xml
//	sp --url http://127.0.0.1:8445 --key sp.key --cert sp.crt --idp-metadata-url http://127.0.0.1:8440/saml/metadata
//
// The first form writes the SP's metadata (for the bridge's
// service_providers) and exits; the second serves the SP on the loopback
// address of --url.
package main

import (
	"context"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"flag"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"sort"
	"sync"
	"syscall"
	"time"

	crewjam "github.com/crewjam/saml"

	"github.com/samlbridge/samlbridge/certs"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintf(os.Stderr, "sp: %v\n", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("sp", flag.ContinueOnError)
	fs.SetOutput(stderr)
	base := fs.String("url", "http://127.0.0.1:8445", "the SP's base URL, on loopback")
	keyFile := fs.String("key", "", "the SP's private key (PEM)")
	certFile := fs.String("cert", "", "the SP's certificate (PEM)")
	writeMD := fs.String("write-metadata", "", "write the SP's metadata to this file and exit")
	idpMD := fs.String("idp-metadata-url", "", "the bridge's metadata URL")
	if err := fs.Parse(args); err != nil {
		return err
	}
	u, err := url.Parse(*base)
	if err != nil || u.Scheme != "http" || u.Port() == "" || net.ParseIP(u.Hostname()) == nil || !net.ParseIP(u.Hostname()).IsLoopback() {
		return fmt.Errorf("--url %q: want http://<loopback IP>:<port>", *base)
	}
	kp, err := certs.LoadFiles(*keyFile, *certFile)
	if err != nil {
		return fmt.Errorf("--key/--cert: %w", err)
	}
	if kp.Cert == nil {
		return errors.New("--cert: no certificate")
	}
	acs, md := *u.JoinPath("/acs"), *u.JoinPath("/metadata")
	sp := &crewjam.ServiceProvider{
		EntityID: md.String(), Key: kp.Key, Certificate: kp.Cert, MetadataURL: md, AcsURL: acs,
		SignatureMethod:   "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
		AuthnNameIDFormat: crewjam.PersistentNameIDFormat,
	}
	if *writeMD != "" {
		out, err := xml.MarshalIndent(sp.Metadata(), "", "  ")
		if err != nil {
			return err
		}
		return os.WriteFile(*writeMD, out, 0o644)
	}
	if *idpMD == "" {
		return errors.New("give --write-metadata or --idp-metadata-url")
	}
	ed, err := fetchMetadata(ctx, *idpMD)
	if err != nil {
		return err
	}
	sp.IDPMetadata = ed
	log := slog.New(slog.NewTextHandler(stderr, nil)).With("component", "sp")
	ln, err := net.Listen("tcp", u.Host)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: &handler{sp: sp, log: log, pending: map[string]time.Time{}}, ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(stdout, "sp ready: %s/\n", u)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(sctx)
}

func fetchMetadata(ctx context.Context, u string) (*crewjam.EntityDescriptor, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("--idp-metadata-url: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetching the IdP metadata: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil || resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetching the IdP metadata: status %d (%v)", resp.StatusCode, err)
	}
	var ed crewjam.EntityDescriptor
	if err := xml.Unmarshal(body, &ed); err != nil {
		return nil, fmt.Errorf("the IdP metadata: %w", err)
	}
	return &ed, nil
}

type handler struct {
	sp  *crewjam.ServiceProvider
	log *slog.Logger

	mu      sync.Mutex
	pending map[string]time.Time // AuthnRequest IDs awaiting a response
}

var page = template.Must(template.New("sp").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>samlbridge cluster SP</title></head><body>
<h1>samlbridge cluster service provider</h1>
{{if .Error}}<p id="error">{{.Error}}</p>{{end}}
{{if .Attrs}}<h2>Logged in</h2><table id="attributes">{{range .Attrs}}<tr><td>{{.Name}}</td><td>{{.Value}}</td></tr>{{end}}</table>{{end}}
<p><a id="login" href="/login">Log in with itsme (through the cluster)</a></p>
</body></html>
`))

type row struct{ Name, Value string }

func (h *handler) render(w http.ResponseWriter, status int, attrs []row, msg string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
	w.WriteHeader(status)
	_ = page.Execute(w, struct {
		Attrs []row
		Error string
	}{attrs, msg})
}

// ServeHTTP serves /, /login, /acs and /metadata.
func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/":
		h.render(w, http.StatusOK, nil, "")
	case "/metadata":
		out, err := xml.MarshalIndent(h.sp.Metadata(), "", "  ")
		if err != nil {
			http.Error(w, "metadata", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/samlmetadata+xml")
		_, _ = w.Write(out)
	case "/login":
		req, err := h.sp.MakeAuthenticationRequest(h.sp.GetSSOBindingLocation(crewjam.HTTPRedirectBinding), crewjam.HTTPRedirectBinding, crewjam.HTTPPostBinding)
		if err != nil {
			h.render(w, http.StatusInternalServerError, nil, "Could not build the AuthnRequest: "+err.Error())
			return
		}
		u, err := req.Redirect("cluster-sp", h.sp)
		if err != nil {
			h.render(w, http.StatusInternalServerError, nil, "Could not sign the AuthnRequest: "+err.Error())
			return
		}
		h.mu.Lock()
		now := time.Now()
		for id, exp := range h.pending {
			if now.After(exp) {
				delete(h.pending, id)
			}
		}
		if len(h.pending) < 10000 {
			h.pending[req.ID] = now.Add(15 * time.Minute)
		}
		h.mu.Unlock()
		http.Redirect(w, r, u.String(), http.StatusFound)
	case "/acs":
		h.acs(w, r)
	default:
		http.NotFound(w, r)
	}
}

func (h *handler) acs(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Redirect(w, r, "/", http.StatusFound)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
	if err := r.ParseForm(); err != nil {
		h.render(w, http.StatusBadRequest, nil, "The form could not be read.")
		return
	}
	raw, err := base64.StdEncoding.DecodeString(r.PostForm.Get("SAMLResponse"))
	if err != nil {
		h.render(w, http.StatusBadRequest, nil, "The SAMLResponse is not base64.")
		return
	}
	h.mu.Lock()
	ids := make([]string, 0, len(h.pending))
	for id := range h.pending {
		ids = append(ids, id)
	}
	h.mu.Unlock()
	a, err := h.sp.ParseXMLResponse(raw, ids, h.sp.AcsURL)
	if err != nil {
		var ire *crewjam.InvalidResponseError
		if errors.As(err, &ire) {
			err = ire.PrivateErr
		}
		h.log.Warn("response rejected", "err", err)
		h.render(w, http.StatusForbidden, nil, "The SAML response was rejected: "+err.Error())
		return
	}
	var rows []row
	if a.Subject != nil {
		h.mu.Lock()
		for _, sc := range a.Subject.SubjectConfirmations {
			if sc.SubjectConfirmationData != nil {
				delete(h.pending, sc.SubjectConfirmationData.InResponseTo) // single use
			}
		}
		h.mu.Unlock()
		if a.Subject.NameID != nil {
			rows = append(rows, row{"NameID", a.Subject.NameID.Value})
		}
	}
	var attrs []row
	for _, st := range a.AttributeStatements {
		for _, at := range st.Attributes {
			for _, v := range at.Values {
				attrs = append(attrs, row{at.Name, v.Value})
			}
		}
	}
	sort.SliceStable(attrs, func(i, j int) bool { return attrs[i].Name < attrs[j].Name })
	h.log.Info("login completed", "attributes", len(attrs))
	h.render(w, http.StatusOK, append(rows, attrs...), "")
}
