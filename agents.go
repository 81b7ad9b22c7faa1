package memoryrelay

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/memoryrelay/memoryrelay/internal/store"
	"github.com/memoryrelay/memoryrelay/memory"
)

// agentStore is the storage of agents, as agents.go uses it.
type agentStore interface {
	AgentStats(ctx context.Context, accountID, ref string) (store.AgentStats, error)
	CreateAgent(ctx context.Context, accountID, id, name string, description *string, metadata []byte, now time.Time) (a store.Agent, created bool, err error)
	DeleteAgent(ctx context.Context, accountID, ref string) (id string, memories int, err error)
	GetAgent(ctx context.Context, accountID, ref string) (store.Agent, error)
	ListAgents(ctx context.Context, accountID string, limit, offset int, after *store.Position) ([]store.Agent, int, error)
	UpdateAgent(ctx context.Context, accountID, ref string, apply func(*store.Agent) error) (store.Agent, error)
}

// createAgent creates an agent, idempotently (API contract §5.5 #21).
// With an ID: the account's agent with that id, if there is one, is
// returned unchanged and created is false; else a new agent with the id is
// created, named Name (default the id), unless another agent of the
// account has that name (a *ConflictError). With only a Name: the
// account's agent with that name is returned unchanged, else a new agent
// with a UUID id is created.
func (r *Relay) createAgent(ctx context.Context, accountID string, in memory.NewAgent) (memory.Agent, bool, error) {
	if in.ID == "" && in.Name == "" {
		return memory.Agent{}, false, invalid("ID", "ID or Name is required")
	}
	if in.ID != "" {
		if err := checkAgentID(in.ID); err != nil {
			return memory.Agent{}, false, err
		}
	}
	if in.Name != "" {
		if err := checkAgentName(in.Name); err != nil {
			return memory.Agent{}, false, err
		}
	}
	if err := checkDescription(in.Description); err != nil {
		return memory.Agent{}, false, err
	}
	meta, err := checkMetadata(in.Metadata)
	if err != nil {
		return memory.Agent{}, false, err
	}
	a, created, err := r.store.CreateAgent(ctx, accountID, in.ID, in.Name, in.Description, meta, r.now())
	if errors.Is(err, store.ErrNameTaken) {
		return memory.Agent{}, false, errNameTaken
	}
	if err != nil {
		return memory.Agent{}, false, storeErr(err, kindAgent)
	}
	return agentOf(a), created, nil
}

// errNameTaken is the error of a create or rename onto the name of another
// agent.
var errNameTaken = &memory.ConflictError{Message: "Agent name already exists"}

// checkAgentID validates a client-chosen agent id: the rule of every agent
// reference.
func checkAgentID(s string) error {
	if !validAgentRef(s) {
		return invalid("ID", "ID must be 1-%d bytes and not blank", memory.MaxAgentRef)
	}
	return nil
}

func checkAgentName(s string) error {
	n := utf8.RuneCountInString(s)
	if !utf8.ValidString(s) || n == 0 || n > memory.MaxAgentName || strings.TrimFunc(s, unicode.IsSpace) == "" {
		return invalid("Name", "Name must be 1-%d characters and not blank", memory.MaxAgentName)
	}
	return nil
}

func checkDescription(p *string) error {
	if p != nil && (!utf8.ValidString(*p) || utf8.RuneCountInString(*p) > memory.MaxAgentDescription) {
		return invalid("Description", "Description must be at most %d characters", memory.MaxAgentDescription)
	}
	return nil
}

// getAgent returns the account's agent named by ref: the agent with that
// id, else the one with that exact (case-sensitive) name (API contract
// §5.5). An unknown agent is a *memory.NotFoundError.
func (r *Relay) getAgent(ctx context.Context, accountID, ref string) (memory.Agent, error) {
	if ref == "" {
		return memory.Agent{}, notFound(kindAgent)
	}
	a, err := r.store.GetAgent(ctx, accountID, ref)
	if err != nil {
		return memory.Agent{}, storeErr(err, kindAgent)
	}
	return agentOf(a), nil
}

// listAgents returns a page of the account's agents, newest first.
func (r *Relay) listAgents(ctx context.Context, accountID string, p memory.PageParams) (memory.Page[memory.Agent], error) {
	limit, offset, after, err := keysetParams(agentsList, p.Limit, p.Offset, p.Cursor)
	if err != nil {
		return memory.Page[memory.Agent]{}, err
	}
	as, total, err := r.store.ListAgents(ctx, accountID, limit+1, offset, after)
	if err != nil {
		return memory.Page[memory.Agent]{}, err
	}
	return keysetPage(agentsList, as, agentOf, total, limit, offset, func(a store.Agent) store.Position {
		return store.Position{CreatedAt: a.CreatedAt.UnixMilli(), ID: a.ID}
	}), nil
}

// updateAgent changes the account's agent named by ref (id or name) and
// advances its updated_at. Renaming it onto a name another agent of the
// account has is a *ConflictError. A new name changes nothing else: the
// agent's id, lookups by it and its memories' agent_id stay as they were.
func (r *Relay) updateAgent(ctx context.Context, accountID, ref string, p memory.AgentPatch) (memory.Agent, error) {
	if ref == "" {
		return memory.Agent{}, notFound(kindAgent)
	}
	if p.Name != nil {
		if err := checkAgentName(*p.Name); err != nil {
			return memory.Agent{}, err
		}
	}
	if err := checkDescription(p.Description); err != nil {
		return memory.Agent{}, err
	}
	var meta []byte
	replaceMeta := false
	if raw := bytes.TrimSpace(p.Metadata); len(raw) > 0 && string(raw) != "null" {
		m, err := checkMetadata(raw)
		if err != nil {
			return memory.Agent{}, err
		}
		meta, replaceMeta = m, true
	}
	if p.Name == nil && p.Description == nil && !replaceMeta {
		return r.getAgent(ctx, accountID, ref)
	}
	a, err := r.store.UpdateAgent(ctx, accountID, ref, func(a *store.Agent) error {
		if p.Name != nil {
			a.Name = *p.Name
		}
		if p.Description != nil {
			a.Description = p.Description
		}
		if replaceMeta {
			a.Metadata = meta
		}
		now := r.now()
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
		return memory.Agent{}, storeErr(err, kindAgent)
	}
	return agentOf(a), nil
}

// deleteAgent removes the account's agent named by ref (id or name)
// together with its memories, sessions and entities.
func (r *Relay) deleteAgent(ctx context.Context, accountID, ref string) (memory.AgentDeletion, error) {
	if ref == "" {
		return memory.AgentDeletion{}, notFound(kindAgent)
	}
	id, n, err := r.store.DeleteAgent(ctx, accountID, ref)
	if err != nil {
		return memory.AgentDeletion{}, storeErr(err, kindAgent)
	}
	return memory.AgentDeletion{ID: id, DeletedMemories: n}, nil
}

// agentStats returns the statistics of the account's agent named by ref
// (id or name).
func (r *Relay) agentStats(ctx context.Context, accountID, ref string) (memory.AgentStats, error) {
	if ref == "" {
		return memory.AgentStats{}, notFound(kindAgent)
	}
	st, err := r.store.AgentStats(ctx, accountID, ref)
	if err != nil {
		return memory.AgentStats{}, storeErr(err, kindAgent)
	}
	return agentStatsOf(st), nil
}
