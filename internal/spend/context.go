package spend

import "context"

type keyIDKey struct{}

// WithKey returns ctx carrying the id of the API key that embedder calls
// made with it are charged to.
func WithKey(ctx context.Context, keyID string) context.Context {
	return context.WithValue(ctx, keyIDKey{}, keyID)
}

// KeyFrom returns the key id WithKey put in ctx, or "".
func KeyFrom(ctx context.Context) string {
	id, _ := ctx.Value(keyIDKey{}).(string)
	return id
}
