package emulator

import (
	"errors"
	"fmt"
	"math/big"
	"regexp"
	"strings"
)

// The WYSIWYS claims of the Confirmation service (itsme-oidc.md §6).
const (
	claimTemplate = approvalPrefix + "template_name"
	claimText     = approvalPrefix + "text_key"
	claimAmount   = approvalPrefix + "amount_key"
	claimCurrency = approvalPrefix + "currency_key"
	claimIBAN     = approvalPrefix + "iban_key"
	maxFreeText   = 7500
)

// approval is what a Confirmation asks the user to approve.
type approval struct {
	Template, Text, Amount, Currency, IBAN string
}

var (
	amountRE   = regexp.MustCompile(`^[0-9]{1,15}$`)
	currencyRE = regexp.MustCompile(`^[A-Z]{3}$`)
	ibanRE     = regexp.MustCompile(`^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$`)
	allowedTag = regexp.MustCompile(`^(?:</?[biu]>|<br\s*/?>)`)
)

// parseApproval checks the WYSIWYS template of a Confirmation: the
// template name, and for adv_payment an integer amount, a currency and a
// valid IBAN; for free_text at most 7500 ISO-8859-15 characters with only
// <b> <i> <u> <br> markup.
func parseApproval(vals map[string]any) (*approval, error) {
	str := func(name string) string { s, _ := vals[name].(string); return s }
	a := &approval{Template: str(claimTemplate)}
	switch a.Template {
	case "adv_payment":
		a.Amount, a.Currency, a.IBAN = str(claimAmount), str(claimCurrency), strings.ReplaceAll(str(claimIBAN), " ", "")
		switch {
		case !amountRE.MatchString(a.Amount):
			return nil, errors.New("adv_payment needs an integer amount_key")
		case !currencyRE.MatchString(a.Currency):
			return nil, errors.New("adv_payment needs a currency_key such as EUR")
		case !validIBAN(a.IBAN):
			return nil, errors.New("adv_payment needs a valid iban_key")
		}
	case "free_text":
		a.Text = str(claimText)
		if a.Text == "" || len([]rune(a.Text)) > maxFreeText {
			return nil, fmt.Errorf("free_text needs a text_key of 1-%d characters", maxFreeText)
		}
		if err := checkFreeText(a.Text); err != nil {
			return nil, err
		}
	case "":
		return nil, errors.New("a Confirmation needs claim_approval_template_name")
	default:
		return nil, fmt.Errorf("unknown approval template %.32q", a.Template)
	}
	return a, nil
}

// checkFreeText enforces ISO-8859-15 and the allowed markup.
func checkFreeText(s string) error {
	for i, r := range s {
		if !inLatin9(r) {
			return fmt.Errorf("free text character U+%04X is not in ISO-8859-15", r)
		}
		if r == '<' && !allowedTag.MatchString(s[i:]) {
			return errors.New("free text markup other than <b> <i> <u> <br>")
		}
	}
	return nil
}

// inLatin9 reports whether r is encodable in ISO-8859-15 (no C0/C1
// controls other than tab and newlines).
func inLatin9(r rune) bool {
	switch r {
	case '\t', '\n', '\r':
		return true
	case '€', 'Š', 'š', 'Ž', 'ž', 'Œ', 'œ', 'Ÿ':
		return true
	case '¤', '¦', '¨', '´', '¸', '¼', '½', '¾':
		return false
	}
	return (r >= 0x20 && r < 0x7f) || (r >= 0xa0 && r <= 0xff)
}

// validIBAN checks the ISO 13616 mod-97 checksum.
func validIBAN(s string) bool {
	if !ibanRE.MatchString(s) {
		return false
	}
	var digits strings.Builder
	for _, c := range s[4:] + s[:4] {
		if c >= 'A' && c <= 'Z' {
			fmt.Fprintf(&digits, "%d", c-'A'+10)
		} else {
			digits.WriteRune(c)
		}
	}
	n, ok := new(big.Int).SetString(digits.String(), 10)
	return ok && new(big.Int).Mod(n, big.NewInt(97)).Int64() == 1
}
