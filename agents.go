package memoryrelay

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/memoryrelay/memoryrelay/internal/store"
)

// Limits on agents (API contract §5.5). An agent's id, and every agent
// reference (agent_id fields and filters, /v1/agents/{id} paths), is 1 to
// MaxAgentRef (255) bytes of UTF-8, not only whitespace.
const (
	MaxAgentName        = 255   // characters
	MaxAgentDescription = 1_000 // characters
)

// AgentStats summarises an agent: its memory and entity counts and the
// updated_at of its newest memory (nil without memories).
type AgentStats = store.AgentStats

// NewAgent is the input of [Relay.CreateAgent]. One of ID and Name is
// required.
type NewAgent struct {
	// ID is the id the client chooses for the agent (API contract §5.5):
	// 1–255 bytes of UTF-8, any characters but not only whitespace, kept
	// as given, unique within the account (another account may use the
	// same id) and never changed. Empty: a new agent gets a UUID.
	ID string
	// Name is the agent's display label, unique in the account: 1–255
	// characters, not blank. Default: the ID.
	Name string
	// Description is optional, at most 1,000 characters.
	Description *string
	// Metadata is a JSON object of at most 10 KiB; default {}.
	Metadata json.RawMessage
}

// CreateAgent creates an agent, idempotently (API contract §5.5 #21).
// With an ID: the account's agent with that id, if there is one, is
// returned unchanged and created is false; else a new agent with the id is
// created, named Name (default the id), unless another agent of the
// account has that name (a *ConflictError). With only a Name: the
// account's agent with that name is returned unchanged, else a new agent
// with a UUID id is created.
func (r *Relay) CreateAgent(ctx context.Context, accountID string, in NewAgent) (a Agent, created bool, err error) {
	if in.ID == "" && in.Name == "" {
		return Agent{}, false, invalid("id", "id or name is required")
	}
	if in.ID != "" {
		if err := checkAgentID(in.ID); err != nil {
			return Agent{}, false, err
		}
	}
	if in.Name != "" {
		if err := checkAgentName(in.Name); err != nil {
			return Agent{}, false, err
		}
	}
	if err := checkDescription(in.Description); err != nil {
		return Agent{}, false, err
	}
	meta, err := checkMetadata(in.Metadata)
	if err != nil {
		return Agent{}, false, err
	}
	a, created, err = r.store.CreateAgent(ctx, accountID, in.ID, in.Name, in.Description, meta, r.now())
	if errors.Is(err, store.ErrNameTaken) {
		return Agent{}, false, &ConflictError{Message: "Agent name already exists"}
	}
	return a, created, storeErr(err, "Agent")
}

// checkAgentID validates a client-chosen agent id: the rule of every agent
// reference.
func checkAgentID(s string) error {
	if !validAgentRef(s) {
		return invalid("id", "id must be 1-%d bytes and not blank", MaxAgentRef)
	}
	return nil
}

func checkAgentName(s string) error {
	n := utf8.RuneCountInString(s)
	if !utf8.ValidString(s) || n == 0 || n > MaxAgentName || strings.TrimFunc(s, unicode.IsSpace) == "" {
		return invalid("name", "name must be 1-%d characters and not blank", MaxAgentName)
	}
	return nil
}

func checkDescription(p *string) error {
	if p != nil && (!utf8.ValidString(*p) || utf8.RuneCountInString(*p) > MaxAgentDescription) {
		return invalid("description", "description must be at most %d characters", MaxAgentDescription)
	}
	return nil
}

// GetAgent returns the account's agent named by ref: the agent with that
// id, else the one with that exact (case-sensitive) name (API contract
// §5.5). An unknown agent is a *NotFoundError.
func (r *Relay) GetAgent(ctx context.Context, accountID, ref string) (Agent, error) {
	if ref == "" {
		return Agent{}, &NotFoundError{Kind: "Agent"}
	}
	a, err := r.store.GetAgent(ctx, accountID, ref)
	return a, storeErr(err, "Agent")
}

// AgentPatch is the input of [Relay.UpdateAgent]. Nil fields are left
// unchanged.
type AgentPatch struct {
	Name        *string // 1–255 characters; a name another agent has is a *ConflictError
	Description *string // at most 1,000 characters
	// Metadata, unless nil or JSON null, replaces the stored object.
	Metadata json.RawMessage
}

// UpdateAgent changes the account's agent named by ref (id or name) and
// advances its updated_at. Renaming it onto a name another agent of the
// account has is a *ConflictError. A new name changes nothing else: the
// agent's id, lookups by it and its memories' agent_id stay as they were.
func (r *Relay) UpdateAgent(ctx context.Context, accountID, ref string, p AgentPatch) (Agent, error) {
	if ref == "" {
		return Agent{}, &NotFoundError{Kind: "Agent"}
	}
	if p.Name != nil {
		if err := checkAgentName(*p.Name); err != nil {
			return Agent{}, err
		}
	}
	if err := checkDescription(p.Description); err != nil {
		return Agent{}, err
	}
	var meta []byte
	replaceMeta := false
	if raw := bytes.TrimSpace(p.Metadata); len(raw) > 0 && string(raw) != "null" {
		m, err := checkMetadata(raw)
		if err != nil {
			return Agent{}, err
		}
		meta, replaceMeta = m, true
	}
	if p.Name == nil && p.Description == nil && !replaceMeta {
		return r.GetAgent(ctx, accountID, ref)
	}
	a, err := r.store.UpdateAgent(ctx, accountID, ref, func(a *Agent) error {
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
		return Agent{}, &ConflictError{Message: "Agent name already exists"}
	}
	return a, storeErr(err, "Agent")
}

// AgentDeletion reports what [Relay.DeleteAgent] removed.
type AgentDeletion struct {
	ID              string // the agent's id
	DeletedMemories int    // memories removed with it
}

// DeleteAgent removes the account's agent named by ref (id or name)
// together with its memories, sessions and entities.
func (r *Relay) DeleteAgent(ctx context.Context, accountID, ref string) (AgentDeletion, error) {
	if ref == "" {
		return AgentDeletion{}, &NotFoundError{Kind: "Agent"}
	}
	id, n, err := r.store.DeleteAgent(ctx, accountID, ref)
	if err != nil {
		return AgentDeletion{}, storeErr(err, "Agent")
	}
	return AgentDeletion{ID: id, DeletedMemories: n}, nil
}

// AgentStats returns the statistics of the account's agent named by ref
// (id or name).
func (r *Relay) AgentStats(ctx context.Context, accountID, ref string) (AgentStats, error) {
	if ref == "" {
		return AgentStats{}, &NotFoundError{Kind: "Agent"}
	}
	st, err := r.store.AgentStats(ctx, accountID, ref)
	return st, storeErr(err, "Agent")
}
