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
	"github.com/memoryrelay/memoryrelay/internal/uuid"
)

// Limits on agents (API contract §5.5).
const (
	MaxAgentName        = 255   // characters
	MaxAgentDescription = 1_000 // characters
)

// AgentStats summarises an agent: its memory and entity counts and the
// updated_at of its newest memory (nil without memories).
type AgentStats = store.AgentStats

// NewAgent is the input of [Relay.CreateAgent].
type NewAgent struct {
	// Name is the agent's name, unique in the account: 1–255 characters,
	// not blank. Required unless ID is set.
	Name string
	// ID is optional. A UUID becomes the new agent's id when no agent has
	// it (else a fresh id is made); with Name empty, it names the agent
	// too, and an agent of the account with that id is returned as is.
	// Anything else serves as the name when Name is empty and is ignored
	// otherwise.
	ID string
	// Description is optional, at most 1,000 characters.
	Description *string
	// Metadata is a JSON object of at most 10 KiB; default {}.
	Metadata json.RawMessage
}

// CreateAgent creates an agent, idempotently by name: when the account
// already has an agent with the name, that agent is returned unchanged and
// created is false.
func (r *Relay) CreateAgent(ctx context.Context, accountID string, in NewAgent) (a Agent, created bool, err error) {
	name, id := in.Name, ""
	if in.ID != "" {
		if u, ok := uuid.Canonical(in.ID); ok {
			id = u
		} else if name == "" {
			name = in.ID
		}
	}
	if name == "" && id == "" {
		return Agent{}, false, invalid("name", "name is required")
	}
	if name != "" {
		if err := checkAgentName(name); err != nil {
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
	a, created, err = r.store.CreateAgent(ctx, accountID, id, name, in.Description, meta, r.now())
	return a, created, storeErr(err, "Agent")
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

// GetAgent returns the account's agent named by ref: its id when ref is a
// UUID, else its exact (case-sensitive) name. An unknown agent is a
// *NotFoundError.
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

// UpdateAgent changes the account's agent named by ref (UUID or name) and
// advances its updated_at. Renaming it onto a name another agent of the
// account has is a *ConflictError.
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

// DeleteAgent removes the account's agent named by ref (UUID or name)
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
// (UUID or name).
func (r *Relay) AgentStats(ctx context.Context, accountID, ref string) (AgentStats, error) {
	if ref == "" {
		return AgentStats{}, &NotFoundError{Kind: "Agent"}
	}
	st, err := r.store.AgentStats(ctx, accountID, ref)
	return st, storeErr(err, "Agent")
}
