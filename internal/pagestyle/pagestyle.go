// Package pagestyle is the one stylesheet of the pages the bridge and the
// itsme emulator show, and the colour pairs it uses, so that their
// contrast is checked in one place (WCAG 2.2 AA, see package a11y).
package pagestyle

import "html/template"

// The palette. Every text colour is used only on the backgrounds listed
// in Pairs.
const (
	Text       = "#1f1f1f" // body text
	Muted      = "#595959" // secondary text: codes, notes
	Background = "#ffffff"
	CodeBg     = "#f3f3f3" // inline code
	ApprovalBg = "#fff4ef" // the text to approve on the emulator's phone
	Primary    = "#c0390b" // primary button background (white text)
	OnPrimary  = "#ffffff"
	Border     = "#767676" // secondary button border
	Focus      = "#1a4fd6" // keyboard focus outline, on Background
	Brand      = "#ff4612" // decorative: the emulator's phone frame
	ErrorMark  = "#cc0000" // decorative: the error frame's left rule
)

// Pair is a foreground colour used on a background, and the minimum
// contrast ratio its use needs.
type Pair struct {
	Use    string
	FG, BG string
	Min    float64
}

// Pairs lists every foreground/background combination of CSS.
var Pairs = []Pair{
	{"body text", Text, Background, 4.5},
	{"muted text", Muted, Background, 4.5},
	{"inline code", Text, CodeBg, 4.5},
	{"muted text on code background", Muted, CodeBg, 4.5},
	{"approval text", Text, ApprovalBg, 4.5},
	{"primary button label", OnPrimary, Primary, 4.5},
	{"secondary button label", Text, Background, 4.5},
	{"secondary button border", Border, Background, 3},
	{"focus outline", Focus, Background, 3},
}

// Decorative colours carry no information; they need no contrast.
var Decorative = []string{Brand, ErrorMark}

// CSS is the stylesheet, inlined in each page (allowed by a CSP nonce or,
// on the bridge's error and logout pages, by style-src 'unsafe-inline').
// Buttons are real buttons; every focusable element shows a 3px focus
// outline, and text can be zoomed (rem units, no fixed heights).
const CSS template.CSS = `body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;color:` + Text + `;background:` + Background + `;line-height:1.5}
h1{font-size:1.4rem}h2{font-size:1.1rem}.meta,.code{color:` + Muted + `;font-size:.9rem}
code{background:` + CodeBg + `;padding:0 .2rem}
.phone{border:2px solid ` + Brand + `;border-radius:1.2rem;padding:1rem 1.4rem}
.err{border-left:4px solid ` + ErrorMark + `;padding-left:1rem}
.approval{background:` + ApprovalBg + `;padding:.6rem;white-space:pre-wrap}
fieldset{border:1px solid ` + Border + `;border-radius:.4rem}label{display:block;margin:.3rem 0}
button{font:inherit;padding:.5rem 1.2rem;margin:.8rem .5rem 0 0;border-radius:.4rem;cursor:pointer;color:` + Text + `;background:` + Background + `;border:1px solid ` + Border + `}
button.primary,.approve{background:` + Primary + `;color:` + OnPrimary + `;border:1px solid ` + Primary + `}
:focus-visible{outline:3px solid ` + Focus + `;outline-offset:2px}`
