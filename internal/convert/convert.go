package convert

import (
	"encoding/json"

	"github.com/memoryrelay/memoryrelay/internal/store"
	"github.com/memoryrelay/memoryrelay/memory"
	"github.com/memoryrelay/memoryrelay/search"
)

// rawJSON is a stored JSON object as the API returns it; nil stays nil
// (package memory: nil means {}).
func rawJSON(b []byte) json.RawMessage {
	if b == nil {
		return nil
	}
	return json.RawMessage(b)
}

// All converts a list, never returning nil.
func All[S, T any](in []S, conv func(S) T) []T {
	out := make([]T, len(in))
	for i, v := range in {
		out[i] = conv(v)
	}
	return out
}

// Memory is the public form of a stored Memory.
func Memory(m store.Memory) memory.Memory {
	refs := make([]memory.EntityRef, len(m.Entities))
	for i, e := range m.Entities {
		refs[i] = memory.EntityRef{Type: e.Type, Value: e.Value, Confidence: e.Confidence}
	}
	return memory.Memory{
		ID: m.ID, AgentID: m.AgentID, UserID: m.UserID, Content: m.Content, Metadata: rawJSON(m.Metadata),
		MemoryType: m.MemoryType, Visibility: m.Visibility, Importance: m.Importance, Tier: m.Tier, Scope: m.Scope,
		SessionID: m.SessionID, Project: m.Project, ProjectID: m.ProjectID, ArchivedAt: m.ArchivedAt,
		CreatedAt: m.CreatedAt, UpdatedAt: m.UpdatedAt, Entities: refs,
		ExtractionStatus: m.ExtractionStatus, ExtractionMethod: m.ExtractionMethod, ExtractionModel: m.ExtractionModel,
	}
}

// Agent is the public form of a stored Agent.
func Agent(a store.Agent) memory.Agent {
	return memory.Agent{
		ID: a.ID, Name: a.Name, Description: a.Description, Config: rawJSON(a.Config), Metadata: rawJSON(a.Metadata),
		MemoryCount: a.MemoryCount, SessionCount: a.SessionCount, ProjectCount: a.ProjectCount,
		LastActiveAt: a.LastActiveAt, CreatedAt: a.CreatedAt, UpdatedAt: a.UpdatedAt,
	}
}

// AgentStats is the public form of a stored AgentStats.
func AgentStats(s store.AgentStats) memory.AgentStats {
	return memory.AgentStats{MemoryCount: s.MemoryCount, EntityCount: s.EntityCount, LastUpdated: s.LastUpdated}
}

// Entity is the public form of a stored Entity.
func Entity(e store.Entity) memory.Entity {
	return memory.Entity{
		ID: e.ID, AgentID: e.AgentID, Name: e.Name, Type: e.Type, Metadata: rawJSON(e.Metadata),
		MemoryCount: e.MemoryCount, RelationshipCount: e.RelationshipCount, CreatedAt: e.CreatedAt, UpdatedAt: e.UpdatedAt,
	}
}

// EntityLink is the public form of a stored EntityLink.
func EntityLink(l store.EntityLink) memory.EntityLink {
	return memory.EntityLink{EntityID: l.EntityID, MemoryID: l.MemoryID, Relationship: l.Relationship, CreatedAt: l.CreatedAt}
}

// Neighbor is the public form of a stored Neighbor.
func Neighbor(n store.Neighbor) memory.Neighbor {
	return memory.Neighbor{ID: n.ID, Name: n.Name, Type: n.Type, Relationship: n.Relationship, Depth: n.Depth}
}

// Session is the public form of a stored Session.
func Session(s store.Session) memory.Session {
	return memory.Session{
		ID: s.ID, AgentID: s.AgentID, ExternalID: s.ExternalID, Project: s.Project, Status: s.Status,
		Title: s.Title, Summary: s.Summary, Metadata: rawJSON(s.Metadata), MemoryCount: s.MemoryCount,
		StartedAt: s.StartedAt, EndedAt: s.EndedAt, CreatedAt: s.CreatedAt, UpdatedAt: s.UpdatedAt,
	}
}

// Decision is the public form of a stored Decision.
func Decision(d store.Decision) memory.Decision {
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

// Pattern is the public form of a stored Pattern.
func Pattern(p store.Pattern) memory.Pattern {
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

// Project is the public form of a stored Project.
func Project(p store.Project) memory.Project {
	return memory.Project{
		ID: p.ID, Slug: p.Slug, Name: p.Name, Description: p.Description, Stack: rawJSON(p.Stack),
		RepoURL: p.RepoURL, Metadata: rawJSON(p.Metadata), MemoryCount: p.MemoryCount,
		CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt,
	}
}

// Relationship is the public form of a stored ProjectRelationship.
func Relationship(r store.ProjectRelationship) memory.ProjectRelationship {
	return memory.ProjectRelationship{
		ID: r.ID, Source: r.Source, Target: r.Target, Type: r.Type, Metadata: rawJSON(r.Metadata), CreatedAt: r.CreatedAt,
	}
}

// ProjectLink is the public form of a stored ProjectLink.
func ProjectLink(l store.ProjectLink) memory.ProjectLink {
	return memory.ProjectLink{
		Slug: l.Slug, Name: l.Name, RelationshipType: l.RelationshipType, Direction: l.Direction,
		Metadata: rawJSON(l.Metadata), CreatedAt: l.CreatedAt,
	}
}

// Hit is a search hit of the engine as the API returns it.
func Hit(h search.Result[store.Memory]) memory.Hit {
	return memory.Hit{Memory: Memory(h.Memory), Score: h.Score}
}
