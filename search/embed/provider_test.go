package embed_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/memoryrelay/memoryrelay/search/embed"
)

// wrapped hides its embedder's type, as a caching or counting wrapper
// would; it forwards neither Provider nor Lexical.
type wrapped struct{ embed.Embedder }

// forwarding is a wrapper that forwards the optional methods of what it
// wraps.
type forwarding struct{ embed.Embedder }

func (f forwarding) Provider() string { return embed.ProviderOf(f.Embedder) }
func (f forwarding) Lexical() bool    { return embed.IsLexical(f.Embedder) }

// unnamed implements ProviderNamer with an empty name.
type unnamed struct{ embed.Embedder }

func (unnamed) Provider() string { return "" }

// neural stands for an embedder of meaning that names itself and says it
// is not lexical.
type neural struct{}

func (neural) Embed(context.Context, []string) ([][]float32, error) { return nil, nil }
func (neural) Dimension() int                                       { return 3 }
func (neural) Model() string                                        { return "neural" }
func (neural) Provider() string                                     { return "neural-net" }
func (neural) Lexical() bool                                        { return false }

func TestProviderOf(t *testing.T) {
	for _, c := range []struct {
		name string
		e    embed.Embedder
		want string
	}{
		{"Hashing", embed.NewHashing(0), "builtin"},
		{"zero Hashing", &embed.Hashing{}, "builtin"},
		{"a named embedder", neural{}, "neural-net"},
		{"a wrapper that does not say", wrapped{embed.NewHashing(0)}, "custom"},
		{"a wrapper that forwards", forwarding{neural{}}, "neural-net"},
		{"wrappers that forward, twice", forwarding{forwarding{embed.NewHashing(0)}}, "builtin"},
		{"an empty name", unnamed{embed.NewHashing(0)}, "custom"},
	} {
		if got := embed.ProviderOf(c.e); got != c.want {
			t.Errorf("%s: ProviderOf = %q, want %q", c.name, got, c.want)
		}
	}
}

func TestIsLexical(t *testing.T) {
	for _, c := range []struct {
		name string
		e    embed.Embedder
		want bool
	}{
		{"Hashing", embed.NewHashing(0), true},
		{"zero Hashing", &embed.Hashing{}, true},
		{"an embedder that says no", neural{}, false},
		{"a wrapper that does not forward", wrapped{embed.NewHashing(0)}, false},
		{"a wrapper that forwards", forwarding{embed.NewHashing(0)}, true},
		{"wrappers that forward, twice", forwarding{forwarding{embed.NewHashing(0)}}, true},
		{"a forwarding wrapper of a non-lexical embedder", forwarding{neural{}}, false},
		{"a wrapper of something silent", forwarding{wrapped{embed.NewHashing(0)}}, false},
	} {
		if got := embed.IsLexical(c.e); got != c.want {
			t.Errorf("%s: IsLexical = %v, want %v", c.name, got, c.want)
		}
	}
}

// counting is a wrapper that counts the texts it embeds and forwards the
// optional methods of what it wraps, so that wrapping changes neither the
// provider that health reports show nor how hybrid search ranks.
type counting struct {
	embed.Embedder
	texts *int
}

func (c counting) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	*c.texts += len(texts)
	return c.Embedder.Embed(ctx, texts)
}
func (c counting) Provider() string { return embed.ProviderOf(c.Embedder) }
func (c counting) Lexical() bool    { return embed.IsLexical(c.Embedder) }

func ExampleLexical() {
	var n int
	e := counting{Embedder: embed.NewHashing(0), texts: &n}
	if _, err := e.Embed(context.Background(), []string{"a", "b"}); err != nil {
		panic(err)
	}
	fmt.Println(n, e.Model(), embed.ProviderOf(e), embed.IsLexical(e))
	// Output:
	// 2 memoryrelay-hash-v1-384 builtin true
}
