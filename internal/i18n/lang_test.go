package i18n

import (
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		tag  string
		want Lang
		ok   bool
	}{
		{"fr", FR, true},
		{"nl-BE", NL, true},
		{"NL-be", NL, true},
		{"de-CH-1996", DE, true},
		{"en-GB", EN, true},
		{"fr-BE-x-private", FR, true},
		{"es", "", false},
		{"english", "", false},
		{"", "", false},
		{"fr_BE", "", false},
		{"1fr", "", false},
		{"fr--BE", "", false},
		{"fr-", "", false},
		{"fr-abcdefghi", "", false},
		{"fr-BE;q=1", "", false},
		{"*", "", false},
		{"n\u00e9", "", false},
		{strings.Repeat("a", 36), "", false},
	}
	for _, tt := range tests {
		got, ok := Parse(tt.tag)
		if got != tt.want || ok != tt.ok {
			t.Errorf("Parse(%q) = %q, %v; want %q, %v", tt.tag, got, ok, tt.want, tt.ok)
		}
	}
}

func TestFromAcceptLanguage(t *testing.T) {
	tests := []struct {
		name, header string
		want         Lang
		ok           bool
	}{
		{"empty", "", "", false},
		{"single", "fr", FR, true},
		{"region subtag", "nl-BE", NL, true},
		{"first of equals wins", "de, fr", DE, true},
		{"q-values honoured", "fr;q=0.5, de;q=0.9, nl;q=0.7", DE, true},
		{"default q is 1", "fr;q=0.99, nl", NL, true},
		{"typical Belgian browser", "nl-BE,nl;q=0.9,en-US;q=0.8,en;q=0.7", NL, true},
		{"unsupported first", "es-ES,es;q=0.9,fr;q=0.8", FR, true},
		{"q=0 refuses", "fr;q=0, de;q=0.1", DE, true},
		{"only q=0", "fr;q=0", "", false},
		{"wildcard ignored", "*", "", false},
		{"wildcard then language", "*;q=1, de;q=0.2", DE, true},
		{"spaces", "  fr-BE ;  q=0.4 ,  nl ; q=0.3", FR, true},
		{"Q upper case", "fr;Q=0.2, de;q=0.1", FR, true},
		{"q with three decimals", "fr;q=0.501, de;q=0.5", FR, true},
		{"q above 1 is malformed", "fr;q=1.5, de;q=0.1", DE, true},
		{"q with four decimals is malformed", "fr;q=0.5000, de;q=0.1", DE, true},
		{"q not a number", "fr;q=abc, de;q=0.1", DE, true},
		{"negative q", "fr;q=-1, de;q=0.1", DE, true},
		{"other parameter", "fr;level=1, de;q=0.1", DE, true},
		{"garbage", "<script>,;;;,=,q=1", "", false},
		{"garbage item skipped", "%%%, nl", NL, true},
		{"unsupported only", "es, it, pt-BR", "", false},
		{"too long", "fr," + strings.Repeat("x", 1100), "", false},
		{"items beyond the limit ignored", strings.Repeat("es,", 32) + "fr", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := FromAcceptLanguage(tt.header)
			if got != tt.want || ok != tt.ok {
				t.Errorf("FromAcceptLanguage(%q) = %q, %v; want %q, %v", tt.header, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestChoose(t *testing.T) {
	tests := []struct {
		name, hint, accept string
		want               Lang
	}{
		{"nothing: English", "", "", EN},
		{"hint beats Accept-Language", "fr", "de,en;q=0.5", FR},
		{"hint list: first supported", "es fr-BE nl", "de", FR},
		{"hint with region", "nl-BE", "", NL},
		{"unsupported hint falls to header", "es", "de-AT,de;q=0.9", DE},
		{"garbage hint falls to header", "<x>", "nl", NL},
		{"header only", "", "fr-BE,fr;q=0.9", FR},
		{"garbage everywhere: English", "%%", ";;;q=", EN},
		{"unsupported everywhere: English", "ja", "zh-CN", EN},
		{"English asked", "", "en-US,fr;q=0.5", EN},
		{"hint too long ignored", strings.Repeat("fr ", 400), "de", DE},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Choose(tt.hint, tt.accept); got != tt.want {
				t.Errorf("Choose(%q, %q) = %q, want %q", tt.hint, tt.accept, got, tt.want)
			}
		})
	}
}

func TestOrDefault(t *testing.T) {
	for in, want := range map[Lang]Lang{"": EN, "fr": FR, "nl": NL, "de": DE, "en": EN, "es": EN, "FR": EN} {
		if got := in.OrDefault(); got != want {
			t.Errorf("%q.OrDefault() = %q, want %q", in, got, want)
		}
	}
}
