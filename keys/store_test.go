package keys_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3"

	"github.com/memoryrelay/memoryrelay/internal/store/sqlite"
	"github.com/memoryrelay/memoryrelay/keys"
	"github.com/memoryrelay/memoryrelay/scopes"
)

// Helpers of the Store tests are prefixed "st" so that they cannot collide
// with those of token_test.go ("tok").

// stT0 is the instant every test starts at: a whole second, so that the
// millisecond precision of the database loses nothing.
var stT0 = time.Date(2030, time.January, 2, 3, 4, 5, 0, time.UTC)

var errStBoom = errors.New("boom")

// stClock is an injected clock, safe for concurrent use.
type stClock struct {
	mu  sync.Mutex
	now time.Time
}

func stNewClock() *stClock { return &stClock{now: stT0} }

func (c *stClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Set moves the clock to stT0+d.
func (c *stClock) Set(d time.Duration) {
	c.mu.Lock()
	c.now = stT0.Add(d)
	c.mu.Unlock()
}

// stDB is a real SQLite database in a temporary directory with one account.
type stDB struct {
	path string
	st   *sqlite.Store
	acct string
}

func stOpenDB(tb testing.TB) *stDB {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "k.db")
	st := stOpenSQLite(tb, path)
	a, err := st.CreateAccount(context.Background(), "acme", stT0)
	if err != nil {
		tb.Fatalf("CreateAccount: %v", err)
	}
	return &stDB{path: path, st: st, acct: a.ID}
}

// stOpenSQLite opens the database at path; it is closed when the test ends.
func stOpenSQLite(tb testing.TB, path string) *sqlite.Store {
	tb.Helper()
	st, err := sqlite.Open(context.Background(), sqlite.Options{Path: path})
	if err != nil {
		tb.Fatalf("sqlite.Open: %v", err)
	}
	tb.Cleanup(func() { st.Close() })
	return st
}

func (d *stDB) newAccount(tb testing.TB, name string) string {
	tb.Helper()
	a, err := d.st.CreateAccount(context.Background(), name, stT0)
	if err != nil {
		tb.Fatalf("CreateAccount: %v", err)
	}
	return a.ID
}

// fresh returns a new Store over a new connection to the same database, to
// read what has been written, not what a Store remembers.
func (d *stDB) fresh(tb testing.TB) *keys.Store {
	tb.Helper()
	return stNewStore(tb, stOpenSQLite(tb, d.path).Keys(), keys.Options{})
}

// stNewStore returns a Store closed (and checked) when the test ends. An
// unset FlushInterval becomes a day so that the ticker never fires.
func stNewStore(tb testing.TB, repo keys.Repository, opts keys.Options) *keys.Store {
	tb.Helper()
	if opts.FlushInterval == 0 {
		opts.FlushInterval = 24 * time.Hour
	}
	s, err := keys.NewStore(repo, opts)
	if err != nil {
		tb.Fatalf("NewStore: %v", err)
	}
	tb.Cleanup(func() {
		if err := s.Close(context.Background()); err != nil {
			tb.Errorf("Close: %v", err)
		}
	})
	return s
}

func stCreate(tb testing.TB, s *keys.Store, acct string, p keys.CreateParams) (keys.Key, string) {
	tb.Helper()
	k, tok, err := s.Create(context.Background(), acct, p)
	if err != nil {
		tb.Fatalf("Create(%q): %v", p.Name, err)
	}
	return k, tok.Reveal()
}

func stVerify(tb testing.TB, s *keys.Store, raw string) keys.Key {
	tb.Helper()
	k, err := s.Verify(context.Background(), raw)
	if err != nil {
		tb.Fatalf("Verify: %v", err)
	}
	return k
}

func stGet(tb testing.TB, s *keys.Store, acct, id string) keys.Key {
	tb.Helper()
	k, err := s.Get(context.Background(), acct, id)
	if err != nil {
		tb.Fatalf("Get: %v", err)
	}
	return k
}

// stWantErr fails unless errors.Is(err, want); want nil means no error.
func stWantErr(tb testing.TB, what string, err, want error) {
	tb.Helper()
	if want == nil && err != nil || !errors.Is(err, want) {
		tb.Errorf("%s: error %v, want %v", what, err, want)
	}
}

// stWantTime fails unless got is the instant want (nil: no instant).
func stWantTime(tb testing.TB, what string, got, want *time.Time) {
	tb.Helper()
	switch {
	case got == nil && want == nil:
	case got == nil || want == nil || !got.Equal(*want):
		tb.Errorf("%s = %s, want %s", what, stFmtTime(got), stFmtTime(want))
	}
}

func stFmtTime(t *time.Time) string {
	if t == nil {
		return "nil"
	}
	return t.Format(time.RFC3339Nano)
}

func stAt(d time.Duration) *time.Time {
	t := stT0.Add(d)
	return &t
}

// stKeyDiff describes how got differs from want, or returns "".
func stKeyDiff(got, want keys.Key) string {
	var diffs []string
	add := func(field string, g, w any) {
		diffs = append(diffs, fmt.Sprintf("%s = %v, want %v", field, g, w))
	}
	if got.ID != want.ID {
		add("ID", got.ID, want.ID)
	}
	if got.AccountID != want.AccountID {
		add("AccountID", got.AccountID, want.AccountID)
	}
	if got.Name != want.Name {
		add("Name", got.Name, want.Name)
	}
	if got.Prefix != want.Prefix {
		add("Prefix", got.Prefix, want.Prefix)
	}
	if got.Scopes != want.Scopes {
		add("Scopes", got.Scopes, want.Scopes)
	}
	if !bytes.Equal(got.Metadata, want.Metadata) {
		add("Metadata", string(got.Metadata), string(want.Metadata))
	}
	if got.RateLimit != want.RateLimit {
		add("RateLimit", got.RateLimit, want.RateLimit)
	}
	if !got.CreatedAt.Equal(want.CreatedAt) {
		add("CreatedAt", got.CreatedAt, want.CreatedAt)
	}
	for _, f := range []struct {
		name      string
		got, want *time.Time
	}{
		{"ExpiresAt", got.ExpiresAt, want.ExpiresAt},
		{"LastUsedAt", got.LastUsedAt, want.LastUsedAt},
		{"RevokedAt", got.RevokedAt, want.RevokedAt},
	} {
		if (f.got == nil) != (f.want == nil) || f.got != nil && !f.got.Equal(*f.want) {
			add(f.name, stFmtTime(f.got), stFmtTime(f.want))
		}
	}
	return strings.Join(diffs, "; ")
}

// stFake is a hand-written keys.Repository: each method counts its calls
// and runs the matching function field. A nil field fails the test.
type stFake struct {
	tb testing.TB

	insertKey    func(ctx context.Context, k keys.Key, hash [32]byte) error
	secretByHash func(ctx context.Context, hash [32]byte) (keys.Secret, error)
	keyByID      func(ctx context.Context, accountID, id string) (keys.Key, error)
	listKeys     func(ctx context.Context, accountID string, limit, offset int) ([]keys.Key, int, error)
	revokeKey    func(ctx context.Context, accountID, id string, at time.Time) (keys.Key, error)
	rotateKey    func(ctx context.Context, accountID, id string, newHash [32]byte, newPrefix string, oldUntil, at time.Time) (keys.Key, error)
	updateKey    func(ctx context.Context, accountID, id string, apply func(*keys.Key) error) (keys.Key, error)
	chargeKey    func(ctx context.Context, id string, apply func(*keys.Key) error) error
	touchKeys    func(ctx context.Context, used map[string]time.Time) error

	calls   atomic.Int64 // every method
	secrets atomic.Int64 // SecretByHash
	touches atomic.Int64 // TouchKeys
}

var _ keys.Repository = (*stFake)(nil)

// stCounting returns a stFake whose methods all call inner.
func stCounting(tb testing.TB, inner keys.Repository) *stFake {
	return &stFake{
		tb:           tb,
		insertKey:    inner.InsertKey,
		secretByHash: inner.SecretByHash,
		keyByID:      inner.KeyByID,
		listKeys:     inner.ListKeys,
		revokeKey:    inner.RevokeKey,
		rotateKey:    inner.RotateKey,
		updateKey:    inner.UpdateKey,
		chargeKey:    inner.ChargeKey,
		touchKeys:    inner.TouchKeys,
	}
}

func (f *stFake) unexpected(method string) error {
	f.tb.Errorf("unexpected repository call: %s", method)
	return fmt.Errorf("stFake: unexpected %s", method)
}

func (f *stFake) InsertKey(ctx context.Context, k keys.Key, hash [32]byte) error {
	f.calls.Add(1)
	if f.insertKey == nil {
		return f.unexpected("InsertKey")
	}
	return f.insertKey(ctx, k, hash)
}

func (f *stFake) SecretByHash(ctx context.Context, hash [32]byte) (keys.Secret, error) {
	f.calls.Add(1)
	f.secrets.Add(1)
	if f.secretByHash == nil {
		return keys.Secret{}, f.unexpected("SecretByHash")
	}
	return f.secretByHash(ctx, hash)
}

func (f *stFake) KeyByID(ctx context.Context, accountID, id string) (keys.Key, error) {
	f.calls.Add(1)
	if f.keyByID == nil {
		return keys.Key{}, f.unexpected("KeyByID")
	}
	return f.keyByID(ctx, accountID, id)
}

func (f *stFake) ListKeys(ctx context.Context, accountID string, limit, offset int) ([]keys.Key, int, error) {
	f.calls.Add(1)
	if f.listKeys == nil {
		return nil, 0, f.unexpected("ListKeys")
	}
	return f.listKeys(ctx, accountID, limit, offset)
}

func (f *stFake) RevokeKey(ctx context.Context, accountID, id string, at time.Time) (keys.Key, error) {
	f.calls.Add(1)
	if f.revokeKey == nil {
		return keys.Key{}, f.unexpected("RevokeKey")
	}
	return f.revokeKey(ctx, accountID, id, at)
}

func (f *stFake) RotateKey(ctx context.Context, accountID, id string, newHash [32]byte, newPrefix string, oldUntil, at time.Time) (keys.Key, error) {
	f.calls.Add(1)
	if f.rotateKey == nil {
		return keys.Key{}, f.unexpected("RotateKey")
	}
	return f.rotateKey(ctx, accountID, id, newHash, newPrefix, oldUntil, at)
}

func (f *stFake) UpdateKey(ctx context.Context, accountID, id string, apply func(*keys.Key) error) (keys.Key, error) {
	f.calls.Add(1)
	if f.updateKey == nil {
		return keys.Key{}, f.unexpected("UpdateKey")
	}
	return f.updateKey(ctx, accountID, id, apply)
}

func (f *stFake) ChargeKey(ctx context.Context, id string, apply func(*keys.Key) error) error {
	f.calls.Add(1)
	if f.chargeKey == nil {
		return f.unexpected("ChargeKey")
	}
	return f.chargeKey(ctx, id, apply)
}

func (f *stFake) TouchKeys(ctx context.Context, used map[string]time.Time) error {
	f.calls.Add(1)
	f.touches.Add(1)
	if f.touchKeys == nil {
		return f.unexpected("TouchKeys")
	}
	return f.touchKeys(ctx, used)
}

// stFindInDB looks for each needle in every column of every row of every
// table of the SQLite file at path, and in the bytes of every file of its
// directory (database, WAL, shared memory). It returns where each was found
// ("table.column" or a file name) and how many cells it read.
func stFindInDB(tb testing.TB, path string, needles ...string) (found map[string][]string, cells int) {
	tb.Helper()
	found = make(map[string][]string)
	db, err := sql.Open("sqlite3", "file:"+path+"?mode=ro")
	if err != nil {
		tb.Fatalf("sql.Open: %v", err)
	}
	defer db.Close()
	var tables []string
	rows, err := db.Query("SELECT name FROM sqlite_master WHERE type = 'table'")
	if err != nil {
		tb.Fatalf("listing tables: %v", err)
	}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			tb.Fatalf("listing tables: %v", err)
		}
		tables = append(tables, name)
	}
	if err := rows.Err(); err != nil {
		tb.Fatalf("listing tables: %v", err)
	}
	rows.Close()
	if len(tables) == 0 {
		tb.Fatalf("no tables in %s", path)
	}
	for _, table := range tables {
		rows, err := db.Query(`SELECT * FROM "` + table + `"`)
		if err != nil {
			tb.Fatalf("reading %s: %v", table, err)
		}
		cols, err := rows.Columns()
		if err != nil {
			tb.Fatalf("reading %s: %v", table, err)
		}
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				tb.Fatalf("reading %s: %v", table, err)
			}
			for i, v := range vals {
				var b []byte
				switch v := v.(type) {
				case string:
					b = []byte(v)
				case []byte:
					b = v
				default:
					continue
				}
				cells++
				for _, n := range needles {
					if bytes.Contains(b, []byte(n)) {
						found[n] = append(found[n], table+"."+cols[i])
					}
				}
			}
		}
		if err := rows.Err(); err != nil {
			tb.Fatalf("reading %s: %v", table, err)
		}
		rows.Close()
	}
	files, err := filepath.Glob(path + "*")
	if err != nil {
		tb.Fatal(err)
	}
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			tb.Fatal(err)
		}
		for _, n := range needles {
			if bytes.Contains(b, []byte(n)) {
				found[n] = append(found[n], "file "+filepath.Base(file))
			}
		}
	}
	return found, cells
}

func TestStoreCreateVerify(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		p    keys.CreateParams
	}{
		{"read key", keys.CreateParams{Name: "reader", Scopes: scopes.NewSet(scopes.Read)}},
		{"admin key", keys.CreateParams{Name: "ops", Scopes: scopes.NewSet(scopes.Admin)}},
		{"every field", keys.CreateParams{
			Name:      "agent",
			Scopes:    scopes.NewSet(scopes.Read, scopes.Write, scopes.Delete),
			ExpiresAt: stAt(48 * time.Hour),
			RateLimit: 120,
			Metadata:  []byte(`{"team":"search"}`),
		}},
		{"expiry below a millisecond in another zone", keys.CreateParams{
			Name:      "zoned",
			Scopes:    scopes.NewSet(scopes.Write),
			ExpiresAt: func() *time.Time { t := stT0.Add(time.Hour + 1234567).In(time.FixedZone("X", 5*3600)); return &t }(),
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := stOpenDB(t)
			clock := stNewClock()
			s := stNewStore(t, db.st.Keys(), keys.Options{Now: clock.Now})
			created, tok, err := s.Create(ctx, db.acct, tt.p)
			if err != nil {
				t.Fatalf("Create: %v", err)
			}
			raw := tok.Reveal()
			if !strings.HasPrefix(raw, "mem_live_") {
				t.Errorf("raw key %q… does not start with mem_live_", raw[:12])
			}

			want := keys.Key{
				ID:        created.ID,
				AccountID: db.acct,
				Name:      tt.p.Name,
				Prefix:    raw[:12],
				Scopes:    tt.p.Scopes,
				Metadata:  tt.p.Metadata,
				RateLimit: tt.p.RateLimit,
				CreatedAt: stT0,
			}
			if tt.p.ExpiresAt != nil {
				exp := tt.p.ExpiresAt.Truncate(time.Millisecond)
				want.ExpiresAt = &exp
			}
			if created.ID == "" {
				t.Error("Create returned an empty ID")
			}
			if d := stKeyDiff(created, want); d != "" {
				t.Errorf("Create: %s", d)
			}
			got := stVerify(t, s, raw)
			if d := stKeyDiff(got, want); d != "" {
				t.Errorf("Verify: %s", d)
			}
			// Get reports the unflushed use of the Verify above.
			want.LastUsedAt = stAt(0)
			if d := stKeyDiff(stGet(t, s, db.acct, created.ID), want); d != "" {
				t.Errorf("Get: %s", d)
			}

			body := raw[len("mem_live_") : len(raw)-6]
			found, cells := stFindInDB(t, db.path, raw, body, raw[:12])
			if cells == 0 {
				t.Fatal("found no text or blob cell to scan")
			}
			if len(found[raw[:12]]) == 0 {
				t.Error("the scan did not even find the prefix: it proves nothing")
			}
			if where := found[raw]; len(where) > 0 {
				t.Errorf("raw key stored in %v", where)
			}
			if where := found[body]; len(where) > 0 {
				t.Errorf("secret body stored in %v", where)
			}

			sdb, err := sql.Open("sqlite3", "file:"+db.path+"?mode=ro")
			if err != nil {
				t.Fatal(err)
			}
			defer sdb.Close()
			var hashes [][]byte
			rows, err := sdb.Query("SELECT hash FROM api_key_secrets WHERE key_id = ?", created.ID)
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var h []byte
				if err := rows.Scan(&h); err != nil {
					t.Fatal(err)
				}
				hashes = append(hashes, h)
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			sum := sha256.Sum256([]byte(raw))
			if len(hashes) != 1 || !bytes.Equal(hashes[0], sum[:]) {
				t.Errorf("stored hashes %x, want exactly sha256(raw) = %x", hashes, sum)
			}
		})
	}
}

func TestStoreCreateInvalid(t *testing.T) {
	tests := []struct {
		name string
		p    keys.CreateParams
	}{
		{"no scope", keys.CreateParams{Name: "x"}},
		{"only an undefined scope bit", keys.CreateParams{Name: "x", Scopes: scopes.Set(1 << 6)}},
		{"negative rate limit", keys.CreateParams{Name: "x", Scopes: scopes.NewSet(scopes.Read), RateLimit: -1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			repo := &stFake{tb: t} // any repository call fails the test
			s := stNewStore(t, repo, keys.Options{})
			if _, _, err := s.Create(context.Background(), "acct", tt.p); err == nil {
				t.Error("Create: no error")
			}
			tok, err := keys.Generate("live")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.Import(context.Background(), "acct", tok, tt.p); err == nil {
				t.Error("Import: no error")
			}
		})
	}
}

func TestStoreVerifyMalformed(t *testing.T) {
	tok, err := keys.Generate("live")
	if err != nil {
		t.Fatal(err)
	}
	raw := tok.Reveal()
	last := raw[len(raw)-1]
	other := byte('a')
	if last == 'a' {
		other = 'b'
	}
	tests := []struct {
		name, raw string
	}{
		{"empty", ""},
		{"garbage", "not a key at all"},
		{"bad checksum", raw[:len(raw)-1] + string(other)},
		{"leading space", " " + raw},
		{"trailing newline", raw + "\n"},
		{"uppercase env", "mem_LIVE_" + raw[len("mem_live_"):]},
		{"truncated", raw[:20]},
		{"too long", raw + strings.Repeat("a", 200)},
	}
	repo := &stFake{tb: t} // any repository call fails the test
	s := stNewStore(t, repo, keys.Options{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.Verify(context.Background(), tt.raw)
			stWantErr(t, "Verify", err, keys.ErrMalformed)
			if n := repo.calls.Load(); n != 0 {
				t.Errorf("%d repository calls, want none", n)
			}
		})
	}
}

func TestStoreVerifyNegativeCache(t *testing.T) {
	ctx := context.Background()
	notFound := func(context.Context, [32]byte) (keys.Secret, error) { return keys.Secret{}, keys.ErrNotFound }

	t.Run("unknown key remembered for NegativeTTL", func(t *testing.T) {
		clock := stNewClock()
		repo := &stFake{tb: t, secretByHash: notFound}
		s := stNewStore(t, repo, keys.Options{Now: clock.Now, NegativeTTL: 5 * time.Second, CacheTTL: time.Hour})
		tok, err := keys.Generate("live")
		if err != nil {
			t.Fatal(err)
		}
		steps := []struct {
			at        time.Duration
			wantCalls int64
		}{
			{0, 1},
			{0, 1},
			{5*time.Second - time.Millisecond, 1},
			{5 * time.Second, 2}, // the negative entry has expired
			{5*time.Second + time.Millisecond, 2},
			{10*time.Second - 1, 2},
			{10 * time.Second, 3},
		}
		for i, st := range steps {
			t.Run(fmt.Sprintf("%d at %v", i, st.at), func(t *testing.T) {
				clock.Set(st.at)
				_, err := s.Verify(ctx, tok.Reveal())
				stWantErr(t, "Verify", err, keys.ErrNotFound)
				if n := repo.secrets.Load(); n != st.wantCalls {
					t.Errorf("%d SecretByHash calls, want %d", n, st.wantCalls)
				}
			})
		}
	})

	t.Run("negative NegativeTTL disables", func(t *testing.T) {
		repo := &stFake{tb: t, secretByHash: notFound}
		s := stNewStore(t, repo, keys.Options{Now: stNewClock().Now, NegativeTTL: -1})
		tok, err := keys.Generate("live")
		if err != nil {
			t.Fatal(err)
		}
		for i := 1; i <= 3; i++ {
			_, err := s.Verify(ctx, tok.Reveal())
			stWantErr(t, "Verify", err, keys.ErrNotFound)
			if n := repo.secrets.Load(); n != int64(i) {
				t.Errorf("after %d Verify: %d SecretByHash calls", i, n)
			}
		}
	})

	t.Run("repository error returned and not cached", func(t *testing.T) {
		repo := &stFake{tb: t, secretByHash: func(context.Context, [32]byte) (keys.Secret, error) {
			return keys.Secret{}, fmt.Errorf("disk on fire: %w", errStBoom)
		}}
		s := stNewStore(t, repo, keys.Options{Now: stNewClock().Now})
		tok, err := keys.Generate("live")
		if err != nil {
			t.Fatal(err)
		}
		for i := 1; i <= 2; i++ {
			_, err := s.Verify(ctx, tok.Reveal())
			stWantErr(t, "Verify", err, errStBoom)
			if errors.Is(err, keys.ErrNotFound) {
				t.Errorf("Verify: %v is ErrNotFound", err)
			}
			if n := repo.secrets.Load(); n != int64(i) {
				t.Errorf("after %d Verify: %d SecretByHash calls", i, n)
			}
		}
	})

	t.Run("Import clears the negative entry", func(t *testing.T) {
		db := stOpenDB(t)
		s := stNewStore(t, db.st.Keys(), keys.Options{Now: stNewClock().Now, NegativeTTL: time.Hour})
		tok, err := keys.Generate("live")
		if err != nil {
			t.Fatal(err)
		}
		_, err = s.Verify(ctx, tok.Reveal())
		stWantErr(t, "Verify before Import", err, keys.ErrNotFound)
		k, err := s.Import(ctx, db.acct, tok, keys.CreateParams{Name: "boot", Scopes: scopes.NewSet(scopes.Admin)})
		if err != nil {
			t.Fatalf("Import: %v", err)
		}
		if got := stVerify(t, s, tok.Reveal()); got.ID != k.ID {
			t.Errorf("Verify after Import: ID %q, want %q", got.ID, k.ID)
		}
	})
}

func TestStoreVerifyCache(t *testing.T) {
	ctx := context.Background()

	t.Run("served from memory within CacheTTL", func(t *testing.T) {
		db := stOpenDB(t)
		clock := stNewClock()
		repo := stCounting(t, db.st.Keys())
		s := stNewStore(t, repo, keys.Options{Now: clock.Now, CacheTTL: time.Minute})
		k, raw := stCreate(t, s, db.acct, keys.CreateParams{Name: "k", Scopes: scopes.NewSet(scopes.Read)})
		steps := []struct {
			at        time.Duration
			wantCalls int64
		}{
			{0, 1},
			{0, 1},
			{time.Minute - time.Millisecond, 1},
			{time.Minute, 2}, // the entry has expired
			{time.Minute + time.Second, 2},
			{2 * time.Minute, 3},
		}
		for i, st := range steps {
			t.Run(fmt.Sprintf("%d at %v", i, st.at), func(t *testing.T) {
				clock.Set(st.at)
				if got := stVerify(t, s, raw); got.ID != k.ID {
					t.Errorf("Verify: ID %q, want %q", got.ID, k.ID)
				}
				if n := repo.secrets.Load(); n != st.wantCalls {
					t.Errorf("%d SecretByHash calls, want %d", n, st.wantCalls)
				}
			})
		}
	})

	t.Run("expiry enforced from the cached entry", func(t *testing.T) {
		db := stOpenDB(t)
		clock := stNewClock()
		repo := stCounting(t, db.st.Keys())
		s := stNewStore(t, repo, keys.Options{Now: clock.Now, CacheTTL: 24 * time.Hour})
		_, raw := stCreate(t, s, db.acct, keys.CreateParams{Name: "k", Scopes: scopes.NewSet(scopes.Read), ExpiresAt: stAt(time.Hour)})
		steps := []struct {
			at      time.Duration
			wantErr error
		}{
			{0, nil},
			{30 * time.Minute, nil},
			{time.Hour - time.Millisecond, nil},
			{time.Hour, keys.ErrExpired},
			{time.Hour + time.Millisecond, keys.ErrExpired},
			{2 * time.Hour, keys.ErrExpired},
		}
		for i, st := range steps {
			t.Run(fmt.Sprintf("%d at %v", i, st.at), func(t *testing.T) {
				clock.Set(st.at)
				_, err := s.Verify(ctx, raw)
				stWantErr(t, "Verify", err, st.wantErr)
				if n := repo.secrets.Load(); n != 1 {
					t.Errorf("%d SecretByHash calls, want 1", n)
				}
			})
		}
	})

	t.Run("negative CacheTTL disables", func(t *testing.T) {
		db := stOpenDB(t)
		repo := stCounting(t, db.st.Keys())
		s := stNewStore(t, repo, keys.Options{Now: stNewClock().Now, CacheTTL: -1})
		_, raw := stCreate(t, s, db.acct, keys.CreateParams{Name: "k", Scopes: scopes.NewSet(scopes.Read)})
		for i := 1; i <= 3; i++ {
			stVerify(t, s, raw)
			if n := repo.secrets.Load(); n != int64(i) {
				t.Errorf("after %d Verify: %d SecretByHash calls", i, n)
			}
		}
	})

	t.Run("CacheSize bounds the cache", func(t *testing.T) {
		db := stOpenDB(t)
		repo := stCounting(t, db.st.Keys())
		s := stNewStore(t, repo, keys.Options{Now: stNewClock().Now, CacheTTL: time.Hour, CacheSize: 1})
		_, raw1 := stCreate(t, s, db.acct, keys.CreateParams{Name: "one", Scopes: scopes.NewSet(scopes.Read)})
		_, raw2 := stCreate(t, s, db.acct, keys.CreateParams{Name: "two", Scopes: scopes.NewSet(scopes.Read)})
		for i := 1; i <= 6; i++ {
			raw := raw1
			if i%2 == 0 {
				raw = raw2
			}
			stVerify(t, s, raw)
			if n := repo.secrets.Load(); n != int64(i) {
				t.Errorf("after %d alternating Verify: %d SecretByHash calls, want %d (one entry fits)", i, n, i)
			}
		}
		stVerify(t, s, raw2)
		if n := repo.secrets.Load(); n != 6 {
			t.Errorf("repeating the last key: %d SecretByHash calls, want 6", n)
		}
	})
}

// TestStoreVerifyRacingInvalidation holds a Verify between its database read
// and its caching while the key changes, and checks that what it read is not
// cached: the next Verify must see the change.
func TestStoreVerifyRacingInvalidation(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		// setup returns the raw key to verify.
		setup func(t *testing.T, s *keys.Store, db *stDB) string
		// change runs while the first Verify is held.
		change func(t *testing.T, s *keys.Store, db *stDB, raw string)
		// firstErr is what the held Verify returns, nextErr the one after.
		firstErr, nextErr error
	}{
		{
			name: "Revoke",
			setup: func(t *testing.T, s *keys.Store, db *stDB) string {
				_, raw := stCreate(t, s, db.acct, keys.CreateParams{Name: "k", Scopes: scopes.NewSet(scopes.Read)})
				return raw
			},
			change: func(t *testing.T, s *keys.Store, db *stDB, raw string) {
				if _, err := s.Revoke(ctx, db.acct, stListOne(t, s, db.acct).ID); err != nil {
					t.Fatalf("Revoke: %v", err)
				}
			},
			nextErr: keys.ErrRevoked,
		},
		{
			name: "Rotate without grace",
			setup: func(t *testing.T, s *keys.Store, db *stDB) string {
				_, raw := stCreate(t, s, db.acct, keys.CreateParams{Name: "k", Scopes: scopes.NewSet(scopes.Read)})
				return raw
			},
			change: func(t *testing.T, s *keys.Store, db *stDB, raw string) {
				if _, _, err := s.Rotate(ctx, db.acct, stListOne(t, s, db.acct).ID, 0); err != nil {
					t.Fatalf("Rotate: %v", err)
				}
			},
			nextErr: keys.ErrRevoked,
		},
		{
			name: "Import",
			setup: func(t *testing.T, s *keys.Store, db *stDB) string {
				tok, err := keys.Generate("live")
				if err != nil {
					t.Fatal(err)
				}
				return tok.Reveal()
			},
			change: func(t *testing.T, s *keys.Store, db *stDB, raw string) {
				tok, err := keys.Parse(raw)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := s.Import(ctx, db.acct, tok, keys.CreateParams{Name: "k", Scopes: scopes.NewSet(scopes.Read)}); err != nil {
					t.Fatalf("Import: %v", err)
				}
			},
			firstErr: keys.ErrNotFound,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := stOpenDB(t)
			inner := db.st.Keys()
			repo := stCounting(t, inner)
			s := stNewStore(t, repo, keys.Options{Now: stNewClock().Now, CacheTTL: time.Hour, NegativeTTL: time.Hour})
			raw := tt.setup(t, s, db)

			read, release := make(chan struct{}), make(chan struct{})
			var once sync.Once
			repo.secretByHash = func(ctx context.Context, h [32]byte) (keys.Secret, error) {
				sec, err := inner.SecretByHash(ctx, h)
				once.Do(func() {
					close(read)
					<-release
				})
				return sec, err
			}
			first := make(chan error, 1)
			go func() {
				_, err := s.Verify(ctx, raw)
				first <- err
			}()
			<-read
			tt.change(t, s, db, raw)
			close(release)
			stWantErr(t, "held Verify", <-first, tt.firstErr)

			_, err := s.Verify(ctx, raw)
			stWantErr(t, "next Verify", err, tt.nextErr)
		})
	}
}

// stListOne returns the account's only key.
func stListOne(tb testing.TB, s *keys.Store, acct string) keys.Key {
	tb.Helper()
	ks, total, err := s.List(context.Background(), acct, 10, 0)
	if err != nil {
		tb.Fatalf("List: %v", err)
	}
	if total != 1 || len(ks) != 1 {
		tb.Fatalf("List: %d keys of %d, want 1", len(ks), total)
	}
	return ks[0]
}

func TestStoreRevoke(t *testing.T) {
	ctx := context.Background()
	read := scopes.NewSet(scopes.Read, scopes.Write)
	admin := scopes.NewSet(scopes.Admin)

	t.Run("next Verify fails at once", func(t *testing.T) {
		db := stOpenDB(t)
		clock := stNewClock()
		s := stNewStore(t, db.st.Keys(), keys.Options{Now: clock.Now, CacheTTL: 24 * time.Hour})
		k, raw := stCreate(t, s, db.acct, keys.CreateParams{Name: "agent", Scopes: read})
		stVerify(t, s, raw) // now cached for a day
		clock.Set(time.Minute)
		rk, err := s.Revoke(ctx, db.acct, k.ID)
		if err != nil {
			t.Fatalf("Revoke: %v", err)
		}
		stWantTime(t, "Revoke: RevokedAt", rk.RevokedAt, stAt(time.Minute))
		_, err = s.Verify(ctx, raw)
		stWantErr(t, "Verify after Revoke", err, keys.ErrRevoked)
		clock.Set(time.Hour)
		_, err = s.Verify(ctx, raw)
		stWantErr(t, "Verify an hour later", err, keys.ErrRevoked)
		stWantTime(t, "Get: RevokedAt", stGet(t, s, db.acct, k.ID).RevokedAt, stAt(time.Minute))
		// Another process (a fresh Store) sees it revoked too.
		other := stNewStore(t, stOpenSQLite(t, db.path).Keys(), keys.Options{Now: clock.Now})
		_, err = other.Verify(ctx, raw)
		stWantErr(t, "fresh Store: Verify", err, keys.ErrRevoked)
	})

	t.Run("another account's key", func(t *testing.T) {
		db := stOpenDB(t)
		other := db.newAccount(t, "other")
		s := stNewStore(t, db.st.Keys(), keys.Options{Now: stNewClock().Now})
		k, raw := stCreate(t, s, db.acct, keys.CreateParams{Name: "agent", Scopes: read})
		_, err := s.Revoke(ctx, other, k.ID)
		stWantErr(t, "Revoke from another account", err, keys.ErrNotFound)
		_, err = s.Get(ctx, other, k.ID)
		stWantErr(t, "Get from another account", err, keys.ErrNotFound)
		stVerify(t, s, raw)
		if got := stGet(t, s, db.acct, k.ID); got.RevokedAt != nil {
			t.Errorf("key revoked by another account at %s", stFmtTime(got.RevokedAt))
		}
	})

	t.Run("unknown id", func(t *testing.T) {
		db := stOpenDB(t)
		s := stNewStore(t, db.st.Keys(), keys.Options{})
		_, err := s.Revoke(ctx, db.acct, "00000000-0000-4000-8000-000000000000")
		stWantErr(t, "Revoke", err, keys.ErrNotFound)
	})

	t.Run("twice is idempotent", func(t *testing.T) {
		db := stOpenDB(t)
		clock := stNewClock()
		s := stNewStore(t, db.st.Keys(), keys.Options{Now: clock.Now})
		k, raw := stCreate(t, s, db.acct, keys.CreateParams{Name: "agent", Scopes: read})
		clock.Set(time.Minute)
		if _, err := s.Revoke(ctx, db.acct, k.ID); err != nil {
			t.Fatalf("first Revoke: %v", err)
		}
		clock.Set(time.Hour)
		rk, err := s.Revoke(ctx, db.acct, k.ID)
		if err != nil {
			t.Fatalf("second Revoke: %v", err)
		}
		stWantTime(t, "second Revoke: RevokedAt", rk.RevokedAt, stAt(time.Minute))
		stWantTime(t, "Get: RevokedAt", stGet(t, s, db.acct, k.ID).RevokedAt, stAt(time.Minute))
		_, err = s.Verify(ctx, raw)
		stWantErr(t, "Verify", err, keys.ErrRevoked)
	})

	// The last-admin rule: each row creates keys (an expiry is relative to
	// stT0; the clock then stands at stT0+2h) and revokes them in order.
	type newKey struct {
		scopes  scopes.Set
		expires time.Duration // 0: never
	}
	type revoke struct {
		key  int
		want error
	}
	lastAdmin := []struct {
		name    string
		keys    []newKey
		revokes []revoke
	}{
		{"one admin key", []newKey{{admin, 0}}, []revoke{{0, keys.ErrLastAdmin}}},
		{"two admin keys", []newKey{{admin, 0}, {admin, 0}}, []revoke{{0, nil}, {1, keys.ErrLastAdmin}, {0, nil}}},
		{"admin and read keys", []newKey{{admin, 0}, {read, 0}}, []revoke{{1, nil}, {0, keys.ErrLastAdmin}}},
		{"admin with other scopes", []newKey{{admin | read, 0}, {admin, 0}}, []revoke{{1, nil}, {0, keys.ErrLastAdmin}}},
		{"an expired admin key is not live", []newKey{{admin, 0}, {admin, time.Hour}}, []revoke{{0, keys.ErrLastAdmin}}},
		{"an expired admin key can be revoked", []newKey{{admin, time.Hour}}, []revoke{{0, nil}}},
		{"an admin key expiring later counts", []newKey{{admin, 0}, {admin, 3 * time.Hour}}, []revoke{{0, nil}, {1, keys.ErrLastAdmin}}},
	}
	for _, tt := range lastAdmin {
		t.Run("last admin/"+tt.name, func(t *testing.T) {
			db := stOpenDB(t)
			clock := stNewClock()
			s := stNewStore(t, db.st.Keys(), keys.Options{Now: clock.Now})
			var ids, raws []string
			for i, nk := range tt.keys {
				p := keys.CreateParams{Name: fmt.Sprint("key", i), Scopes: nk.scopes}
				if nk.expires != 0 {
					p.ExpiresAt = stAt(nk.expires)
				}
				k, raw := stCreate(t, s, db.acct, p)
				ids, raws = append(ids, k.ID), append(raws, raw)
			}
			clock.Set(2 * time.Hour)
			for i, r := range tt.revokes {
				_, err := s.Revoke(ctx, db.acct, ids[r.key])
				stWantErr(t, fmt.Sprintf("revoke #%d (key %d)", i, r.key), err, r.want)
				if errors.Is(r.want, keys.ErrLastAdmin) {
					if got := stGet(t, s, db.acct, ids[r.key]); got.RevokedAt != nil {
						t.Errorf("refused revoke #%d revoked the key anyway", i)
					}
					if tt.keys[r.key].expires == 0 {
						stVerify(t, s, raws[r.key])
					}
				}
			}
		})
	}
}

func TestStoreRotate(t *testing.T) {
	ctx := context.Background()
	params := keys.CreateParams{
		Name:      "agent",
		Scopes:    scopes.NewSet(scopes.Read, scopes.Write),
		ExpiresAt: stAt(72 * time.Hour),
		RateLimit: 60,
		Metadata:  []byte(`{"a":1}`),
	}

	t.Run("grace", func(t *testing.T) {
		db := stOpenDB(t)
		clock := stNewClock()
		s := stNewStore(t, db.st.Keys(), keys.Options{Now: clock.Now, CacheTTL: 24 * time.Hour})
		orig, oldRaw := stCreate(t, s, db.acct, params)
		stVerify(t, s, oldRaw) // cached for a day, with no end of grace

		clock.Set(time.Minute)
		rk, tok, err := s.Rotate(ctx, db.acct, orig.ID, time.Hour)
		if err != nil {
			t.Fatalf("Rotate: %v", err)
		}
		newRaw := tok.Reveal()
		if newRaw == oldRaw {
			t.Fatal("Rotate returned the old key")
		}
		want := orig
		want.Prefix = newRaw[:12]
		want.LastUsedAt = stAt(0)
		if d := stKeyDiff(rk, want); d != "" {
			t.Errorf("Rotate: %s", d)
		}
		if rk.Prefix == orig.Prefix {
			t.Errorf("Rotate kept the prefix %q", rk.Prefix)
		}
		// API.md §10.2: the old secret's deprecation and end of grace.
		if rk.DeprecatedAt == nil || !rk.DeprecatedAt.Equal(*stAt(time.Minute)) ||
			rk.GraceUntil == nil || !rk.GraceUntil.Equal(*stAt(time.Minute + time.Hour)) {
			t.Errorf("Rotate: DeprecatedAt %v, GraceUntil %v; want %v and %v", rk.DeprecatedAt, rk.GraceUntil, stAt(time.Minute), stAt(time.Minute+time.Hour))
		}
		if !rk.IsActive(stT0.Add(time.Minute)) || orig.DeprecatedAt != nil {
			t.Errorf("rotated key inactive, or a new key deprecated")
		}
		if d := stKeyDiff(stGet(t, s, db.acct, orig.ID), want); d != "" {
			t.Errorf("Get: %s", d)
		}

		steps := []struct {
			at             time.Duration
			oldErr, newErr error
		}{
			{time.Minute, nil, nil},
			{time.Hour, nil, nil},
			{time.Hour + time.Minute - time.Millisecond, nil, nil},
			{time.Hour + time.Minute, keys.ErrRevoked, nil}, // grace over
			{2 * time.Hour, keys.ErrRevoked, nil},
			{72 * time.Hour, keys.ErrRevoked, keys.ErrExpired}, // expiry kept
		}
		for i, st := range steps {
			t.Run(fmt.Sprintf("%d at %v", i, st.at), func(t *testing.T) {
				clock.Set(st.at)
				got, err := s.Verify(ctx, newRaw)
				stWantErr(t, "Verify new", err, st.newErr)
				if err == nil {
					want := orig
					want.Prefix = newRaw[:12]
					if d := stKeyDiff(got, want); d != "" {
						t.Errorf("Verify new: %s", d)
					}
				}
				got, err = s.Verify(ctx, oldRaw)
				stWantErr(t, "Verify old", err, st.oldErr)
				if err == nil && got.ID != orig.ID {
					t.Errorf("Verify old: ID %q, want %q", got.ID, orig.ID)
				}
			})
		}
	})

	t.Run("without grace", func(t *testing.T) {
		db := stOpenDB(t)
		clock := stNewClock()
		s := stNewStore(t, db.st.Keys(), keys.Options{Now: clock.Now, CacheTTL: 24 * time.Hour})
		k, oldRaw := stCreate(t, s, db.acct, params)
		stVerify(t, s, oldRaw)
		_, tok, err := s.Rotate(ctx, db.acct, k.ID, 0)
		if err != nil {
			t.Fatalf("Rotate: %v", err)
		}
		_, err = s.Verify(ctx, oldRaw)
		stWantErr(t, "Verify old", err, keys.ErrRevoked)
		stVerify(t, s, tok.Reveal())
	})

	t.Run("twice", func(t *testing.T) {
		// A second rotation ends the first one's grace no later than its own.
		db := stOpenDB(t)
		clock := stNewClock()
		s := stNewStore(t, db.st.Keys(), keys.Options{Now: clock.Now})
		k, raw1 := stCreate(t, s, db.acct, params)
		_, tok2, err := s.Rotate(ctx, db.acct, k.ID, 2*time.Hour)
		if err != nil {
			t.Fatalf("first Rotate: %v", err)
		}
		_, tok3, err := s.Rotate(ctx, db.acct, k.ID, 0)
		if err != nil {
			t.Fatalf("second Rotate: %v", err)
		}
		for _, c := range []struct {
			name, raw string
			want      error
		}{{"first", raw1, keys.ErrRevoked}, {"second", tok2.Reveal(), keys.ErrRevoked}, {"third", tok3.Reveal(), nil}} {
			_, err := s.Verify(ctx, c.raw)
			stWantErr(t, "Verify "+c.name, err, c.want)
		}
	})

	t.Run("grace bounds", func(t *testing.T) {
		tests := []struct {
			grace   time.Duration
			wantErr bool
		}{
			{-time.Nanosecond, true},
			{-time.Hour, true},
			{0, false},
			{keys.MaxGrace, false},
			{keys.MaxGrace + time.Nanosecond, true},
			{48 * time.Hour, true},
		}
		db := stOpenDB(t)
		s := stNewStore(t, db.st.Keys(), keys.Options{Now: stNewClock().Now})
		k, _ := stCreate(t, s, db.acct, params)
		for _, tt := range tests {
			t.Run(tt.grace.String(), func(t *testing.T) {
				_, tok, err := s.Rotate(ctx, db.acct, k.ID, tt.grace)
				if gotErr := err != nil; gotErr != tt.wantErr {
					t.Errorf("Rotate(grace %v): error %v, want error %v", tt.grace, err, tt.wantErr)
				}
				if err != nil && !tok.IsZero() {
					t.Error("Rotate failed but returned a token")
				}
			})
		}
	})

	t.Run("another account's key", func(t *testing.T) {
		db := stOpenDB(t)
		other := db.newAccount(t, "other")
		s := stNewStore(t, db.st.Keys(), keys.Options{Now: stNewClock().Now})
		k, raw := stCreate(t, s, db.acct, params)
		_, _, err := s.Rotate(ctx, other, k.ID, 0)
		stWantErr(t, "Rotate", err, keys.ErrNotFound)
		stVerify(t, s, raw)
		if got := stGet(t, s, db.acct, k.ID); got.Prefix != k.Prefix {
			t.Errorf("prefix changed to %q by a refused Rotate", got.Prefix)
		}
	})

	t.Run("revoked key", func(t *testing.T) {
		db := stOpenDB(t)
		s := stNewStore(t, db.st.Keys(), keys.Options{Now: stNewClock().Now})
		k, _ := stCreate(t, s, db.acct, params)
		if _, err := s.Revoke(ctx, db.acct, k.ID); err != nil {
			t.Fatalf("Revoke: %v", err)
		}
		_, _, err := s.Rotate(ctx, db.acct, k.ID, time.Hour)
		stWantErr(t, "Rotate", err, keys.ErrRevoked)
	})
}

func TestStoreLastUsed(t *testing.T) {
	ctx := context.Background()
	params := keys.CreateParams{Name: "agent", Scopes: scopes.NewSet(scopes.Read)}

	t.Run("in memory until Flush", func(t *testing.T) {
		db := stOpenDB(t)
		clock := stNewClock()
		repo := stCounting(t, db.st.Keys())
		s := stNewStore(t, repo, keys.Options{Now: clock.Now})
		k, raw := stCreate(t, s, db.acct, params)
		// Sub-millisecond parts are dropped, as in the database.
		clock.Set(time.Minute + 1500*time.Microsecond)
		for range 10 {
			stVerify(t, s, raw)
		}
		if n := repo.touches.Load(); n != 0 {
			t.Fatalf("%d TouchKeys calls before Flush, want 0", n)
		}
		want := stAt(time.Minute + time.Millisecond)
		stWantTime(t, "Get: LastUsedAt", stGet(t, s, db.acct, k.ID).LastUsedAt, want)
		stWantTime(t, "List: LastUsedAt", stListOne(t, s, db.acct).LastUsedAt, want)
		stWantTime(t, "database before Flush: LastUsedAt", stGet(t, db.fresh(t), db.acct, k.ID).LastUsedAt, nil)

		if err := s.Flush(ctx); err != nil {
			t.Fatalf("Flush: %v", err)
		}
		if n := repo.touches.Load(); n != 1 {
			t.Errorf("%d TouchKeys calls after Flush, want 1", n)
		}
		stWantTime(t, "database after Flush: LastUsedAt", stGet(t, db.fresh(t), db.acct, k.ID).LastUsedAt, want)

		// Nothing pending: no write.
		if err := s.Flush(ctx); err != nil {
			t.Fatalf("second Flush: %v", err)
		}
		if n := repo.touches.Load(); n != 1 {
			t.Errorf("%d TouchKeys calls after an empty Flush, want 1", n)
		}
	})

	t.Run("never moves backwards", func(t *testing.T) {
		db := stOpenDB(t)
		clock := stNewClock()
		repo := db.st.Keys()
		s := stNewStore(t, repo, keys.Options{Now: clock.Now})
		k, raw := stCreate(t, s, db.acct, params)
		clock.Set(2 * time.Hour)
		stVerify(t, s, raw)
		if err := s.Flush(ctx); err != nil {
			t.Fatalf("Flush: %v", err)
		}
		steps := []struct {
			name  string
			touch time.Duration
			want  time.Duration
		}{
			{"older", time.Hour, 2 * time.Hour},
			{"same", 2 * time.Hour, 2 * time.Hour},
			{"newer", 3 * time.Hour, 3 * time.Hour},
			{"older again", 2 * time.Hour, 3 * time.Hour},
		}
		for _, st := range steps {
			t.Run(st.name, func(t *testing.T) {
				if err := repo.TouchKeys(ctx, map[string]time.Time{k.ID: stT0.Add(st.touch)}); err != nil {
					t.Fatalf("TouchKeys: %v", err)
				}
				stWantTime(t, "LastUsedAt", stGet(t, db.fresh(t), db.acct, k.ID).LastUsedAt, stAt(st.want))
			})
		}

		// A use at an earlier instant (the clock went back) changes nothing,
		// in memory or once flushed.
		clock.Set(time.Hour)
		stVerify(t, s, raw)
		stWantTime(t, "Get after an older use: LastUsedAt", stGet(t, s, db.acct, k.ID).LastUsedAt, stAt(3*time.Hour))
		if err := s.Flush(ctx); err != nil {
			t.Fatalf("Flush: %v", err)
		}
		stWantTime(t, "database after an older use: LastUsedAt", stGet(t, db.fresh(t), db.acct, k.ID).LastUsedAt, stAt(3*time.Hour))
	})

	t.Run("Close flushes and is idempotent", func(t *testing.T) {
		db := stOpenDB(t)
		clock := stNewClock()
		repo := stCounting(t, db.st.Keys())
		s := stNewStore(t, repo, keys.Options{Now: clock.Now})
		k, raw := stCreate(t, s, db.acct, params)
		clock.Set(time.Minute)
		stVerify(t, s, raw)
		for i := 1; i <= 3; i++ {
			if err := s.Close(ctx); err != nil {
				t.Fatalf("Close #%d: %v", i, err)
			}
			if n := repo.touches.Load(); n != 1 {
				t.Errorf("after Close #%d: %d TouchKeys calls, want 1", i, n)
			}
		}
		stWantTime(t, "database after Close: LastUsedAt", stGet(t, db.fresh(t), db.acct, k.ID).LastUsedAt, stAt(time.Minute))
	})

	t.Run("a failed write keeps the pending uses", func(t *testing.T) {
		db := stOpenDB(t)
		clock := stNewClock()
		inner := db.st.Keys()
		repo := stCounting(t, inner)
		s := stNewStore(t, repo, keys.Options{Now: clock.Now})
		k1, raw1 := stCreate(t, s, db.acct, params)
		k2, raw2 := stCreate(t, s, db.acct, keys.CreateParams{Name: "other", Scopes: scopes.NewSet(scopes.Read)})

		var mu sync.Mutex
		var batches []map[string]time.Time
		var during func()
		fail := true
		repo.touchKeys = func(ctx context.Context, used map[string]time.Time) error {
			mu.Lock()
			batches = append(batches, maps.Clone(used))
			f, d := fail, during
			mu.Unlock()
			if d != nil {
				d()
			}
			if f {
				return fmt.Errorf("write: %w", errStBoom)
			}
			return inner.TouchKeys(ctx, used)
		}

		clock.Set(time.Minute)
		stVerify(t, s, raw1)
		stWantErr(t, "failing Flush", s.Flush(ctx), errStBoom)
		stWantTime(t, "Get after a failed Flush: LastUsedAt", stGet(t, s, db.acct, k1.ID).LastUsedAt, stAt(time.Minute))

		// A newer use recorded while the failing write runs wins over the
		// pending one put back.
		mu.Lock()
		during = func() {
			clock.Set(3 * time.Minute)
			stVerify(t, s, raw1)
		}
		mu.Unlock()
		clock.Set(2 * time.Minute)
		stVerify(t, s, raw2)
		stWantErr(t, "second failing Flush", s.Flush(ctx), errStBoom)

		mu.Lock()
		fail, during = false, nil
		mu.Unlock()
		if err := s.Flush(ctx); err != nil {
			t.Fatalf("Flush: %v", err)
		}
		mu.Lock()
		got := batches[len(batches)-1]
		mu.Unlock()
		want := map[string]time.Time{k1.ID: stT0.Add(3 * time.Minute), k2.ID: stT0.Add(2 * time.Minute)}
		if !maps.EqualFunc(got, want, time.Time.Equal) {
			t.Errorf("last batch written = %v, want %v", got, want)
		}
		fresh := db.fresh(t)
		stWantTime(t, "database: k1 LastUsedAt", stGet(t, fresh, db.acct, k1.ID).LastUsedAt, stAt(3*time.Minute))
		stWantTime(t, "database: k2 LastUsedAt", stGet(t, fresh, db.acct, k2.ID).LastUsedAt, stAt(2*time.Minute))
	})

	t.Run("the timer flushes and reports errors", func(t *testing.T) {
		// The one test on the real clock: it waits (without sleeping) for
		// the flush goroutine, which ticks every millisecond.
		db := stOpenDB(t)
		inner := db.st.Keys()
		repo := stCounting(t, inner)
		var failing atomic.Bool
		failing.Store(true)
		written := make(chan map[string]time.Time, 1)
		repo.touchKeys = func(ctx context.Context, used map[string]time.Time) error {
			if failing.Load() {
				return errStBoom
			}
			if err := inner.TouchKeys(ctx, used); err != nil {
				return err
			}
			select {
			case written <- maps.Clone(used):
			default:
			}
			return nil
		}
		flushErrs := make(chan error, 1)
		s := stNewStore(t, repo, keys.Options{
			FlushInterval: time.Millisecond,
			OnFlushError: func(err error) {
				select {
				case flushErrs <- err:
				default:
				}
			},
		})
		k, raw := stCreate(t, s, db.acct, params)
		stVerify(t, s, raw)
		select {
		case err := <-flushErrs:
			stWantErr(t, "OnFlushError", err, errStBoom)
		case <-time.After(10 * time.Second):
			t.Fatal("OnFlushError not called within 10s")
		}
		failing.Store(false)
		select {
		case got := <-written:
			if _, ok := got[k.ID]; !ok {
				t.Errorf("timer flushed %v, without key %s", got, k.ID)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("no flush within 10s")
		}
		if got := stGet(t, db.fresh(t), db.acct, k.ID).LastUsedAt; got == nil {
			t.Error("database: LastUsedAt not set by the timer")
		}
	})
}

func TestStoreConcurrentVerifyRevoke(t *testing.T) {
	const (
		goroutines = 8
		perG       = 500
	)
	tests := []struct {
		name     string
		cacheTTL time.Duration
		tick     time.Duration // the clock advances this much at every reading
	}{
		{"cached", time.Hour, 0},
		{"cache expiring", time.Millisecond, time.Microsecond},
		{"uncached", -1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			db := stOpenDB(t)
			var ticks atomic.Int64
			now := func() time.Time { return stT0.Add(time.Duration(ticks.Add(1)) * tt.tick) }
			s := stNewStore(t, db.st.Keys(), keys.Options{Now: now, CacheTTL: tt.cacheTTL})
			stCreate(t, s, db.acct, keys.CreateParams{Name: "admin", Scopes: scopes.NewSet(scopes.Admin)})
			var ids, raws []string
			for i := range 4 {
				k, raw := stCreate(t, s, db.acct, keys.CreateParams{Name: fmt.Sprint("agent", i), Scopes: scopes.NewSet(scopes.Read)})
				ids, raws = append(ids, k.ID), append(raws, raw)
			}
			const victim = 0

			var wg sync.WaitGroup
			start := make(chan struct{})
			halfway := make(chan struct{})
			var halfOnce sync.Once
			for g := range goroutines {
				wg.Go(func() {
					<-start
					for i := range perG {
						if g == 0 && i == perG/2 {
							halfOnce.Do(func() { close(halfway) })
						}
						j := (g + i) % len(raws)
						k, err := s.Verify(ctx, raws[j])
						switch {
						case j == victim && errors.Is(err, keys.ErrRevoked):
						case err != nil:
							t.Errorf("Verify key %d: %v", j, err)
							return
						case k.ID != ids[j]:
							t.Errorf("Verify key %d: ID %q, want %q", j, k.ID, ids[j])
							return
						}
					}
				})
			}
			wg.Go(func() {
				<-halfway
				if _, err := s.Revoke(ctx, db.acct, ids[victim]); err != nil {
					t.Errorf("Revoke: %v", err)
				}
			})
			close(start)
			wg.Wait()

			for j, raw := range raws {
				_, err := s.Verify(ctx, raw)
				if j == victim {
					stWantErr(t, "Verify the revoked key", err, keys.ErrRevoked)
				} else {
					stWantErr(t, fmt.Sprintf("Verify key %d", j), err, nil)
				}
			}
			if err := s.Flush(ctx); err != nil {
				t.Fatalf("Flush: %v", err)
			}
			ks, _, err := s.List(ctx, db.acct, 10, 0)
			if err != nil {
				t.Fatalf("List: %v", err)
			}
			for _, k := range ks {
				if k.Name != "admin" && k.LastUsedAt == nil {
					t.Errorf("key %s: no LastUsedAt after concurrent use", k.Name)
				}
			}
		})
	}
}

func TestNewStoreOptions(t *testing.T) {
	tests := []struct {
		name     string
		opts     keys.Options
		wantLead string // "" means NewStore must fail
	}{
		{"zero value", keys.Options{}, "mem_live_"},
		{"empty env is the default", keys.Options{Env: ""}, "mem_live_"},
		{"test env", keys.Options{Env: "test"}, "mem_test_"},
		{"eight letters", keys.Options{Env: "abcdefgh"}, "mem_abcdefgh_"},
		{"uppercase env", keys.Options{Env: "LIVE"}, ""},
		{"env too long", keys.Options{Env: "toolongenv"}, ""},
		{"env with digit", keys.Options{Env: "l1ve"}, ""},
		{"env with underscore", keys.Options{Env: "li_ve"}, ""},
		{"env with space", keys.Options{Env: "live "}, ""},
		{"negative CacheSize", keys.Options{CacheSize: -1}, ""},
		{"negative FlushInterval", keys.Options{FlushInterval: -time.Second}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			repo := &stFake{tb: t, insertKey: func(context.Context, keys.Key, [32]byte) error { return nil }}
			s, err := keys.NewStore(repo, tt.opts)
			if tt.wantLead == "" {
				if err == nil {
					s.Close(context.Background())
					t.Fatal("NewStore: no error")
				}
				if !strings.HasPrefix(err.Error(), "keys: ") {
					t.Errorf("error %q lacks the package prefix", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("NewStore: %v", err)
			}
			defer s.Close(context.Background())
			_, tok, err := s.Create(context.Background(), "acct", keys.CreateParams{Name: "k", Scopes: scopes.NewSet(scopes.Read)})
			if err != nil {
				t.Fatalf("Create: %v", err)
			}
			if !strings.HasPrefix(tok.Reveal(), tt.wantLead) {
				t.Errorf("key %v does not start with %q", tok, tt.wantLead)
			}
		})
	}
}

func BenchmarkVerifyCached(b *testing.B) {
	ctx := context.Background()
	db := stOpenDB(b)
	s := stNewStore(b, db.st.Keys(), keys.Options{CacheTTL: time.Hour})
	_, raw := stCreate(b, s, db.acct, keys.CreateParams{Name: "bench", Scopes: scopes.NewSet(scopes.Read)})
	stVerify(b, s, raw) // warm the cache

	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := s.Verify(ctx, raw); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := s.Verify(ctx, raw); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}
