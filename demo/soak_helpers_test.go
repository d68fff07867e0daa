//go:build race

package demo

// Under the race detector (the -race run of .ci/run) every flow costs
// several times more, so the default soak is shorter; the figures of a
// race build are not the node's anyway.
func init() { soakDefaultFlows = 200 }
