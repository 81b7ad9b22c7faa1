package sessions

import (
	"context"
	"time"
	"unicode/utf8"

	"github.com/memoryrelay/memoryrelay/internal/apierr"
	"github.com/memoryrelay/memoryrelay/internal/convert"
	"github.com/memoryrelay/memoryrelay/internal/guard"
	"github.com/memoryrelay/memoryrelay/internal/page"
	"github.com/memoryrelay/memoryrelay/internal/store"
	"github.com/memoryrelay/memoryrelay/internal/uuid"
	"github.com/memoryrelay/memoryrelay/internal/valid"
	"github.com/memoryrelay/memoryrelay/memory"
)

// Store is the storage of sessions.
type Store interface {
	EndSession(ctx context.Context, accountID, id string, summary *string, now time.Time) (store.Session, error)
	GetOrCreateSession(ctx context.Context, x store.Session) (out store.Session, created bool, err error)
	GetSession(ctx context.Context, accountID, id string, memories int) (store.Session, []store.Memory, error)
	InsertSession(ctx context.Context, x *store.Session) error
	ListSessions(ctx context.Context, f store.SessionFilter, limit, offset int, after *store.Position) ([]store.Session, int, error)
}

// Service serves the sessions of every account; For gives one account's.
// It is safe for concurrent use.
type Service struct {
	st   Store
	gate guard.Gate
	now  func() time.Time
}

// New returns the sessions kept in st; gate admits each call, now is the
// clock in the stored precision (UTC milliseconds).
func New(st Store, gate guard.Gate, now func() time.Time) *Service {
	return &Service{st: st, gate: gate, now: now}
}

// For returns the session API of the account.
func (s *Service) For(accountID string) memory.Sessions { return account{s, accountID} }

type account struct {
	s  *Service
	id string
}

var _ memory.Sessions = account{}

func (a account) Create(ctx context.Context, in memory.NewSession) (memory.Session, error) {
	return guard.Call(ctx, a.s.gate, a.id, func() (memory.Session, error) { return a.s.create(ctx, a.id, in) })
}

func (a account) GetOrCreate(ctx context.Context, externalID string, in memory.NewSession) (memory.Session, bool, error) {
	return guard.Call2(ctx, a.s.gate, a.id, func() (memory.Session, bool, error) { return a.s.getOrCreate(ctx, a.id, externalID, in) })
}

func (a account) Get(ctx context.Context, id string) (memory.Session, error) {
	return guard.Call(ctx, a.s.gate, a.id, func() (memory.Session, error) { return a.s.get(ctx, a.id, id) })
}

func (a account) GetWithMemories(ctx context.Context, id string) (memory.Session, []memory.Memory, error) {
	return guard.Call2(ctx, a.s.gate, a.id, func() (memory.Session, []memory.Memory, error) { return a.s.withMemories(ctx, a.id, id) })
}

func (a account) End(ctx context.Context, id string, summary *string) (memory.Session, error) {
	return guard.Call(ctx, a.s.gate, a.id, func() (memory.Session, error) { return a.s.end(ctx, a.id, id, summary) })
}

func (a account) List(ctx context.Context, p memory.SessionListParams) (memory.Page[memory.Session], error) {
	return guard.Call(ctx, a.s.gate, a.id, func() (memory.Page[memory.Session], error) { return a.s.list(ctx, a.id, p) })
}

// create starts a new active session.
func (s *Service) create(ctx context.Context, accountID string, in memory.NewSession) (memory.Session, error) {
	var p valid.Problems
	x := s.newSession(&p, accountID, in)
	if err := p.Err(); err != nil {
		return memory.Session{}, err
	}
	if err := s.st.InsertSession(ctx, &x); err != nil {
		return memory.Session{}, apierr.FromStore(err, apierr.Session)
	}
	return convert.Session(x), nil
}

// getOrCreate returns the account's session with the external id (1–500
// characters), whatever its status, or starts one from in when there is
// none; created reports which. Concurrent calls with one external id all
// return the same session, and exactly one of them reports created. in is
// used only when the session is created.
func (s *Service) getOrCreate(ctx context.Context, accountID, externalID string, in memory.NewSession) (memory.Session, bool, error) {
	var p valid.Problems
	if n := utf8.RuneCountInString(externalID); n == 0 || n > memory.MaxExternalID || !utf8.ValidString(externalID) {
		p.Add("externalID", "externalID must be 1-%d characters", memory.MaxExternalID)
	}
	x := s.newSession(&p, accountID, in)
	if err := p.Err(); err != nil {
		return memory.Session{}, false, err
	}
	x.ExternalID = &externalID
	x, created, err := s.st.GetOrCreateSession(ctx, x)
	if err != nil {
		return memory.Session{}, false, apierr.FromStore(err, apierr.Session)
	}
	return convert.Session(x), created, nil
}

// newSession checks in, its problems going to p, and returns the session
// to store.
func (s *Service) newSession(p *valid.Problems, accountID string, in memory.NewSession) store.Session {
	agent := in.AgentID
	if agent == "" {
		agent = memory.DefaultAgent
	}
	p.AgentID(agent)
	p.OptText("Title", in.Title, memory.MaxSessionTitle)
	p.Ref("Project", in.Project, memory.MaxSessionProject)
	meta := p.Metadata(in.Metadata)
	now := s.now()
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
	}
}

// get returns the account's session with the id. An id that is not a
// UUID, or names no session of the account, is a *memory.NotFoundError.
func (s *Service) get(ctx context.Context, accountID, id string) (memory.Session, error) {
	id, ok := uuid.Canonical(id)
	if !ok {
		return memory.Session{}, apierr.NotFound(apierr.Session)
	}
	x, _, err := s.st.GetSession(ctx, accountID, id, 0)
	if err != nil {
		return memory.Session{}, apierr.FromStore(err, apierr.Session)
	}
	return convert.Session(x), nil
}

// withMemories returns the account's session with the id and its newest
// memories, at most memory.MaxSessionMemories of them, oldest first, read
// from one snapshot. Session.MemoryCount counts them all; the older ones
// are reachable by searching with the session's id.
func (s *Service) withMemories(ctx context.Context, accountID, id string) (memory.Session, []memory.Memory, error) {
	id, ok := uuid.Canonical(id)
	if !ok {
		return memory.Session{}, nil, apierr.NotFound(apierr.Session)
	}
	x, ms, err := s.st.GetSession(ctx, accountID, id, memory.MaxSessionMemories)
	if err != nil {
		return memory.Session{}, nil, apierr.FromStore(err, apierr.Session)
	}
	return convert.Session(x), convert.All(ms, convert.Memory), nil
}

// end marks the account's session ended. Ending an ended session keeps
// its ended_at; a non-nil summary (at most 50,000 characters) replaces the
// stored one in both cases.
func (s *Service) end(ctx context.Context, accountID, id string, summary *string) (memory.Session, error) {
	id, ok := uuid.Canonical(id)
	if !ok {
		return memory.Session{}, apierr.NotFound(apierr.Session)
	}
	if summary != nil && (!utf8.ValidString(*summary) || utf8.RuneCountInString(*summary) > memory.MaxSessionSummary) {
		return memory.Session{}, valid.Invalid("summary", "summary must be at most %d characters", memory.MaxSessionSummary)
	}
	x, err := s.st.EndSession(ctx, accountID, id, summary, s.now())
	if err != nil {
		return memory.Session{}, apierr.FromStore(err, apierr.Session)
	}
	return convert.Session(x), nil
}

// list returns a page of the account's sessions, newest StartedAt first.
func (s *Service) list(ctx context.Context, accountID string, p memory.SessionListParams) (memory.Page[memory.Session], error) {
	var v valid.Problems
	q := page.Keyset(&v, page.Sessions, p.Limit, p.Offset, p.Cursor)
	f := store.SessionFilter{AccountID: accountID, AgentRef: p.AgentID, Project: p.Project}
	switch p.Status {
	case "":
	case memory.SessionActive, memory.SessionEnded:
		f.Status = &p.Status
	default:
		v.Add("Status", "Status must be active or ended")
	}
	if err := v.Err(); err != nil {
		return memory.Page[memory.Session]{}, err
	}
	xs, total, err := s.st.ListSessions(ctx, f, q.Limit+1, q.Offset, q.After)
	if err != nil {
		return memory.Page[memory.Session]{}, err
	}
	return page.KeysetPage(page.Sessions, xs, convert.Session, total, q, func(x store.Session) store.Position {
		return store.Position{CreatedAt: x.StartedAt.UnixMilli(), ID: x.ID}
	}), nil
}
