package memoryrelay

import (
	"context"

	"github.com/memoryrelay/memoryrelay/keys"
	"github.com/memoryrelay/memoryrelay/memory"
)

// Account returns the API of the account with the id: its resource groups,
// as package memory defines them. Nothing is read until a method is
// called; on an unknown account every method returns a
// *memory.NotFoundError of kind "account", and after Close ErrClosed. The
// handle acts for no key: its Usage().Quota is a *memory.ValidationError
// (use AccountFor).
//
// The handle is cheap, safe for concurrent use and valid until Close.
func (r *Relay) Account(id string) memory.Account { return &account{r: r, id: id} }

// AccountFor returns the API of the account that k belongs to, acting for
// k: as Account(k.AccountID), with Usage().Quota reporting k's usage. k is
// taken as given (from Authorize, say): AccountFor does not check its
// scopes or its state.
func (r *Relay) AccountFor(k keys.Key) memory.Account {
	return &account{r: r, id: k.AccountID, key: &k}
}

// account implements memory.Account in process: each resource group is
// the account's view of the package that holds the group's rules
// (internal/memories, internal/agents, …), whose calls the Relay admits
// and classifies through gate.
type account struct {
	r   *Relay
	id  string
	key *keys.Key // the key it acts for; nil for Relay.Account
}

var _ memory.Account = (*account)(nil)

func (a *account) Memories() memory.Memories   { return a.r.memories.For(a.id) }
func (a *account) Agents() memory.Agents       { return a.r.agents.For(a.id) }
func (a *account) Entities() memory.Entities   { return a.r.entities.For(a.id) }
func (a *account) Sessions() memory.Sessions   { return a.r.sessions.For(a.id) }
func (a *account) Decisions() memory.Decisions { return a.r.decisions.For(a.id) }
func (a *account) Patterns() memory.Patterns   { return a.r.patterns.For(a.id) }
func (a *account) Projects() memory.Projects   { return a.r.projects.For(a.id) }
func (a *account) Contexts() memory.Contexts   { return a.r.contexts.For(a.id) }
func (a *account) Keys() memory.Keys           { return a.r.apikeys.For(a.id) }
func (a *account) Usage() memory.Usage         { return a.r.quotas.For(a.id, a.key) }
func (a *account) Webhooks() memory.Webhooks   { return a.r.webhooks.For(a.id) }
func (a *account) Extraction() memory.Extraction {
	return a.r.extractor.For(a.id)
}

// gate admits the calls of the account handles (the Relay is open, the
// account exists) and classifies their errors, for the resource packages
// (package guard).
type gate struct{ r *Relay }

func (g gate) Admit(ctx context.Context, accountID string) error {
	return g.r.checkAccount(ctx, accountID)
}

func (g gate) Classify(err error) error { return g.r.classify(err) }
