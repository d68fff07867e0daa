// Package logtext cuts untrusted values short for logs and error
// messages, so that a hostile input cannot make a log line as long as
// itself.
package logtext

import "unicode/utf8"

// Cut returns s cut to at most n bytes, on a rune boundary so that the
// result stays valid UTF-8 when s is, with "…" appended when it was cut.
func Cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
