package keys

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/memoryrelay/memoryrelay/internal/storedjson"
	"github.com/memoryrelay/memoryrelay/internal/uuid"
	"github.com/memoryrelay/memoryrelay/scopes"
)

// Errors returned by [Store]. ErrMalformed (from [Parse]) and
// *[InvalidError] (a field refused by Create, Import or Rotate) are
// returned too.
var (
	ErrNotFound  = errors.New("keys: key not found")
	ErrRevoked   = errors.New("keys: key revoked")
	ErrExpired   = errors.New("keys: key expired")
	ErrLastAdmin = errors.New("keys: cannot revoke the account's last admin key")
)

// Defaults for [Options].
const (
	DefaultEnv           = "live"
	DefaultCacheTTL      = 30 * time.Second
	DefaultNegativeTTL   = 5 * time.Second
	DefaultCacheSize     = 10_000
	DefaultFlushInterval = 10 * time.Second
)

// Key is what is known about an API key: everything but the secret.
type Key struct {
	ID         string
	AccountID  string
	Name       string
	Prefix     string     // first 12 characters of the raw key, for display
	Scopes     scopes.Set // what the key may do
	Metadata   []byte     // JSON object; nil means {}
	RateLimit  int        // requests per minute; 0 means the server default
	CreatedAt  time.Time
	ExpiresAt  *time.Time // nil: never expires
	LastUsedAt *time.Time // nil: never used
	RevokedAt  *time.Time // nil: not revoked
	// GraceUntil is, after a rotation, when the secrets the key had
	// before it stop (or stopped) working; nil if it was never rotated or
	// the repository does not report it. The key is in its rotation
	// grace while GraceUntil is in the future. It is the auto_revoke_at
	// of API.md §10.2.
	GraceUntil *time.Time
	// DeprecatedAt is when the key was last rotated (API.md §10.2
	// deprecated_at); nil if it never was.
	DeprecatedAt *time.Time
	// DailySpendLimit and MonthlySpendLimit bound what the key's requests
	// may cost the server per UTC day and month, in USD (API.md §10.2);
	// nil is unlimited.
	DailySpendLimit   *float64
	MonthlySpendLimit *float64
	// Spend is what the key's requests cost, as stored ([Spend.At] gives
	// the current periods').
	Spend Spend
}

// Spend is what a key's requests cost the server in one UTC day and one
// UTC month, in nano-USD (1e-9 USD).
type Spend struct {
	Day       string // the UTC day DayNano sums, "2006-01-02"; "" none
	DayNano   int64
	Month     string // the UTC month MonthNano sums, "2006-01"; "" none
	MonthNano int64
}

// Layouts of Spend's periods.
const (
	DayLayout   = "2006-01-02"
	MonthLayout = "2006-01"
)

// At returns what was spent on now's UTC day and month: 0 for a period
// that has ended.
func (s Spend) At(now time.Time) (day, month int64) {
	now = now.UTC()
	if s.Day == now.Format(DayLayout) {
		day = s.DayNano
	}
	if s.Month == now.Format(MonthLayout) {
		month = s.MonthNano
	}
	return day, month
}

// IsActive reports whether the key works at instant now: not revoked and
// not expired.
func (k Key) IsActive(now time.Time) bool {
	if k.RevokedAt != nil && !now.Before(*k.RevokedAt) {
		return false
	}
	return k.ExpiresAt == nil || now.Before(*k.ExpiresAt)
}

// Secret is one stored hash of a key. After a rotation the old secret
// stays valid until ValidUntil; the current one has a nil ValidUntil.
type Secret struct {
	Key        Key
	ValidUntil *time.Time
}

// Repository is the persistence a [Store] needs. Implementations keep every
// query inside one account and store only hashes.
type Repository interface {
	InsertKey(ctx context.Context, k Key, hash [32]byte) error
	// SecretByHash returns ErrNotFound for an unknown hash.
	SecretByHash(ctx context.Context, hash [32]byte) (Secret, error)
	// KeyByID returns ErrNotFound when the key is not in the account.
	KeyByID(ctx context.Context, accountID, id string) (Key, error)
	ListKeys(ctx context.Context, accountID string, limit, offset int) (keys []Key, total int, err error)
	// RevokeKey returns ErrLastAdmin rather than revoke the account's
	// last live admin key; revoking a revoked key returns it unchanged.
	RevokeKey(ctx context.Context, accountID, id string, at time.Time) (Key, error)
	// RotateKey adds newHash as the key's current secret, makes the
	// secrets it had valid until oldUntil at the latest and records at as
	// the rotation's time (Key.DeprecatedAt).
	RotateKey(ctx context.Context, accountID, id string, newHash [32]byte, newPrefix string, oldUntil, at time.Time) (Key, error)
	// UpdateKey changes the account's key by apply inside one transaction
	// and stores its Name, Metadata and spend limits; ErrNotFound if the
	// key is not in the account.
	UpdateKey(ctx context.Context, accountID, id string, apply func(*Key) error) (Key, error)
	// ChargeKey reads the key, lets apply change its Spend (or refuse,
	// with an error returned as it is), and stores the new Spend, in one
	// transaction; ErrNotFound for an unknown key.
	ChargeKey(ctx context.Context, id string, apply func(*Key) error) error
	// TouchKeys raises last_used_at to the given instants; never lowers it.
	TouchKeys(ctx context.Context, used map[string]time.Time) error
}

// Options configures a [Store]. The zero value is usable.
type Options struct {
	Env           string           // env part of new keys (mem_<env>_…); default "live"
	CacheTTL      time.Duration    // how long a verified key is served from memory; default 30s; negative disables
	NegativeTTL   time.Duration    // how long an unknown key is remembered as unknown; default 5s; negative disables
	CacheSize     int              // entries at most in the verification cache; default 10,000
	FlushInterval time.Duration    // how often last_used_at is written; default 10s
	Now           func() time.Time // clock; default time.Now
	// OnFlushError is told when writing last_used_at fails; default: ignore.
	OnFlushError func(error)
	// OnInvalidate is told the id of a key that Revoke or Rotate changed,
	// after the change is stored and this Store's cache cleared, so that
	// other processes sharing the repository can drop it from their caches
	// (calling [Store.Forget]) rather than serve it for up to CacheTTL. It
	// runs in the caller's goroutine, with its context. Default: nothing.
	OnInvalidate func(ctx context.Context, id string)
}

// CreateParams describes a new key. Create and Import refuse, with an
// *[InvalidError], fields outside these rules.
type CreateParams struct {
	Name      string     // up to MaxName characters of valid UTF-8; "": DefaultName of the key's prefix
	Scopes    scopes.Set // required: not empty, defined scopes only
	ExpiresAt *time.Time // optional: after the store's clock (in milliseconds); nil never expires
	RateLimit int        // requests per minute, 0 to MaxRateLimit; 0: the server's default
	Metadata  []byte     // optional: a JSON object of at most MaxMetadataSize bytes compacted; stored compacted
	// DailySpendLimit and MonthlySpendLimit, in USD, are 0 to
	// MaxSpendLimit; nil is unlimited.
	DailySpendLimit   *float64
	MonthlySpendLimit *float64
}

// UpdateParams changes a key (API.md §10.2 PATCH): nil fields are left
// as they are; a limit's Set changes it (to nil: unlimited).
type UpdateParams struct {
	Name              *string // 1 to MaxName characters
	Metadata          []byte  // a JSON object, replacing the stored one
	DailySpendLimit   LimitChange
	MonthlySpendLimit LimitChange
}

// LimitChange is a change of a spend limit: when Set, the limit becomes
// USD (nil: unlimited).
type LimitChange struct {
	Set bool
	USD *float64
}

// Store creates and verifies keys. Verification is served from a cache
// keyed by the key's hash (with negative caching of unknown keys); Revoke and
// Rotate clear it at once for this process, while other processes sharing
// the database see a change within CacheTTL, or at once if they are told
// (Options.OnInvalidate on this one, [Store.Forget] on theirs). last_used_at is kept in memory
// and written in batches every FlushInterval and at Close.
//
// A Store is safe for concurrent use. Close stops its flush goroutine.
type Store struct {
	repo Repository
	opts Options

	mu    sync.RWMutex
	cache map[[32]byte]cacheEntry
	// gen counts invalidations (Import, Revoke, Rotate). A verification
	// caches what it read only if gen did not move meanwhile, so a read
	// that raced an invalidation cannot put a stale entry back.
	gen uint64

	usedMu sync.Mutex
	used   map[string]time.Time

	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
}

type cacheEntry struct {
	secret  Secret
	err     error // ErrNotFound for a negative entry
	expires time.Time
}

// NewStore returns a Store over repo and starts its flush timer.
func NewStore(repo Repository, opts Options) (*Store, error) {
	if opts.Env == "" {
		opts.Env = DefaultEnv
	}
	if !tokenEnvOK(opts.Env) {
		return nil, fmt.Errorf("keys: env %q must be 1-8 lowercase letters", opts.Env)
	}
	if opts.CacheTTL == 0 {
		opts.CacheTTL = DefaultCacheTTL
	}
	if opts.NegativeTTL == 0 {
		opts.NegativeTTL = DefaultNegativeTTL
	}
	if opts.CacheSize == 0 {
		opts.CacheSize = DefaultCacheSize
	}
	if opts.FlushInterval == 0 {
		opts.FlushInterval = DefaultFlushInterval
	}
	if opts.CacheSize < 0 || opts.FlushInterval < 0 {
		return nil, errors.New("keys: negative CacheSize or FlushInterval")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Store{
		repo:  repo,
		opts:  opts,
		cache: make(map[[32]byte]cacheEntry),
		used:  make(map[string]time.Time),
		stop:  make(chan struct{}),
		done:  make(chan struct{}),
	}
	go s.flushLoop()
	return s, nil
}

// Create stores a new key for the account and returns it with its token.
// The token is the only copy of the secret: only its hash is stored. A
// field outside the rules of [CreateParams] is an *[InvalidError] and
// nothing is stored.
func (s *Store) Create(ctx context.Context, accountID string, p CreateParams) (Key, Token, error) {
	if _, err := p.normalize(s.opts.Now()); err != nil {
		return Key{}, Token{}, err
	}
	tok, err := Generate(s.opts.Env)
	if err != nil {
		return Key{}, Token{}, err
	}
	k, err := s.Import(ctx, accountID, tok, p)
	return k, tok, err
}

// Import stores a key whose token the caller already has (for example a
// bootstrap key given in configuration). The token must be well formed;
// the fields follow the rules of [CreateParams], as for Create.
func (s *Store) Import(ctx context.Context, accountID string, tok Token, p CreateParams) (Key, error) {
	now := s.opts.Now()
	p, err := p.normalize(now)
	if err != nil {
		return Key{}, err
	}
	now = now.UTC().Truncate(time.Millisecond)
	if p.Name == "" {
		p.Name = DefaultName(tok.Prefix())
	}
	k := Key{
		ID:        uuid.New(),
		AccountID: accountID,
		Name:      p.Name,
		Prefix:    tok.Prefix(),
		Scopes:    p.Scopes,
		Metadata:  p.Metadata,
		RateLimit: p.RateLimit,
		CreatedAt: now,
		ExpiresAt: p.ExpiresAt,

		DailySpendLimit:   p.DailySpendLimit,
		MonthlySpendLimit: p.MonthlySpendLimit,
	}
	h := tok.Hash()
	if err := s.repo.InsertKey(ctx, k, h); err != nil {
		return Key{}, err
	}
	s.mu.Lock()
	s.gen++
	delete(s.cache, h)
	s.mu.Unlock()
	return k, nil
}

// Verify checks a raw key and returns it. Errors: ErrMalformed (checked with
// no database work), ErrNotFound, ErrRevoked, ErrExpired, or a repository
// error. A successful verification is recorded as the key's last use.
func (s *Store) Verify(ctx context.Context, raw string) (Key, error) {
	tok, err := Parse(raw)
	if err != nil {
		return Key{}, err
	}
	return s.VerifyToken(ctx, tok)
}

// VerifyToken is [Store.Verify] for an already parsed token.
func (s *Store) VerifyToken(ctx context.Context, tok Token) (Key, error) {
	now := s.opts.Now()
	h := tok.Hash()
	s.mu.RLock()
	e, ok := s.cache[h]
	gen := s.gen
	s.mu.RUnlock()
	if !ok || !now.Before(e.expires) {
		sec, err := s.repo.SecretByHash(ctx, h)
		switch {
		case err == nil:
			sec.Key = readable(sec.Key)
			e = cacheEntry{secret: sec, expires: now.Add(s.opts.CacheTTL)}
		case errors.Is(err, ErrNotFound):
			e = cacheEntry{err: ErrNotFound, expires: now.Add(s.opts.NegativeTTL)}
		default:
			return Key{}, err
		}
		s.put(h, e, gen)
	}
	if e.err != nil {
		return Key{}, e.err
	}
	k := e.secret.Key
	switch {
	case k.RevokedAt != nil && !now.Before(*k.RevokedAt):
		return Key{}, ErrRevoked
	case e.secret.ValidUntil != nil && !now.Before(*e.secret.ValidUntil):
		return Key{}, ErrRevoked // a rotated-out secret past its grace
	case k.ExpiresAt != nil && !now.Before(*k.ExpiresAt):
		return Key{}, ErrExpired
	}
	s.usedMu.Lock()
	if prev, ok := s.used[k.ID]; !ok || now.After(prev) {
		s.used[k.ID] = now
	}
	s.usedMu.Unlock()
	return k, nil
}

// put caches e under h unless the cache was invalidated since gen was read.
func (s *Store) put(h [32]byte, e cacheEntry, gen uint64) {
	ttl := s.opts.CacheTTL
	if e.err != nil {
		ttl = s.opts.NegativeTTL
	}
	if ttl < 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.gen != gen {
		return // read before a Revoke, Rotate or Import: may be stale
	}
	if len(s.cache) >= s.opts.CacheSize {
		// Drop expired entries; if none were, drop an arbitrary tenth.
		now := s.opts.Now()
		for k, v := range s.cache {
			if !now.Before(v.expires) {
				delete(s.cache, k)
			}
		}
		for k := range s.cache {
			if len(s.cache) < s.opts.CacheSize*9/10 {
				break
			}
			delete(s.cache, k)
		}
	}
	s.cache[h] = e
}

// forget drops every cached secret of the key id.
func (s *Store) forget(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gen++
	for h, e := range s.cache {
		if e.err == nil && e.secret.Key.ID == id {
			delete(s.cache, h)
		}
	}
}

// Forget drops every cached verification of the key id, so that the next
// use of any of its secrets is checked against the repository. Another
// process calls it when told (see Options.OnInvalidate) that the key was
// revoked or rotated.
func (s *Store) Forget(id string) { s.forget(id) }

// ForgetAll empties the verification cache, negative entries included: a
// process that may have missed invalidations (its link to the others was
// down) calls it to be exact again.
func (s *Store) ForgetAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gen++
	clear(s.cache)
}

// Get returns the account's key with the given id, or ErrNotFound.
func (s *Store) Get(ctx context.Context, accountID, id string) (Key, error) {
	k, err := s.repo.KeyByID(ctx, accountID, id)
	if err != nil {
		return Key{}, err
	}
	return s.withUsage(k), nil
}

// List returns a page of the account's keys, newest first, and the total.
func (s *Store) List(ctx context.Context, accountID string, limit, offset int) ([]Key, int, error) {
	ks, total, err := s.repo.ListKeys(ctx, accountID, limit, offset)
	if err != nil {
		return nil, 0, err
	}
	for i := range ks {
		ks[i] = s.withUsage(ks[i])
	}
	return ks, total, nil
}

// withUsage reports a last use not yet flushed, on the key as [readable]
// makes it.
func (s *Store) withUsage(k Key) Key {
	k = readable(k)
	s.usedMu.Lock()
	t, ok := s.used[k.ID]
	s.usedMu.Unlock()
	if ok && (k.LastUsedAt == nil || t.After(*k.LastUsedAt)) {
		t := t.UTC().Truncate(time.Millisecond)
		k.LastUsedAt = &t
	}
	return k
}

// Revoke revokes the key at once. It returns ErrNotFound for a key of
// another account and ErrLastAdmin for the account's last admin key.
func (s *Store) Revoke(ctx context.Context, accountID, id string) (Key, error) {
	k, err := s.repo.RevokeKey(ctx, accountID, id, s.opts.Now().UTC().Truncate(time.Millisecond))
	s.forget(id)
	if err != nil {
		return Key{}, err
	}
	s.invalidated(ctx, id)
	return s.withUsage(k), nil
}

// Rotate gives the key a new secret, returned once in the token; id, name,
// scopes and expiry stay. The old secret keeps working for grace (0 to
// MaxGrace; outside, an *[InvalidError]), then stops: the key returned
// says so in DeprecatedAt (now) and GraceUntil (now + grace, as the
// repository reports it).
func (s *Store) Rotate(ctx context.Context, accountID, id string, grace time.Duration) (Key, Token, error) {
	if err := checkGrace(grace); err != nil {
		return Key{}, Token{}, err
	}
	tok, err := Generate(s.opts.Env)
	if err != nil {
		return Key{}, Token{}, err
	}
	now := s.opts.Now().UTC()
	until := now.Add(grace)
	rotated := now.Truncate(time.Millisecond)
	k, err := s.repo.RotateKey(ctx, accountID, id, tok.Hash(), tok.Prefix(), until, rotated)
	s.forget(id)
	if err != nil {
		return Key{}, Token{}, err
	}
	s.invalidated(ctx, id)
	k = s.withUsage(k)
	k.DeprecatedAt = &rotated
	return k, tok, nil
}

func (s *Store) invalidated(ctx context.Context, id string) {
	if s.opts.OnInvalidate != nil {
		s.opts.OnInvalidate(ctx, id)
	}
}

// Update changes the account's key (API.md §10.2 PATCH): its name,
// metadata and spend limits, checked as by Create (an *[InvalidError]
// otherwise, and nothing is changed); ErrNotFound for a key of another
// account. A change of limits applies to the next request.
func (s *Store) Update(ctx context.Context, accountID, id string, p UpdateParams) (Key, error) {
	if err := p.check(); err != nil {
		return Key{}, err
	}
	var meta []byte
	if p.Metadata != nil {
		var err error
		if meta, err = storedjson.Object(p.Metadata, MaxMetadataSize); err != nil {
			return Key{}, invalid("Metadata", "Metadata %v", err)
		}
	}
	k, err := s.repo.UpdateKey(ctx, accountID, id, func(k *Key) error {
		if p.Name != nil {
			k.Name = *p.Name
		}
		if p.Metadata != nil {
			k.Metadata = meta
		}
		if p.DailySpendLimit.Set {
			k.DailySpendLimit = p.DailySpendLimit.USD
		}
		if p.MonthlySpendLimit.Set {
			k.MonthlySpendLimit = p.MonthlySpendLimit.USD
		}
		return nil
	})
	if err != nil {
		return Key{}, err
	}
	s.forget(id) // the cached copy holds the old limits
	s.invalidated(ctx, id)
	return s.withUsage(k), nil
}

// Charge adds cost (in nano-USD) to what the key spent at the store's
// clock, if it fits the key's spend limits (API.md §10.2); otherwise it
// changes nothing and returns a *[SpendLimitError]. A negative cost (a
// refund) is always taken, and never brings a period below 0. Check and
// add are one transaction: requests racing for a key's last cents cannot
// both pass.
func (s *Store) Charge(ctx context.Context, keyID string, cost int64) error {
	if cost == 0 {
		return nil
	}
	now := s.opts.Now().UTC()
	return s.repo.ChargeKey(ctx, keyID, func(k *Key) error {
		day, month := k.Spend.At(now)
		if cost > 0 {
			if err := checkSpend(*k, day, month, cost, now); err != nil {
				return err
			}
		}
		k.Spend = Spend{Day: now.Format(DayLayout), DayNano: max(0, day+cost), Month: now.Format(MonthLayout), MonthNano: max(0, month+cost)}
		return nil
	})
}

// Flush writes the pending last-use times now.
func (s *Store) Flush(ctx context.Context) error {
	s.usedMu.Lock()
	batch := s.used
	s.used = make(map[string]time.Time, len(batch))
	s.usedMu.Unlock()
	if len(batch) == 0 {
		return nil
	}
	if err := s.repo.TouchKeys(ctx, batch); err != nil {
		// Put them back, keeping any newer use seen meanwhile.
		s.usedMu.Lock()
		for id, t := range batch {
			if prev, ok := s.used[id]; !ok || t.After(prev) {
				s.used[id] = t
			}
		}
		s.usedMu.Unlock()
		return err
	}
	return nil
}

func (s *Store) flushLoop() {
	defer close(s.done)
	t := time.NewTicker(s.opts.FlushInterval)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			if err := s.Flush(context.Background()); err != nil && s.opts.OnFlushError != nil {
				s.opts.OnFlushError(err)
			}
		}
	}
}

// Close stops the flush timer and writes pending last-use times. It is safe
// to call more than once; only the first call flushes.
func (s *Store) Close(ctx context.Context) error {
	var err error
	s.closeOnce.Do(func() {
		close(s.stop)
		<-s.done
		err = s.Flush(ctx)
	})
	return err
}
