// Package remote loads SP metadata over HTTP: whole documents from URLs,
// refreshed periodically (Source), and single entities from a Metadata
// Query Protocol responder (MDQ). Registry puts them together with static
// SPs behind the metadata.Registry interface.
//
// Everything fetched goes through the checks of package metadata, and
// through metadata.VerifySignature when certificates are pinned; only the
// element the signature covers is parsed (MD-01). Unsigned metadata must
// be asked for explicitly, and is accepted only over https or from a
// loopback host. Requests are bounded in size and time and never follow
// redirects (MD-06).
//
// A document that cannot be fetched, verified or parsed never replaces the
// last good one, which is kept in memory and, optionally, in a cache file
// read back at start; it is served until its validUntil passes, after
// which its SPs are unknown (MD-02). Entity IDs that several sources
// define are resolved in configuration order, the first wins, and the
// conflict is logged (MD-03).
//
// Logs name the URL, the entity ID and the reason, never document content.
package remote
