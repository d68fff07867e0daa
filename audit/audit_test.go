package audit

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestJSONSinkWritesOneLinePerEvent(t *testing.T) {
	var buf bytes.Buffer
	s := NewJSONSink(&buf)
	at := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	s.Record(context.Background(), Event{Time: at, Stage: StageCallback, Outcome: Success, Reason: "ok", SP: "https://sp.example",
		RequestID: "id-1", Subject: "abc", Attributes: []string{"firstName", "nin"}, Encrypted: true})
	s.Record(context.Background(), Event{Time: at, Stage: StageSSO, Outcome: Rejected, Reason: "bad_signature"})
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines, want 2:\n%s", len(lines), buf.String())
	}
	var got Event
	if err := json.Unmarshal([]byte(lines[0]), &got); err != nil {
		t.Fatal(err)
	}
	if got.Outcome != Success || got.SP != "https://sp.example" || len(got.Attributes) != 2 || !got.Encrypted || !got.Time.Equal(at) {
		t.Errorf("round trip lost fields: %+v", got)
	}
	if strings.Contains(lines[1], `"sp"`) || strings.Contains(lines[1], `"subject"`) {
		t.Errorf("empty fields are written: %s", lines[1])
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestJSONSinkKeepsTheFirstError(t *testing.T) {
	s := NewJSONSink(failingWriter{})
	s.Record(context.Background(), Event{Outcome: Failure})
	if err := s.Err(); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("Err() = %v, want the write error", err)
	}
}

func TestJSONSinkConcurrentLinesStayWhole(t *testing.T) {
	var buf bytes.Buffer
	s := NewJSONSink(&buf)
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.Record(context.Background(), Event{Outcome: Success, Reason: strings.Repeat("x", i)})
		}()
	}
	wg.Wait()
	n := 0
	sc := bufio.NewScanner(&buf)
	for sc.Scan() {
		var e Event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("line %d is not one JSON event: %v", n, err)
		}
		n++
	}
	if n != 50 {
		t.Fatalf("%d lines, want 50", n)
	}
}

func TestPseudonym(t *testing.T) {
	k1, k2 := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32)
	tests := []struct {
		name       string
		a, b       string
		sameResult bool
	}{
		{"same subject, same key", Pseudonym(k1, "iss", "sub"), Pseudonym(k1, "iss", "sub"), true},
		{"other key", Pseudonym(k1, "iss", "sub"), Pseudonym(k2, "iss", "sub"), false},
		{"other issuer", Pseudonym(k1, "iss", "sub"), Pseudonym(k1, "iss2", "sub"), false},
		{"boundary shift", Pseudonym(k1, "is", "ssub"), Pseudonym(k1, "iss", "sub"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if (tt.a == tt.b) != tt.sameResult {
				t.Errorf("%q vs %q: equal=%v, want %v", tt.a, tt.b, tt.a == tt.b, tt.sameResult)
			}
		})
	}
	p := Pseudonym(k1, "iss", "sub")
	if len(p) != 22 || strings.Contains(p, "sub") {
		t.Errorf("pseudonym %q: want 22 base64url characters", p)
	}
}
