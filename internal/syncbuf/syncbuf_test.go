package syncbuf

import (
	"strings"
	"sync"
	"testing"
)

func TestConcurrentWritesAndTake(t *testing.T) {
	var b Buffer
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _ = b.Write([]byte("line\n"))
		}()
	}
	wg.Wait()
	if n := strings.Count(b.String(), "line\n"); n != 20 {
		t.Fatalf("%d lines, want 20", n)
	}
	if got := b.Take(); strings.Count(got, "line\n") != 20 {
		t.Fatalf("Take returned %q", got)
	}
	if b.String() != "" {
		t.Fatal("Take did not empty the buffer")
	}
}
