package keysync_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/memoryrelay/memoryrelay/internal/keysync"
	"github.com/memoryrelay/memoryrelay/internal/redistest"
	"github.com/memoryrelay/memoryrelay/keys"
	"github.com/memoryrelay/memoryrelay/scopes"
)

// repo is an in-memory keys.Repository shared by the nodes of a test, as
// their database would be: what is under test is each node's cache.
type repo struct {
	mu      sync.Mutex
	keys    map[string]keys.Key // by id
	secrets map[[32]byte]keys.Secret
}

func newRepo() *repo {
	return &repo{keys: map[string]keys.Key{}, secrets: map[[32]byte]keys.Secret{}}
}

func (r *repo) InsertKey(ctx context.Context, k keys.Key, hash [32]byte) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.keys[k.ID] = k
	r.secrets[hash] = keys.Secret{Key: k}
	return nil
}

func (r *repo) SecretByHash(ctx context.Context, hash [32]byte) (keys.Secret, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s, ok := r.secrets[hash]
	if !ok {
		return keys.Secret{}, keys.ErrNotFound
	}
	s.Key = r.keys[s.Key.ID]
	return s, nil
}

func (r *repo) KeyByID(ctx context.Context, accountID, id string) (keys.Key, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	k, ok := r.keys[id]
	if !ok || k.AccountID != accountID {
		return keys.Key{}, keys.ErrNotFound
	}
	return k, nil
}

func (r *repo) ListKeys(ctx context.Context, accountID string, limit, offset int) ([]keys.Key, int, error) {
	return nil, 0, errors.New("not used")
}

func (r *repo) RevokeKey(ctx context.Context, accountID, id string, at time.Time) (keys.Key, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	k, ok := r.keys[id]
	if !ok || k.AccountID != accountID {
		return keys.Key{}, keys.ErrNotFound
	}
	if k.RevokedAt == nil {
		k.RevokedAt = &at
		r.keys[id] = k
	}
	return k, nil
}

func (r *repo) RotateKey(ctx context.Context, accountID, id string, newHash [32]byte, newPrefix string, oldUntil, _ time.Time) (keys.Key, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	k, ok := r.keys[id]
	if !ok || k.AccountID != accountID {
		return keys.Key{}, keys.ErrNotFound
	}
	for h, s := range r.secrets {
		if s.Key.ID == id && s.ValidUntil == nil {
			s.ValidUntil = &oldUntil
			r.secrets[h] = s
		}
	}
	k.Prefix = newPrefix
	r.keys[id] = k
	r.secrets[newHash] = keys.Secret{Key: k}
	return k, nil
}

func (r *repo) TouchKeys(ctx context.Context, used map[string]time.Time) error { return nil }

func (r *repo) UpdateKey(context.Context, string, string, func(*keys.Key) error) (keys.Key, error) {
	return keys.Key{}, errors.New("not used")
}

func (r *repo) ChargeKey(context.Context, string, func(*keys.Key) error) error {
	return errors.New("not used")
}

// node is one process: a key store whose cache a bus keeps exact.
type node struct {
	keys *keys.Store
	bus  *keysync.Bus
}

func newNode(tb testing.TB, r *repo, srv *redistest.Server, opts keysync.Options) node {
	tb.Helper()
	c := redis.NewClient(&redis.Options{Addr: srv.Addr(), MaxRetries: -1, ContextTimeoutEnabled: true})
	tb.Cleanup(func() { c.Close() })
	bus, err := keysync.New(c, opts)
	if err != nil {
		tb.Fatal(err)
	}
	st, err := keys.NewStore(r, keys.Options{CacheTTL: time.Hour, NegativeTTL: time.Hour, OnInvalidate: bus.Publish})
	if err != nil {
		tb.Fatal(err)
	}
	bus.Start(st)
	tb.Cleanup(func() {
		bus.Close()
		st.Close(context.Background())
	})
	return node{keys: st, bus: bus}
}

// waitUp waits until every node's subscription is up.
func waitUp(tb testing.TB, nodes ...node) {
	tb.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for _, n := range nodes {
		for n.bus.Health() != nil {
			if time.Now().After(deadline) {
				tb.Fatalf("subscription not up after 10 s: %v", n.bus.Health())
			}
			time.Sleep(time.Millisecond)
		}
	}
}

// refusedWithin polls Verify on n until raw is refused with want, and
// returns how long that took; it fails tb after limit.
func refusedWithin(tb testing.TB, n node, raw string, want error, limit time.Duration) time.Duration {
	tb.Helper()
	start := time.Now()
	for {
		_, err := n.keys.Verify(context.Background(), raw)
		if errors.Is(err, want) {
			return time.Since(start)
		}
		if err != nil {
			tb.Fatalf("Verify: %v", err)
		}
		if time.Since(start) > limit {
			tb.Fatalf("key still accepted %v after the change; want refused (%v) within %v", time.Since(start), want, limit)
		}
		time.Sleep(100 * time.Microsecond)
	}
}

var read = scopes.NewSet(scopes.Read)

// TestRevocationReachesEveryNode: a key revoked on node A is refused by
// nodes B and C, whose caches held it for an hour, within a second; the
// time is measured (median and worst of 20 revocations).
func TestRevocationReachesEveryNode(t *testing.T) {
	srv := redistest.Start(t)
	r := newRepo()
	a, b, c := newNode(t, r, srv, keysync.Options{}), newNode(t, r, srv, keysync.Options{}), newNode(t, r, srv, keysync.Options{})
	waitUp(t, a, b, c)
	ctx := context.Background()
	var took []time.Duration
	for i := range 20 {
		k, tok, err := a.keys.Create(ctx, "acct", keys.CreateParams{Name: fmt.Sprint("k", i), Scopes: read})
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range []node{b, c} {
			if _, err := n.keys.Verify(ctx, tok.Reveal()); err != nil { // now cached for an hour
				t.Fatal(err)
			}
		}
		start := time.Now()
		if _, err := a.keys.Revoke(ctx, "acct", k.ID); err != nil {
			t.Fatal(err)
		}
		revoked := time.Since(start)
		for _, n := range []node{b, c} {
			took = append(took, revoked+refusedWithin(t, n, tok.Reveal(), keys.ErrRevoked, time.Second))
		}
	}
	sort.Slice(took, func(i, j int) bool { return took[i] < took[j] })
	t.Logf("revocation on A refused by B and C after: median %v, max %v (%d measurements)", took[len(took)/2], took[len(took)-1], len(took))
}

// TestRotationReachesEveryNode: after a rotation without grace, another
// node refuses the old secret within a second and accepts the new one.
func TestRotationReachesEveryNode(t *testing.T) {
	srv := redistest.Start(t)
	r := newRepo()
	a, b := newNode(t, r, srv, keysync.Options{}), newNode(t, r, srv, keysync.Options{})
	waitUp(t, a, b)
	ctx := context.Background()
	k, tok, err := a.keys.Create(ctx, "acct", keys.CreateParams{Name: "k", Scopes: read})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.keys.Verify(ctx, tok.Reveal()); err != nil {
		t.Fatal(err)
	}
	_, fresh, err := a.keys.Rotate(ctx, "acct", k.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	refusedWithin(t, b, tok.Reveal(), keys.ErrRevoked, time.Second)
	if _, err := b.keys.Verify(ctx, fresh.Reveal()); err != nil {
		t.Fatalf("new secret on B: %v", err)
	}
}

// TestRedisOutage: while Redis is down, node B cannot hear of a
// revocation on A; once Redis is back, B refuses the key (it emptied its
// cache on subscribing again, and A published "*" for the message it
// could not send). Health reports the outage.
func TestRedisOutage(t *testing.T) {
	srv := redistest.Start(t)
	r := newRepo()
	opts := keysync.Options{PingInterval: 50 * time.Millisecond}
	a, b := newNode(t, r, srv, opts), newNode(t, r, srv, opts)
	waitUp(t, a, b)
	ctx := context.Background()
	k, tok, err := a.keys.Create(ctx, "acct", keys.CreateParams{Name: "k", Scopes: read})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.keys.Verify(ctx, tok.Reveal()); err != nil {
		t.Fatal(err)
	}
	srv.Kill(t)
	if _, err := a.keys.Revoke(ctx, "acct", k.ID); err != nil {
		t.Fatal(err) // the revocation itself does not need Redis
	}
	if _, err := b.keys.Verify(ctx, tok.Reveal()); err != nil {
		t.Fatalf("B before Redis is back: %v; want the cached key (B cannot know yet)", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for b.bus.Health() == nil {
		if time.Now().After(deadline) {
			t.Fatal("B's Health still nil 10 s after Redis died")
		}
		time.Sleep(5 * time.Millisecond)
	}
	srv.Restart(t)
	back := time.Now()
	refusedWithin(t, b, tok.Reveal(), keys.ErrRevoked, 5*time.Second)
	t.Logf("refused by B %v after Redis restarted", time.Since(back))
	waitUp(t, a, b)
}

// TestPublisherMissedOnly: only A's publication fails (B's subscription
// never drops); A publishes "*" once Redis answers it again, and B forgets.
func TestPublisherMissedOnly(t *testing.T) {
	srv := redistest.Start(t)
	r := newRepo()
	// A's bus publishes through a client whose every command fails until
	// the test lets it through.
	b := newNode(t, r, srv, keysync.Options{})
	var blocked flag
	blocked.set(true)
	ca := redis.NewClient(&redis.Options{Addr: srv.Addr(), MaxRetries: -1, ContextTimeoutEnabled: true})
	ca.AddHook(failHook{blocked: &blocked})
	t.Cleanup(func() { ca.Close() })
	bus, err := keysync.New(ca, keysync.Options{PingInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	st, err := keys.NewStore(r, keys.Options{CacheTTL: time.Hour, OnInvalidate: bus.Publish})
	if err != nil {
		t.Fatal(err)
	}
	bus.Start(st)
	t.Cleanup(func() { bus.Close(); st.Close(context.Background()) })
	a := node{keys: st, bus: bus}
	waitUp(t, a, b)
	ctx := context.Background()
	k, tok, err := a.keys.Create(ctx, "acct", keys.CreateParams{Name: "k", Scopes: read})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.keys.Verify(ctx, tok.Reveal()); err != nil {
		t.Fatal(err)
	}
	if _, err := a.keys.Revoke(ctx, "acct", k.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := b.keys.Verify(ctx, tok.Reveal()); err != nil {
		t.Fatalf("B while A cannot publish: %v; want the cached key", err)
	}
	blocked.set(false)
	refusedWithin(t, b, tok.Reveal(), keys.ErrRevoked, 2*time.Second)
}

type flag struct {
	mu sync.Mutex
	v  bool
}

func (b *flag) set(v bool) { b.mu.Lock(); b.v = v; b.mu.Unlock() }
func (b *flag) get() bool  { b.mu.Lock(); defer b.mu.Unlock(); return b.v }

// failHook fails PUBLISH while blocked.
type failHook struct{ blocked *flag }

func (failHook) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h failHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if cmd.Name() == "publish" && h.blocked.get() {
			return errors.New("test: publication blocked")
		}
		return next(ctx, cmd)
	}
}
func (failHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

// fakeCache records what the bus asks of it.
type fakeCache struct {
	mu     sync.Mutex
	ids    []string
	allCnt int
}

func (f *fakeCache) Forget(id string) { f.mu.Lock(); f.ids = append(f.ids, id); f.mu.Unlock() }
func (f *fakeCache) ForgetAll()       { f.mu.Lock(); f.allCnt++; f.mu.Unlock() }

// TestMessages: a subscription empties the cache once; an id forgets that
// id; "*" forgets all. Close stops the goroutine and is idempotent.
func TestMessages(t *testing.T) {
	srv := redistest.Start(t)
	c := redis.NewClient(&redis.Options{Addr: srv.Addr(), ContextTimeoutEnabled: true})
	defer c.Close()
	bus, err := keysync.New(c, keysync.Options{Channel: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if bus.Health() == nil {
		t.Error("Health nil before Start")
	}
	var fc fakeCache
	bus.Start(&fc)
	deadline := time.Now().Add(10 * time.Second)
	for bus.Health() != nil && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	ctx := context.Background()
	for _, m := range []string{"id1", "*", "id2"} {
		if err := c.Publish(ctx, "test", m).Err(); err != nil {
			t.Fatal(err)
		}
	}
	for {
		fc.mu.Lock()
		ids, n := slices.Clone(fc.ids), fc.allCnt
		fc.mu.Unlock()
		if len(ids) == 2 && n == 2 {
			if !slices.Equal(ids, []string{"id1", "id2"}) {
				t.Fatalf("forgot %v; want [id1 id2]", ids)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 10 s: forgot %v, ForgetAll %d times; want [id1 id2] and 2 (subscription, *)", ids, n)
		}
		time.Sleep(time.Millisecond)
	}
	start := time.Now()
	bus.Close()
	if took := time.Since(start); took > time.Second {
		t.Errorf("Close took %v", took)
	}
	bus.Close()
	bus.Start(&fc) // after Close: nothing
}
