package metrics

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/samlbridge/samlbridge/audit"
	"github.com/samlbridge/samlbridge/internal/breaker"
	"github.com/samlbridge/samlbridge/session"
	"github.com/samlbridge/samlbridge/session/memory"
)

// scrape returns the text exposition of m.
func scrape(t *testing.T, m *Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("scrape: %d", rec.Code)
	}
	body, _ := io.ReadAll(rec.Body)
	return string(body)
}

// value returns the value of the sample whose name and labels are exactly
// series (e.g. `samlbridge_flows_started_total{sp="x"}`), failing when it
// is absent.
func value(t *testing.T, text, series string) string {
	t.Helper()
	for _, line := range strings.Split(text, "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			return v
		}
	}
	t.Fatalf("no sample %s in:\n%s", series, grepPrefix(text, strings.SplitN(series, "{", 2)[0]))
	return ""
}

func grepPrefix(text, prefix string) string {
	var out []string
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(line, prefix) {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}

type sinkFunc func(audit.Event)

func (f sinkFunc) Record(_ context.Context, e audit.Event) { f(e) }

func TestAuditSinkCountsEveryOutcomeAndPassesItOn(t *testing.T) {
	m := New()
	var passed []audit.Event
	sink := m.AuditSink(sinkFunc(func(e audit.Event) { passed = append(passed, e) }))
	events := []audit.Event{
		{Stage: audit.StageCallback, Outcome: audit.Success, Reason: "ok", SP: "https://sp.example/a"},
		{Stage: audit.StageCallback, Outcome: audit.Success, Reason: "ok", SP: "https://sp.example/a"},
		{Stage: audit.StageCallback, Outcome: audit.Failure, Reason: "Responder", SP: "https://sp.example/b"},
		{Stage: audit.StageSSO, Outcome: audit.Rejected, Reason: "bad_signature"},
	}
	for _, e := range events {
		sink.Record(context.Background(), e)
	}
	if len(passed) != len(events) {
		t.Fatalf("passed on %d events, want %d", len(passed), len(events))
	}
	m.FlowStarted("https://sp.example/a")
	text := scrape(t, m)
	for series, want := range map[string]string{
		`samlbridge_flows_total{outcome="success",reason="ok",sp="https://sp.example/a",stage="callback"}`:        "2",
		`samlbridge_flows_total{outcome="failure",reason="Responder",sp="https://sp.example/b",stage="callback"}`: "1",
		`samlbridge_flows_total{outcome="rejected",reason="bad_signature",sp="-",stage="sso"}`:                    "1",
		`samlbridge_flows_started_total{sp="https://sp.example/a"}`:                                               "1",
	} {
		if got := value(t, text, series); got != want {
			t.Errorf("%s = %s, want %s", series, got, want)
		}
	}
}

func TestSPLabelsAreBounded(t *testing.T) {
	m := New()
	for i := range MaxSPLabels + 5 {
		m.FlowStarted(fmt.Sprintf("https://sp%d.example", i))
	}
	text := scrape(t, m)
	if got := value(t, text, `samlbridge_flows_started_total{sp="-"}`); got != "5" {
		t.Errorf("SPs beyond the cap counted %s, want 5", got)
	}
	if n := strings.Count(text, "samlbridge_flows_started_total{"); n != MaxSPLabels+1 {
		t.Errorf("%d series, want %d", n, MaxSPLabels+1)
	}
}

func TestStoreOutcomes(t *testing.T) {
	m := New()
	st := m.Store(memory.New(0))
	defer st.Close()
	ctx := context.Background()
	now := time.Now()
	if _, err := st.Take(ctx, "nope", now); !errors.Is(err, session.ErrNotFound) {
		t.Fatal(err)
	}
	if err := st.MarkSeen(ctx, "k", now, now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := st.MarkSeen(ctx, "k", now, now.Add(time.Minute)); !errors.Is(err, session.ErrReplay) {
		t.Fatal(err)
	}
	if err := st.PutRecord(ctx, "sso|x", []byte("v"), now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if v, err := st.TakeRecord(ctx, "sso|x", now); err != nil || string(v) != "v" {
		t.Fatalf("TakeRecord = %q, %v", v, err)
	}
	if p, ok := st.(session.Pinger); !ok || p.Ping(ctx) != nil {
		t.Fatal("the wrapper must answer Ping")
	}
	text := scrape(t, m)
	for _, series := range []string{
		`samlbridge_store_operation_duration_seconds_count{op="take",outcome="not_found"}`,
		`samlbridge_store_operation_duration_seconds_count{op="mark_seen",outcome="ok"}`,
		`samlbridge_store_operation_duration_seconds_count{op="mark_seen",outcome="replay"}`,
		`samlbridge_store_operation_duration_seconds_count{op="put_record",outcome="ok"}`,
		`samlbridge_store_operation_duration_seconds_count{op="take_record",outcome="ok"}`,
	} {
		if got := value(t, text, series); got != "1" {
			t.Errorf("%s = %s, want 1", series, got)
		}
	}
}

func TestUpstreamAndBreaker(t *testing.T) {
	m := New()
	m.ObserveCall("token", "ok", 30*time.Millisecond)
	m.ObserveCall("token", "unavailable", 2*time.Second)
	m.ObserveBreaker(breaker.Closed, breaker.Open)
	text := scrape(t, m)
	if got := value(t, text, `samlbridge_upstream_request_duration_seconds_bucket{outcome="ok",step="token",le="0.05"}`); got != "1" {
		t.Errorf("30 ms call in the 50 ms bucket: %s", got)
	}
	if got := value(t, text, `samlbridge_upstream_request_duration_seconds_bucket{outcome="unavailable",step="token",le="1"}`); got != "0" {
		t.Errorf("2 s call in the 1 s bucket: %s", got)
	}
	if got := value(t, text, `samlbridge_upstream_circuit_state`); got != "2" {
		t.Errorf("circuit state %s, want 2 (open)", got)
	}
	if got := value(t, text, `samlbridge_upstream_circuit_transitions_total{to="open"}`); got != "1" {
		t.Errorf("transitions to open %s", got)
	}
}

func TestInstrumentUsesTheRouteNotThePath(t *testing.T) {
	m := New()
	h := m.Instrument("sso", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTeapot) }))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/saml/sso?SAMLRequest=secret", nil))
	text := scrape(t, m)
	if got := value(t, text, `samlbridge_http_requests_total{code="418",route="sso"}`); got != "1" {
		t.Errorf("requests %s", got)
	}
	if strings.Contains(text, "secret") {
		t.Error("a request value reached the metrics")
	}
}

func TestInventory(t *testing.T) {
	m := New()
	soon := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	later := soon.AddDate(1, 0, 0)
	fetched := time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)
	m.SetInventory(func() Inventory {
		return Inventory{
			Certificates: []Certificate{
				{Use: "saml_signing", NotAfter: later},
				{Use: "saml_published", NotAfter: later},
				{Use: "saml_published", NotAfter: soon},
				{Use: "sp_encryption", SP: "https://sp.example", NotAfter: soon},
			},
			Metadata: []MetadataSource{
				{Source: "https://fed.example/md.xml", LastSuccess: fetched, ValidUntil: later, Failures: 2, Entities: 40},
				{Source: "https://down.example/md.xml"},
			},
		}
	})
	m.ConfigLoaded(true, fetched)
	m.ConfigLoaded(false, fetched.Add(time.Hour))
	text := scrape(t, m)
	for series, want := range map[string]time.Time{
		`samlbridge_certificate_expiry_timestamp_seconds{sp="",use="saml_signing"}`:                    later,
		`samlbridge_certificate_expiry_timestamp_seconds{sp="",use="saml_published"}`:                  soon,
		`samlbridge_certificate_expiry_timestamp_seconds{sp="https://sp.example",use="sp_encryption"}`: soon,
		`samlbridge_metadata_last_success_timestamp_seconds{source="https://fed.example/md.xml"}`:      fetched,
		`samlbridge_metadata_valid_until_timestamp_seconds{source="https://fed.example/md.xml"}`:       later,
		`samlbridge_config_last_reload_success_timestamp_seconds`:                                      fetched,
	} {
		got, err := strconv.ParseFloat(value(t, text, series), 64)
		if err != nil || int64(got) != want.Unix() {
			t.Errorf("%s = %v (%v), want %d", series, got, err, want.Unix())
		}
	}
	if got := value(t, text, `samlbridge_metadata_last_success_timestamp_seconds{source="https://down.example/md.xml"}`); got != "0" {
		t.Errorf("never fetched: %s", got)
	}
	if strings.Contains(text, `samlbridge_metadata_valid_until_timestamp_seconds{source="https://down.example/md.xml"}`) {
		t.Error("a source without validUntil reports one")
	}
	if got := value(t, text, `samlbridge_metadata_consecutive_failures{source="https://fed.example/md.xml"}`); got != "2" {
		t.Errorf("failures %s", got)
	}
	if got := value(t, text, `samlbridge_config_reloads_total{outcome="error"}`); got != "1" {
		t.Errorf("failed reloads %s", got)
	}
}

func TestNilMetricsIsANoOp(t *testing.T) {
	var m *Metrics
	m.FlowStarted("x")
	m.ObserveCall("token", "ok", time.Second)
	m.ObserveBreaker(breaker.Closed, breaker.Open)
	m.ConfigLoaded(true, time.Now())
	m.SetInventory(func() Inventory { return Inventory{} })
	st := memory.New(0)
	if m.Store(st) != session.Store(st) {
		t.Error("a nil Metrics must return the store unchanged")
	}
	h := http.NotFoundHandler()
	if m.Instrument("x", h) == nil {
		t.Error("nil handler")
	}
	m.AuditSink(nil).Record(context.Background(), audit.Event{})
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusNotFound {
		t.Errorf("nil Metrics handler: %d", rec.Code)
	}
}
