// Package htmlform reads an HTML form the way a browser submits it when
// the form is submitted as found, with no button pressed: hidden and text
// inputs, checked radio buttons and checkboxes, and no submit buttons.
// The emulator promises that such a submission approves the login, and
// the tests drive the bridge's and the emulator's pages with it. It reads
// only the simple, generated pages of this project, not arbitrary HTML.
package htmlform

import (
	"html"
	"net/url"
	"regexp"
	"strings"
)

var (
	formRe    = regexp.MustCompile(`(?is)<form\b([^>]*)>(.*?)</form>`)
	inputRe   = regexp.MustCompile(`(?is)<input\b([^>]*)>`)
	attrRe    = regexp.MustCompile(`(?is)([a-zA-Z_:-]+)\s*=\s*"([^"]*)"`)
	checkedRe = regexp.MustCompile(`(?i)\bchecked\b`)
)

func attrs(s string) map[string]string {
	out := map[string]string{}
	for _, a := range attrRe.FindAllStringSubmatch(s, -1) {
		out[strings.ToLower(a[1])] = html.UnescapeString(a[2])
	}
	if checkedRe.MatchString(s) {
		out["checked"] = "checked"
	}
	return out
}

// AsFound returns the first form's action attribute (unresolved, as
// written) and the values submitted for it; ok is false when the page has
// no form.
func AsFound(page string) (action string, vals url.Values, ok bool) {
	m := formRe.FindStringSubmatch(page)
	if m == nil {
		return "", nil, false
	}
	vals = url.Values{}
	for _, in := range inputRe.FindAllStringSubmatch(m[2], -1) {
		a := attrs(in[1])
		typ := strings.ToLower(a["type"])
		if a["name"] == "" || typ == "submit" || typ == "button" {
			continue
		}
		if (typ == "radio" || typ == "checkbox") && a["checked"] == "" {
			continue
		}
		vals.Add(a["name"], a["value"])
	}
	return attrs(m[1])["action"], vals, true
}
