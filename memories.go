package memoryrelay

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/memoryrelay/memoryrelay/internal/store"
	"github.com/memoryrelay/memoryrelay/internal/storedjson"
	"github.com/memoryrelay/memoryrelay/internal/uuid"
	"github.com/memoryrelay/memoryrelay/memory"
	"github.com/memoryrelay/memoryrelay/search/lexical"
	"github.com/memoryrelay/memoryrelay/search/vector"
)

// memoryStore is the storage of memories, as memories.go uses it.
type memoryStore interface {
	DeleteMemory(ctx context.Context, accountID, id string) error
	DeleteUserMemories(ctx context.Context, accountID, userID string) (int, error)
	GetMemory(ctx context.Context, accountID, id string) (store.Memory, error)
	InsertMemory(ctx context.Context, m *store.Memory, idx store.Indexed) error
	ListMemories(ctx context.Context, f store.Filter, limit, offset int, after *store.Position) ([]store.Memory, int, error)
	UpdateMemory(ctx context.Context, accountID, id string, apply func(*store.Memory) error, idx *store.Indexed) (store.Memory, error)
}

// Defaults and limits of memory reads (API contract §1.6); the limits of
// the stored fields are in limits.go.
const (
	DefaultAgent = "default"
	DefaultPage  = 20
	MaxPage      = 100
	DefaultHits  = 10
	MaxHits      = 100
)

// Allowed values of memory fields.
var (
	memoryTypes  = []string{"fact", "event", "insight", "task", "preference", "entity_reference", "system"}
	visibilities = []string{"private", "confidential"}
	tiers        = []string{"hot", "warm", "cold"}
	memScopes    = []string{"long-term", "session"}
)

// createMemory validates, embeds and stores a memory, with its index
// entries, in one transaction: an embedder failure stores nothing. With
// in.Deduplicate see createDedup.
func (r *Relay) createMemory(ctx context.Context, accountID string, in memory.NewMemory) (memory.CreateResult, error) {
	if in.Deduplicate {
		return r.createDedup(ctx, accountID, in)
	}
	m, err := r.newMemory(accountID, in)
	if err != nil {
		return memory.CreateResult{}, err
	}
	idx, err := r.index(ctx, m.Content)
	if err != nil {
		return memory.CreateResult{}, err
	}
	if err := r.store.InsertMemory(ctx, &m, idx); err != nil {
		return memory.CreateResult{}, storeErr(err, kindMemory)
	}
	return memory.CreateResult{Memory: memoryOf(m)}, nil
}

// newMemory validates in and returns the memory to store.
func (r *Relay) newMemory(accountID string, in memory.NewMemory) (store.Memory, error) {
	if err := checkContent(in.Content); err != nil {
		return store.Memory{}, err
	}
	agent := in.AgentID
	if agent == "" {
		agent = DefaultAgent
	}
	if err := checkAgentRef(agent); err != nil {
		return store.Memory{}, err
	}
	if err := optTextField("UserID", in.UserID, MaxUserID); err != nil {
		return store.Memory{}, err
	}
	meta, err := checkMetadata(in.Metadata)
	if err != nil {
		return store.Memory{}, err
	}
	if _, err := dedupThreshold(in); err != nil {
		return store.Memory{}, err
	}
	now := r.now()
	m := store.Memory{
		ID:         uuid.New(),
		AccountID:  accountID,
		AgentRef:   agent,
		UserID:     in.UserID,
		Content:    in.Content,
		Metadata:   meta,
		Visibility: "private",
		Importance: 0.5,
		Scope:      "long-term",
		CreatedAt:  now,
		UpdatedAt:  now,
	}
	if err := applyAttrs(&m, attrs{MemoryType: in.MemoryType, Visibility: strPtr(in.Visibility), Importance: in.Importance,
		Tier: strPtr(in.Tier), Scope: strPtr(in.Scope), Project: in.Project}); err != nil {
		return store.Memory{}, err
	}
	if in.Tier == "" {
		m.Tier = tierFor(m.Importance)
	}
	if in.SessionID != nil {
		id, ok := uuid.Canonical(*in.SessionID)
		if !ok {
			return store.Memory{}, errNoSession
		}
		m.SessionID = &id
	}
	return m, nil
}

func strPtr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// tierFor is the tier a memory gets when none is given.
func tierFor(importance float64) string {
	if importance >= 0.8 {
		return "hot"
	}
	return "warm"
}

// attrs are the optional fields shared by create and update.
type attrs struct {
	MemoryType, Visibility, Tier, Scope, Project *string
	Importance                                   *float64
}

func applyAttrs(m *store.Memory, a attrs) error {
	if a.MemoryType != nil {
		if !oneOf(*a.MemoryType, memoryTypes) {
			return invalid("MemoryType", "MemoryType must be one of %s", strings.Join(memoryTypes, ", "))
		}
		m.MemoryType = a.MemoryType
	}
	if a.Visibility != nil {
		if !oneOf(*a.Visibility, visibilities) {
			return invalid("Visibility", "Visibility must be private or confidential")
		}
		m.Visibility = *a.Visibility
	}
	if a.Importance != nil {
		if v := *a.Importance; math.IsNaN(v) || v < 0 || v > 1 {
			return invalid("Importance", "Importance must be between 0 and 1")
		}
		m.Importance = *a.Importance
	}
	if a.Tier != nil {
		if !oneOf(*a.Tier, tiers) {
			return invalid("Tier", "Tier must be hot, warm or cold")
		}
		m.Tier = *a.Tier
	}
	if a.Scope != nil {
		if !oneOf(*a.Scope, memScopes) {
			return invalid("Scope", "Scope must be long-term or session")
		}
		m.Scope = *a.Scope
	}
	if a.Project != nil {
		if n := utf8.RuneCountInString(*a.Project); n == 0 || n > MaxProjectSlug {
			return invalid("Project", "Project must be 1-%d characters", MaxProjectSlug)
		}
		m.Project = a.Project
	}
	return nil
}

func oneOf(s string, set []string) bool {
	for _, v := range set {
		if s == v {
			return true
		}
	}
	return false
}

func checkContent(s string) error {
	if !utf8.ValidString(s) {
		return invalid("Content", "Content must be valid UTF-8")
	}
	n := utf8.RuneCountInString(s)
	if n == 0 || n > MaxContentChars || strings.TrimFunc(s, unicode.IsSpace) == "" {
		return invalid("Content", "Content must be 1-%d characters and not blank", MaxContentChars)
	}
	return nil
}

func checkAgentRef(s string) error {
	if !validAgentRef(s) {
		return invalid("AgentID", "AgentID must be an agent id or name of 1-%d bytes", MaxAgentRef)
	}
	return nil
}

// validAgentRef reports whether s can be an agent id or a reference to an
// agent: 1–MaxAgentRef bytes of UTF-8, not only whitespace.
func validAgentRef(s string) bool {
	return len(s) <= MaxAgentRef && strings.TrimSpace(s) != "" && utf8.ValidString(s)
}

// checkMetadata accepts nil/null (none) or a JSON object of at most
// MaxMetadataSize bytes, valid UTF-8 and at most MaxJSONDepth levels deep,
// returned compacted. Every metadata of every object goes through it, on
// create and on update alike.
func checkMetadata(raw json.RawMessage) ([]byte, error) {
	return checkStored("Metadata", raw, MaxMetadataSize)
}

// checkStored applies storedjson.Object, the one rule for stored JSON
// objects, to the field; maxBytes 0 means no size limit.
func checkStored(field string, raw json.RawMessage, maxBytes int) ([]byte, error) {
	b, err := storedjson.Object(raw, maxBytes)
	if err != nil {
		return nil, invalid(field, "%s %v", field, err)
	}
	return b, nil
}

// index embeds text and derives its full-text terms.
func (r *Relay) index(ctx context.Context, text string) (store.Indexed, error) {
	vecs, err := r.embed.Embed(ctx, []string{text})
	if err != nil {
		return store.Indexed{}, fmt.Errorf("memoryrelay: embed: %w", err)
	}
	if len(vecs) != 1 {
		return store.Indexed{}, fmt.Errorf("memoryrelay: embed: %w: got %d vectors for 1 text", vector.ErrInvalid, len(vecs))
	}
	if err := vector.Check(vecs[0], r.embed.Dimension()); err != nil {
		return store.Indexed{}, fmt.Errorf("memoryrelay: embed: %w", err)
	}
	return store.Indexed{Vector: vecs[0], Terms: strings.Join(lexical.Terms(text), " ")}, nil
}

// embedText returns the vector of text (1–51,200 characters, not blank)
// from the embedder memories are indexed with. prefix is "",
// memory.EmbedPrefixQuery or memory.EmbedPrefixDocument; the embedder is
// symmetric (queries and documents are embedded alike, so that the vector
// is comparable with stored ones), so it is checked but does not change
// the result.
func (r *Relay) embedText(ctx context.Context, text, prefix string) (memory.Embedding, error) {
	n := utf8.RuneCountInString(text)
	if !utf8.ValidString(text) || n == 0 || n > MaxContentChars || strings.TrimFunc(text, unicode.IsSpace) == "" {
		return memory.Embedding{}, invalid("text", "text must be 1-%d characters and not blank", MaxContentChars)
	}
	switch prefix {
	case "", memory.EmbedPrefixQuery, memory.EmbedPrefixDocument:
	default:
		return memory.Embedding{}, invalid("prefix", "prefix must be search_query or search_document")
	}
	vecs, err := r.embed.Embed(ctx, []string{text})
	if err != nil {
		return memory.Embedding{}, fmt.Errorf("memoryrelay: embed: %w", err)
	}
	if len(vecs) != 1 {
		return memory.Embedding{}, fmt.Errorf("memoryrelay: embed: %w: got %d vectors for 1 text", vector.ErrInvalid, len(vecs))
	}
	if err := vector.Check(vecs[0], r.embed.Dimension()); err != nil {
		return memory.Embedding{}, fmt.Errorf("memoryrelay: embed: %w", err)
	}
	return memory.Embedding{Vector: vecs[0], Dimension: len(vecs[0]), Model: r.embed.Model()}, nil
}

// getMemory returns the account's memory with the id. An id that is not a
// UUID, or names no memory of the account, is a *memory.NotFoundError.
func (r *Relay) getMemory(ctx context.Context, accountID, id string) (memory.Memory, error) {
	id, ok := uuid.Canonical(id)
	if !ok {
		return memory.Memory{}, notFound(kindMemory)
	}
	m, err := r.store.GetMemory(ctx, accountID, id)
	if err != nil {
		return memory.Memory{}, storeErr(err, kindMemory)
	}
	return memoryOf(m), nil
}

// updateMemory changes the account's memory and advances its updated_at.
// New content is re-embedded and re-indexed in the same transaction.
func (r *Relay) updateMemory(ctx context.Context, accountID, id string, p memory.MemoryPatch) (memory.Memory, error) {
	id, ok := uuid.Canonical(id)
	if !ok {
		return memory.Memory{}, notFound(kindMemory)
	}
	var patch map[string]json.RawMessage
	// The patch meets the rule of create (valid UTF-8 keys included: the
	// decoder below would silently replace invalid bytes in a key) except
	// for the size, which applies to the merged object.
	raw, err := checkStored("Metadata", p.Metadata, 0)
	if err != nil {
		return memory.Memory{}, err
	}
	if raw != nil {
		if err := json.Unmarshal(raw, &patch); err != nil {
			return memory.Memory{}, invalid("Metadata", "Metadata must be a JSON object")
		}
	}
	if err := optTextField("UserID", p.UserID, MaxUserID); err != nil {
		return memory.Memory{}, err
	}
	var idx *store.Indexed
	if p.Content != nil {
		if err := checkContent(*p.Content); err != nil {
			return memory.Memory{}, err
		}
		// Embed before the write transaction: it may be slow.
		x, err := r.index(ctx, *p.Content)
		if err != nil {
			return memory.Memory{}, err
		}
		idx = &x
	}
	m, err := r.store.UpdateMemory(ctx, accountID, id, func(m *store.Memory) error {
		if err := applyAttrs(m, attrs{MemoryType: p.MemoryType, Visibility: p.Visibility, Importance: p.Importance,
			Tier: p.Tier, Scope: p.Scope, Project: p.Project}); err != nil {
			return err
		}
		if p.Importance != nil && p.Tier == nil {
			m.Tier = tierFor(m.Importance)
		}
		if p.UserID != nil {
			m.UserID = p.UserID
		}
		if p.Content != nil {
			m.Content = *p.Content
		}
		if patch != nil {
			merged, err := mergeMetadata(m.Metadata, patch)
			if err != nil {
				return err
			}
			m.Metadata = merged
		}
		// updated_at always advances, even within one millisecond.
		now := r.now()
		if !now.After(m.UpdatedAt) {
			now = m.UpdatedAt.Add(time.Millisecond)
		}
		m.UpdatedAt = now
		return nil
	}, idx)
	if err != nil {
		return memory.Memory{}, storeErr(err, kindMemory)
	}
	return memoryOf(m), nil
}

// setImportance sets the account's memory's importance ([0,1]) and tier;
// a nil tier is recomputed from the importance (hot at 0.8 and above,
// else warm). It returns the updated memory. It is updateMemory of a
// patch of the two: problems name the patch's fields ("Importance",
// "Tier").
func (r *Relay) setImportance(ctx context.Context, accountID, id string, importance float64, tier *string) (memory.Memory, error) {
	if _, ok := uuid.Canonical(id); !ok {
		return memory.Memory{}, notFound(kindMemory)
	}
	return r.updateMemory(ctx, accountID, id, memory.MemoryPatch{Importance: &importance, Tier: tier})
}

// deleteUserMemories removes every memory of the account whose user_id is
// userID, with their full-text rows, vectors, entity links and v2 jobs, and
// returns how many were removed. Call Compact afterwards to also remove the
// content from the database file.
func (r *Relay) deleteUserMemories(ctx context.Context, accountID, userID string) (int, error) {
	if strings.TrimSpace(userID) == "" {
		return 0, invalid("userID", "userID is required")
	}
	n, err := r.store.DeleteUserMemories(ctx, accountID, userID)
	if err != nil {
		return 0, fmt.Errorf("memoryrelay: delete user memories: %w", err)
	}
	return n, nil
}

func mergeMetadata(stored []byte, patch map[string]json.RawMessage) ([]byte, error) {
	cur := map[string]json.RawMessage{}
	if len(stored) > 0 {
		if err := json.Unmarshal(stored, &cur); err != nil {
			return nil, fmt.Errorf("memoryrelay: stored metadata: %w", err)
		}
	}
	for k, v := range patch {
		if string(bytes.TrimSpace(v)) == "null" {
			delete(cur, k)
		} else {
			cur[k] = v
		}
	}
	b, err := json.Marshal(cur)
	if err != nil {
		return nil, err
	}
	return checkMetadata(b)
}

// deleteMemory removes the account's memory and its index entries.
func (r *Relay) deleteMemory(ctx context.Context, accountID, id string) error {
	id, ok := uuid.Canonical(id)
	if !ok {
		return notFound(kindMemory)
	}
	return storeErr(r.store.DeleteMemory(ctx, accountID, id), kindMemory)
}

// listMemories returns a page of the account's memories, newest first.
func (r *Relay) listMemories(ctx context.Context, accountID string, p memory.ListParams) (memory.Page[memory.Memory], error) {
	limit, offset, after, err := keysetParams(memoriesList, p.Limit, p.Offset, p.Cursor)
	if err != nil {
		return memory.Page[memory.Memory]{}, err
	}
	if p.Scope != "" && p.Scope != "all" && !oneOf(p.Scope, memScopes) {
		return memory.Page[memory.Memory]{}, invalid("Scope", "Scope must be session, long-term or all")
	}
	f := store.Filter{AccountID: accountID, AgentRef: p.AgentID, UserID: p.UserID, Scope: p.Scope}
	ms, total, err := r.store.ListMemories(ctx, f, limit+1, offset, after)
	if err != nil {
		return memory.Page[memory.Memory]{}, err
	}
	return keysetPage(memoriesList, ms, memoryOf, total, limit, offset, func(m store.Memory) store.Position {
		return store.Position{CreatedAt: m.CreatedAt.UnixMilli(), ID: m.ID}
	}), nil
}
