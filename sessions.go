package memoryrelay

import (
	"context"
	"time"
	"unicode/utf8"

	"github.com/memoryrelay/memoryrelay/internal/store"
	"github.com/memoryrelay/memoryrelay/internal/uuid"
	"github.com/memoryrelay/memoryrelay/memory"
)

// sessionStore is the storage of sessions, as sessions.go uses it.
type sessionStore interface {
	EndSession(ctx context.Context, accountID, id string, summary *string, now time.Time) (store.Session, error)
	GetOrCreateSession(ctx context.Context, x store.Session) (out store.Session, created bool, err error)
	GetSession(ctx context.Context, accountID, id string, memories int) (store.Session, []store.Memory, error)
	InsertSession(ctx context.Context, x *store.Session) error
	ListSessions(ctx context.Context, f store.SessionFilter, limit, offset int, after *store.Position) ([]store.Session, int, error)
}

// createSession starts a new active session.
func (r *Relay) createSession(ctx context.Context, accountID string, in memory.NewSession) (memory.Session, error) {
	x, err := r.newSession(accountID, in)
	if err != nil {
		return memory.Session{}, err
	}
	if err := r.store.InsertSession(ctx, &x); err != nil {
		return memory.Session{}, storeErr(err, kindSession)
	}
	return sessionOf(x), nil
}

// getOrCreateSession returns the account's session with the external id
// (1–500 characters), whatever its status, or starts one from in when there
// is none; created reports which. Concurrent calls with one external id all
// return the same session, and exactly one of them reports created. in is
// used only when the session is created.
func (r *Relay) getOrCreateSession(ctx context.Context, accountID, externalID string, in memory.NewSession) (memory.Session, bool, error) {
	if n := utf8.RuneCountInString(externalID); n == 0 || n > memory.MaxExternalID || !utf8.ValidString(externalID) {
		return memory.Session{}, false, invalid("externalID", "externalID must be 1-%d characters", memory.MaxExternalID)
	}
	x, err := r.newSession(accountID, in)
	if err != nil {
		return memory.Session{}, false, err
	}
	x.ExternalID = &externalID
	x, created, err := r.store.GetOrCreateSession(ctx, x)
	if err != nil {
		return memory.Session{}, false, storeErr(err, kindSession)
	}
	return sessionOf(x), created, nil
}

func (r *Relay) newSession(accountID string, in memory.NewSession) (store.Session, error) {
	agent := in.AgentID
	if agent == "" {
		agent = memory.DefaultAgent
	}
	if err := checkAgentRef(agent); err != nil {
		return store.Session{}, err
	}
	if in.Title != nil && (!utf8.ValidString(*in.Title) || utf8.RuneCountInString(*in.Title) > memory.MaxSessionTitle) {
		return store.Session{}, invalid("Title", "Title must be at most %d characters", memory.MaxSessionTitle)
	}
	if in.Project != nil {
		if n := utf8.RuneCountInString(*in.Project); n == 0 || n > memory.MaxSessionProject || !utf8.ValidString(*in.Project) {
			return store.Session{}, invalid("Project", "Project must be 1-%d characters", memory.MaxSessionProject)
		}
	}
	meta, err := checkMetadata(in.Metadata)
	if err != nil {
		return store.Session{}, err
	}
	now := r.now()
	return store.Session{
		ID:        uuid.New(),
		AccountID: accountID,
		AgentRef:  agent,
		Project:   in.Project,
		Status:    store.SessionActive,
		Title:     in.Title,
		Metadata:  meta,
		StartedAt: now,
		CreatedAt: now,
		UpdatedAt: now,
	}, nil
}

// getSession returns the account's session with the id. An id that is not
// a UUID, or names no session of the account, is a *memory.NotFoundError.
func (r *Relay) getSession(ctx context.Context, accountID, id string) (memory.Session, error) {
	id, ok := uuid.Canonical(id)
	if !ok {
		return memory.Session{}, notFound(kindSession)
	}
	x, _, err := r.store.GetSession(ctx, accountID, id, 0)
	if err != nil {
		return memory.Session{}, storeErr(err, kindSession)
	}
	return sessionOf(x), nil
}

// sessionWithMemories returns the account's session with the id and its
// newest memories, at most memory.MaxSessionMemories of them, oldest first, read
// from one snapshot. Session.MemoryCount counts them all; the older ones
// are reachable by searching with the session's id.
func (r *Relay) sessionWithMemories(ctx context.Context, accountID, id string) (memory.Session, []memory.Memory, error) {
	id, ok := uuid.Canonical(id)
	if !ok {
		return memory.Session{}, nil, notFound(kindSession)
	}
	x, ms, err := r.store.GetSession(ctx, accountID, id, memory.MaxSessionMemories)
	if err != nil {
		return memory.Session{}, nil, storeErr(err, kindSession)
	}
	return sessionOf(x), convertAll(ms, memoryOf), nil
}

// endSession marks the account's session ended. Ending an ended session
// keeps its ended_at; a non-nil summary (at most 50,000 characters)
// replaces the stored one in both cases.
func (r *Relay) endSession(ctx context.Context, accountID, id string, summary *string) (memory.Session, error) {
	id, ok := uuid.Canonical(id)
	if !ok {
		return memory.Session{}, notFound(kindSession)
	}
	if summary != nil && (!utf8.ValidString(*summary) || utf8.RuneCountInString(*summary) > memory.MaxSessionSummary) {
		return memory.Session{}, invalid("summary", "summary must be at most %d characters", memory.MaxSessionSummary)
	}
	x, err := r.store.EndSession(ctx, accountID, id, summary, r.now())
	if err != nil {
		return memory.Session{}, storeErr(err, kindSession)
	}
	return sessionOf(x), nil
}

// listSessions returns a page of the account's sessions.
func (r *Relay) listSessions(ctx context.Context, accountID string, p memory.SessionListParams) (memory.Page[memory.Session], error) {
	limit, offset, after, err := keysetParams(sessionsList, p.Limit, p.Offset, p.Cursor)
	if err != nil {
		return memory.Page[memory.Session]{}, err
	}
	f := store.SessionFilter{AccountID: accountID, AgentRef: p.AgentID, Project: p.Project}
	switch p.Status {
	case "":
	case memory.SessionActive, memory.SessionEnded:
		f.Status = &p.Status
	default:
		return memory.Page[memory.Session]{}, invalid("Status", "Status must be active or ended")
	}
	xs, total, err := r.store.ListSessions(ctx, f, limit+1, offset, after)
	if err != nil {
		return memory.Page[memory.Session]{}, err
	}
	return keysetPage(sessionsList, xs, sessionOf, total, limit, offset, func(s store.Session) store.Position {
		return store.Position{CreatedAt: s.StartedAt.UnixMilli(), ID: s.ID}
	}), nil
}
