package memories

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"

	"fmt"
	"github.com/memoryrelay/memoryrelay/extract"
	"log/slog"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/memoryrelay/memoryrelay/internal/apierr"
	"github.com/memoryrelay/memoryrelay/internal/convert"
	"github.com/memoryrelay/memoryrelay/internal/guard"
	"github.com/memoryrelay/memoryrelay/internal/indexing"
	"github.com/memoryrelay/memoryrelay/internal/jobs"
	"github.com/memoryrelay/memoryrelay/internal/page"
	"github.com/memoryrelay/memoryrelay/internal/store"
	"github.com/memoryrelay/memoryrelay/internal/uuid"
	"github.com/memoryrelay/memoryrelay/internal/valid"
	"github.com/memoryrelay/memoryrelay/memory"
	"github.com/memoryrelay/memoryrelay/search"
)

// Store is the storage of memories: rows, batches, erasure and the v2 job
// queue's reads and inserts.
type Store interface {
	DeleteMemory(ctx context.Context, accountID, id string) error
	DeleteUserMemories(ctx context.Context, accountID, userID string) (int, error)
	UserMemoryIDs(ctx context.Context, accountID, userID string) ([]string, error)
	GetMemory(ctx context.Context, accountID, id string) (store.Memory, error)
	InsertMemory(ctx context.Context, m *store.Memory, idx store.Indexed) error
	// InsertPendingMemory stores a memory without its index entries (a v2
	// create: its job indexes it).
	InsertPendingMemory(ctx context.Context, m *store.Memory) error
	// InTx makes the calls with the ctx fn receives one transaction.
	InTx(ctx context.Context, fn func(ctx context.Context) error) error
	InsertMemories(ctx context.Context, items []store.BatchItem) ([]store.BatchOutcome, error)
	ListMemories(ctx context.Context, f store.Filter, limit, offset int, after *store.Position) ([]store.Memory, int, error)
	UpdateMemory(ctx context.Context, accountID, id string, apply func(*store.Memory) error, idx *store.Indexed) (store.Memory, error)

	InsertJob(ctx context.Context, j jobs.Job) error
	JobByID(ctx context.Context, accountID, id string) (jobs.Job, error)
	JobByMemory(ctx context.Context, accountID, memoryID string) (jobs.Job, error)
	ResolveAgent(ctx context.Context, accountID, ref string) (string, error)
	ProjectSlug(ctx context.Context, accountID, id string) (string, error)
	LinkExtracted(ctx context.Context, accountID, memoryID string, es []store.ExtractedEntity, now time.Time) error
	SessionExists(ctx context.Context, accountID, sessionID string) (bool, error)
}

// Engine is the search engine's side of a search (package search's
// Engine over the store).
type Engine interface {
	Search(ctx context.Context, q search.Query) ([]Hit, error)
}

// Hit is a search hit as the engine returns it: the stored row (its Seq
// reads its vector) and the score.
type Hit = search.Result[store.Memory]

// Config is what a Service needs.
type Config struct {
	Store  Store
	Engine Engine
	Gate   guard.Gate       // admits each call and classifies its error
	Now    func() time.Time // the clock, in the stored precision (UTC milliseconds)
	Index  indexing.Indexer
	// Queued is called after a v2 job is stored, to wake a worker; nil:
	// nothing to wake.
	Queued func()
	// Logger receives what a job's failure does not tell its caller.
	Logger *slog.Logger
	// Events, when not nil, is told of every memory created, updated and
	// deleted, in the write's transaction.
	Events Events
	// Extract finds the entities of a memory's content for the account
	// (API.md §10.6); nil: no extraction, whatever a create asks.
	Extract func(ctx context.Context, accountID, text string) (extract.Result, error)
	// ExtractByDefault is what a create without AutoExtractEntities does.
	ExtractByDefault bool
}

// Service serves the memories of every account; For gives one account's.
// It is safe for concurrent use.
type Service struct{ c Config }

// New returns the memories of c.Store.
func New(c Config) *Service {
	if c.Queued == nil {
		c.Queued = func() {}
	}
	return &Service{c: c}
}

// For returns the memory API of the account.
func (s *Service) For(accountID string) memory.Memories { return account{s, accountID} }

type account struct {
	s  *Service
	id string
}

var _ memory.Memories = account{}

func (a account) Create(ctx context.Context, in memory.NewMemory) (memory.CreateResult, error) {
	return guard.Call(ctx, a.s.c.Gate, a.id, func() (memory.CreateResult, error) { return a.s.create(ctx, a.id, in) })
}

func (a account) CreateBatch(ctx context.Context, p memory.BatchParams) (memory.BatchResult, error) {
	return guard.Call(ctx, a.s.c.Gate, a.id, func() (memory.BatchResult, error) { return a.s.createBatch(ctx, a.id, p) })
}

func (a account) CreateAsync(ctx context.Context, in memory.NewMemory, o memory.AsyncOptions) (memory.Job, error) {
	return guard.Call(ctx, a.s.c.Gate, a.id, func() (memory.Job, error) { return a.s.createAsync(ctx, a.id, in, o) })
}

func (a account) Job(ctx context.Context, id string) (memory.Job, error) {
	return guard.Call(ctx, a.s.c.Gate, a.id, func() (memory.Job, error) { return a.s.job(ctx, a.id, id) })
}

func (a account) Get(ctx context.Context, id string) (memory.Memory, error) {
	return guard.Call(ctx, a.s.c.Gate, a.id, func() (memory.Memory, error) { return a.s.get(ctx, a.id, id) })
}

func (a account) List(ctx context.Context, p memory.ListParams) (memory.Page[memory.Memory], error) {
	return guard.Call(ctx, a.s.c.Gate, a.id, func() (memory.Page[memory.Memory], error) { return a.s.list(ctx, a.id, p) })
}

func (a account) Update(ctx context.Context, id string, p memory.MemoryPatch) (memory.Memory, error) {
	return guard.Call(ctx, a.s.c.Gate, a.id, func() (memory.Memory, error) { return a.s.update(ctx, a.id, id, p) })
}

func (a account) SetImportance(ctx context.Context, id string, importance float64, tier *string) (memory.Memory, error) {
	return guard.Call(ctx, a.s.c.Gate, a.id, func() (memory.Memory, error) { return a.s.setImportance(ctx, a.id, id, importance, tier) })
}

func (a account) Delete(ctx context.Context, id string) error {
	return guard.Call0(ctx, a.s.c.Gate, a.id, func() error { return a.s.delete(ctx, a.id, id) })
}

func (a account) DeleteUser(ctx context.Context, userID string) (int, error) {
	return guard.Call(ctx, a.s.c.Gate, a.id, func() (int, error) { return a.s.deleteUser(ctx, a.id, userID) })
}

func (a account) Search(ctx context.Context, p memory.SearchParams) ([]memory.Hit, error) {
	return guard.Call(ctx, a.s.c.Gate, a.id, func() ([]memory.Hit, error) {
		hits, err := a.s.Hits(ctx, a.id, p)
		return convert.All(hits, convert.Hit), err
	})
}

func (a account) Embed(ctx context.Context, text, prefix string) (memory.Embedding, error) {
	return guard.Call(ctx, a.s.c.Gate, a.id, func() (memory.Embedding, error) { return a.s.embed(ctx, text, prefix) })
}

// Allowed values of memory fields.
var (
	memoryTypes  = []string{"fact", "event", "insight", "task", "preference", "entity_reference", "system"}
	visibilities = []string{"private", "confidential"}
	tiers        = []string{"hot", "warm", "cold"}
	scopes       = []string{"long-term", "session"}
)

// create validates, embeds and stores a memory, with its index entries,
// in one transaction: an embedder failure stores nothing. With
// in.Deduplicate see createDedup.
func (s *Service) create(ctx context.Context, accountID string, in memory.NewMemory) (memory.CreateResult, error) {
	if in.Deduplicate {
		return s.createDedup(ctx, accountID, in)
	}
	m, err := s.newMemoryIn(ctx, accountID, in)
	if err != nil {
		return memory.CreateResult{}, err
	}
	idx, err := s.c.Index.Index(ctx, m.Content)
	if err != nil {
		return memory.CreateResult{}, err
	}
	// Extracted before the write transaction (an LLM may be slow); linked
	// inside it.
	var x *extraction
	if s.wantsExtraction(in) {
		e := s.extract(ctx, accountID, m.Content)
		x = &e
		x.apply(&m)
	}
	err = s.inTxAlways(ctx, x != nil, func(ctx context.Context, publish func(string, store.Memory) error) error {
		if err := s.c.Store.InsertMemory(ctx, &m, idx); err != nil {
			return apierr.FromStore(err, apierr.Memory)
		}
		var err error
		if m, err = s.link(ctx, m, x); err != nil {
			return err
		}
		return publish(memory.EventMemoryCreated, m)
	})
	if err != nil {
		return memory.CreateResult{}, err
	}
	return memory.CreateResult{Memory: convert.Memory(m)}, nil
}

// newMemoryIn is newMemory with in.ProjectID resolved into the project's
// slug first (a read of the account's projects); its problem, if any, is
// one of the error's.
func (s *Service) newMemoryIn(ctx context.Context, accountID string, in memory.NewMemory) (store.Memory, error) {
	var p valid.Problems
	if in.ProjectID != nil {
		slug, err := s.projectSlug(ctx, accountID, *in.ProjectID)
		if err := p.Merge(err); err != nil {
			return store.Memory{}, err
		}
		if slug != "" {
			in.Project = &slug
		}
		in.ProjectID = nil
	}
	m, err := s.newMemory(accountID, in)
	if err := p.Merge(err); err != nil {
		return store.Memory{}, err
	}
	return m, p.Err()
}

// projectSlug is the slug of the account's project with the id; one that
// is not a UUID, or names no project of the account, is a
// *memory.ValidationError for ProjectID.
func (s *Service) projectSlug(ctx context.Context, accountID, id string) (string, error) {
	bad := valid.Invalid("ProjectID", "ProjectID must be the id of a project of the account")
	u, ok := uuid.Canonical(id)
	if !ok {
		return "", bad
	}
	slug, err := s.c.Store.ProjectSlug(ctx, accountID, u)
	if errors.Is(err, store.ErrNotFound) {
		return "", bad
	}
	return slug, err
}

// newMemory validates in and returns the memory to store; every problem
// of in is in the error.
func (s *Service) newMemory(accountID string, in memory.NewMemory) (store.Memory, error) {
	var p valid.Problems
	checkContent(&p, in.Content)
	agent := in.AgentID
	if agent == "" {
		agent = memory.DefaultAgent
	}
	p.AgentID(agent)
	p.OptText("UserID", in.UserID, memory.MaxUserID)
	meta := p.Metadata(in.Metadata)
	dedupThreshold(&p, in)
	a := attrs{MemoryType: in.MemoryType, Visibility: strPtr(in.Visibility), Importance: in.Importance,
		Tier: strPtr(in.Tier), Scope: strPtr(in.Scope), Project: in.Project}
	a.check(&p)
	var sessionID *string
	if in.SessionID != nil {
		id, ok := uuid.Canonical(*in.SessionID)
		if !ok {
			p.Merge(apierr.ErrNoSession)
		}
		sessionID = &id
	}
	if err := p.Err(); err != nil {
		return store.Memory{}, err
	}
	now := s.c.Now()
	m := store.Memory{
		ID:         uuid.New(),
		AccountID:  accountID,
		AgentRef:   agent,
		UserID:     in.UserID,
		Content:    in.Content,
		Metadata:   meta,
		Visibility: "private",
		Importance: 0.5,
		Scope:      "long-term",
		SessionID:  sessionID,
		CreatedAt:  now,
		UpdatedAt:  now,
	}
	a.apply(&m)
	if in.Tier == "" {
		m.Tier = tierFor(m.Importance)
	}
	return m, nil
}

func strPtr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// tierFor is the tier a memory gets when none is given.
func tierFor(importance float64) string {
	if importance >= 0.8 {
		return "hot"
	}
	return "warm"
}

// attrs are the optional fields shared by create and update.
type attrs struct {
	MemoryType, Visibility, Tier, Scope, Project *string
	Importance                                   *float64
}

// check records the problems of the fields set.
func (a attrs) check(p *valid.Problems) {
	if a.MemoryType != nil && !valid.OneOf(*a.MemoryType, memoryTypes) {
		p.Add("MemoryType", "MemoryType must be one of %s", strings.Join(memoryTypes, ", "))
	}
	if a.Visibility != nil && !valid.OneOf(*a.Visibility, visibilities) {
		p.Add("Visibility", "Visibility must be private or confidential")
	}
	if a.Importance != nil {
		if v := *a.Importance; math.IsNaN(v) || v < 0 || v > 1 {
			p.Add("Importance", "Importance must be between 0 and 1")
		}
	}
	if a.Tier != nil && !valid.OneOf(*a.Tier, tiers) {
		p.Add("Tier", "Tier must be hot, warm or cold")
	}
	if a.Scope != nil && !valid.OneOf(*a.Scope, scopes) {
		p.Add("Scope", "Scope must be long-term or session")
	}
	if a.Project != nil {
		checkProject(p, *a.Project)
	}
}

// checkProject accepts a project reference of 1–memory.MaxProjectSlug
// characters.
func checkProject(p *valid.Problems, project string) {
	if n := utf8.RuneCountInString(project); n == 0 || n > memory.MaxProjectSlug {
		p.Add("Project", "Project must be 1-%d characters", memory.MaxProjectSlug)
	}
}

// apply sets the fields set, which check accepted, on m.
func (a attrs) apply(m *store.Memory) {
	if a.MemoryType != nil {
		m.MemoryType = a.MemoryType
	}
	if a.Visibility != nil {
		m.Visibility = *a.Visibility
	}
	if a.Importance != nil {
		m.Importance = *a.Importance
	}
	if a.Tier != nil {
		m.Tier = *a.Tier
	}
	if a.Scope != nil {
		m.Scope = *a.Scope
	}
	if a.Project != nil {
		m.Project = a.Project
	}
}

func checkContent(p *valid.Problems, s string) {
	if !utf8.ValidString(s) {
		p.Add("Content", "Content must be valid UTF-8")
		return
	}
	if n := utf8.RuneCountInString(s); n == 0 || n > memory.MaxContentChars || valid.Blank(s) {
		p.Add("Content", "Content must be 1-%d characters and not blank", memory.MaxContentChars)
	}
}

// get returns the account's memory with the id. An id that is not a UUID,
// or names no memory of the account, is a *memory.NotFoundError.
func (s *Service) get(ctx context.Context, accountID, id string) (memory.Memory, error) {
	id, ok := uuid.Canonical(id)
	if !ok {
		return memory.Memory{}, apierr.NotFound(apierr.Memory)
	}
	m, err := s.c.Store.GetMemory(ctx, accountID, id)
	if err != nil {
		return memory.Memory{}, apierr.FromStore(err, apierr.Memory)
	}
	return convert.Memory(m), nil
}

// update changes the account's memory and advances its updated_at. New
// content is re-embedded and re-indexed in the same transaction.
func (s *Service) update(ctx context.Context, accountID, id string, p memory.MemoryPatch) (memory.Memory, error) {
	id, ok := uuid.Canonical(id)
	if !ok {
		return memory.Memory{}, apierr.NotFound(apierr.Memory)
	}
	var v valid.Problems
	var patch map[string]json.RawMessage
	// The patch meets the rule of create (valid UTF-8 keys included: the
	// decoder below would silently replace invalid bytes in a key) except
	// for the size, which applies to the merged object.
	if raw := v.Stored("Metadata", p.Metadata, 0); raw != nil {
		if err := json.Unmarshal(raw, &patch); err != nil {
			v.Add("Metadata", "Metadata must be a JSON object")
		}
	}
	v.OptText("UserID", p.UserID, memory.MaxUserID)
	if p.Content != nil {
		checkContent(&v, *p.Content)
	}
	a := attrs{MemoryType: p.MemoryType, Visibility: p.Visibility, Importance: p.Importance,
		Tier: p.Tier, Scope: p.Scope, Project: p.Project}
	a.check(&v)
	if err := v.Err(); err != nil {
		return memory.Memory{}, err
	}
	if p.ProjectID != nil {
		slug, err := s.projectSlug(ctx, accountID, *p.ProjectID)
		if err != nil {
			return memory.Memory{}, err
		}
		p.Project = &slug
		a.Project = &slug
	}
	var idx *store.Indexed
	if p.Content != nil {
		// Embed before the write transaction: it may be slow.
		x, err := s.c.Index.Index(ctx, *p.Content)
		if err != nil {
			return memory.Memory{}, err
		}
		idx = &x
	}
	var m store.Memory
	err := s.inTx(ctx, func(ctx context.Context, publish func(string, store.Memory) error) error {
		var err error
		m, err = s.c.Store.UpdateMemory(ctx, accountID, id, apply(p, a, patch, s.c.Now), idx)
		if err != nil {
			return err
		}
		return publish(memory.EventMemoryUpdated, m)
	})
	if err != nil {
		return memory.Memory{}, apierr.FromStore(err, apierr.Memory)
	}
	return convert.Memory(m), nil
}

// apply is the change of an update: the patch's fields, the tier that
// follows a new importance, the merged metadata, and updated_at advanced.
func apply(p memory.MemoryPatch, a attrs, patch map[string]json.RawMessage, now func() time.Time) func(m *store.Memory) error {
	return func(m *store.Memory) error {
		a.apply(m)
		if p.Importance != nil && p.Tier == nil {
			m.Tier = tierFor(m.Importance)
		}
		if p.UserID != nil {
			m.UserID = p.UserID
		}
		if p.Content != nil {
			m.Content = *p.Content
		}
		if patch != nil {
			merged, err := mergeMetadata(m.Metadata, patch)
			if err != nil {
				return err
			}
			m.Metadata = merged
		}
		// updated_at always advances, even within one millisecond.
		t := now()
		if !t.After(m.UpdatedAt) {
			t = m.UpdatedAt.Add(time.Millisecond)
		}
		m.UpdatedAt = t
		return nil
	}
}

// mergeMetadata merges patch into the stored object: non-null values
// overwrite, null deletes the key; the result meets the rule of stored
// metadata, its size included.
func mergeMetadata(stored []byte, patch map[string]json.RawMessage) ([]byte, error) {
	cur := map[string]json.RawMessage{}
	if len(stored) > 0 {
		if err := json.Unmarshal(stored, &cur); err != nil {
			return nil, fmt.Errorf("memoryrelay: stored metadata: %w", err)
		}
	}
	for k, v := range patch {
		if string(bytes.TrimSpace(v)) == "null" {
			delete(cur, k)
		} else {
			cur[k] = v
		}
	}
	b, err := json.Marshal(cur)
	if err != nil {
		return nil, err
	}
	var p valid.Problems
	b = p.Metadata(b)
	return b, p.Err()
}

// setImportance sets the account's memory's importance ([0,1]) and tier; a
// nil tier is recomputed from the importance (hot at 0.8 and above, else
// warm). It returns the updated memory. It is update of a patch of the
// two: problems name the patch's fields ("Importance", "Tier").
func (s *Service) setImportance(ctx context.Context, accountID, id string, importance float64, tier *string) (memory.Memory, error) {
	if _, ok := uuid.Canonical(id); !ok {
		return memory.Memory{}, apierr.NotFound(apierr.Memory)
	}
	return s.update(ctx, accountID, id, memory.MemoryPatch{Importance: &importance, Tier: tier})
}

// deleteUser removes every memory of the account whose user_id is userID,
// with their full-text rows, vectors, entity links and v2 jobs, and
// returns how many were removed. Relay.Compact afterwards also removes the
// content from the database file.
func (s *Service) deleteUser(ctx context.Context, accountID, userID string) (int, error) {
	if strings.TrimSpace(userID) == "" {
		return 0, valid.Invalid("userID", "userID is required")
	}
	var n int
	err := s.inTx(ctx, func(ctx context.Context, publish func(string, store.Memory) error) error {
		var ids []string
		if s.c.Events != nil {
			var err error
			if ids, err = s.c.Store.UserMemoryIDs(ctx, accountID, userID); err != nil {
				return err
			}
		}
		var err error
		if n, err = s.c.Store.DeleteUserMemories(ctx, accountID, userID); err != nil {
			return err
		}
		for _, id := range ids {
			if err := publish(memory.EventMemoryDeleted, store.Memory{ID: id, AccountID: accountID}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("memoryrelay: delete user memories: %w", err)
	}
	return n, nil
}

// delete removes the account's memory and its index entries.
func (s *Service) delete(ctx context.Context, accountID, id string) error {
	id, ok := uuid.Canonical(id)
	if !ok {
		return apierr.NotFound(apierr.Memory)
	}
	err := s.inTx(ctx, func(ctx context.Context, publish func(string, store.Memory) error) error {
		if err := s.c.Store.DeleteMemory(ctx, accountID, id); err != nil {
			return err
		}
		return publish(memory.EventMemoryDeleted, store.Memory{ID: id, AccountID: accountID})
	})
	return apierr.FromStore(err, apierr.Memory)
}

// list returns a page of the account's memories, newest first.
func (s *Service) list(ctx context.Context, accountID string, p memory.ListParams) (memory.Page[memory.Memory], error) {
	var v valid.Problems
	q := page.Keyset(&v, page.Memories, p.Limit, p.Offset, p.Cursor)
	checkScopeFilter(&v, p.Scope)
	if err := v.Err(); err != nil {
		return memory.Page[memory.Memory]{}, err
	}
	f := store.Filter{AccountID: accountID, AgentRef: p.AgentID, UserID: p.UserID, Scope: p.Scope}
	ms, total, err := s.c.Store.ListMemories(ctx, f, q.Limit+1, q.Offset, q.After)
	if err != nil {
		return memory.Page[memory.Memory]{}, err
	}
	return page.KeysetPage(page.Memories, ms, convert.Memory, total, q, func(m store.Memory) store.Position {
		return store.Position{CreatedAt: m.CreatedAt.UnixMilli(), ID: m.ID}
	}), nil
}

// checkScopeFilter accepts a scope filter: "", "all" or a scope.
func checkScopeFilter(p *valid.Problems, scope string) {
	if scope != "" && scope != "all" && !valid.OneOf(scope, scopes) {
		p.Add("Scope", "Scope must be session, long-term or all")
	}
}
