package memoryrelay

import (
	"context"
	"encoding/json"
	"unicode/utf8"

	"github.com/memoryrelay/memoryrelay/internal/store"
	"github.com/memoryrelay/memoryrelay/internal/uuid"
)

// Session statuses.
const (
	SessionActive = store.SessionActive
	SessionEnded  = store.SessionEnded
)

// Session is a conversation or work session of an agent.
type Session = store.Session

// NewSession is the input of [Relay.CreateSession] and
// [Relay.GetOrCreateSession]. Nil pointers and empty strings take the
// defaults.
type NewSession struct {
	AgentID  string          // agent id or name; default "default"; an unknown one is created with that id and name
	Title    *string         // at most 500 characters
	Project  *string         // project slug, 1–255 characters; a valid unknown slug creates the project
	Metadata json.RawMessage // JSON object ≤ 10 KiB; default {}
}

// CreateSession starts a new active session.
func (r *Relay) CreateSession(ctx context.Context, accountID string, in NewSession) (Session, error) {
	x, err := r.newSession(accountID, in)
	if err != nil {
		return Session{}, err
	}
	if err := r.store.InsertSession(ctx, &x); err != nil {
		return Session{}, storeErr(err, "Session")
	}
	return x, nil
}

// GetOrCreateSession returns the account's session with the external id
// (1–500 characters), whatever its status, or starts one from in when there
// is none; created reports which. Concurrent calls with one external id all
// return the same session, and exactly one of them reports created. in is
// used only when the session is created.
func (r *Relay) GetOrCreateSession(ctx context.Context, accountID, externalID string, in NewSession) (x Session, created bool, err error) {
	if n := utf8.RuneCountInString(externalID); n == 0 || n > MaxExternalID || !utf8.ValidString(externalID) {
		return Session{}, false, invalid("external_id", "external_id must be 1-%d characters", MaxExternalID)
	}
	x, err = r.newSession(accountID, in)
	if err != nil {
		return Session{}, false, err
	}
	x.ExternalID = &externalID
	x, created, err = r.store.GetOrCreateSession(ctx, x)
	return x, created, storeErr(err, "Session")
}

func (r *Relay) newSession(accountID string, in NewSession) (Session, error) {
	agent := in.AgentID
	if agent == "" {
		agent = DefaultAgent
	}
	if err := checkAgentRef(agent); err != nil {
		return Session{}, err
	}
	if in.Title != nil && (!utf8.ValidString(*in.Title) || utf8.RuneCountInString(*in.Title) > MaxSessionTitle) {
		return Session{}, invalid("title", "title must be at most %d characters", MaxSessionTitle)
	}
	if in.Project != nil {
		if n := utf8.RuneCountInString(*in.Project); n == 0 || n > MaxSessionProject || !utf8.ValidString(*in.Project) {
			return Session{}, invalid("project", "project must be 1-%d characters", MaxSessionProject)
		}
	}
	meta, err := checkMetadata(in.Metadata)
	if err != nil {
		return Session{}, err
	}
	now := r.now()
	return Session{
		ID:        uuid.New(),
		AccountID: accountID,
		AgentRef:  agent,
		Project:   in.Project,
		Status:    SessionActive,
		Title:     in.Title,
		Metadata:  meta,
		StartedAt: now,
		CreatedAt: now,
		UpdatedAt: now,
	}, nil
}

// GetSession returns the account's session with the id. An id that is not
// a UUID, or names no session of the account, is a *NotFoundError.
func (r *Relay) GetSession(ctx context.Context, accountID, id string) (Session, error) {
	id, ok := uuid.Canonical(id)
	if !ok {
		return Session{}, &NotFoundError{Kind: "Session"}
	}
	x, _, err := r.store.GetSession(ctx, accountID, id, 0)
	return x, storeErr(err, "Session")
}

// SessionWithMemories returns the account's session with the id and its
// newest memories, at most MaxSessionMemories of them, oldest first, read
// from one snapshot. Session.MemoryCount counts them all; the older ones
// are reachable by searching with the session's id.
func (r *Relay) SessionWithMemories(ctx context.Context, accountID, id string) (Session, []Memory, error) {
	id, ok := uuid.Canonical(id)
	if !ok {
		return Session{}, nil, &NotFoundError{Kind: "Session"}
	}
	x, ms, err := r.store.GetSession(ctx, accountID, id, MaxSessionMemories)
	if err != nil {
		return Session{}, nil, storeErr(err, "Session")
	}
	return x, ms, nil
}

// EndSession marks the account's session ended. Ending an ended session
// keeps its ended_at; a non-nil summary (at most 50,000 characters)
// replaces the stored one in both cases.
func (r *Relay) EndSession(ctx context.Context, accountID, id string, summary *string) (Session, error) {
	id, ok := uuid.Canonical(id)
	if !ok {
		return Session{}, &NotFoundError{Kind: "Session"}
	}
	if summary != nil && (!utf8.ValidString(*summary) || utf8.RuneCountInString(*summary) > MaxSessionSummary) {
		return Session{}, invalid("summary", "summary must be at most %d characters", MaxSessionSummary)
	}
	x, err := r.store.EndSession(ctx, accountID, id, summary, r.now())
	return x, storeErr(err, "Session")
}

// SessionListParams selects a page of sessions, newest started_at first.
type SessionListParams struct {
	Limit   int     // 1–100 (larger is clamped); default 20
	Offset  int     // ≥ 0
	AgentID *string // agent id or name; unknown: empty page
	Project *string // slug
	Status  string  // "active", "ended", or "" for both
}

// ListSessions returns a page of the account's sessions.
func (r *Relay) ListSessions(ctx context.Context, accountID string, p SessionListParams) (Page[Session], error) {
	limit, err := pageLimit(p.Limit, DefaultPage, MaxPage)
	if err != nil {
		return Page[Session]{}, err
	}
	if err := checkOffset(p.Offset); err != nil {
		return Page[Session]{}, err
	}
	f := store.SessionFilter{AccountID: accountID, AgentRef: p.AgentID, Project: p.Project}
	switch p.Status {
	case "":
	case SessionActive, SessionEnded:
		f.Status = &p.Status
	default:
		return Page[Session]{}, invalid("status", "status must be active or ended")
	}
	xs, total, err := r.store.ListSessions(ctx, f, limit, p.Offset)
	if err != nil {
		return Page[Session]{}, err
	}
	if xs == nil {
		xs = []Session{}
	}
	return Page[Session]{Data: xs, Total: total, Limit: limit, Offset: p.Offset, HasMore: p.Offset+len(xs) < total}, nil
}
