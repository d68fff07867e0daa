package adversarial

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	goredis "github.com/redis/go-redis/v9"

	"github.com/samlbridge/samlbridge/demo"
	"github.com/samlbridge/samlbridge/internal/samltest"
	"github.com/samlbridge/samlbridge/internal/testenv"
	"github.com/samlbridge/samlbridge/itsme/emulator"
	"github.com/samlbridge/samlbridge/metrics"
	sessionredis "github.com/samlbridge/samlbridge/session/redis"
)

// canaryNIN is a valid Belgian national number (born 1990-01-01, serial
// 997) that appears nowhere else: if it shows up in a log, an audit
// event or Redis, it leaked.
func canaryNIN() string {
	const base = 900101997
	return fmt.Sprintf("%09d%02d", base, 97-base%97)
}

const canaryEmail = "canary.7f3a9c@leak-check.example"

// canaryPersona is the seed persona with the canary identity values.
func canaryPersona() emulator.Persona {
	p := emulator.DefaultPersonas()[0]
	p.ID, p.Label = "canary", "Canary Person"
	p.Claims["email"] = canaryEmail
	p.Claims["given_name"] = "Zebulon"
	p.Claims["family_name"] = "Quaxwort"
	p.Claims["name"] = "Zebulon Quaxwort"
	p.Claims["http://itsme.services/v2/claim/BENationalNumber"] = canaryNIN()
	return p
}

// TestPRIV01CanaryNeverLeaves runs a full login of a canary person with
// the real Redis store, then scans everything the bridge wrote (logs at
// debug level, the audit stream, every Redis key and value under the
// store's prefix, and the /metrics exposition) for the canary values
// (top-25 #25).
func TestPRIV01CanaryNeverLeaves(t *testing.T) {
	addr := testenv.RedisAddr(t)
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		t.Fatal(err)
	}
	prefix := fmt.Sprintf("adversarial-%x:", secret[:4])
	store, err := sessionredis.Open(sessionredis.Config{URL: "redis://" + addr, Secret: secret, KeyPrefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	w := newWorld(t, func(o *demo.Options) {
		o.Store = store
		o.Personas = []emulator.Persona{canaryPersona()}
		o.Metrics = metrics.New()
	})

	// Snapshot Redis while the login is in flight (the transaction and
	// the replay marker exist then), and again at the end.
	rdb := goredis.NewClient(&goredis.Options{Addr: addr})
	t.Cleanup(func() { _ = rdb.Close() })
	var redisDump strings.Builder
	dump := func() {
		keys, err := rdb.Keys(context.Background(), prefix+"*").Result()
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range keys {
			v, err := rdb.Dump(context.Background(), k).Result()
			if err != nil && err != goredis.Nil {
				t.Fatal(err)
			}
			redisDump.WriteString(k + "=" + v + "\n")
		}
	}
	b := browser(t)
	auth, _ := w.startLogin(t, b, demo.IndexIdentification, "")
	dump()
	if redisDump.Len() == 0 {
		t.Fatal("nothing in Redis during the login: the scan would prove nothing")
	}
	r := w.callback(t, b, w.consent(t, b, auth, true))
	dump()
	res := w.success(t, r)
	if got := res.Attributes["nin"]; len(got) != 1 || got[0] != canaryNIN() {
		t.Fatalf("the SP got nin %v, want the canary: the flow did not carry it", got)
	}
	if got := res.Attributes["email"]; len(got) != 1 || got[0] != canaryEmail {
		t.Fatalf("the SP got email %v, want the canary", got)
	}
	nin := canaryNIN()
	canaries := []string{nin, nin[:6] + " " + nin[6:9] + " " + nin[9:], canaryEmail, "Zebulon", "Quaxwort", res.NameID}
	mresp, err := http.Get(w.base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	exposition, _ := io.ReadAll(mresp.Body)
	mresp.Body.Close()
	if !strings.Contains(string(exposition), `samlbridge_flows_total{outcome="success"`) {
		t.Fatalf("/metrics does not count the login: the scan would prove nothing\n%.2000s", exposition)
	}
	for where, text := range map[string]string{"logs": w.logs.String(), "audit": w.audit.String(), "redis": redisDump.String(), "metrics": string(exposition)} {
		for _, c := range canaries {
			if strings.Contains(text, c) {
				t.Errorf("%s contain the canary %q", where, c)
			}
		}
	}
	// PRIV-04: one pseudonymous success event naming the attributes.
	e := r.events[0]
	joined := strings.Join(e.Attributes, ",")
	if !strings.Contains(joined, "nin") || !strings.Contains(joined, "email") || e.Subject == "" {
		t.Errorf("audit event %+v: want the released names and a pseudonym", e)
	}
}

// TestPRIV02LogInjection: hostile text in a rejected request cannot forge
// log lines or smuggle terminal escapes: every line stays one JSON object.
func TestPRIV02LogInjection(t *testing.T) {
	w := newWorld(t)
	data := requestXML(t, w.authnRequest(t, nil, nil))
	forged := "x\n{\"level\":\"INFO\",\"msg\":\"login completed\",\"forged\":true}\x1b[31m"
	q, err := samltest.RedirectQuery(data, forged, w.spKey(), samltest.RSASHA256)
	if err != nil {
		t.Fatal(err)
	}
	w.get(t, w.ssoURL()+"?"+q).local(t, 400, "malformed")
	for i, line := range strings.Split(strings.TrimSpace(w.logs.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Errorf("log line %d is not one JSON object: %q", i, line)
		}
		if m["forged"] != nil || strings.ContainsRune(line, 0x1b) {
			t.Errorf("log line %d carries the injected text: %q", i, line)
		}
	}
}
