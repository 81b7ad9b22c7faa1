package extraction

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/memoryrelay/memoryrelay/extract"
	"github.com/memoryrelay/memoryrelay/extract/llm"
	"github.com/memoryrelay/memoryrelay/internal/guard"
	"github.com/memoryrelay/memoryrelay/internal/outbound"
	"github.com/memoryrelay/memoryrelay/internal/store"
	"github.com/memoryrelay/memoryrelay/internal/uuid"
	"github.com/memoryrelay/memoryrelay/internal/valid"
	"github.com/memoryrelay/memoryrelay/memory"
	"github.com/memoryrelay/memoryrelay/secret"
)

// Store is the storage of extraction keys.
type Store interface {
	CreateExtractionKey(ctx context.Context, k store.ExtractionKey) error
	ExtractionKey(ctx context.Context, accountID, id string) (store.ExtractionKey, error)
	ExtractionKeys(ctx context.Context, accountID string) ([]store.ExtractionKey, error)
	ActiveExtractionKey(ctx context.Context, accountID string) (store.ExtractionKey, error)
	ActivateExtractionKey(ctx context.Context, accountID, id string, now time.Time) (store.ExtractionKey, error)
	DeactivateExtractionKeys(ctx context.Context, accountID string, now time.Time) (int, error)
	DeleteExtractionKey(ctx context.Context, accountID, id string) error
	TouchExtractionKey(ctx context.Context, accountID, id string, now time.Time, validated bool) error
}

// Kind is the memory.NotFoundError kind of an extraction key.
const Kind = "extraction key"

// Purpose is the sealing purpose of extraction keys (package secret).
const Purpose = "extraction-keys"

// ErrNoSecret is the cause of the *memory.UnavailableError of the key
// methods on a server without a secret to seal keys with.
var ErrNoSecret = errors.New("extraction keys need the server's secret to encrypt them, and this server has none (Options.ServerSecret)")

// Default base URLs of the providers that have one.
var defaultBaseURL = map[string]string{
	"openai": "https://api.openai.com/v1",
	"ollama": "http://localhost:11434/v1",
}

// Config is what a Service needs.
type Config struct {
	Store  Store
	Gate   guard.Gate
	Now    func() time.Time // in the stored precision (UTC milliseconds)
	Sealer *secret.Sealer   // nil: no server secret; keys are refused
	Policy outbound.Policy  // which base URLs may be called
	// Default extracts for accounts without an active key; nil: the
	// built-in extractor. Custom says it is the operator's own.
	Default extract.Extractor
	Custom  bool
	// Timeout bounds one LLM call; HTTPClient makes them (it must apply
	// Policy when it dials).
	Timeout    time.Duration
	HTTPClient *http.Client
	Logger     *slog.Logger
	// MaxKeys is the most keys per account; 0: memory.MaxExtractionKeys.
	MaxKeys int
}

// Service serves the extraction settings of every account, and extracts
// their entities. It is safe for concurrent use.
type Service struct {
	c  Config
	mu sync.Mutex
	// llms caches the extractor of each key, by id and update time.
	llms map[string]cachedLLM
}

type cachedLLM struct {
	updated time.Time
	x       *llm.Extractor
}

// New returns the extraction service of c.
func New(c Config) (*Service, error) {
	if c.Default == nil {
		b, err := extract.NewBuiltin()
		if err != nil {
			return nil, err
		}
		c.Default, c.Custom = b, false
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.MaxKeys <= 0 {
		c.MaxKeys = memory.MaxExtractionKeys
	}
	return &Service{c: c, llms: map[string]cachedLLM{}}, nil
}

// For returns the extraction API of the account.
func (s *Service) For(accountID string) memory.Extraction { return account{s, accountID} }

type account struct {
	s  *Service
	id string
}

var _ memory.Extraction = account{}

func (a account) Settings(ctx context.Context) (memory.ExtractionSettings, error) {
	return guard.Call(ctx, a.s.c.Gate, a.id, func() (memory.ExtractionSettings, error) { return a.s.settings(ctx, a.id) })
}

func (a account) CreateKey(ctx context.Context, in memory.NewExtractionKey) (memory.ExtractionKey, error) {
	return guard.Call(ctx, a.s.c.Gate, a.id, func() (memory.ExtractionKey, error) { return a.s.create(ctx, a.id, in) })
}

func (a account) ActivateKey(ctx context.Context, id string) (memory.ExtractionKey, error) {
	return guard.Call(ctx, a.s.c.Gate, a.id, func() (memory.ExtractionKey, error) {
		if err := a.s.needSecret(); err != nil {
			return memory.ExtractionKey{}, err
		}
		id, ok := uuid.Canonical(id)
		if !ok {
			return memory.ExtractionKey{}, notFound(nil)
		}
		k, err := a.s.c.Store.ActivateExtractionKey(ctx, a.id, id, a.s.c.Now())
		return Of(k), fromStore(err)
	})
}

func (a account) DeactivateKeys(ctx context.Context) (int, error) {
	return guard.Call(ctx, a.s.c.Gate, a.id, func() (int, error) {
		if err := a.s.needSecret(); err != nil {
			return 0, err
		}
		return a.s.c.Store.DeactivateExtractionKeys(ctx, a.id, a.s.c.Now())
	})
}

func (a account) DeleteKey(ctx context.Context, id string) error {
	return guard.Call0(ctx, a.s.c.Gate, a.id, func() error {
		if err := a.s.needSecret(); err != nil {
			return err
		}
		id, ok := uuid.Canonical(id)
		if !ok {
			return notFound(nil)
		}
		return fromStore(a.s.c.Store.DeleteExtractionKey(ctx, a.id, id))
	})
}

func notFound(err error) error { return &memory.NotFoundError{Kind: Kind, Err: err} }

func fromStore(err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return notFound(err)
	}
	return err
}

func (s *Service) needSecret() error {
	if s.c.Sealer == nil {
		return &memory.UnavailableError{Reason: ErrNoSecret.Error(), Err: ErrNoSecret}
	}
	return nil
}

// Of is a stored key as the API returns it: without the key.
func Of(k store.ExtractionKey) memory.ExtractionKey {
	return memory.ExtractionKey{ID: k.ID, Provider: k.Provider, Label: k.Label, Model: k.Model, BaseURL: k.BaseURL, Active: k.Active,
		MaskedKey: k.Masked, LastValidatedAt: k.LastValidatedAt, LastUsedAt: k.LastUsedAt, CreatedAt: k.CreatedAt, UpdatedAt: k.UpdatedAt}
}

func binding(accountID, id string) []byte { return []byte(accountID + "/" + id) }

func (s *Service) create(ctx context.Context, accountID string, in memory.NewExtractionKey) (memory.ExtractionKey, error) {
	if err := s.needSecret(); err != nil {
		return memory.ExtractionKey{}, err
	}
	var p valid.Problems
	provider := strings.ToLower(strings.TrimSpace(in.Provider))
	if !slices.Contains(memory.ExtractionProviders, provider) {
		p.Add("Provider", "Provider not supported by this server: it calls %s (OpenAI-compatible APIs)", strings.Join(memory.ExtractionProviders, ", "))
	}
	key := in.APIKey.Reveal()
	switch {
	case !utf8.ValidString(key) || utf8.RuneCountInString(key) > memory.MaxExtractionAPIKey:
		p.Add("APIKey", "APIKey must be at most %d characters", memory.MaxExtractionAPIKey)
	case valid.Blank(key) && provider != "ollama":
		p.Add("APIKey", "APIKey is required for provider %s", provider)
	}
	p.Text("Model", in.Model, memory.MaxExtractionModel)
	p.OptText("Label", in.Label, memory.MaxExtractionLabel)
	base := in.BaseURL
	if base == nil || *base == "" {
		if d, ok := defaultBaseURL[provider]; ok {
			base = &d
		} else if provider == "azure" || provider == "custom" {
			p.Add("BaseURL", "BaseURL is required for provider %s", provider)
		}
	}
	if base != nil && *base != "" {
		if len(*base) > memory.MaxWebhookURL {
			p.Add("BaseURL", "BaseURL must be at most %d bytes", memory.MaxWebhookURL)
		} else if _, err := s.c.Policy.CheckURL(*base); err != nil {
			var b *outbound.BlockedError
			reason := "it is not allowed"
			if errors.As(err, &b) {
				reason = b.Reason + " is not allowed"
			}
			p.Add("BaseURL", "BaseURL must be an address the server may call (%s)", reason)
		}
	}
	if err := p.Err(); err != nil {
		return memory.ExtractionKey{}, err
	}
	existing, err := s.c.Store.ExtractionKeys(ctx, accountID)
	if err != nil {
		return memory.ExtractionKey{}, err
	}
	if len(existing) >= s.c.MaxKeys {
		return memory.ExtractionKey{}, valid.Invalid("APIKey", "APIKey cannot be stored: the account has the most extraction keys it may have (%d); delete one first", s.c.MaxKeys)
	}
	active := !slices.ContainsFunc(existing, func(k store.ExtractionKey) bool { return k.Active })
	now := s.c.Now()
	k := store.ExtractionKey{ID: uuid.New(), AccountID: accountID, Provider: provider, Label: in.Label, Model: in.Model, BaseURL: base,
		Masked: in.APIKey.Mask(), Active: active, CreatedAt: now, UpdatedAt: now}
	if k.Sealed, err = s.c.Sealer.SealText(in.APIKey, binding(accountID, k.ID)); err != nil {
		return memory.ExtractionKey{}, err
	}
	if err := s.c.Store.CreateExtractionKey(ctx, k); err != nil {
		return memory.ExtractionKey{}, err
	}
	return Of(k), nil
}

func (s *Service) settings(ctx context.Context, accountID string) (memory.ExtractionSettings, error) {
	ks, err := s.c.Store.ExtractionKeys(ctx, accountID)
	if err != nil {
		return memory.ExtractionSettings{}, err
	}
	out := memory.ExtractionSettings{Tier: "self-hosted", Extractor: "builtin", BYOKEnabledGlobally: s.c.Sealer != nil,
		BYOKConfigured: len(ks) > 0, Keys: make([]memory.ExtractionKey, len(ks))}
	if s.c.Custom {
		out.Extractor = "custom"
	}
	for i, k := range ks {
		out.Keys[i] = Of(k)
		if k.Active && s.c.Sealer != nil {
			out.Extractor, out.BYOKActive = "byok", true
			m, model := k.Masked, k.Model
			out.MaskedAPIKey, out.PreferredModel, out.BaseURL, out.LastValidatedAt = &m, &model, k.BaseURL, k.LastValidatedAt
		}
	}
	return out, nil
}

// Extract finds the entities of text for the account: with its active
// key's LLM when it has one (and the server can open it), else with the
// server's extractor. It is memories.Config.Extract.
func (s *Service) Extract(ctx context.Context, accountID, text string) (extract.Result, error) {
	if s.c.Sealer != nil {
		k, err := s.c.Store.ActiveExtractionKey(ctx, accountID)
		switch {
		case err == nil:
			x, err := s.llmOf(k)
			if err != nil {
				return extract.Result{Method: llm.Method, Model: k.Model}, err
			}
			res, err := x.Extract(ctx, text)
			if err != nil {
				return extract.Result{Method: llm.Method, Model: k.Model}, err
			}
			if err := s.c.Store.TouchExtractionKey(context.WithoutCancel(ctx), accountID, k.ID, s.c.Now(), true); err != nil {
				s.c.Logger.Warn("memoryrelay: recording an extraction key's use failed", "err", err)
			}
			return res, nil
		case !errors.Is(err, store.ErrNotFound):
			return extract.Result{}, err
		}
	}
	return s.c.Default.Extract(ctx, text)
}

// llmOf is the LLM extractor of k, its key opened.
func (s *Service) llmOf(k store.ExtractionKey) (*llm.Extractor, error) {
	s.mu.Lock()
	c, ok := s.llms[k.ID]
	s.mu.Unlock()
	if ok && c.updated.Equal(k.UpdatedAt) {
		return c.x, nil
	}
	key, err := s.c.Sealer.OpenText(k.Sealed, binding(k.AccountID, k.ID))
	if err != nil {
		return nil, err // the operator changed the secret: the key cannot be used
	}
	o := llm.Options{BaseURL: derefOr(k.BaseURL, defaultBaseURL[k.Provider]), Model: k.Model, APIKey: key,
		HTTPClient: s.c.HTTPClient, Timeout: s.c.Timeout}
	if k.Provider == "azure" {
		o.Auth = llm.APIKeyHeader
	}
	x, err := llm.New(o)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.llms[k.ID] = cachedLLM{updated: k.UpdatedAt, x: x}
	s.mu.Unlock()
	return x, nil
}

func derefOr(p *string, def string) string {
	if p == nil || *p == "" {
		return def
	}
	return *p
}
