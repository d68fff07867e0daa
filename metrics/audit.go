package metrics

import (
	"context"

	"github.com/samlbridge/samlbridge/audit"
)

// AuditSink returns a Sink that counts each event in flows_total and then
// passes it to next (nil: nowhere). Every login outcome already produces
// exactly one audit event, so the counts and the audit trail agree.
func (m *Metrics) AuditSink(next audit.Sink) audit.Sink {
	if next == nil {
		next = audit.Discard{}
	}
	if m == nil {
		return next
	}
	return auditSink{m: m, next: next}
}

type auditSink struct {
	m    *Metrics
	next audit.Sink
}

// Record implements audit.Sink.
func (s auditSink) Record(ctx context.Context, e audit.Event) {
	s.m.flowsEnded.WithLabelValues(string(e.Stage), string(e.Outcome), reasonLabel(e.Reason), s.m.spLabel(e.SP)).Inc()
	s.next.Record(ctx, e)
}

// reasonLabel bounds a reason: they come from fixed tables, but a label
// must never grow without bound whatever a future caller passes.
func reasonLabel(r string) string {
	if r == "" {
		return "none"
	}
	if len(r) > 80 {
		return r[:80]
	}
	return r
}
