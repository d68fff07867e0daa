package supplychain

import (
	"errors"
	"testing"
)

func TestCompareSemver(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"v1.6.1", "v1.6.1", 0},
		{"v1.4.0", "v1.6.1", -1},
		{"v1.6.1", "v1.4.0", 1},
		{"v1.10.0", "v1.9.9", 1},           // numeric, not lexical
		{"v0.33.0", "v0.56.0", -1},         //
		{"v2.0.0", "v10.0.0", -1},          // numeric major
		{"v9.23.0", "v9.7.3", 1},           //
		{"v1.6.1-rc.1", "v1.6.1", -1},      // pre-release below release
		{"v1.6.1", "v1.6.1-rc.1", 1},       //
		{"v1.6.1-0", "v1.6.1", -1},         //
		{"v1.6.1-rc.1", "v1.6.1-rc.2", -1}, //
		{"v1.6.1-rc.2", "v1.6.1-rc.10", -1},
		{"v1.6.1-alpha", "v1.6.1-alpha.1", -1}, // shorter list lower
		{"v1.6.1-alpha.1", "v1.6.1-alpha.beta", -1},
		{"v1.6.1-1", "v1.6.1-alpha", -1}, // numeric below alphanumeric
		{"v1.6.1-beta", "v1.6.1-alpha", 1},
		{"v2.2.0+incompatible", "v2.2.0", 0}, // build metadata ignored
		{"v0.0.0-20260213210345-44df1a37e875", "v0.0.0", -1},
		{"v0.0.0-20260213210345-44df1a37e875", "v0.0.0-20250101000000-000000000000", 1},
		{"v99999999999999999999.0.0", "v99999999999999999998.0.0", 1}, // no overflow
	}
	for _, tt := range tests {
		got, err := compareSemver(tt.a, tt.b)
		if err != nil {
			t.Errorf("compareSemver(%q, %q): %v", tt.a, tt.b, err)
			continue
		}
		if got != tt.want {
			t.Errorf("compareSemver(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestParseSemverRejects(t *testing.T) {
	for _, v := range []string{
		"", "v", "1.6.1", "v1.6", "v1.6.1.2", "v1.06.1", "v01.6.1", "v1.6.x",
		"v1.6.1-", "v1.6.1-rc..1", "v1.6.1-01", "v1.6.1+", "v1.6.1-rc_1", "v-1.6.1",
		"V1.6.1", " v1.6.1", "v1.6.1 ",
	} {
		if _, err := parseSemver(v); !errors.Is(err, errSemver) {
			t.Errorf("parseSemver(%q) error = %v, want errSemver", v, err)
		}
		if _, err := compareSemver("v1.0.0", v); err == nil {
			t.Errorf("compareSemver(v1.0.0, %q) accepted it", v)
		}
	}
}
