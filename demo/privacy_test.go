package demo

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/samlbridge/samlbridge/internal/syncbuf"
)

// TestLogsCarryNoPersonalData runs a full login and a refusal at debug
// level and checks that nothing the process logged contains the persona's
// identity values, tokens or whole SAML messages (PRIV-01).
func TestLogsCarryNoPersonalData(t *testing.T) {
	var logs syncbuf.Buffer
	srv := httptest.NewUnstartedServer(http.NotFoundHandler())
	base := "http://" + srv.Listener.Addr().String()
	stack, err := New(context.Background(), Options{
		BaseURL: base,
		Logger:  slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = stack.Handler
	srv.Start()
	defer srv.Close()

	b := newBrowser(t)
	_, vals := samlResponseFrom(t, login(t, b, base, true), base+PathSPACS)
	res, err := stack.SP.Parse(vals.Get("SAMLResponse"))
	if err != nil {
		t.Fatal(err)
	}
	samlResponseFrom(t, login(t, newBrowser(t), base, false), base+PathSPACS)

	out := logs.String()
	if !strings.Contains(out, "login completed") {
		t.Fatalf("the flow logged nothing useful:\n%s", out)
	}
	for _, canary := range []string{
		"81042419835", "810424 198 35", "Maxence", "Legrand", "test@itsme.be", "453519681", "Rue Royale",
		"1981-04-24", "123-4567890-02", res.NameID, res.Attributes["idpId"][0],
		"SAMLResponse", "<saml", "eyJ", "code_verifier", "client_assertion",
	} {
		if strings.Contains(out, canary) {
			t.Errorf("logs contain %q", canary)
		}
	}
}
