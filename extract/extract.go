package extract

import (
	"context"
	"strings"
	"unicode/utf8"
)

// Entity types of the hosted service (API.md §10.6), and the three the
// built-in extractor adds (date, email, url), kept verbatim as §10.6 keeps
// every other type.
const (
	TypePerson       = "person"
	TypeOrganization = "organization"
	TypeTechnology   = "technology"
	TypeProject      = "project"
	TypeProduct      = "product"
	TypeLocation     = "location"
	TypeDocument     = "document"
	TypeMetric       = "metric"
	TypeEvent        = "event"
	TypeSkill        = "skill"
	TypeConcept      = "concept"
	TypeOther        = "other"

	TypeDate  = "date"
	TypeEmail = "email"
	TypeURL   = "url"
)

// Limits on what an extractor returns ([Check] enforces them).
const (
	// MaxEntities is the most entities one extraction keeps.
	MaxEntities = 50
	// MaxName is the longest entity name, in characters (API.md §10.5).
	MaxName = 255
	// MaxType is the longest custom type, in characters (API.md §10.6).
	MaxType = 50
)

// Entity is one thing an extractor found in a text.
type Entity struct {
	// Type is a canonical type (see CanonicalType).
	Type string
	// Name is the entity as written in the text (trimmed), e.g. "Sarah
	// Chen", "PostgreSQL", "2025-04-15".
	Name string
	// Confidence is the extractor's confidence, in [0, 1].
	Confidence float64
}

// Result is what an extraction found, and how.
type Result struct {
	Entities []Entity
	// Method names the kind of extractor: "builtin" or "llm" (the
	// memory's extraction_method).
	Method string
	// Model names what ran: BuiltinModel, or the LLM's model (the
	// memory's extraction_model).
	Model string
}

// Extractor finds entities in a memory's content. Implementations must be
// safe for concurrent use, must honour ctx, and should return at most
// MaxEntities entities (the caller applies [Check] in any case).
type Extractor interface {
	Extract(ctx context.Context, text string) (Result, error)
}

// canonical maps the hosted types, and "place", to their stored form.
var canonical = map[string]string{
	TypePerson: TypePerson, TypeOrganization: TypeOrganization, TypeTechnology: TypeTechnology,
	TypeProject: TypeProject, TypeProduct: TypeProduct, TypeLocation: TypeLocation,
	TypeDocument: TypeDocument, TypeMetric: TypeMetric, TypeEvent: TypeEvent, TypeSkill: TypeSkill,
	TypeConcept: TypeConcept, TypeOther: TypeOther,
	"place": TypeLocation,
}

// CanonicalType returns the stored form of an entity type (API.md §10.6):
// the hosted types and "place" (stored as "location") matched
// case-insensitively; any other non-empty string of at most MaxType
// characters verbatim (trimmed). ok is false for an empty or longer one.
func CanonicalType(t string) (string, bool) {
	t = strings.TrimSpace(t)
	if t == "" || !utf8.ValidString(t) || utf8.RuneCountInString(t) > MaxType {
		return "", false
	}
	if c, ok := canonical[strings.ToLower(t)]; ok {
		return c, true
	}
	return t, true
}

// Check returns the entities a caller may store: types canonical, names
// trimmed, valid UTF-8, 1 to MaxName characters, confidence clamped to
// [0, 1], duplicates (same type, same name case-insensitively) dropped,
// at most MaxEntities, in order.
func Check(es []Entity) []Entity {
	out := make([]Entity, 0, min(len(es), MaxEntities))
	seen := map[[2]string]bool{}
	for _, e := range es {
		typ, ok := CanonicalType(e.Type)
		name := strings.TrimSpace(e.Name)
		if !ok || name == "" || !utf8.ValidString(name) || utf8.RuneCountInString(name) > MaxName {
			continue
		}
		k := [2]string{typ, strings.ToLower(name)}
		if seen[k] {
			continue
		}
		seen[k] = true
		c := e.Confidence
		if !(c >= 0) { // NaN too
			c = 0
		}
		out = append(out, Entity{Type: typ, Name: name, Confidence: min(c, 1)})
		if len(out) == MaxEntities {
			break
		}
	}
	return out
}
