package memoryrelay

import (
	"encoding/json"

	"github.com/memoryrelay/memoryrelay/internal/store"
	"github.com/memoryrelay/memoryrelay/memory"
)

// The boundary between storage and the public API: one converter per
// stored type, from the row internal/store reads to the type of package
// memory. Storage internals (row numbers, account ids, the agent
// references as supplied) stop here.

// rawJSON is a stored JSON object as the API returns it; nil stays nil
// (package memory: nil means {}).
func rawJSON(b []byte) json.RawMessage {
	if b == nil {
		return nil
	}
	return json.RawMessage(b)
}

// convertAll converts a list, never returning nil.
func convertAll[S, T any](in []S, conv func(S) T) []T {
	out := make([]T, len(in))
	for i, v := range in {
		out[i] = conv(v)
	}
	return out
}

func memoryOf(m store.Memory) memory.Memory {
	refs := make([]memory.EntityRef, len(m.Entities))
	for i, e := range m.Entities {
		refs[i] = memory.EntityRef{Type: e.Type, Value: e.Value, Confidence: e.Confidence}
	}
	return memory.Memory{
		ID: m.ID, AgentID: m.AgentID, UserID: m.UserID, Content: m.Content, Metadata: rawJSON(m.Metadata),
		MemoryType: m.MemoryType, Visibility: m.Visibility, Importance: m.Importance, Tier: m.Tier, Scope: m.Scope,
		SessionID: m.SessionID, Project: m.Project, ProjectID: m.ProjectID, ArchivedAt: m.ArchivedAt,
		CreatedAt: m.CreatedAt, UpdatedAt: m.UpdatedAt, Entities: refs,
	}
}

func agentOf(a store.Agent) memory.Agent {
	return memory.Agent{
		ID: a.ID, Name: a.Name, Description: a.Description, Config: rawJSON(a.Config), Metadata: rawJSON(a.Metadata),
		MemoryCount: a.MemoryCount, SessionCount: a.SessionCount, ProjectCount: a.ProjectCount,
		LastActiveAt: a.LastActiveAt, CreatedAt: a.CreatedAt, UpdatedAt: a.UpdatedAt,
	}
}

func agentStatsOf(s store.AgentStats) memory.AgentStats {
	return memory.AgentStats{MemoryCount: s.MemoryCount, EntityCount: s.EntityCount, LastUpdated: s.LastUpdated}
}

func entityOf(e store.Entity) memory.Entity {
	return memory.Entity{
		ID: e.ID, AgentID: e.AgentID, Name: e.Name, Type: e.Type, Metadata: rawJSON(e.Metadata),
		MemoryCount: e.MemoryCount, RelationshipCount: e.RelationshipCount, CreatedAt: e.CreatedAt, UpdatedAt: e.UpdatedAt,
	}
}

func entityLinkOf(l store.EntityLink) memory.EntityLink {
	return memory.EntityLink{EntityID: l.EntityID, MemoryID: l.MemoryID, Relationship: l.Relationship, CreatedAt: l.CreatedAt}
}

func neighborOf(n store.Neighbor) memory.Neighbor {
	return memory.Neighbor{ID: n.ID, Name: n.Name, Type: n.Type, Relationship: n.Relationship, Depth: n.Depth}
}

func sessionOf(s store.Session) memory.Session {
	return memory.Session{
		ID: s.ID, AgentID: s.AgentID, ExternalID: s.ExternalID, Project: s.Project, Status: s.Status,
		Title: s.Title, Summary: s.Summary, Metadata: rawJSON(s.Metadata), MemoryCount: s.MemoryCount,
		StartedAt: s.StartedAt, EndedAt: s.EndedAt, CreatedAt: s.CreatedAt, UpdatedAt: s.UpdatedAt,
	}
}

func decisionOf(d store.Decision) memory.Decision {
	tags := d.Tags
	if tags == nil {
		tags = []string{}
	}
	return memory.Decision{
		ID: d.ID, AgentID: d.AgentID, SessionID: d.SessionID, ProjectSlug: d.ProjectSlug, Title: d.Title,
		Rationale: d.Rationale, Alternatives: d.Alternatives, Status: d.Status, SupersededBy: d.SupersededBy,
		Tags: tags, Metadata: rawJSON(d.Metadata), CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt,
	}
}

func patternOf(p store.Pattern) memory.Pattern {
	tags := p.Tags
	if tags == nil {
		tags = []string{}
	}
	return memory.Pattern{
		ID: p.ID, Title: p.Title, Description: p.Description, Category: p.Category, ExampleCode: p.ExampleCode,
		Scope: p.Scope, Tags: tags, SourceProjectID: p.SourceProjectID, SourceProjectSlug: p.SourceProjectSlug,
		Metadata: rawJSON(p.Metadata), AdoptionCount: p.AdoptionCount, CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt,
	}
}

func projectOf(p store.Project) memory.Project {
	return memory.Project{
		ID: p.ID, Slug: p.Slug, Name: p.Name, Description: p.Description, Stack: rawJSON(p.Stack),
		RepoURL: p.RepoURL, Metadata: rawJSON(p.Metadata), MemoryCount: p.MemoryCount,
		CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt,
	}
}

func relationshipOf(r store.ProjectRelationship) memory.ProjectRelationship {
	return memory.ProjectRelationship{
		ID: r.ID, Source: r.Source, Target: r.Target, Type: r.Type, Metadata: rawJSON(r.Metadata), CreatedAt: r.CreatedAt,
	}
}

func projectLinkOf(l store.ProjectLink) memory.ProjectLink {
	return memory.ProjectLink{
		Slug: l.Slug, Name: l.Name, RelationshipType: l.RelationshipType, Direction: l.Direction,
		Metadata: rawJSON(l.Metadata), CreatedAt: l.CreatedAt,
	}
}

func accountInfoOf(a store.Account) AccountInfo {
	return AccountInfo{ID: a.ID, Name: a.Name, CreatedAt: a.CreatedAt}
}

// hitOf is a search hit as the API returns it.
func hitOf(h hit) memory.Hit { return memory.Hit{Memory: memoryOf(h.Memory), Score: h.Score} }
