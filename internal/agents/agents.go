package agents

import (
	"bytes"
	"context"
	"errors"
	"time"
	"unicode/utf8"

	"github.com/memoryrelay/memoryrelay/internal/apierr"
	"github.com/memoryrelay/memoryrelay/internal/convert"
	"github.com/memoryrelay/memoryrelay/internal/guard"
	"github.com/memoryrelay/memoryrelay/internal/page"
	"github.com/memoryrelay/memoryrelay/internal/store"
	"github.com/memoryrelay/memoryrelay/internal/valid"
	"github.com/memoryrelay/memoryrelay/memory"
)

// Store is the storage of agents.
type Store interface {
	// AgentMemoryIDs returns the ids of the agent's memories (for the
	// events of a delete; ErrNotFound without the agent).
	AgentMemoryIDs(ctx context.Context, accountID, ref string) ([]string, error)
	// InTx makes the calls with the ctx fn receives one transaction.
	InTx(ctx context.Context, fn func(ctx context.Context) error) error
	AgentStats(ctx context.Context, accountID, ref string) (store.AgentStats, error)
	CreateAgent(ctx context.Context, accountID, id, name string, description *string, metadata []byte, now time.Time) (a store.Agent, created bool, err error)
	DeleteAgent(ctx context.Context, accountID, ref string) (id string, memories int, err error)
	GetAgent(ctx context.Context, accountID, ref string) (store.Agent, error)
	ListAgents(ctx context.Context, accountID string, limit, offset int, after *store.Position) ([]store.Agent, int, error)
	UpdateAgent(ctx context.Context, accountID, ref string, apply func(*store.Agent) error) (store.Agent, error)
}

// Events is where an agent's delete announces the memories it took with
// it (API.md §10.3: a memory.deleted event each).
type Events interface {
	// Publish writes an event of the account, about the subject (a
	// memory's id), in the transaction ctx carries.
	Publish(ctx context.Context, accountID, eventType, subject string, data any) error
	// Notify is called after such a transaction committed.
	Notify()
}

// Service serves the agents of every account; For gives one account's.
// It is safe for concurrent use.
type Service struct {
	st     Store
	gate   guard.Gate
	now    func() time.Time
	events Events
}

// New returns the agents kept in st; gate admits each call, now is the
// clock in the stored precision (UTC milliseconds), events (nil for
// none) receives the memory.deleted events of agents' deletes.
func New(st Store, gate guard.Gate, now func() time.Time, events Events) *Service {
	return &Service{st: st, gate: gate, now: now, events: events}
}

// For returns the agent API of the account.
func (s *Service) For(accountID string) memory.Agents { return account{s, accountID} }

type account struct {
	s  *Service
	id string
}

var _ memory.Agents = account{}

func (a account) Create(ctx context.Context, in memory.NewAgent) (memory.Agent, bool, error) {
	return guard.Call2(ctx, a.s.gate, a.id, func() (memory.Agent, bool, error) { return a.s.create(ctx, a.id, in) })
}

func (a account) Get(ctx context.Context, ref string) (memory.Agent, error) {
	return guard.Call(ctx, a.s.gate, a.id, func() (memory.Agent, error) { return a.s.get(ctx, a.id, ref) })
}

func (a account) List(ctx context.Context, p memory.PageParams) (memory.Page[memory.Agent], error) {
	return guard.Call(ctx, a.s.gate, a.id, func() (memory.Page[memory.Agent], error) { return a.s.list(ctx, a.id, p) })
}

func (a account) Update(ctx context.Context, ref string, p memory.AgentPatch) (memory.Agent, error) {
	return guard.Call(ctx, a.s.gate, a.id, func() (memory.Agent, error) { return a.s.update(ctx, a.id, ref, p) })
}

func (a account) Delete(ctx context.Context, ref string) (memory.AgentDeletion, error) {
	return guard.Call(ctx, a.s.gate, a.id, func() (memory.AgentDeletion, error) { return a.s.delete(ctx, a.id, ref) })
}

func (a account) Stats(ctx context.Context, ref string) (memory.AgentStats, error) {
	return guard.Call(ctx, a.s.gate, a.id, func() (memory.AgentStats, error) { return a.s.stats(ctx, a.id, ref) })
}

// errNameTaken is the error of a create or rename onto the name of another
// agent.
var errNameTaken = &memory.ConflictError{Message: "Agent name already exists"}

// create creates an agent, idempotently (API contract §5.5 #21). With an
// ID: the account's agent with that id, if there is one, is returned
// unchanged and created is false; else a new agent with the id is created,
// named Name (default the id), unless another agent of the account has
// that name (a *memory.ConflictError). With only a Name: the account's
// agent with that name is returned unchanged, else a new agent with a UUID
// id is created.
func (s *Service) create(ctx context.Context, accountID string, in memory.NewAgent) (memory.Agent, bool, error) {
	var p valid.Problems
	if in.ID == "" && in.Name == "" {
		p.Add("ID", "ID or Name is required")
	}
	if in.ID != "" && !valid.AgentRef(in.ID) {
		p.Add("ID", "ID must be 1-%d bytes and not blank", memory.MaxAgentRef)
	}
	if in.Name != "" {
		checkName(&p, in.Name)
	}
	checkDescription(&p, in.Description)
	meta := p.Metadata(in.Metadata)
	if err := p.Err(); err != nil {
		return memory.Agent{}, false, err
	}
	a, created, err := s.st.CreateAgent(ctx, accountID, in.ID, in.Name, in.Description, meta, s.now())
	if errors.Is(err, store.ErrNameTaken) {
		return memory.Agent{}, false, errNameTaken
	}
	if err != nil {
		return memory.Agent{}, false, apierr.FromStore(err, apierr.Agent)
	}
	return convert.Agent(a), created, nil
}

func checkName(p *valid.Problems, s string) {
	n := utf8.RuneCountInString(s)
	if !utf8.ValidString(s) || n == 0 || n > memory.MaxAgentName || valid.Blank(s) {
		p.Add("Name", "Name must be 1-%d characters and not blank", memory.MaxAgentName)
	}
}

func checkDescription(p *valid.Problems, d *string) {
	if d != nil && (!utf8.ValidString(*d) || utf8.RuneCountInString(*d) > memory.MaxAgentDescription) {
		p.Add("Description", "Description must be at most %d characters", memory.MaxAgentDescription)
	}
}

// get returns the account's agent named by ref: the agent with that id,
// else the one with that exact (case-sensitive) name (API contract §5.5).
// An unknown agent is a *memory.NotFoundError.
func (s *Service) get(ctx context.Context, accountID, ref string) (memory.Agent, error) {
	if ref == "" {
		return memory.Agent{}, apierr.NotFound(apierr.Agent)
	}
	a, err := s.st.GetAgent(ctx, accountID, ref)
	if err != nil {
		return memory.Agent{}, apierr.FromStore(err, apierr.Agent)
	}
	return convert.Agent(a), nil
}

// list returns a page of the account's agents, newest first.
func (s *Service) list(ctx context.Context, accountID string, p memory.PageParams) (memory.Page[memory.Agent], error) {
	var v valid.Problems
	q := page.Keyset(&v, page.Agents, p.Limit, p.Offset, p.Cursor)
	if err := v.Err(); err != nil {
		return memory.Page[memory.Agent]{}, err
	}
	as, total, err := s.st.ListAgents(ctx, accountID, q.Limit+1, q.Offset, q.After)
	if err != nil {
		return memory.Page[memory.Agent]{}, err
	}
	return page.KeysetPage(page.Agents, as, convert.Agent, total, q, func(a store.Agent) store.Position {
		return store.Position{CreatedAt: a.CreatedAt.UnixMilli(), ID: a.ID}
	}), nil
}

// update changes the account's agent named by ref (id or name) and
// advances its updated_at. Renaming it onto a name another agent of the
// account has is a *memory.ConflictError. A new name changes nothing else:
// the agent's id, lookups by it and its memories' agent_id stay as they
// were.
func (s *Service) update(ctx context.Context, accountID, ref string, p memory.AgentPatch) (memory.Agent, error) {
	if ref == "" {
		return memory.Agent{}, apierr.NotFound(apierr.Agent)
	}
	var v valid.Problems
	if p.Name != nil {
		checkName(&v, *p.Name)
	}
	checkDescription(&v, p.Description)
	var meta []byte
	replaceMeta := false
	if raw := bytes.TrimSpace(p.Metadata); len(raw) > 0 && string(raw) != "null" {
		meta, replaceMeta = v.Metadata(raw), true
	}
	if err := v.Err(); err != nil {
		return memory.Agent{}, err
	}
	if p.Name == nil && p.Description == nil && !replaceMeta {
		return s.get(ctx, accountID, ref)
	}
	a, err := s.st.UpdateAgent(ctx, accountID, ref, func(a *store.Agent) error {
		if p.Name != nil {
			a.Name = *p.Name
		}
		if p.Description != nil {
			a.Description = p.Description
		}
		if replaceMeta {
			a.Metadata = meta
		}
		now := s.now()
		if !now.After(a.UpdatedAt) {
			now = a.UpdatedAt.Add(time.Millisecond)
		}
		a.UpdatedAt = now
		return nil
	})
	if errors.Is(err, store.ErrNameTaken) {
		return memory.Agent{}, errNameTaken
	}
	if err != nil {
		return memory.Agent{}, apierr.FromStore(err, apierr.Agent)
	}
	return convert.Agent(a), nil
}

// delete removes the account's agent named by ref (id or name) together
// with its memories, sessions and entities.
func (s *Service) delete(ctx context.Context, accountID, ref string) (memory.AgentDeletion, error) {
	if ref == "" {
		return memory.AgentDeletion{}, apierr.NotFound(apierr.Agent)
	}
	if s.events == nil {
		id, n, err := s.st.DeleteAgent(ctx, accountID, ref)
		if err != nil {
			return memory.AgentDeletion{}, apierr.FromStore(err, apierr.Agent)
		}
		return memory.AgentDeletion{ID: id, DeletedMemories: n}, nil
	}
	// The memories' events commit with the delete, or not at all.
	var out memory.AgentDeletion
	err := s.st.InTx(ctx, func(ctx context.Context) error {
		ids, err := s.st.AgentMemoryIDs(ctx, accountID, ref)
		if err != nil {
			return err
		}
		id, n, err := s.st.DeleteAgent(ctx, accountID, ref)
		if err != nil {
			return err
		}
		out = memory.AgentDeletion{ID: id, DeletedMemories: n}
		for _, m := range ids {
			if err := s.events.Publish(ctx, accountID, memory.EventMemoryDeleted, m, deletedData{m}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return memory.AgentDeletion{}, apierr.FromStore(err, apierr.Agent)
	}
	s.events.Notify()
	return out, nil
}

// deletedData is the data of a memory.deleted event.
type deletedData struct {
	ID string `json:"id"`
}

// stats returns the statistics of the account's agent named by ref (id or
// name).
func (s *Service) stats(ctx context.Context, accountID, ref string) (memory.AgentStats, error) {
	if ref == "" {
		return memory.AgentStats{}, apierr.NotFound(apierr.Agent)
	}
	st, err := s.st.AgentStats(ctx, accountID, ref)
	if err != nil {
		return memory.AgentStats{}, apierr.FromStore(err, apierr.Agent)
	}
	return convert.AgentStats(st), nil
}
