package memoryrelay_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/memoryrelay/memoryrelay"
	"github.com/memoryrelay/memoryrelay/keys"
	"github.com/memoryrelay/memoryrelay/memory"
	"github.com/memoryrelay/memoryrelay/scopes"
)

// metadataOf returns a JSON object that takes exactly n bytes compacted.
func metadataOf(n int) json.RawMessage {
	return json.RawMessage(`{"a": "` + strings.Repeat("x", n-len(`{"a":""}`)) + `"}`)
}

// TestKeyRulesOnEveryPath: an account's Keys().Create and Relay.ImportKey
// apply the key store's rules with the same field and message, as a
// *ValidationError that unwraps to the store's *keys.InvalidError; and a
// listing of the account still works after every refusal.
func TestKeyRulesOnEveryPath(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 3, 17, 9, 30, 0, 0, time.UTC)
	r, _ := open(t, memoryrelay.Options{Now: func() time.Time { return now }})
	acct := account(t, r)
	read := scopes.NewSet(scopes.Read)
	past, soon := now.Add(-time.Second), now.Add(time.Second)
	tests := []struct {
		name       string
		in         memory.NewKey
		field, msg string // "" when accepted
	}{
		{"name of 255 characters", memory.NewKey{Name: strings.Repeat("ü", keys.MaxName), Scopes: read}, "", ""},
		{"name of 256 characters", memory.NewKey{Name: strings.Repeat("ü", keys.MaxName+1), Scopes: read}, "Name", "Name must be 1-255 characters"},
		{"name of 5,000 characters", memory.NewKey{Name: strings.Repeat("n", 5000), Scopes: read}, "Name", "Name must be 1-255 characters"},
		{"no scopes", memory.NewKey{Name: "k"}, "Scopes", "Scopes must be a non-empty list of read, write, delete, admin"},
		{"expiry in a second", memory.NewKey{Name: "k", Scopes: read, ExpiresAt: &soon}, "", ""},
		{"expiry in the past", memory.NewKey{Name: "k", Scopes: read, ExpiresAt: &past}, "ExpiresAt", "ExpiresAt must be in the future"},
		{"metadata at the size limit", memory.NewKey{Name: "k", Scopes: read, Metadata: metadataOf(memory.MaxMetadataSize)}, "", ""},
		{"metadata one byte past", memory.NewKey{Name: "k", Scopes: read, Metadata: metadataOf(memory.MaxMetadataSize + 1)}, "Metadata", "Metadata must be at most 10240 bytes when serialized"},
		{"metadata not JSON", memory.NewKey{Name: "k", Scopes: read, Metadata: json.RawMessage(`owner: ops`)}, "Metadata", "Metadata must be a JSON object"},
		{"metadata not an object", memory.NewKey{Name: "k", Scopes: read, Metadata: json.RawMessage(`["ops"]`)}, "Metadata", "Metadata must be a JSON object"},
		{"rate limit at the maximum", memory.NewKey{Name: "k", Scopes: read, RateLimit: keys.MaxRateLimit}, "", ""},
		{"rate limit past the maximum", memory.NewKey{Name: "k", Scopes: read, RateLimit: keys.MaxRateLimit + 1}, "RateLimit", "RateLimit must be at most 1000000"},
		{"negative rate limit", memory.NewKey{Name: "k", Scopes: read, RateLimit: -1}, "RateLimit", "RateLimit must be 0 or more"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before, err := r.Account(acct).Keys().List(ctx, memory.PageParams{Limit: 1, Offset: 0})
			if err != nil {
				t.Fatal(err)
			}
			_, _, ferr := r.Account(acct).Keys().Create(ctx, tt.in)
			tok, err := keys.Generate("live")
			if err != nil {
				t.Fatal(err)
			}
			_, serr := r.ImportKey(ctx, acct, tok, tt.in)
			after, err := r.Account(acct).Keys().List(ctx, memory.PageParams{Limit: 1, Offset: 0})
			if err != nil {
				t.Fatalf("ListKeys after: %v", err)
			}
			if tt.field == "" {
				if ferr != nil || serr != nil {
					t.Fatalf("Keys().Create: %v; ImportKey: %v; want both accepted", ferr, serr)
				}
				if after.Total != before.Total+2 {
					t.Errorf("%d keys stored, want 2", after.Total-before.Total)
				}
				return
			}
			var verr *memory.ValidationError
			if !errors.Is(ferr, memoryrelay.ErrInvalid) || !errors.As(ferr, &verr) || verr.Field() != tt.field || verr.Problems[0].Message != tt.msg {
				t.Errorf("Keys().Create: %#v, want a *ValidationError for %s: %q", ferr, tt.field, tt.msg)
			}
			var ierr *keys.InvalidError
			if !errors.Is(serr, memoryrelay.ErrInvalid) || !errors.Is(serr, keys.ErrInvalid) || !errors.As(serr, &ierr) || ierr.Field != tt.field || ierr.Message != tt.msg {
				t.Errorf("ImportKey: %#v, want a *ValidationError of the *keys.InvalidError for %s: %q", serr, tt.field, tt.msg)
			}
			if after.Total != before.Total {
				t.Errorf("%d keys stored after refusals", after.Total-before.Total)
			}
		})
	}

	k, _, err := r.Account(acct).Keys().Create(ctx, memory.NewKey{Name: "rotating", Scopes: read})
	if err != nil {
		t.Fatal(err)
	}
	for _, grace := range []time.Duration{-time.Second, keys.MaxGrace + time.Second} {
		_, _, err := r.Account(acct).Keys().Rotate(ctx, k.ID, grace)
		var verr *memory.ValidationError
		if !errors.As(err, &verr) || verr.Field() != "grace" || verr.Problems[0].Message != "grace must be between 0 and 24h0m0s" {
			t.Errorf("RotateKey(grace %v): %#v, want a *ValidationError for grace", grace, err)
		}
	}
	if _, _, err := r.Account(acct).Keys().Rotate(ctx, k.ID, keys.MaxGrace); err != nil {
		t.Errorf("RotateKey(grace %v): %v", keys.MaxGrace, err)
	}
}
