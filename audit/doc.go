// Package audit records one event per login outcome: a request refused
// with a local page, an error status posted to the SP, or an assertion
// issued (catalogue PRIV-04).
//
// Events are pseudonymous. They carry the SP, the SAML request ID, the
// outcome and its reason, and the names of the attributes released, but
// never attribute values, tokens or cookies. The user appears only as a
// keyed pseudonym of the upstream subject, stable across SPs so that an
// auditor can follow one person's logins without learning who they are.
package audit
