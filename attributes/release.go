package attributes

// Release returns the attributes to release to an SP: requested ∩
// allowed, in Definitions order, without duplicates or unknown names. The
// per-SP allow-list always wins, whatever the SP's metadata or request
// asks for (REQ-18): a nil or empty allow-list releases nothing, and
// sensitive attributes (nin, itsmeNationalNumber, ...) are released only
// when the allow-list names each of them explicitly.
func Release(requested, allowed []string) []string {
	ok := make(map[string]bool, len(allowed))
	for _, n := range allowed {
		ok[n] = true
	}
	asked := make(map[string]bool, len(requested))
	for _, n := range requested {
		asked[n] = true
	}
	var out []string
	for i := range table {
		n := table[i].Name
		if asked[n] && ok[n] {
			out = append(out, n)
		}
	}
	return out
}
