package metadata

import (
	"errors"
	"testing"
	"time"
)

func TestStaticRegistry(t *testing.T) {
	t.Parallel()
	a := &ServiceProvider{EntityID: "https://a.example/sp"}
	b := &ServiceProvider{EntityID: "https://b.example/sp", ValidUntil: fixedNow().Add(time.Hour)}
	r, err := NewStaticRegistry(a, b)
	if err != nil {
		t.Fatal(err)
	}
	r.Now = fixedNow
	tests := []struct {
		name    string
		id      string
		now     time.Time
		want    *ServiceProvider
		wantErr error
	}{
		{name: "known", id: a.EntityID, now: fixedNow(), want: a},
		{name: "known with validUntil", id: b.EntityID, now: fixedNow(), want: b},
		{name: "unknown", id: "https://c.example/sp", now: fixedNow(), wantErr: ErrUnknownServiceProvider},
		{name: "case variant", id: "https://A.example/sp", now: fixedNow(), wantErr: ErrUnknownServiceProvider},
		{name: "trailing slash", id: a.EntityID + "/", now: fixedNow(), wantErr: ErrUnknownServiceProvider},
		{name: "empty", id: "", now: fixedNow(), wantErr: ErrUnknownServiceProvider},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := r.ServiceProvider(t.Context(), tt.id)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
	if l := r.List(); len(l) != 2 || l[0] != a || l[1] != b {
		t.Errorf("List = %v", l)
	}
}

func TestStaticRegistryExpiredMetadata(t *testing.T) {
	t.Parallel()
	sp := &ServiceProvider{EntityID: "https://a.example/sp", ValidUntil: fixedNow().Add(time.Hour)}
	r, err := NewStaticRegistry(sp)
	if err != nil {
		t.Fatal(err)
	}
	r.Now = func() time.Time { return fixedNow().Add(2 * time.Hour) }
	if _, err := r.ServiceProvider(t.Context(), sp.EntityID); !errors.Is(err, ErrUnknownServiceProvider) {
		t.Errorf("err = %v, want ErrUnknownServiceProvider after validUntil", err)
	}
}

func TestNewStaticRegistryRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		sps  []*ServiceProvider
	}{
		{"duplicate entityID", []*ServiceProvider{{EntityID: "https://a.example/sp"}, {EntityID: "https://a.example/sp"}}},
		{"case-variant entityIDs", []*ServiceProvider{{EntityID: "https://a.example/sp"}, {EntityID: "https://A.example/SP"}}},
		{"nil SP", []*ServiceProvider{nil}},
		{"empty entityID", []*ServiceProvider{{}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, err := NewStaticRegistry(tt.sps...)
			if !errors.Is(err, ErrInvalidMetadata) || r != nil {
				t.Errorf("got %v, %v; want ErrInvalidMetadata", r, err)
			}
		})
	}
}

func TestRegistryFromParsedDuplicates(t *testing.T) {
	t.Parallel()
	d := defaultDoc(t)
	one, err := ParseServiceProviders(d.bytes(), ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	two, err := ParseServiceProviders(d.bytes(), ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewStaticRegistry(append(one, two...)...); !errors.Is(err, ErrInvalidMetadata) {
		t.Errorf("err = %v, want ErrInvalidMetadata for the same entityID loaded twice", err)
	}
}
