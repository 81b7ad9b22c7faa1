package client

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/memoryrelay/memoryrelay/memory"
)

// sessions implements memory.Sessions: /v1/sessions (API contract §5.6).
type sessions struct{ c *Client }

func sessionPath(id string) string { return "/v1/sessions/" + pathEscape(id) }

// sessionBody is the body of both creates.
type sessionBody struct {
	ExternalID *string         `json:"external_id,omitempty"`
	AgentID    string          `json:"agent_id,omitempty"`
	Title      *string         `json:"title,omitempty"`
	Project    *string         `json:"project,omitempty"`
	Metadata   json.RawMessage `json:"metadata,omitempty"`
}

func newSessionBody(in memory.NewSession) sessionBody {
	return sessionBody{AgentID: in.AgentID, Title: in.Title, Project: in.Project, Metadata: in.Metadata}
}

// sessionReply is a Session with what some answers add.
type sessionReply struct {
	sessionJSON
	Created  bool         `json:"created"`  // get-or-create
	Memories []memoryJSON `json:"memories"` // get
}

func (s sessions) send(ctx context.Context, r request) (sessionReply, int, error) {
	r.kind = "session"
	var w sessionReply
	status, err := s.c.call(ctx, r, &w)
	return w, status, err
}

func (s sessions) one(ctx context.Context, r request) (memory.Session, error) {
	w, _, err := s.send(ctx, r)
	if err != nil {
		return memory.Session{}, err
	}
	return toSession(w.sessionJSON), nil
}

func (s sessions) Create(ctx context.Context, in memory.NewSession) (memory.Session, error) {
	return s.one(ctx, request{method: http.MethodPost, path: "/v1/sessions", body: newSessionBody(in)})
}

func (s sessions) GetOrCreate(ctx context.Context, externalID string, in memory.NewSession) (memory.Session, bool, error) {
	body := newSessionBody(in)
	body.ExternalID = &externalID
	w, _, err := s.send(ctx, request{method: http.MethodPost, path: "/v1/sessions/get-or-create", body: body})
	if err != nil {
		return memory.Session{}, false, err
	}
	return toSession(w.sessionJSON), w.Created, nil
}

func (s sessions) Get(ctx context.Context, id string) (memory.Session, error) {
	return s.one(ctx, request{method: http.MethodGet, path: sessionPath(id), query: query{}.str("include_memories", "false").values()})
}

// GetWithMemories returns the session and the memories the server embeds:
// its newest 100, oldest first (API contract §5.6 #29).
func (s sessions) GetWithMemories(ctx context.Context, id string) (memory.Session, []memory.Memory, error) {
	w, _, err := s.send(ctx, request{method: http.MethodGet, path: sessionPath(id)})
	if err != nil {
		return memory.Session{}, nil, err
	}
	return toSession(w.sessionJSON), convert(w.Memories, toMemory), nil
}

func (s sessions) End(ctx context.Context, id string, summary *string) (memory.Session, error) {
	body := struct {
		Summary *string `json:"summary,omitempty"`
	}{summary}
	return s.one(ctx, request{method: http.MethodPut, path: sessionPath(id) + "/end", body: body})
}

func (s sessions) List(ctx context.Context, p memory.SessionListParams) (memory.Page[memory.Session], error) {
	q := query{}.page(p.Limit, p.Offset, p.Cursor).ptr("agent_id", p.AgentID).ptr("project", p.Project).str("status", p.Status)
	var w listJSON[sessionJSON]
	if _, err := s.c.call(ctx, request{method: http.MethodGet, path: "/v1/sessions", query: q.values(), kind: "session"}, &w); err != nil {
		return memory.Page[memory.Session]{}, err
	}
	return toPage(w, toSession), nil
}
