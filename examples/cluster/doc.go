// Package cluster holds the test of examples/cluster: two real samlbridge
// processes sharing a real Redis, behind the round-robin proxy of
// ./proxy, with the itsme emulator running as its own process (samlbridge
// emulator). It proves that a login started on one node finishes on the
// other, that a node killed mid-flow loses no login the other can finish,
// and that an AuthnRequest replayed against the other node is refused.
// The run script starts the same cluster by hand; see README.md.
package cluster
