package client

// The JSON objects of the API contract §4 as the client reads them, and
// their conversion to the types of package memory.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/memoryrelay/memoryrelay/keys"
	"github.com/memoryrelay/memoryrelay/memory"
	"github.com/memoryrelay/memoryrelay/scopes"
)

// msTime is an instant as integer milliseconds since the Unix epoch
// (memories, entities, agents, v2 jobs, health).
type msTime int64

func (m msTime) time() time.Time { return time.UnixMilli(int64(m)).UTC() }

func msPtr(m *msTime) *time.Time {
	if m == nil {
		return nil
	}
	t := m.time()
	return &t
}

// isoTime is an instant as an ISO-8601 string (sessions, decisions,
// patterns, projects, keys, quota).
type isoTime struct{ t time.Time }

func (t *isoTime) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return fmt.Errorf("client: instant %q is not ISO-8601: %w", s, err)
	}
	t.t = v.UTC()
	return nil
}

func isoPtr(t *isoTime) *time.Time {
	if t == nil {
		return nil
	}
	v := t.t
	return &v
}

// object is a JSON object field as package memory holds it: nil for {}
// (and for null or absent).
func object(raw json.RawMessage) json.RawMessage {
	t := bytes.TrimSpace(raw)
	if len(t) == 0 || string(t) == "null" {
		return nil
	}
	if t[0] == '{' && len(bytes.TrimSpace(t[1:len(t)-1])) == 0 {
		return nil
	}
	return raw
}

// nullable is a JSON value that may be null: nil for null or absent.
func nullable(raw json.RawMessage) json.RawMessage {
	if t := bytes.TrimSpace(raw); len(t) == 0 || string(t) == "null" {
		return nil
	}
	return raw
}

// convert maps a wire list to a list of package memory, never nil.
func convert[W, T any](ws []W, f func(W) T) []T {
	out := make([]T, len(ws))
	for i, w := range ws {
		out[i] = f(w)
	}
	return out
}

// stringList returns s, or an empty list for nil.
func stringList(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// listJSON is the list envelope (§4.2).
type listJSON[W any] struct {
	Data       []W     `json:"data"`
	HasMore    bool    `json:"has_more"`
	Total      int     `json:"total"`
	Limit      int     `json:"limit"`
	Offset     int     `json:"offset"`
	NextCursor *string `json:"next_cursor"`
}

func toPage[W, T any](l listJSON[W], f func(W) T) memory.Page[T] {
	return memory.Page[T]{Data: convert(l.Data, f), HasMore: l.HasMore, Total: l.Total, Limit: l.Limit, Offset: l.Offset, NextCursor: l.NextCursor}
}

// dataJSON is an answer whose list is under data.
type dataJSON[W any] struct {
	Data []W `json:"data"`
}

type memoryJSON struct {
	ID         string          `json:"id"`
	Content    string          `json:"content"`
	AgentID    string          `json:"agent_id"`
	UserID     *string         `json:"user_id"`
	Metadata   json.RawMessage `json:"metadata"`
	Entities   []entityRefJSON `json:"entities"`
	MemoryType *string         `json:"memory_type"`
	Visibility string          `json:"visibility"`
	Importance float64         `json:"importance"`
	Tier       string          `json:"tier"`
	Scope      string          `json:"scope"`
	SessionID  *string         `json:"session_id"`
	ProjectID  *string         `json:"project_id"`
	Project    *string         `json:"project"`
	ArchivedAt *msTime         `json:"archived_at"`
	CreatedAt  msTime          `json:"created_at"`
	UpdatedAt  msTime          `json:"updated_at"`
	// IsDuplicate is read by Create only.
	IsDuplicate bool `json:"is_duplicate"`

	ExtractionStatus *string `json:"extraction_status"`
	ExtractionMethod *string `json:"extraction_method"`
	ExtractionModel  *string `json:"extraction_model"`
}

type entityRefJSON struct {
	Type       string  `json:"type"`
	Value      string  `json:"value"`
	Confidence float64 `json:"confidence"`
}

func toMemory(w memoryJSON) memory.Memory {
	return memory.Memory{
		ID: w.ID, AgentID: w.AgentID, UserID: w.UserID, Content: w.Content, Metadata: object(w.Metadata),
		MemoryType: w.MemoryType, Visibility: w.Visibility, Importance: w.Importance, Tier: w.Tier, Scope: w.Scope,
		SessionID: w.SessionID, Project: w.Project, ProjectID: w.ProjectID,
		ArchivedAt: msPtr(w.ArchivedAt), CreatedAt: w.CreatedAt.time(), UpdatedAt: w.UpdatedAt.time(),
		ExtractionStatus: w.ExtractionStatus, ExtractionMethod: w.ExtractionMethod, ExtractionModel: w.ExtractionModel,
		Entities: convert(w.Entities, func(r entityRefJSON) memory.EntityRef {
			return memory.EntityRef{Type: r.Type, Value: r.Value, Confidence: r.Confidence}
		}),
	}
}

// searchItemJSON is a search result (§4.3); the nested memory is read.
type searchItemJSON struct {
	Memory memoryJSON `json:"memory"`
	Score  float64    `json:"score"`
}

func toHit(w searchItemJSON) memory.Hit {
	return memory.Hit{Memory: toMemory(w.Memory), Score: w.Score}
}

type agentJSON struct {
	ID           string          `json:"id"`
	Name         string          `json:"name"`
	Description  *string         `json:"description"`
	Metadata     json.RawMessage `json:"metadata"`
	MemoryCount  int             `json:"memory_count"`
	SessionCount int             `json:"session_count"`
	ProjectCount int             `json:"project_count"`
	LastActiveAt *msTime         `json:"last_active_at"`
	CreatedAt    msTime          `json:"created_at"`
	UpdatedAt    msTime          `json:"updated_at"`
}

func toAgent(w agentJSON) memory.Agent {
	return memory.Agent{
		ID: w.ID, Name: w.Name, Description: w.Description, Metadata: object(w.Metadata),
		MemoryCount: w.MemoryCount, SessionCount: w.SessionCount, ProjectCount: w.ProjectCount,
		LastActiveAt: msPtr(w.LastActiveAt), CreatedAt: w.CreatedAt.time(), UpdatedAt: w.UpdatedAt.time(),
	}
}

type entityJSON struct {
	ID                string          `json:"id"`
	Name              string          `json:"name"`
	Type              string          `json:"type"`
	AgentID           *string         `json:"agent_id"`
	Metadata          json.RawMessage `json:"metadata"`
	MemoryCount       int             `json:"memory_count"`
	RelationshipCount int             `json:"relationship_count"`
	CreatedAt         msTime          `json:"created_at"`
	UpdatedAt         msTime          `json:"updated_at"`
}

func toEntity(w entityJSON) memory.Entity {
	return memory.Entity{
		ID: w.ID, AgentID: w.AgentID, Name: w.Name, Type: w.Type, Metadata: object(w.Metadata),
		MemoryCount: w.MemoryCount, RelationshipCount: w.RelationshipCount,
		CreatedAt: w.CreatedAt.time(), UpdatedAt: w.UpdatedAt.time(),
	}
}

type sessionJSON struct {
	ID          string          `json:"id"`
	AgentID     string          `json:"agent_id"`
	ExternalID  *string         `json:"external_id"`
	Project     *string         `json:"project"`
	Status      string          `json:"status"`
	Title       *string         `json:"title"`
	Summary     *string         `json:"summary"`
	Metadata    json.RawMessage `json:"metadata"`
	MemoryCount int             `json:"memory_count"`
	StartedAt   isoTime         `json:"started_at"`
	EndedAt     *isoTime        `json:"ended_at"`
	CreatedAt   isoTime         `json:"created_at"`
	UpdatedAt   isoTime         `json:"updated_at"`
}

func toSession(w sessionJSON) memory.Session {
	return memory.Session{
		ID: w.ID, AgentID: w.AgentID, ExternalID: w.ExternalID, Project: w.Project, Status: w.Status,
		Title: w.Title, Summary: w.Summary, Metadata: object(w.Metadata), MemoryCount: w.MemoryCount,
		StartedAt: w.StartedAt.t, EndedAt: isoPtr(w.EndedAt), CreatedAt: w.CreatedAt.t, UpdatedAt: w.UpdatedAt.t,
	}
}

type decisionJSON struct {
	ID           string          `json:"id"`
	AgentID      *string         `json:"agent_id"`
	SessionID    *string         `json:"session_id"`
	ProjectSlug  *string         `json:"project_slug"`
	Title        string          `json:"title"`
	Rationale    string          `json:"rationale"`
	Alternatives *string         `json:"alternatives"`
	Status       string          `json:"status"`
	SupersededBy *string         `json:"superseded_by"`
	Tags         []string        `json:"tags"`
	Metadata     json.RawMessage `json:"metadata"`
	CreatedAt    isoTime         `json:"created_at"`
	UpdatedAt    isoTime         `json:"updated_at"`
}

func toDecision(w decisionJSON) memory.Decision {
	return memory.Decision{
		ID: w.ID, AgentID: w.AgentID, SessionID: w.SessionID, ProjectSlug: w.ProjectSlug, Title: w.Title,
		Rationale: w.Rationale, Alternatives: w.Alternatives, Status: w.Status, SupersededBy: w.SupersededBy,
		Tags: stringList(w.Tags), Metadata: object(w.Metadata), CreatedAt: w.CreatedAt.t, UpdatedAt: w.UpdatedAt.t,
	}
}

// decisionHitJSON is a scored decision (check, impact analysis).
type decisionHitJSON struct {
	Decision decisionJSON `json:"decision"`
	Score    float64      `json:"score"`
}

func toDecisionHit(w decisionHitJSON) memory.DecisionHit {
	return memory.DecisionHit{Decision: toDecision(w.Decision), Score: w.Score}
}

type patternJSON struct {
	ID                string          `json:"id"`
	Title             string          `json:"title"`
	Description       string          `json:"description"`
	Category          *string         `json:"category"`
	ExampleCode       *string         `json:"example_code"`
	Scope             string          `json:"scope"`
	Tags              []string        `json:"tags"`
	SourceProjectID   *string         `json:"source_project_id"`
	SourceProjectSlug *string         `json:"source_project_slug"`
	Metadata          json.RawMessage `json:"metadata"`
	AdoptionCount     int             `json:"adoption_count"`
	CreatedAt         isoTime         `json:"created_at"`
	UpdatedAt         isoTime         `json:"updated_at"`
}

func toPattern(w patternJSON) memory.Pattern {
	return memory.Pattern{
		ID: w.ID, Title: w.Title, Description: w.Description, Category: w.Category, ExampleCode: w.ExampleCode,
		Scope: w.Scope, Tags: stringList(w.Tags), SourceProjectID: w.SourceProjectID, SourceProjectSlug: w.SourceProjectSlug,
		Metadata: object(w.Metadata), AdoptionCount: w.AdoptionCount, CreatedAt: w.CreatedAt.t, UpdatedAt: w.UpdatedAt.t,
	}
}

type projectJSON struct {
	ID          string          `json:"id"`
	Slug        string          `json:"slug"`
	Name        string          `json:"name"`
	Description *string         `json:"description"`
	Stack       json.RawMessage `json:"stack"`
	RepoURL     *string         `json:"repo_url"`
	Metadata    json.RawMessage `json:"metadata"`
	MemoryCount int             `json:"memory_count"`
	CreatedAt   isoTime         `json:"created_at"`
	UpdatedAt   isoTime         `json:"updated_at"`
}

func toProject(w projectJSON) memory.Project {
	return memory.Project{
		ID: w.ID, Slug: w.Slug, Name: w.Name, Description: w.Description, Stack: nullable(w.Stack), RepoURL: w.RepoURL,
		Metadata: object(w.Metadata), MemoryCount: w.MemoryCount, CreatedAt: w.CreatedAt.t, UpdatedAt: w.UpdatedAt.t,
	}
}

type keyJSON struct {
	ID         string          `json:"id"`
	Name       string          `json:"name"`
	Prefix     string          `json:"prefix"`
	Scopes     []string        `json:"scopes"`
	Metadata   json.RawMessage `json:"metadata"`
	RateLimit  *int            `json:"rate_limit"`
	CreatedAt  isoTime         `json:"created_at"`
	ExpiresAt  *isoTime        `json:"expires_at"`
	LastUsedAt *isoTime        `json:"last_used_at"`
	RevokedAt  *isoTime        `json:"revoked_at"`
	// API.md §10.2.
	DeprecatedAt *isoTime `json:"deprecated_at"`
	AutoRevokeAt *isoTime `json:"auto_revoke_at"`
	Daily        *float64 `json:"daily_spend_limit_usd"`
	Monthly      *float64 `json:"monthly_spend_limit_usd"`
	// Key is the raw key: in the answers to create and rotate only.
	Key string `json:"key"`
}

func (w keyJSON) key() (keys.Key, error) {
	set, err := scopes.ParseSet(w.Scopes)
	if err != nil {
		return keys.Key{}, fmt.Errorf("client: key %s: %w", w.ID, err)
	}
	k := keys.Key{
		ID: w.ID, Name: w.Name, Prefix: w.Prefix, Scopes: set, Metadata: object(w.Metadata),
		CreatedAt: w.CreatedAt.t, ExpiresAt: isoPtr(w.ExpiresAt), LastUsedAt: isoPtr(w.LastUsedAt), RevokedAt: isoPtr(w.RevokedAt),
		DeprecatedAt: isoPtr(w.DeprecatedAt), GraceUntil: isoPtr(w.AutoRevokeAt),
		DailySpendLimit: w.Daily, MonthlySpendLimit: w.Monthly,
	}
	if w.RateLimit != nil {
		k.RateLimit = *w.RateLimit
	}
	return k, nil
}

// keyAndToken is the answer to create and rotate: the Key and its raw key.
func (w keyJSON) keyAndToken() (keys.Key, keys.Token, error) {
	k, err := w.key()
	if err != nil {
		return keys.Key{}, keys.Token{}, err
	}
	tok, err := keys.Parse(w.Key)
	if err != nil {
		return keys.Key{}, keys.Token{}, fmt.Errorf("client: the key the server made: %w", err)
	}
	return k, tok, nil
}

// jobJSON is the v2 accepted object and the v2 status.
type jobJSON struct {
	ID        string  `json:"id"`
	JobID     *string `json:"job_id"`
	Status    string  `json:"status"`
	Error     *string `json:"error"`
	CreatedAt msTime  `json:"created_at"`
	UpdatedAt msTime  `json:"updated_at"`
}

func (w jobJSON) job() memory.Job {
	j := memory.Job{ID: w.ID, Status: w.Status, Error: w.Error}
	if w.JobID != nil {
		j.JobID = *w.JobID
	}
	if w.CreatedAt != 0 {
		j.CreatedAt = w.CreatedAt.time()
	}
	if w.UpdatedAt != 0 {
		j.UpdatedAt = w.UpdatedAt.time()
	}
	return j
}
