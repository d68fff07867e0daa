// Package metrics holds the bridge's Prometheus collectors: login flows by
// SP and outcome, calls to itsme, the session store, HTTP requests, the
// freshness of SP metadata, certificate expiry and configuration reloads.
//
// Every method is safe on a nil *Metrics (it does nothing), so the
// server can call them unconditionally. No label ever holds a personal
// value: labels are SP entity IDs known to the registry, stages, outcomes,
// short reasons from fixed tables, routes and metadata source URLs.
package metrics

import (
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/samlbridge/samlbridge/internal/breaker"
)

// Namespace prefixes every metric name.
const Namespace = "samlbridge"

// MaxSPLabels bounds the distinct values of the "sp" label; further SPs
// are counted under OtherSP. SP labels come only from SPs the registry
// knows, so this is a second line of defence against label explosion.
const MaxSPLabels = 2000

// OtherSP is the "sp" label of SPs beyond MaxSPLabels, and of events
// without an SP (a request refused before its issuer was known).
const OtherSP = "-"

// Metrics is the set of the bridge's collectors on its own registry.
type Metrics struct {
	reg *prometheus.Registry

	flowsStarted *prometheus.CounterVec
	flowsEnded   *prometheus.CounterVec
	upstream     *prometheus.HistogramVec
	breakerState prometheus.Gauge
	breakerMoves *prometheus.CounterVec
	store        *prometheus.HistogramVec
	httpReqs     *prometheus.CounterVec
	httpDur      *prometheus.HistogramVec
	reloads      *prometheus.CounterVec
	lastReload   prometheus.Gauge

	inv *inventoryCollector

	mu  sync.Mutex
	sps map[string]struct{}
}

// New returns a Metrics with every collector registered, including the
// Go runtime and process collectors.
func New() *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry(), sps: map[string]struct{}{}}
	m.flowsStarted = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Name: "flows_started_total",
		Help: "Logins sent to itsme, by SP.",
	}, []string{"sp"})
	m.flowsEnded = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Name: "flows_total",
		Help: "Ended login and logout attempts (one per audit event), by stage (sso, callback, unsolicited, logout), outcome (success: assertion sent; failure: SAML error status sent; rejected: refused with the bridge's own page), reason and SP.",
	}, []string{"stage", "outcome", "reason", "sp"})
	m.upstream = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: Namespace, Name: "upstream_request_duration_seconds",
		Help:    "Calls to itsme by step (discovery, jwks, token, userinfo) and outcome (ok, http_error, unavailable, refused by the circuit breaker).",
		Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
	}, []string{"step", "outcome"})
	m.breakerState = prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: Namespace, Name: "upstream_circuit_state",
		Help: "The circuit breaker in front of itsme: 0 closed, 1 half-open (probing), 2 open (calls refused).",
	})
	m.breakerMoves = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Name: "upstream_circuit_transitions_total",
		Help: "Changes of the circuit breaker's state, by new state.",
	}, []string{"to"})
	m.store = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: Namespace, Name: "store_operation_duration_seconds",
		Help:    "Session store operations by operation and outcome (ok, not_found, replay, exists, conflict: an update gave up on a record that kept changing, declined: an update chose to store nothing, unavailable).",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, 1},
	}, []string{"op", "outcome"})
	m.httpReqs = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Name: "http_requests_total",
		Help: "HTTP requests served, by route and status code.",
	}, []string{"route", "code"})
	m.httpDur = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: Namespace, Name: "http_request_duration_seconds",
		Help:    "Time to serve HTTP requests, by route.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 10, 30},
	}, []string{"route"})
	m.reloads = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Name: "config_reloads_total",
		Help: "Configuration reloads (SIGHUP), by outcome (ok, error: the old configuration stays).",
	}, []string{"outcome"})
	m.lastReload = prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: Namespace, Name: "config_last_reload_success_timestamp_seconds",
		Help: "When the running configuration was loaded (start or last good reload).",
	})
	m.inv = &inventoryCollector{}
	m.reg.MustRegister(m.flowsStarted, m.flowsEnded, m.upstream, m.breakerState, m.breakerMoves,
		m.store, m.httpReqs, m.httpDur, m.reloads, m.lastReload, m.inv,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Registry returns the registry the collectors are on (for tests and
// for embedding more collectors).
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	if m == nil {
		return http.NotFoundHandler()
	}
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// spLabel returns the label for an SP entity ID, bounded by MaxSPLabels.
func (m *Metrics) spLabel(sp string) string {
	if sp == "" {
		return OtherSP
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.sps[sp]; ok {
		return sp
	}
	if len(m.sps) >= MaxSPLabels {
		return OtherSP
	}
	m.sps[sp] = struct{}{}
	return sp
}

// FlowStarted counts a login sent to itsme for sp.
func (m *Metrics) FlowStarted(sp string) {
	if m == nil {
		return
	}
	m.flowsStarted.WithLabelValues(m.spLabel(sp)).Inc()
}

// ObserveCall implements itsme.Observer.
func (m *Metrics) ObserveCall(stage, outcome string, d time.Duration) {
	if m == nil {
		return
	}
	m.upstream.WithLabelValues(stage, outcome).Observe(d.Seconds())
}

// ObserveBreaker implements itsme.Observer.
func (m *Metrics) ObserveBreaker(_, to breaker.State) {
	if m == nil {
		return
	}
	m.breakerState.Set(float64(to))
	m.breakerMoves.WithLabelValues(to.String()).Inc()
}

// ConfigLoaded records a configuration load: at start and at each reload
// (ok false: the reload failed and the old configuration stays).
func (m *Metrics) ConfigLoaded(ok bool, now time.Time) {
	if m == nil {
		return
	}
	if !ok {
		m.reloads.WithLabelValues("error").Inc()
		return
	}
	m.reloads.WithLabelValues("ok").Inc()
	m.lastReload.Set(float64(now.Unix()))
}

// Instrument counts and times the requests h serves under route, a fixed
// name (never the request path, which the client chooses).
func (m *Metrics) Instrument(route string, h http.Handler) http.Handler {
	if m == nil {
		return h
	}
	return promhttp.InstrumentHandlerDuration(m.httpDur.MustCurryWith(prometheus.Labels{"route": route}),
		promhttp.InstrumentHandlerCounter(m.httpReqs.MustCurryWith(prometheus.Labels{"route": route}), h))
}
