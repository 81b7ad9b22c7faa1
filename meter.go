package memoryrelay

import (
	"context"
	"errors"
	"math"

	"github.com/memoryrelay/memoryrelay/internal/spend"
	"github.com/memoryrelay/memoryrelay/keys"
	"github.com/memoryrelay/memoryrelay/search/embed"
)

// Spend metering (API.md §10.2): what costs money on this server is the
// tokens sent to a paid embedder, priced by Options.EmbeddingPrice. Each
// embedder call made with a context that names a key (WithSpendKey; the
// HTTP API names the request's key) is charged to that key before it is
// made: a charge that would pass the key's daily or monthly spend limit is
// refused with a *keys.SpendLimitError (HTTP 429 "Spend limit exceeded",
// Retry-After until the period resets), and nothing is embedded. A call
// that then fails is refunded.

// TokenCounter is an optional interface of an [embed.Embedder]: the
// number of tokens texts cost, as its provider bills them. An embedder
// without it is charged an estimate: one token per four bytes of text,
// rounded up, per text.
type TokenCounter interface {
	CountTokens(texts []string) int
}

// WithSpendKey returns ctx charging the embedder calls made with it to
// the key k (see Options.EmbeddingPrice). The HTTP API does this for every
// authenticated request.
func WithSpendKey(ctx context.Context, k keys.Key) context.Context {
	return spend.WithKey(ctx, k.ID)
}

// meteredEmbedder charges the tokens of each call to the key in its
// context.
type meteredEmbedder struct {
	embed.Embedder
	price  spend.Price
	charge func(ctx context.Context, keyID string, cost int64) error
}

// metered wraps e when it has a price; e itself otherwise.
func metered(e embed.Embedder, usdPerMillion float64, charge func(ctx context.Context, keyID string, cost int64) error) embed.Embedder {
	if usdPerMillion <= 0 {
		return e
	}
	return meteredEmbedder{Embedder: e, price: spend.Price(usdPerMillion), charge: charge}
}

func (m meteredEmbedder) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	keyID := spend.KeyFrom(ctx)
	if keyID == "" {
		return m.Embedder.Embed(ctx, texts)
	}
	cost := int64(m.price.Cost(countTokens(m.Embedder, texts)))
	if err := m.charge(ctx, keyID, cost); err != nil {
		if errors.Is(err, keys.ErrNotFound) {
			return m.Embedder.Embed(ctx, texts) // a key deleted meanwhile: nothing to charge
		}
		return nil, err
	}
	v, err := m.Embedder.Embed(ctx, texts)
	if err != nil {
		// Refunded: nothing was embedded for the key.
		m.charge(context.WithoutCancel(ctx), keyID, -cost) //nolint:errcheck // best effort
	}
	return v, err
}

// The optional interfaces of the wrapped embedder, forwarded.
func (m meteredEmbedder) Provider() string { return embed.ProviderOf(m.Embedder) }
func (m meteredEmbedder) Lexical() bool    { return embed.IsLexical(m.Embedder) }

// countTokens is what texts cost e: its own count, or the estimate.
func countTokens(e embed.Embedder, texts []string) int {
	if c, ok := e.(TokenCounter); ok {
		return c.CountTokens(texts)
	}
	n := 0
	for _, t := range texts {
		n += int(math.Ceil(float64(len(t)) / 4))
	}
	return n
}
