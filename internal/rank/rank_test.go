package rank_test

import (
	"math"
	"slices"
	"testing"
	"time"

	"github.com/memoryrelay/memoryrelay/internal/rank"
)

// TestTopKeepsTheBest: of any stream, the best limit records scoring at
// least the threshold (and above 0), by score, then newer, then id.
func TestTopKeepsTheBest(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	top := rank.NewTop(3, 0.3)
	for _, c := range []struct {
		score float64
		age   int
		id    string
	}{
		{0.5, 0, "a"}, {0.9, 0, "b"}, {0.29, 0, "below"}, {0.5, -1, "older"}, {0.5, 1, "newer"},
		{0, 0, "zero"}, {0.7, 0, "c"}, {0.5, 1, "newer2"},
	} {
		top.Add(c.score, t0.Add(time.Duration(c.age)*time.Hour), c.id)
	}
	if got, want := top.IDs(), []string{"b", "c", "newer2"}; !slices.Equal(got, want) {
		t.Errorf("IDs = %q, want %q", got, want)
	}
	type row struct{ id string }
	hits := rank.Hits(top, []row{{"newer2"}, {"b"}}, func(r row) string { return r.id },
		func(r row, s float64) string { return r.id })
	if !slices.Equal(hits, []string{"b", "newer2"}) {
		t.Errorf("Hits = %q: the missing row c is left out, the order kept", hits)
	}
	if empty := rank.NewTop(0, 0); func() bool { empty.Add(1, t0, "x"); return len(empty.IDs()) != 0 }() {
		t.Error("a Top of limit 0 kept a record")
	}
}

// TestScore: a verbatim title scores 1, a record sharing nothing with the
// query only its semantic similarity, and a longer record containing the
// query less than the query itself.
func TestScore(t *testing.T) {
	q := rank.NewQuery("use postgres for sessions")
	if s := q.Score(math.NaN(), "Use Postgres for sessions", "anything at all"); s != 1 {
		t.Errorf("verbatim title: %v", s)
	}
	if s := q.Score(math.NaN(), "zebra", "violin"); s != 0 {
		t.Errorf("nothing shared, no embedding: %v", s)
	}
	short := q.Score(0.2, "db", "use postgres for sessions")
	long := q.Score(0.2, "db", "use postgres for sessions and for many other things besides, all of them unrelated")
	if !(long < short) || short > 1 || long <= 0 {
		t.Errorf("short %v, long %v", short, long)
	}
}
