package remote

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/crewjam/saml"

	"github.com/samlbridge/samlbridge/metadata"
	"github.com/samlbridge/samlbridge/metadata/remote/remotetest"
)

func staticSP(id, acs string) *metadata.ServiceProvider {
	ep := saml.IndexedEndpoint{Binding: saml.HTTPPostBinding, Location: acs}
	return &metadata.ServiceProvider{EntityID: id, ACS: []saml.IndexedEndpoint{ep}, DefaultACS: ep}
}

func TestRegistryLayers(t *testing.T) {
	t.Parallel()
	clk := newClock()
	ctx := context.Background()

	// Source 1 defines SP 1 (also static), SP 2 and SP 3.
	src1 := newMDServer(t)
	src1.serve(sign(t, aggregate(docOpts{}, entity(t, spID(1), "https://source1.example.org/acs"),
		entity(t, spID(2), acsURL(2)), entity(t, spID(3), acsURL(3))), "fed", remotetest.Options{}))
	// Source 2 redefines SP 2, and SP 3 with a case variant.
	variant := strings.ToUpper(spID(3))
	src2 := newMDServer(t)
	src2.serve(sign(t, aggregate(docOpts{}, entity(t, spID(2), "https://source2.example.org/acs"),
		entity(t, variant, "https://source2.example.org/acs"), entity(t, spID(4), acsURL(4))), "fed", remotetest.Options{}))
	s1, _ := newTestSource(t, src1, clk, nil)
	s2, _ := newTestSource(t, src2, clk, nil)

	mdq := newMDQResponder(t)
	mdq.set(spID(5), signedEntity(t, docOpts{}, 5))
	mdq.set(spID(2), signedEntity(t, docOpts{}, 2))
	m := newTestMDQ(t, mdq, clk, nil)

	log, buf := testLogger()
	reg, err := NewRegistry(RegistryConfig{
		Static:  []*metadata.ServiceProvider{staticSP(spID(1), acsURL(1))},
		Sources: []*Source{s1, s2},
		MDQ:     m,
		Logger:  log,
		Now:     clk.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := reg.RefreshDue(ctx); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		id      string
		wantACS string // empty: unknown
	}{
		{spID(1), acsURL(1)},           // static wins over source 1
		{spID(2), acsURL(2)},           // source 1 wins over source 2 and MDQ
		{spID(3), acsURL(3)},           // source 1
		{variant, ""},                  // lost to spID(3): unknown (MD-03)
		{spID(4), acsURL(4)},           // source 2
		{spID(5), acsURL(5)},           // MDQ
		{spID(6), ""},                  // MDQ 404
		{strings.ToUpper(spID(1)), ""}, // case variant of a static SP, never sent to MDQ
	}
	for _, tt := range tests {
		sp, err := reg.ServiceProvider(ctx, tt.id)
		if tt.wantACS == "" {
			if !errors.Is(err, metadata.ErrUnknownServiceProvider) {
				t.Errorf("%s: err = %v, want ErrUnknownServiceProvider", tt.id, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tt.id, err)
			continue
		}
		if sp.EntityID != tt.id || sp.DefaultACS.Location != tt.wantACS {
			t.Errorf("%s: got %s at %s, want %s", tt.id, sp.EntityID, sp.DefaultACS.Location, tt.wantACS)
		}
	}
	if n := mdq.hits.Load(); n != 2 {
		t.Errorf("%d MDQ requests, want 2 (SP 5 and SP 6 only)", n)
	}

	logs := buf.String()
	for _, want := range []string{spID(2), variant, "MD-03"} {
		if !strings.Contains(logs, want) {
			t.Errorf("conflict log lacks %q:\n%s", want, logs)
		}
	}
	if strings.Count(logs, "several sources") != 3 { // SP 1 in source 1, SP 2 and the variant in source 2
		t.Errorf("want 3 conflict lines:\n%s", logs)
	}
	if err := reg.RefreshDue(ctx); err != nil { // not due: nothing new logged
		t.Fatal(err)
	}
	clk.Advance(2 * time.Hour)
	if err := reg.RefreshDue(ctx); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(buf.String(), "several sources"); n != 3 {
		t.Errorf("conflicts logged again on refresh: %d lines", n)
	}

	want := []string{spID(1), spID(2), spID(3), spID(4), spID(5)}
	var got []string
	for _, sp := range reg.List() {
		got = append(got, sp.EntityID)
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("List() = %q, want %q", got, want)
	}
}

func TestRegistryStaticDuplicates(t *testing.T) {
	t.Parallel()
	_, err := NewRegistry(RegistryConfig{Static: []*metadata.ServiceProvider{
		staticSP(spID(1), acsURL(1)), staticSP(strings.ToUpper(spID(1)), acsURL(1)),
	}})
	if !errors.Is(err, metadata.ErrInvalidMetadata) {
		t.Fatalf("err = %v, want ErrInvalidMetadata", err)
	}
}

func TestRegistryWithoutMDQ(t *testing.T) {
	t.Parallel()
	reg, err := NewRegistry(RegistryConfig{Static: []*metadata.ServiceProvider{staticSP(spID(1), acsURL(1))}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reg.ServiceProvider(context.Background(), spID(2)); !errors.Is(err, metadata.ErrUnknownServiceProvider) {
		t.Fatalf("err = %v", err)
	}
	expiredSP := staticSP(spID(3), acsURL(3))
	expiredSP.ValidUntil = t0
	reg, err = NewRegistry(RegistryConfig{Static: []*metadata.ServiceProvider{expiredSP}, Now: newClock().Now})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reg.ServiceProvider(context.Background(), spID(3)); !errors.Is(err, metadata.ErrUnknownServiceProvider) {
		t.Fatalf("expired static SP: err = %v", err)
	}
}

// TestRegistryRun drives Run with a fake clock and timer: the first pass
// fetches at once, then Run sleeps until the next refresh, and a tick
// picks up a new SP.
func TestRegistryRun(t *testing.T) {
	t.Parallel()
	clk := newClock()
	srv := newMDServer(t)
	srv.serve(sign(t, aggregate(docOpts{cacheDuration: "PT15M"}, entity(t, spID(1), acsURL(1))), "fed", remotetest.Options{}))
	s, _ := newTestSource(t, srv, clk, nil)

	waits := make(chan time.Duration)
	ticks := make(chan time.Time)
	reg, err := NewRegistry(RegistryConfig{
		Sources: []*Source{s},
		Now:     clk.Now,
		After: func(d time.Duration) <-chan time.Time {
			waits <- d
			return ticks
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- reg.Run(ctx) }()

	if d := <-waits; d != 15*time.Minute {
		t.Errorf("first sleep %s, want the cacheDuration 15m", d)
	}
	if n := srv.hits.Load(); n != 1 {
		t.Fatalf("%d fetches before the first sleep, want 1", n)
	}
	if _, err := reg.ServiceProvider(ctx, spID(1)); err != nil {
		t.Fatal(err)
	}

	srv.serve(sign(t, aggregate(docOpts{cacheDuration: "PT15M"}, entity(t, spID(1), acsURL(1)), entity(t, spID(2), acsURL(2))), "fed", remotetest.Options{}))
	clk.Advance(15 * time.Minute)
	ticks <- clk.Now()
	if d := <-waits; d != 15*time.Minute {
		t.Errorf("second sleep %s, want 15m", d)
	}
	if n := srv.hits.Load(); n != 2 {
		t.Fatalf("%d fetches after one tick, want 2", n)
	}
	if _, err := reg.ServiceProvider(ctx, spID(2)); err != nil {
		t.Fatalf("the new SP is not served: %v", err)
	}

	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Run returned %v, want context.Canceled", err)
	}
}
