package htmlform

import "testing"

func TestAsFound(t *testing.T) {
	page := `<html><form method="post" action="/v2/authorization/confirm?a=1&amp;b=2">
<input type="hidden" name="tx" value="abc&#34;def">
<label><input type="radio" name="persona" value="maxence" checked> M</label>
<label><input type="radio" name="persona" value="daan"> D</label>
<input type="checkbox" name="remember" value="yes">
<button type="submit" name="action" value="approve">Confirm</button>
<input type="submit" name="action" value="refuse">
</form><form action="/other"><input type="hidden" name="x" value="y"></form></html>`
	action, vals, ok := AsFound(page)
	if !ok {
		t.Fatal("form not found")
	}
	if action != "/v2/authorization/confirm?a=1&b=2" {
		t.Errorf("action = %q", action)
	}
	if got := vals.Encode(); got != "persona=maxence&tx=abc%22def" {
		t.Errorf("values = %s", got)
	}
	if _, _, ok := AsFound("<p>no form</p>"); ok {
		t.Error("a page without a form was read as one")
	}
}
