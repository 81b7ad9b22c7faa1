package memoryrelay_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/memoryrelay/memoryrelay"
	"github.com/memoryrelay/memoryrelay/memory"
	"github.com/memoryrelay/memoryrelay/search"
	"github.com/memoryrelay/memoryrelay/search/embed"
)

// hiddenEmbedder wraps an embedder as a caching or counting wrapper
// would, without forwarding the optional methods.
type hiddenEmbedder struct{ embed.Embedder }

// forwardingEmbedder wraps an embedder and forwards Lexical and Provider,
// as embed.Lexical asks of wrappers.
type forwardingEmbedder struct{ embed.Embedder }

func (f forwardingEmbedder) Lexical() bool    { return embed.IsLexical(f.Embedder) }
func (f forwardingEmbedder) Provider() string { return embed.ProviderOf(f.Embedder) }

// TestFusionPolicy checks that hybrid ranking depends on Options.Fusion
// and on what the embedder says of itself, never on its concrete type: a
// wrapper of the hashing embedder that forwards Lexical ranks exactly as
// the bare embedder does, one that does not gets the documented default
// (FusionBlend), and an explicit Options.Fusion wins over both.
func TestFusionPolicy(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "relay.db")
	r, _ := open(t, memoryrelay.Options{Path: path})
	acct := account(t, r)
	for _, text := range []string{
		"The user prefers TypeScript over JavaScript for new projects.",
		"The user prefers tabs over spaces and uses Vim as their editor.",
		"TypeScript projects at work use React and Vite.",
		"Deployments run every Friday at 5pm from the release branch.",
		"The user's javascirpt linter config lives in the dotfiles repository.",
		"Our PostgreSQL database is backed up nightly to cold storage.",
	} {
		if _, err := r.Account(acct).Memories().Create(ctx, memory.NewMemory{Content: text, AgentID: "assistant"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}

	queries := []string{
		"which language does the user prefer for new projects?",
		"typescript",
		"javascript preferences of the user",
		"friday deployments",
	}
	// hits returns, per query, the ids and scores of the hybrid hits of
	// the database opened with opts.
	hits := func(t *testing.T, opts memoryrelay.Options) []string {
		t.Helper()
		opts.Path = path
		r, _ := open(t, opts)
		if err := r.WaitSearchIndex(ctx); err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, q := range queries {
			hs, err := r.Account(acct).Memories().Search(ctx, memory.SearchParams{Query: q, Mode: search.ModeHybrid})
			if err != nil {
				t.Fatal(err)
			}
			s := q + ":"
			for _, h := range hs {
				s += fmt.Sprintf(" %s=%.12f", h.Memory.ID, h.Score)
			}
			out = append(out, s)
		}
		if err := r.Close(); err != nil {
			t.Fatal(err)
		}
		return out
	}
	same := func(a, b []string) bool {
		if len(a) != len(b) {
			return false
		}
		for i := range a {
			if a[i] != b[i] {
				return false
			}
		}
		return true
	}

	h := embed.NewHashing(0)
	bare := hits(t, memoryrelay.Options{})
	blend := hits(t, memoryrelay.Options{Embedder: h, Fusion: search.FusionBlend})
	if same(bare, blend) {
		t.Fatalf("lexical-first and blend rank these queries alike; the test proves nothing:\n%q", bare)
	}
	for _, c := range []struct {
		name string
		opts memoryrelay.Options
		want []string
	}{
		{"bare hashing, explicit lexical-first", memoryrelay.Options{Embedder: h, Fusion: search.FusionLexicalFirst}, bare},
		{"forwarding wrapper", memoryrelay.Options{Embedder: forwardingEmbedder{h}}, bare},
		{"forwarding wrapper, twice", memoryrelay.Options{Embedder: forwardingEmbedder{forwardingEmbedder{h}}}, bare},
		{"wrapper that does not forward: the default, blend", memoryrelay.Options{Embedder: hiddenEmbedder{h}}, blend},
		{"wrapper that does not forward, explicit lexical-first", memoryrelay.Options{Embedder: hiddenEmbedder{h}, Fusion: search.FusionLexicalFirst}, bare},
		{"forwarding wrapper, explicit blend", memoryrelay.Options{Embedder: forwardingEmbedder{h}, Fusion: search.FusionBlend}, blend},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := hits(t, c.opts); !same(got, c.want) {
				t.Errorf("hits\n%q\nwant\n%q", got, c.want)
			}
		})
	}
}

func TestFusionOptionInvalid(t *testing.T) {
	_, err := memoryrelay.Open(context.Background(), memoryrelay.Options{Path: filepath.Join(t.TempDir(), "x.db"), Fusion: search.Fusion(42)})
	if err == nil {
		t.Fatal("Open with Fusion(42) succeeded")
	}
	if errors.Is(err, memoryrelay.ErrEmbedderMismatch) {
		t.Fatalf("Open with Fusion(42) = %v", err)
	}
}
