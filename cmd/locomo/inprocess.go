package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/memoryrelay/memoryrelay/search"
	"github.com/memoryrelay/memoryrelay/search/embed"
	"github.com/memoryrelay/memoryrelay/search/lexical"
	"github.com/memoryrelay/memoryrelay/search/vector"
)

// memEngine is -engine inprocess: package search's Engine over memories
// held in this process, with a lexical.Index as its Lexical index and an
// exact vector scan, one partition per conversation. It measures the
// engine and its scores without SQLite or the facade.
type memEngine struct {
	emb    embed.Embedder
	engine *search.Engine[string]
	rows   map[int64]memRow
	lex    *lexical.Index
	parts  map[string]uint32
	nextID int64
}

type memRow struct {
	account string
	dia     string
	vec     []float32
}

func newMemEngine(emb embed.Embedder, fusion search.Fusion) (*memEngine, error) {
	m := &memEngine{emb: emb, rows: map[int64]memRow{}, lex: lexical.NewIndex(), parts: map[string]uint32{}}
	e, err := search.NewEngine[string](m, search.Options{Embedder: emb, Fusion: fusion})
	if err != nil {
		return nil, err
	}
	e.SetLexical(memLexical{m})
	m.engine = e
	return m, nil
}

func (m *memEngine) part(account string) uint32 {
	p, ok := m.parts[account]
	if !ok {
		p = uint32(len(m.parts) + 1)
		m.parts[account] = p
	}
	return p
}

func (m *memEngine) add(ctx context.Context, account, dia, text string) error {
	vecs, err := m.emb.Embed(ctx, []string{text})
	if err != nil {
		return err
	}
	m.nextID++
	m.rows[m.nextID] = memRow{account: account, dia: dia, vec: vecs[0]}
	m.lex.Upsert(m.nextID, m.part(account), text)
	return nil
}

func (m *memEngine) search(ctx context.Context, account, query, mode string) ([]hit, error) {
	rs, err := m.engine.Search(ctx, search.Query{Text: query, Mode: mode, Limit: 10, Filter: search.Filter{AccountID: account}})
	if err != nil {
		return nil, err
	}
	out := make([]hit, len(rs))
	for i, r := range rs {
		out[i] = hit{dia: r.Memory, score: r.Score}
	}
	return out, nil
}

// The engine's Store: no full-text side (the Lexical index replaces it).

var errNoText = errors.New("locomo: the in-process store has no full-text table")

func (m *memEngine) TermDocs(context.Context, []string) (map[string]int, error) {
	return nil, errNoText
}

func (m *memEngine) TextCandidates(context.Context, search.Filter, []string) ([]search.TextCandidate, error) {
	return nil, errNoText
}

func (m *memEngine) NearestVectors(_ context.Context, f search.Filter, q []float32, k int) ([]search.VectorCandidate, error) {
	var out []search.VectorCandidate
	for id, r := range m.rows {
		if r.account == f.AccountID {
			out = append(out, search.VectorCandidate{ID: id, Created: id, Distance: 1 - float64(vector.Cosine(r.vec, q))})
		}
	}
	slices.SortFunc(out, func(a, b search.VectorCandidate) int {
		return cmp.Or(cmp.Compare(a.Distance, b.Distance), cmp.Compare(b.Created, a.Created))
	})
	return out[:min(k, len(out))], nil
}

func (m *memEngine) Vectors(_ context.Context, ids []int64) (map[int64][]float32, error) {
	out := make(map[int64][]float32, len(ids))
	for _, id := range ids {
		if r, ok := m.rows[id]; ok {
			out[id] = r.vec
		}
	}
	return out, nil
}

func (m *memEngine) Rows(_ context.Context, account string, ids []int64) ([]search.Row[string], error) {
	var out []search.Row[string]
	for _, id := range ids {
		if r, ok := m.rows[id]; ok && r.account == account {
			out = append(out, search.Row[string]{ID: id, Created: id, Memory: r.dia})
		}
	}
	return out, nil
}

// memLexical is the engine's Lexical index: one partition per account.
type memLexical struct{ m *memEngine }

func (l memLexical) SearchText(_ context.Context, f search.Filter, terms []string, k int, least float64) ([]lexical.Hit, error) {
	p, ok := l.m.parts[f.AccountID]
	if !ok {
		return nil, nil
	}
	return l.m.lex.Search(p, lexical.Query{Terms: terms, K: k, Min: least}), nil
}

func (l memLexical) ScoreText(_ context.Context, f search.Filter, terms []string, ids []int64) ([]float64, error) {
	p, ok := l.m.parts[f.AccountID]
	if !ok {
		return make([]float64, len(ids)), nil
	}
	return l.m.lex.Score(p, lexical.Query{Terms: terms}, ids), nil
}

// parseFusion reads -fusion.
func parseFusion(s string) (search.Fusion, error) {
	for _, f := range []search.Fusion{search.FusionAuto, search.FusionLexicalFirst, search.FusionBlend} {
		if f.String() == s {
			return f, nil
		}
	}
	return 0, fmt.Errorf("-fusion %q: want auto, lexical-first or blend", s)
}
