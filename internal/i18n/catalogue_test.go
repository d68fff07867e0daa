package i18n

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

var verbRe = regexp.MustCompile(`%(\[\d+\])?[-+# 0]*\d*(\.\d+)?[a-zA-Z%]`)

func verbs(s string) []string {
	v := verbRe.FindAllString(s, -1)
	slices.Sort(v)
	return v
}

// TestCatalogueComplete proves every text exists in all four languages,
// is translated (differs from the English), and uses the same format
// verbs in each.
func TestCatalogueComplete(t *testing.T) {
	if len(Keys()) != len(pageTexts)+len(errorTexts) {
		t.Errorf("a key is both a page text and an error text: %d keys, %d + %d texts", len(Keys()), len(pageTexts), len(errorTexts))
	}
	for _, k := range Keys() {
		text, _ := Lookup(k)
		want := verbs(text.EN)
		for _, l := range Supported {
			s := text.In(l)
			if strings.TrimSpace(s) == "" {
				t.Errorf("%s: no %s text", k, l)
				continue
			}
			if got := verbs(s); !slices.Equal(got, want) {
				t.Errorf("%s: %s has format verbs %q, English has %q", k, l, got, want)
			}
			if l != EN && s == text.EN {
				t.Errorf("%s: the %s text is the English one", k, l)
			}
			if strings.ContainsAny(s, "<>") {
				t.Errorf("%s: the %s text contains markup; pages escape it", k, l)
			}
		}
	}
}

func TestErrorCodesHaveTexts(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range ErrorCodes {
		if seen[c] {
			t.Errorf("error code %s listed twice", c)
		}
		seen[c] = true
		if !Has(ErrorKey(c)) {
			t.Errorf("error code %s has no message", c)
		}
		if !regexp.MustCompile(`^[a-z][a-z_]*$`).MatchString(c) {
			t.Errorf("error code %q is not lower snake case", c)
		}
	}
	for k := range errorTexts {
		if !seen[strings.TrimPrefix(string(k), "err.")] {
			t.Errorf("error text %s has no code in ErrorCodes", k)
		}
	}
}

func TestT(t *testing.T) {
	tests := []struct {
		lang Lang
		key  Key
		args []any
		want string
	}{
		{EN, PostContinue, nil, "Continue"},
		{NL, PostContinue, nil, "Doorgaan"},
		{FR, PostContinue, nil, "Continuer"},
		{DE, PostContinue, nil, "Weiter"},
		{"es", PostContinue, nil, "Continue"},
		{"", ErrorHeading, nil, "We could not log you in"},
		{DE, ErrorCode, []any{"replay"}, "Fehlercode: replay"},
		{FR, ErrorCode, []any{"replay"}, "Code d’erreur\u00a0: replay"},
		{NL, EmuPay, []any{"12.50", "EUR", "BE71"}, "Betaling van 12.50 EUR aan BE71"},
		{EN, "no.such.key", nil, "no.such.key"},
	}
	for _, tt := range tests {
		if got := tt.lang.T(tt.key, tt.args...); got != tt.want {
			t.Errorf("%q.T(%s, %v) = %q, want %q", tt.lang, tt.key, tt.args, got, tt.want)
		}
	}
}

// TestTroubleshootingCoversEveryErrorCode: docs/troubleshooting.md is keyed
// by the codes the error pages show, so each one must be in it.
func TestTroubleshootingCoversEveryErrorCode(t *testing.T) {
	doc, err := os.ReadFile("../../docs/troubleshooting.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, code := range ErrorCodes {
		if !strings.Contains(string(doc), "`"+code+"`") {
			t.Errorf("docs/troubleshooting.md does not explain the error code %q", code)
		}
	}
}
