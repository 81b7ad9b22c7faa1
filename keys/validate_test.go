package keys_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/memoryrelay/memoryrelay/internal/uuid"
	"github.com/memoryrelay/memoryrelay/keys"
	"github.com/memoryrelay/memoryrelay/scopes"
)

// stMetadataOf returns a JSON object that takes exactly n bytes compacted
// ({"a":"…"}), padded with white space that compaction removes.
func stMetadataOf(n int) []byte {
	return []byte(`{ "a" : "` + strings.Repeat("x", n-len(`{"a":""}`)) + `" }`)
}

// TestStoreFieldRules: Create and Import, the methods every way of making a
// key goes through (an account's Keys, Relay.ImportKey, the HTTP API), refuse each
// field outside its rule with an *InvalidError naming the field, store
// nothing then, and accept every value at its limit.
func TestStoreFieldRules(t *testing.T) {
	ctx := context.Background()
	read := scopes.NewSet(scopes.Read)
	at := func(d time.Duration) *time.Time { t := stT0.Add(d); return &t }
	tests := []struct {
		name  string
		p     keys.CreateParams
		field string // "" when the key is accepted
		msg   string // the refusal's message (prefix), for the HTTP API
	}{
		{"name of 255 characters", keys.CreateParams{Name: strings.Repeat("é", 255), Scopes: read}, "", ""},
		{"name of 256 characters", keys.CreateParams{Name: strings.Repeat("é", 256), Scopes: read}, "Name", "Name must be 1-255 characters"},
		{"name of 5,000 characters", keys.CreateParams{Name: strings.Repeat("n", 5000), Scopes: read}, "Name", "Name must be 1-255 characters"},
		{"name not UTF-8", keys.CreateParams{Name: "k\xff", Scopes: read}, "Name", "Name must be valid UTF-8"},
		{"no scope", keys.CreateParams{Name: "k"}, "Scopes", "Scopes must be a non-empty list of read, write, delete, admin"},
		{"an undefined scope bit", keys.CreateParams{Name: "k", Scopes: read | scopes.Set(1<<6)}, "Scopes", "Scopes must be"},
		{"expiry in a millisecond", keys.CreateParams{Name: "k", Scopes: read, ExpiresAt: at(time.Millisecond)}, "", ""},
		{"expiry now", keys.CreateParams{Name: "k", Scopes: read, ExpiresAt: at(0)}, "ExpiresAt", "ExpiresAt must be in the future"},
		{"expiry in less than a millisecond (stored: now)", keys.CreateParams{Name: "k", Scopes: read, ExpiresAt: at(time.Millisecond - 1)}, "ExpiresAt", "ExpiresAt must be in the future"},
		{"expiry in the past", keys.CreateParams{Name: "k", Scopes: read, ExpiresAt: at(-time.Hour)}, "ExpiresAt", "ExpiresAt must be in the future"},
		{"rate limit 0 (the default)", keys.CreateParams{Name: "k", Scopes: read}, "", ""},
		{"rate limit at the maximum", keys.CreateParams{Name: "k", Scopes: read, RateLimit: keys.MaxRateLimit}, "", ""},
		{"rate limit past the maximum", keys.CreateParams{Name: "k", Scopes: read, RateLimit: keys.MaxRateLimit + 1}, "RateLimit", "RateLimit must be at most 1000000"},
		{"negative rate limit", keys.CreateParams{Name: "k", Scopes: read, RateLimit: -1}, "RateLimit", "RateLimit must be 0 or more"},
		{"metadata at the size limit", keys.CreateParams{Name: "k", Scopes: read, Metadata: stMetadataOf(keys.MaxMetadataSize)}, "", ""},
		{"metadata one byte past the limit", keys.CreateParams{Name: "k", Scopes: read, Metadata: stMetadataOf(keys.MaxMetadataSize + 1)}, "Metadata", "Metadata must be at most 10240 bytes when serialized"},
		{"metadata not JSON", keys.CreateParams{Name: "k", Scopes: read, Metadata: []byte(`{"a":`)}, "Metadata", "Metadata must be a JSON object"},
		{"metadata not JSON at all", keys.CreateParams{Name: "k", Scopes: read, Metadata: []byte(`team=ops`)}, "Metadata", "Metadata must be a JSON object"},
		{"metadata an array", keys.CreateParams{Name: "k", Scopes: read, Metadata: []byte(`[1]`)}, "Metadata", "Metadata must be a JSON object"},
		{"metadata a string", keys.CreateParams{Name: "k", Scopes: read, Metadata: []byte(`"ops"`)}, "Metadata", "Metadata must be a JSON object"},
		{"metadata not UTF-8", keys.CreateParams{Name: "k", Scopes: read, Metadata: []byte("{\"a\":\"\xff\"}")}, "Metadata", "Metadata must be valid UTF-8"},
		{"metadata null", keys.CreateParams{Name: "k", Scopes: read, Metadata: []byte(`null`)}, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := stOpenDB(t)
			s := stNewStore(t, db.st.Keys(), keys.Options{Now: stNewClock().Now})
			tok, err := keys.Generate("live")
			if err != nil {
				t.Fatal(err)
			}
			created, _, cerr := s.Create(ctx, db.acct, tt.p)
			imported, ierr := s.Import(ctx, db.acct, tok, tt.p)
			_, total, err := s.List(ctx, db.acct, 10, 0)
			if err != nil {
				t.Fatal(err)
			}
			if tt.field == "" {
				if cerr != nil || ierr != nil {
					t.Fatalf("Create: %v; Import: %v; want both accepted", cerr, ierr)
				}
				if total != 2 {
					t.Errorf("%d keys stored, want 2", total)
				}
				for _, k := range []keys.Key{created, imported} {
					got := stGet(t, s, db.acct, k.ID)
					if got.Name != tt.p.Name {
						t.Errorf("stored name %q, want %q", got.Name, tt.p.Name)
					}
					if len(tt.p.Metadata) > 0 && string(tt.p.Metadata) != "null" && len(got.Metadata) != keys.MaxMetadataSize {
						t.Errorf("stored metadata of %d bytes, want it compacted to %d", len(got.Metadata), keys.MaxMetadataSize)
					}
					if string(tt.p.Metadata) == "null" && got.Metadata != nil {
						t.Errorf("metadata null stored as %q, want none", got.Metadata)
					}
				}
				return
			}
			for what, err := range map[string]error{"Create": cerr, "Import": ierr} {
				var ie *keys.InvalidError
				if !errors.Is(err, keys.ErrInvalid) || !errors.As(err, &ie) {
					t.Fatalf("%s: error %v, want an *InvalidError", what, err)
				}
				if ie.Field != tt.field || !strings.HasPrefix(ie.Message, tt.msg) {
					t.Errorf("%s: field %q message %q, want field %q message %q…", what, ie.Field, ie.Message, tt.field, tt.msg)
				}
			}
			if total != 0 {
				t.Errorf("%d keys stored after refusals", total)
			}
		})
	}
}

// TestStoreDefaultName: a key made without a name is named "key-" and its
// display prefix (API.md §10.2), by Create and Import alike.
func TestStoreDefaultName(t *testing.T) {
	ctx := context.Background()
	db := stOpenDB(t)
	s := stNewStore(t, db.st.Keys(), keys.Options{Now: stNewClock().Now})
	p := keys.CreateParams{Scopes: scopes.NewSet(scopes.Read)}
	created, tok, err := s.Create(ctx, db.acct, p)
	if err != nil {
		t.Fatal(err)
	}
	imp, err := keys.Generate("live")
	if err != nil {
		t.Fatal(err)
	}
	imported, err := s.Import(ctx, db.acct, imp, p)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		k   keys.Key
		tok keys.Token
	}{{created, tok}, {imported, imp}} {
		want := "key-" + c.tok.Prefix()
		if c.k.Name != want || stGet(t, s, db.acct, c.k.ID).Name != want || keys.DefaultName(c.tok.Prefix()) != want {
			t.Errorf("name %q (stored %q), want %q", c.k.Name, stGet(t, s, db.acct, c.k.ID).Name, want)
		}
	}
}

// TestStoreRotateGraceError: a grace period out of range is an
// *InvalidError naming grace, Rotate's parameter.
func TestStoreRotateGraceError(t *testing.T) {
	db := stOpenDB(t)
	s := stNewStore(t, db.st.Keys(), keys.Options{Now: stNewClock().Now})
	k, _ := stCreate(t, s, db.acct, keys.CreateParams{Name: "k", Scopes: scopes.NewSet(scopes.Read)})
	for _, grace := range []time.Duration{-time.Second, keys.MaxGrace + time.Second} {
		_, _, err := s.Rotate(context.Background(), db.acct, k.ID, grace)
		var ie *keys.InvalidError
		if !errors.As(err, &ie) || ie.Field != "grace" || ie.Message != "grace must be between 0 and 24h0m0s" {
			t.Errorf("Rotate(grace %v): error %#v, want an *InvalidError for grace", grace, err)
		}
	}
}

// TestStoreReadsBadRows: keys stored before their fields were checked (as
// the old Store.Create did, straight through the repository) still read:
// metadata that is not a JSON object reads as none, the rest as stored,
// through List, Get, Verify, Revoke and Rotate.
func TestStoreReadsBadRows(t *testing.T) {
	ctx := context.Background()
	db := stOpenDB(t)
	clock := stNewClock()
	s := stNewStore(t, db.st.Keys(), keys.Options{Now: clock.Now})
	past := stT0.Add(-time.Hour)
	rows := []struct {
		name     string
		k        keys.Key
		wantMeta string // "" for none
	}{
		{"metadata not JSON", keys.Key{Name: "not-json", Metadata: []byte(`team=ops`)}, ""},
		{"metadata cut short", keys.Key{Name: "cut", Metadata: []byte(`{"a":`)}, ""},
		{"metadata an array", keys.Key{Name: "array", Metadata: []byte(`[1,2]`)}, ""},
		{"metadata null", keys.Key{Name: "null", Metadata: []byte(`null`)}, ""},
		{"metadata not UTF-8", keys.Key{Name: "latin1", Metadata: []byte("{\"a\":\"\xe9\"}")}, ""},
		{"name of 5,000 characters, expired, negative rate limit", keys.Key{Name: strings.Repeat("n", 5000), ExpiresAt: &past, RateLimit: -5, Metadata: []byte(`{"ok":true}`)}, `{"ok":true}`},
	}
	var raws []string
	for i, r := range rows {
		tok, err := keys.Generate("live")
		if err != nil {
			t.Fatal(err)
		}
		k := r.k
		k.ID, k.AccountID, k.Prefix, k.Scopes, k.CreatedAt = uuid.New(), db.acct, tok.Prefix(), scopes.NewSet(scopes.Admin), stT0.Add(time.Duration(i)*time.Second)
		if err := db.st.Keys().InsertKey(ctx, k, tok.Hash()); err != nil {
			t.Fatal(err)
		}
		rows[i].k = k
		raws = append(raws, tok.Reveal())
	}
	ks, total, err := s.List(ctx, db.acct, 100, 0)
	if err != nil || total != len(rows) || len(ks) != len(rows) {
		t.Fatalf("List: %d of %d keys, %v; want all %d", len(ks), total, err, len(rows))
	}
	byID := map[string]keys.Key{}
	for _, k := range ks {
		byID[k.ID] = k
	}
	for i, r := range rows {
		got := []keys.Key{byID[r.k.ID], stGet(t, s, db.acct, r.k.ID)}
		if r.k.ExpiresAt == nil {
			got = append(got, stVerify(t, s, raws[i]))
		}
		for _, k := range got {
			if string(k.Metadata) != r.wantMeta || k.Name != r.k.Name {
				t.Errorf("%s: read name %.20q metadata %q, want %.20q and %q", r.name, k.Name, k.Metadata, r.k.Name, r.wantMeta)
			}
		}
	}
	rk, _, err := s.Rotate(ctx, db.acct, rows[0].k.ID, 0)
	if err != nil || rk.Metadata != nil {
		t.Errorf("Rotate: metadata %q, %v; want none", rk.Metadata, err)
	}
	vk, err := s.Revoke(ctx, db.acct, rows[1].k.ID)
	if err != nil || vk.Metadata != nil {
		t.Errorf("Revoke: metadata %q, %v; want none", vk.Metadata, err)
	}
}
