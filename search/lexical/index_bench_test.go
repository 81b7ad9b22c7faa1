package lexical_test

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/memoryrelay/memoryrelay/internal/benchtext"
	"github.com/memoryrelay/memoryrelay/search/lexical"
)

// benchIndexes caches the indexes of the benchmarks, by vocabulary and
// size: building 100,000 memories takes seconds.
var benchIndexes sync.Map

type benchCorpus struct {
	x       *lexical.Index
	queries [][]string
}

func benchVocab(b *testing.B, name string) *benchtext.Vocab {
	if name == "worst" {
		return benchtext.Worst()
	}
	v, err := benchtext.Natural()
	if errors.Is(err, benchtext.ErrNoWords) {
		b.Skip(err) // a fresh clone has no ../shared
	}
	if err != nil {
		b.Fatal(err)
	}
	return v
}

func corpusOf(b *testing.B, vocab string, n int) *benchCorpus {
	key := fmt.Sprint(vocab, n)
	if c, ok := benchIndexes.Load(key); ok {
		return c.(*benchCorpus)
	}
	v := benchVocab(b, vocab)
	rng := benchtext.Rand(0)
	c := &benchCorpus{x: lexical.NewIndex()}
	for i := range n {
		c.x.Upsert(int64(i+1), 1, v.Text(rng))
	}
	qrng := benchtext.Rand(1)
	for range 200 {
		if q := lexical.Terms(v.Query(qrng)); len(q) > 0 {
			c.queries = append(c.queries, q)
		}
	}
	benchIndexes.Store(key, c)
	return c
}

// BenchmarkIndexSearch: top-10 searches of 5–10 words over 10,000 and
// 100,000 memories of natural and worst-case vocabulary (package
// internal/benchtext), block-max WAND against scoring every match, with
// p50 and p95 reported. The 1M figures come from cmd/lexbench.
func BenchmarkIndexSearch(b *testing.B) {
	for _, vocab := range []string{"natural", "worst"} {
		for _, n := range []int{10_000, 100_000} {
			for _, m := range []struct {
				name string
				run  func(x *lexical.Index, q lexical.Query) []lexical.Hit
			}{
				{"wand", func(x *lexical.Index, q lexical.Query) []lexical.Hit { return x.Search(1, q) }},
				{"exhaustive", func(x *lexical.Index, q lexical.Query) []lexical.Hit { return x.SearchExhaustive(1, q) }},
			} {
				b.Run(fmt.Sprintf("%s/%dk/%s", vocab, n/1000, m.name), func(b *testing.B) {
					c := corpusOf(b, vocab, n)
					lat := make([]time.Duration, 0, b.N)
					b.ResetTimer()
					for i := range b.N {
						q := lexical.Query{Terms: c.queries[i%len(c.queries)], K: 10}
						t0 := time.Now()
						m.run(c.x, q)
						lat = append(lat, time.Since(t0))
					}
					b.StopTimer()
					slices.Sort(lat)
					b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
					b.ReportMetric(float64(lat[len(lat)*95/100].Microseconds())/1000, "p95-ms")
				})
			}
		}
	}
}

// BenchmarkIndexUpsert: adding a memory to an index of 100,000 (the work
// of catching up with one write), tokenizing included.
func BenchmarkIndexUpsert(b *testing.B) {
	v := benchVocab(b, "natural")
	c := corpusOf(b, "natural", 100_000)
	rng := benchtext.Rand(3)
	texts := make([]string, 1000)
	for i := range texts {
		texts[i] = v.Text(rng)
	}
	b.ResetTimer()
	for i := range b.N {
		// Ids past the corpus, reused: an insert, then updates in place.
		c.x.Upsert(int64(200_000+i%len(texts)), 1, texts[i%len(texts)])
	}
	b.StopTimer()
	for i := range texts {
		c.x.Delete(int64(200_000 + i))
	}
}
