package memorytest

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/memoryrelay/memoryrelay/keys"
	"github.com/memoryrelay/memoryrelay/memory"
	"github.com/memoryrelay/memoryrelay/scopes"
)

func testKeys(t *testing.T, open Opener) {
	t.Run("Create", func(t *testing.T) { keyCreate(t, open(t)) })
	t.Run("Invalid", func(t *testing.T) { keyInvalid(t, open(t)) })
	t.Run("Revoke", func(t *testing.T) { keyRevoke(t, open(t)) })
	t.Run("LastAdmin", func(t *testing.T) { keyLastAdmin(t, open(t)) })
	t.Run("Rotate", func(t *testing.T) { keyRotate(t, open(t)) })
	t.Run("Paging", func(t *testing.T) { keyPaging(t, open(t)) })
	t.Run("DefaultName", func(t *testing.T) { keyDefaultName(t, open(t)) })
	t.Run("Update", func(t *testing.T) { keyUpdate(t, open(t)) })
}

// keyDefaultName: a key made without a name is named "key-" and its
// prefix (API.md §10.2).
func keyDefaultName(t *testing.T, e Env) {
	k, tok := try2(e.Account.Keys().Create(t.Context(), memory.NewKey{Scopes: scopes.NewSet(scopes.Read)})).must(t)
	if want := "key-" + tok.Prefix(); k.Name != want || try(e.Account.Keys().Get(t.Context(), k.ID)).must(t).Name != want {
		t.Errorf("Name %q, want %q", k.Name, want)
	}
}

// keyUpdate: Update changes a key's name, metadata and spend limits and
// nothing else; a limit set to nil is removed; invalid fields change
// nothing; another account's key is not found (API.md §10.2).
func keyUpdate(t *testing.T, e Env) {
	ctx, ks := t.Context(), e.Account.Keys()
	daily := 2.5
	k, _ := try2(ks.Create(ctx, memory.NewKey{Name: "metered", Scopes: scopes.NewSet(scopes.Read), DailySpendLimit: &daily})).must(t)
	if k.DailySpendLimit == nil || *k.DailySpendLimit != 2.5 || k.MonthlySpendLimit != nil {
		t.Fatalf("Create: limits %v, %v", showPtr(k.DailySpendLimit), showPtr(k.MonthlySpendLimit))
	}
	monthly := 40.0
	u := try(ks.Update(ctx, k.ID, memory.KeyPatch{Name: ptr("renamed"), Metadata: json.RawMessage(`{"team":"ops"}`),
		DailySpendLimit: keys.LimitChange{Set: true}, MonthlySpendLimit: keys.LimitChange{Set: true, USD: &monthly}})).must(t)
	if u.Name != "renamed" || diff(json.RawMessage(u.Metadata), json.RawMessage(`{"team":"ops"}`)) != "" || u.DailySpendLimit != nil ||
		u.MonthlySpendLimit == nil || *u.MonthlySpendLimit != 40 || u.Prefix != k.Prefix || u.Scopes != k.Scopes {
		t.Errorf("Update: %+v", u)
	}
	wantEqual(t, "Get after Update", try(ks.Get(ctx, k.ID)).must(t), u)
	// Only what is given changes.
	u2 := try(ks.Update(ctx, k.ID, memory.KeyPatch{Name: ptr("again")})).must(t)
	if u2.MonthlySpendLimit == nil || *u2.MonthlySpendLimit != 40 || diff(json.RawMessage(u2.Metadata), json.RawMessage(`{"team":"ops"}`)) != "" {
		t.Errorf("an Update of the name changed more: %+v", u2)
	}
	neg := -1.0
	for _, tc := range []struct {
		name  string
		p     memory.KeyPatch
		field string
	}{
		{"empty name", memory.KeyPatch{Name: ptr("")}, "Name"},
		{"name over 255 characters", memory.KeyPatch{Name: ptr(strings.Repeat("n", 256))}, "Name"},
		{"metadata an array", memory.KeyPatch{Metadata: json.RawMessage(`[1]`)}, "Metadata"},
		{"negative daily limit", memory.KeyPatch{DailySpendLimit: keys.LimitChange{Set: true, USD: &neg}}, "DailySpendLimit"},
	} {
		_, err := ks.Update(ctx, k.ID, tc.p)
		wantInvalid(t, "Update with "+tc.name, err, tc.field)
	}
	wantEqual(t, "Get after refused Updates", try(ks.Get(ctx, k.ID)).must(t), u2)
	theirs, _ := try2(e.Other.Keys().Create(ctx, memory.NewKey{Name: "theirs", Scopes: scopes.NewSet(scopes.Read)})).must(t)
	_, err := ks.Update(ctx, theirs.ID, memory.KeyPatch{Name: ptr("mine now")})
	wantNotFound(t, "Update of another account's key", err)
	_, err = ks.Update(ctx, "not-a-uuid", memory.KeyPatch{Name: ptr("x")})
	wantNotFound(t, "Update of a malformed id", err)
}

// checkToken checks that a raw key is well formed (package keys) and
// belongs to the key.
func checkToken(t *testing.T, what string, tok keys.Token, k keys.Key) {
	t.Helper()
	if tok.IsZero() {
		t.Errorf("%s: no token", what)
		return
	}
	parsed, err := keys.Parse(tok.Reveal())
	if err != nil {
		t.Errorf("%s: the token does not parse: %v", what, err)
		return
	}
	if parsed != tok {
		t.Errorf("%s: the token parses to another", what)
	}
	if len(k.Prefix) != 12 || k.Prefix != tok.Prefix() || !strings.HasPrefix(tok.Reveal(), k.Prefix) {
		t.Errorf("%s: Prefix %q, want the token's first 12 characters %q", what, k.Prefix, tok.Prefix())
	}
}

func keyCreate(t *testing.T, e Env) {
	ctx, c, ks := t.Context(), newClock(), e.Account.Keys()
	exp := time.Now().Add(48 * time.Hour).UTC().Truncate(time.Millisecond)
	in := memory.NewKey{Name: "ci runner", Scopes: scopes.NewSet(scopes.Read, scopes.Write), ExpiresAt: &exp,
		Metadata: json.RawMessage(`{"env":"ci"}`)}
	k, tok := try2(ks.Create(ctx, in)).must(t)
	wantUUID(t, "ID", k.ID)
	checkToken(t, "Create", tok, k)
	c.instant(t, "CreatedAt", k.CreatedAt)
	if k.Name != in.Name || k.Scopes != in.Scopes || k.ExpiresAt == nil || !k.ExpiresAt.Equal(exp) || k.RevokedAt != nil ||
		diff(json.RawMessage(k.Metadata), in.Metadata) != "" {
		t.Errorf("Create: %+v", k)
	}
	got := try(ks.Get(ctx, k.ID)).must(t)
	wantEqual(t, "Get", got, k)
	if got.LastUsedAt != nil {
		t.Errorf("a key never used has LastUsedAt %v", *got.LastUsedAt)
	}
	pg := try(ks.List(ctx, memory.PageParams{})).must(t)
	found := false
	for _, x := range pg.Data {
		if x.ID == k.ID {
			found = true
			wantEqual(t, "the listed key", x, k)
		}
	}
	if !found {
		t.Errorf("List misses the new key")
	}
	// Two keys never share a secret.
	_, tok2 := try2(ks.Create(ctx, memory.NewKey{Name: "second", Scopes: scopes.NewSet(scopes.Read)})).must(t)
	if tok2 == tok {
		t.Errorf("two keys have the same token")
	}
}

func keyInvalid(t *testing.T, e Env) {
	ctx, ks := t.Context(), e.Account.Keys()
	past := time.Now().Add(-time.Hour)
	read := scopes.NewSet(scopes.Read)
	for _, tc := range []struct {
		name  string
		in    memory.NewKey
		field string
	}{
		{"name over 255 characters", memory.NewKey{Name: strings.Repeat("n", 256), Scopes: read}, "Name"},
		{"no scopes", memory.NewKey{Name: "k"}, "Scopes"},
		{"expiry in the past", memory.NewKey{Name: "k", Scopes: read, ExpiresAt: &past}, "ExpiresAt"},
		{"negative rate limit", memory.NewKey{Name: "k", Scopes: read, RateLimit: -1}, "RateLimit"},
		{"rate limit too high", memory.NewKey{Name: "k", Scopes: read, RateLimit: keys.MaxRateLimit + 1}, "RateLimit"},
		{"metadata an array", memory.NewKey{Name: "k", Scopes: read, Metadata: json.RawMessage(`[]`)}, "Metadata"},
	} {
		_, _, err := ks.Create(ctx, tc.in)
		wantInvalid(t, tc.name, err, tc.field)
	}
	want := 0
	if e.KeyID != "" {
		want = 1
	}
	if pg := try(ks.List(ctx, memory.PageParams{})).must(t); pg.Total != want {
		t.Errorf("after invalid creates the account has %d keys, want %d", pg.Total, want)
	}
}

func keyRevoke(t *testing.T, e Env) {
	ctx, c, ks := t.Context(), newClock(), e.Account.Keys()
	k, _ := try2(ks.Create(ctx, memory.NewKey{Name: "doomed", Scopes: scopes.NewSet(scopes.Read)})).must(t)
	r := try(ks.Revoke(ctx, k.ID)).must(t)
	c.instantPtr(t, "RevokedAt", r.RevokedAt)
	want := k
	want.RevokedAt = r.RevokedAt
	wantEqual(t, "Revoke", r, want)
	wantEqual(t, "Get after Revoke", try(ks.Get(ctx, k.ID)).must(t), r)
	_, _, err := ks.Rotate(ctx, k.ID, 0)
	wantInvalid(t, "Rotate of a revoked key", err)
}

// keyLastAdmin: the account's last live admin key cannot be revoked.
func keyLastAdmin(t *testing.T, e Env) {
	ctx, ks := t.Context(), e.Account.Keys()
	admin := scopes.NewSet(scopes.Admin)
	base := e.KeyID
	if base == "" {
		k, _ := try2(ks.Create(ctx, memory.NewKey{Name: "first admin", Scopes: admin})).must(t)
		base = k.ID
	}
	extra, _ := try2(ks.Create(ctx, memory.NewKey{Name: "second admin", Scopes: admin})).must(t)
	try2(ks.Create(ctx, memory.NewKey{Name: "not an admin", Scopes: scopes.NewSet(scopes.Read, scopes.Write, scopes.Delete)})).must(t)
	if _, err := ks.Revoke(ctx, extra.ID); err != nil {
		t.Fatalf("Revoke of one of two admin keys: %v", err)
	}
	_, err := ks.Revoke(ctx, base)
	wantInvalid(t, "Revoke of the last admin key", err)
	if k := try(ks.Get(ctx, base)).must(t); k.RevokedAt != nil {
		t.Errorf("the last admin key was revoked")
	}
}

func keyRotate(t *testing.T, e Env) {
	ctx, ks := t.Context(), e.Account.Keys()
	exp := time.Now().Add(24 * time.Hour).UTC().Truncate(time.Millisecond)
	k, old := try2(ks.Create(ctx, memory.NewKey{Name: "rotating", Scopes: scopes.NewSet(scopes.Read, scopes.Delete), ExpiresAt: &exp})).must(t)
	for _, grace := range []time.Duration{0, time.Hour, 24 * time.Hour} {
		r, tok := try2(ks.Rotate(ctx, k.ID, grace)).must(t)
		checkToken(t, "Rotate", tok, r)
		if tok == old {
			t.Errorf("Rotate returned the old token")
		}
		if r.ID != k.ID || r.Name != k.Name || r.Scopes != k.Scopes || r.ExpiresAt == nil || !r.ExpiresAt.Equal(exp) || r.RevokedAt != nil {
			t.Errorf("Rotate (grace %v) changed what it keeps: %+v", grace, r)
		}
		wantEqual(t, "Get after Rotate", try(ks.Get(ctx, k.ID)).must(t), r)
		old = tok
	}
	for _, grace := range []time.Duration{-time.Second, 24*time.Hour + time.Second} {
		_, _, err := ks.Rotate(ctx, k.ID, grace)
		wantInvalid(t, "Rotate with grace "+grace.String(), err, "grace")
	}
}

func keyPaging(t *testing.T, e Env) {
	ctx := t.Context()
	var ks []keys.Key
	if e.KeyID != "" {
		ks = append(ks, try(e.Account.Keys().Get(ctx, e.KeyID)).must(t))
	}
	for i := range 5 {
		k, _ := try2(e.Account.Keys().Create(ctx, memory.NewKey{Name: "paged " + strings.Repeat("k", i+1), Scopes: scopes.NewSet(scopes.Read)})).must(t)
		ks = append(ks, k)
	}
	checkPaging(t, paging[keys.Key]{
		list: func(ctx context.Context, limit, offset int, cursor string) (memory.Page[keys.Key], error) {
			return e.Account.Keys().List(ctx, memory.PageParams{Limit: limit, Offset: offset, Cursor: cursor})
		},
		id:   func(k keys.Key) string { return k.ID },
		want: newestFirst(ks, func(k keys.Key) time.Time { return k.CreatedAt }, func(k keys.Key) string { return k.ID }),
	})
}
