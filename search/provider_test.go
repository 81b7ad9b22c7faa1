package search_test

import (
	"testing"

	"github.com/memoryrelay/memoryrelay/search"
)

// wrapped hides its embedder's type, as a caching or counting wrapper
// would; it does not name a provider.
type wrapped struct{ search.Embedder }

// forwarding is a wrapper that names the provider of what it wraps.
type forwarding struct{ search.Embedder }

func (f forwarding) Provider() string { return search.ProviderOf(f.Embedder) }

// unnamed implements ProviderNamer with an empty name.
type unnamed struct{ search.Embedder }

func (unnamed) Provider() string { return "" }

func TestProviderOf(t *testing.T) {
	oai, err := search.NewOpenAI(search.OpenAIOptions{BaseURL: "http://127.0.0.1:1/v1", Model: "m", Dimension: 8, APIKeyEnv: "-"})
	if err != nil {
		t.Fatal(err)
	}
	m2v := loadTinyModel(t, "F32")
	for _, c := range []struct {
		name string
		e    search.Embedder
		want string
	}{
		{"Hashing", search.NewHashing(0), "builtin"},
		{"zero Hashing", &search.Hashing{}, "builtin"},
		{"OpenAI", oai, "openai-compatible"},
		{"Model2Vec", m2v, "model2vec"},
		{"a wrapper that does not say", wrapped{search.NewHashing(0)}, "custom"},
		{"a wrapper that forwards", forwarding{oai}, "openai-compatible"},
		{"wrappers that forward, twice", forwarding{forwarding{m2v}}, "model2vec"},
		{"an empty name", unnamed{search.NewHashing(0)}, "custom"},
	} {
		if got := search.ProviderOf(c.e); got != c.want {
			t.Errorf("%s: ProviderOf = %q, want %q", c.name, got, c.want)
		}
	}
}
