package metrics

import (
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Certificate is one certificate the bridge depends on.
type Certificate struct {
	// Use says what it is for: "saml_signing", "saml_published" (a next or
	// previous key in the IdP metadata), "oidc_signing", "oidc_encryption",
	// "tls", "sp_signing" or "sp_encryption".
	Use string
	// SP is the SP's entity ID for the sp_* uses.
	SP string
	// NotAfter is the certificate's expiry.
	NotAfter time.Time
}

// MetadataSource is the state of one remote SP metadata source.
type MetadataSource struct {
	// Source is the metadata URL or MDQ base URL.
	Source string
	// LastSuccess is when a document was last accepted; zero: never.
	LastSuccess time.Time
	// ValidUntil is the accepted document's validUntil; zero: none.
	ValidUntil time.Time
	// Failures counts the refreshes that failed since the last success.
	Failures int
	// Entities is how many SPs the accepted document holds.
	Entities int
}

// Inventory is what the bridge currently runs with, read at each scrape.
type Inventory struct {
	Certificates []Certificate
	Metadata     []MetadataSource
}

// SetInventory makes each scrape report what fn returns. The bridge calls
// it at start and after each reload; fn must be fast and safe for
// concurrent use.
func (m *Metrics) SetInventory(fn func() Inventory) {
	if m == nil {
		return
	}
	m.inv.fn.Store(&fn)
}

var (
	certExpiryDesc = prometheus.NewDesc(Namespace+"_certificate_expiry_timestamp_seconds",
		"When a certificate the bridge uses expires, by use and SP (for SP certificates).", []string{"use", "sp"}, nil)
	mdSuccessDesc = prometheus.NewDesc(Namespace+"_metadata_last_success_timestamp_seconds",
		"When a remote SP metadata source was last fetched and accepted (0: never).", []string{"source"}, nil)
	mdValidDesc = prometheus.NewDesc(Namespace+"_metadata_valid_until_timestamp_seconds",
		"The validUntil of the accepted document of a metadata source (absent when it has none).", []string{"source"}, nil)
	mdFailuresDesc = prometheus.NewDesc(Namespace+"_metadata_consecutive_failures",
		"Refreshes of a metadata source that failed since its last success.", []string{"source"}, nil)
	mdEntitiesDesc = prometheus.NewDesc(Namespace+"_metadata_entities",
		"SPs in the accepted document of a metadata source.", []string{"source"}, nil)
)

// inventoryCollector reports the Inventory at scrape time.
type inventoryCollector struct {
	fn atomic.Pointer[func() Inventory]
}

// Describe implements prometheus.Collector.
func (c *inventoryCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{certExpiryDesc, mdSuccessDesc, mdValidDesc, mdFailuresDesc, mdEntitiesDesc} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *inventoryCollector) Collect(ch chan<- prometheus.Metric) {
	fn := c.fn.Load()
	if fn == nil {
		return
	}
	inv := (*fn)()
	// Two certificates of one use (a current and a next key) share labels;
	// report the one that expires first.
	type labels struct{ use, sp string }
	first := map[labels]time.Time{}
	var order []labels
	for _, cert := range inv.Certificates {
		k := labels{cert.Use, cert.SP}
		t, seen := first[k]
		if !seen {
			order = append(order, k)
		}
		if !seen || cert.NotAfter.Before(t) {
			first[k] = cert.NotAfter
		}
	}
	for _, k := range order {
		ch <- prometheus.MustNewConstMetric(certExpiryDesc, prometheus.GaugeValue, float64(first[k].Unix()), k.use, k.sp)
	}
	for _, md := range inv.Metadata {
		last := 0.0
		if !md.LastSuccess.IsZero() {
			last = float64(md.LastSuccess.Unix())
		}
		ch <- prometheus.MustNewConstMetric(mdSuccessDesc, prometheus.GaugeValue, last, md.Source)
		if !md.ValidUntil.IsZero() {
			ch <- prometheus.MustNewConstMetric(mdValidDesc, prometheus.GaugeValue, float64(md.ValidUntil.Unix()), md.Source)
		}
		ch <- prometheus.MustNewConstMetric(mdFailuresDesc, prometheus.GaugeValue, float64(md.Failures), md.Source)
		ch <- prometheus.MustNewConstMetric(mdEntitiesDesc, prometheus.GaugeValue, float64(md.Entities), md.Source)
	}
}
