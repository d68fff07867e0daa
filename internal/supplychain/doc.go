// Package supplychain checks the module graph against the minimum safe
// versions recorded in docs/security.md.
//
// The vulnerability database cannot be reached from the machines that build
// the bridge, so govulncheck cannot run there. Instead the "Supply chain"
// section of docs/security.md keeps a table, between the HTML comments
// <!-- minimum-versions:begin --> and <!-- minimum-versions:end -->, of every
// security-relevant module with its minimum safe version and the advisory
// behind it. ParseTable reads that table, Go.Graph reads the versions that
// minimal version selection picked (go list -m -e all, run offline),
// Go.Linked finds the modules whose packages are compiled in, and Check
// reports every module below its minimum, each with its advisory.
// Drift reports where the table's "pinned now" column no longer matches the
// graph, so the document cannot silently go stale.
//
// The row for module "go" is the toolchain: its minimum applies both to the
// toolchain running the check (runtime.Version) and to the go directive of
// the main module.
//
// A row whose "pinned now" reads "vX.Y.Z (not linked)" documents a module
// that is in the graph but whose packages are compiled into nothing the
// repository builds or tests. Such a module may sit below its minimum (the
// advisory cannot reach us), but only while Go.Linked confirms it is
// not linked. A row reading "not in graph" documents a module we have
// decided not to depend on, and fails the drift check once it appears.
package supplychain
