package memoryrelay

import (
	"bytes"
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/memoryrelay/memoryrelay/internal/store"
	"github.com/memoryrelay/memoryrelay/internal/storedjson"
	"github.com/memoryrelay/memoryrelay/internal/uuid"
	"github.com/memoryrelay/memoryrelay/search"
	"github.com/memoryrelay/memoryrelay/search/lexical"
	"github.com/memoryrelay/memoryrelay/search/vector"
)

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

// NewMemory is the input of [Relay.CreateMemory]. Nil pointers and empty
// strings take the defaults of the API contract §5.2.
type NewMemory struct {
	Content    string          // required, 1–51,200 characters, not blank
	AgentID    string          // agent id or name (§5.5); default "default"; an unknown one becomes a new agent of that id and name
	UserID     *string         // optional, ≤ 255 characters
	Metadata   json.RawMessage // JSON object ≤ 10 KiB; default {}
	MemoryType *string         // fact, event, insight, task, preference, entity_reference, system
	Visibility string          // private (default) or confidential
	Importance *float64        // [0,1]; default 0.5
	Tier       string          // hot, warm, cold; default hot if importance ≥ 0.8, else warm
	Scope      string          // long-term (default) or session
	SessionID  *string         // must name an existing session
	Project    *string         // project slug, ≤ 100 characters
	// Deduplicate, when set, stores nothing if a memory of the same agent
	// scores at least DedupThreshold ([0.5, 1]; default 0.95) against the
	// content: see [Relay.AddMemory].
	Deduplicate    bool
	DedupThreshold *float64
}

// CreateMemory validates, embeds and stores a memory, with its index
// entries, in one transaction: an embedder failure stores nothing.
func (r *Relay) CreateMemory(ctx context.Context, accountID string, in NewMemory) (Memory, error) {
	if in.Deduplicate {
		res, err := r.createDedup(ctx, accountID, in)
		return res.Memory, err
	}
	m, err := r.newMemory(accountID, in)
	if err != nil {
		return Memory{}, err
	}
	idx, err := r.index(ctx, m.Content)
	if err != nil {
		return Memory{}, err
	}
	if err := r.store.InsertMemory(ctx, &m, idx); err != nil {
		return Memory{}, storeErr(err, "Memory")
	}
	return m, nil
}

func (r *Relay) newMemory(accountID string, in NewMemory) (Memory, error) {
	if err := checkContent(in.Content); err != nil {
		return Memory{}, err
	}
	agent := in.AgentID
	if agent == "" {
		agent = DefaultAgent
	}
	if err := checkAgentRef(agent); err != nil {
		return Memory{}, err
	}
	if err := optTextField("user_id", in.UserID, MaxUserID); err != nil {
		return Memory{}, err
	}
	meta, err := checkMetadata(in.Metadata)
	if err != nil {
		return Memory{}, err
	}
	if _, err := dedupThreshold(in); err != nil {
		return Memory{}, err
	}
	now := r.now()
	m := Memory{
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
		return Memory{}, err
	}
	if in.Tier == "" {
		m.Tier = tierFor(m.Importance)
	}
	if in.SessionID != nil {
		id, ok := uuid.Canonical(*in.SessionID)
		if !ok {
			return Memory{}, errNoSession
		}
		m.SessionID = &id
	}
	return m, nil
}

var errNoSession = invalid("session_id", "session_id does not name a session of this account")

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

func applyAttrs(m *Memory, a attrs) error {
	if a.MemoryType != nil {
		if !oneOf(*a.MemoryType, memoryTypes) {
			return invalid("memory_type", "memory_type must be one of %s", strings.Join(memoryTypes, ", "))
		}
		m.MemoryType = a.MemoryType
	}
	if a.Visibility != nil {
		if !oneOf(*a.Visibility, visibilities) {
			return invalid("visibility", "visibility must be private or confidential")
		}
		m.Visibility = *a.Visibility
	}
	if a.Importance != nil {
		if v := *a.Importance; math.IsNaN(v) || v < 0 || v > 1 {
			return invalid("importance", "importance must be between 0 and 1")
		}
		m.Importance = *a.Importance
	}
	if a.Tier != nil {
		if !oneOf(*a.Tier, tiers) {
			return invalid("tier", "tier must be hot, warm or cold")
		}
		m.Tier = *a.Tier
	}
	if a.Scope != nil {
		if !oneOf(*a.Scope, memScopes) {
			return invalid("scope", "scope must be long-term or session")
		}
		m.Scope = *a.Scope
	}
	if a.Project != nil {
		if n := utf8.RuneCountInString(*a.Project); n == 0 || n > MaxProjectSlug {
			return invalid("project", "project must be 1-%d characters", MaxProjectSlug)
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
		return invalid("content", "content must be valid UTF-8")
	}
	n := utf8.RuneCountInString(s)
	if n == 0 || n > MaxContentChars || strings.TrimFunc(s, unicode.IsSpace) == "" {
		return invalid("content", "content must be 1-%d characters and not blank", MaxContentChars)
	}
	return nil
}

func checkAgentRef(s string) error {
	if !validAgentRef(s) {
		return invalid("agent_id", "agent_id must be an agent id or name of 1-%d bytes", MaxAgentRef)
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
	return checkStored("metadata", raw, MaxMetadataSize)
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
	return store.Indexed{Vector: store.EncodeVector(vecs[0]), Terms: strings.Join(lexical.Terms(text), " ")}, nil
}

func (r *Relay) now() time.Time { return r.opts.Now().UTC().Truncate(time.Millisecond) }

// GetMemory returns the account's memory with the id. An id that is not a
// UUID, or names no memory of the account, is a *NotFoundError.
func (r *Relay) GetMemory(ctx context.Context, accountID, id string) (Memory, error) {
	id, ok := uuid.Canonical(id)
	if !ok {
		return Memory{}, &NotFoundError{Kind: "Memory"}
	}
	m, err := r.store.GetMemory(ctx, accountID, id)
	return m, storeErr(err, "Memory")
}

// MemoryPatch is the input of [Relay.UpdateMemory]. Nil fields are left
// unchanged. Metadata is merged into the stored object: non-null values
// overwrite, null deletes the key.
type MemoryPatch struct {
	Content    *string
	Metadata   json.RawMessage
	UserID     *string
	MemoryType *string
	Visibility *string
	Importance *float64
	Tier       *string
	Scope      *string
	Project    *string
}

// UpdateMemory changes the account's memory and advances its updated_at.
// New content is re-embedded and re-indexed in the same transaction.
func (r *Relay) UpdateMemory(ctx context.Context, accountID, id string, p MemoryPatch) (Memory, error) {
	id, ok := uuid.Canonical(id)
	if !ok {
		return Memory{}, &NotFoundError{Kind: "Memory"}
	}
	var patch map[string]json.RawMessage
	// The patch meets the rule of create (valid UTF-8 keys included: the
	// decoder below would silently replace invalid bytes in a key) except
	// for the size, which applies to the merged object.
	raw, err := checkStored("metadata", p.Metadata, 0)
	if err != nil {
		return Memory{}, err
	}
	if raw != nil {
		if err := json.Unmarshal(raw, &patch); err != nil {
			return Memory{}, invalid("metadata", "metadata must be a JSON object")
		}
	}
	if err := optTextField("user_id", p.UserID, MaxUserID); err != nil {
		return Memory{}, err
	}
	var idx *store.Indexed
	if p.Content != nil {
		if err := checkContent(*p.Content); err != nil {
			return Memory{}, err
		}
		// Embed before the write transaction: it may be slow.
		x, err := r.index(ctx, *p.Content)
		if err != nil {
			return Memory{}, err
		}
		idx = &x
	}
	m, err := r.store.UpdateMemory(ctx, accountID, id, func(m *Memory) error {
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
	return m, storeErr(err, "Memory")
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

// DeleteMemory removes the account's memory and its index entries.
func (r *Relay) DeleteMemory(ctx context.Context, accountID, id string) error {
	id, ok := uuid.Canonical(id)
	if !ok {
		return &NotFoundError{Kind: "Memory"}
	}
	return storeErr(r.store.DeleteMemory(ctx, accountID, id), "Memory")
}

// ListParams selects a page of memories, newest first.
type ListParams struct {
	Limit   int     // 1–100 (larger is clamped); default 20
	Offset  int     // ≥ 0
	Cursor  string  // opaque, from Page.NextCursor; wins over Offset
	AgentID *string // agent id or name; unknown: empty page
	UserID  *string
	Scope   string // long-term, session, all (default)
}

// Page is a page of a list.
type Page[T any] struct {
	Data       []T
	HasMore    bool
	Total      int
	Limit      int
	Offset     int
	NextCursor *string
}

// ListMemories returns a page of the account's memories, newest first.
func (r *Relay) ListMemories(ctx context.Context, accountID string, p ListParams) (Page[Memory], error) {
	limit, err := pageLimit(p.Limit, DefaultPage, MaxPage)
	if err != nil {
		return Page[Memory]{}, err
	}
	if err := checkOffset(p.Offset); err != nil {
		return Page[Memory]{}, err
	}
	if p.Scope != "" && p.Scope != "all" && !oneOf(p.Scope, memScopes) {
		return Page[Memory]{}, invalid("scope", "scope must be session, long-term or all")
	}
	var after *store.Position
	offset := p.Offset
	if p.Cursor != "" {
		pos, off, err := decodeCursor(p.Cursor)
		if err != nil {
			return Page[Memory]{}, err
		}
		after, offset = &pos, off
	}
	f := store.Filter{AccountID: accountID, AgentRef: p.AgentID, UserID: p.UserID, Scope: p.Scope}
	ms, total, err := r.store.ListMemories(ctx, f, limit+1, offset, after)
	if err != nil {
		return Page[Memory]{}, err
	}
	page := Page[Memory]{Data: ms, Total: total, Limit: limit, Offset: offset}
	if len(ms) > limit {
		page.Data, page.HasMore = ms[:limit], true
		last := page.Data[limit-1]
		c := encodeCursor(store.Position{CreatedAt: last.CreatedAt.UnixMilli(), ID: last.ID}, offset+limit)
		page.NextCursor = &c
	}
	if page.Data == nil {
		page.Data = []Memory{}
	}
	return page, nil
}

// pageLimit applies the contract's limit rules: 0 means the default, below
// 1 is an error, above max is clamped.
func pageLimit(v, def, max int) (int, error) {
	switch {
	case v == 0:
		return def, nil
	case v < 0:
		return 0, invalid("limit", "limit must be between 1 and %d", max)
	case v > max:
		return max, nil
	}
	return v, nil
}

// ListAgents returns a page of the account's agents, newest first.
func (r *Relay) ListAgents(ctx context.Context, accountID string, limit, offset int) (Page[Agent], error) {
	limit, err := pageLimit(limit, DefaultPage, MaxPage)
	if err != nil {
		return Page[Agent]{}, err
	}
	if err := checkOffset(offset); err != nil {
		return Page[Agent]{}, err
	}
	as, total, err := r.store.ListAgents(ctx, accountID, limit, offset)
	if err != nil {
		return Page[Agent]{}, err
	}
	if as == nil {
		as = []Agent{}
	}
	return Page[Agent]{Data: as, Total: total, Limit: limit, Offset: offset, HasMore: offset+len(as) < total}, nil
}

// SearchParams is the input of [Relay.SearchMemories].
type SearchParams struct {
	Query         string   // required, 1–51,200 characters
	Limit         int      // 1–100 (larger is clamped); default 10
	Threshold     float64  // keep hits with score ≥ Threshold; [0,1]; default 0
	Mode          string   // hybrid (default), semantic or keyword
	AgentID       *string  // agent id or name; unknown: no hits
	UserID        *string  // filter
	SessionID     *string  // filter; an unknown id matches nothing
	Tier          *string  // filter
	MinImportance *float64 // filter, [0,1]
	Project       *string  // filter
	Scope         string   // long-term, session, all (default)
	Namespace     *string  // filter on metadata.namespace
	// MetadataFilter keeps memories whose metadata has each key with an
	// equal JSON value.
	MetadataFilter      map[string]json.RawMessage
	IncludeConfidential bool
	IncludeArchived     bool
}

// Hit is a search result: a memory and its score in [0,1].
type Hit struct {
	Memory Memory
	Score  float64
}

// SearchMemories ranks the account's memories against a query. Scores are
// in [0,1] (API contract §7): semantic is the cosine similarity of the
// embeddings, keyword a normalised BM25 (lexical.Score), hybrid the
// fusion of the two by the policy of Options.Fusion (by default, with the
// built-in hashing embedder, search.FusionLexicalFirst: the keyword score,
// and half the cosine for memories that share no term with the query).
// Filters are applied inside the search, so a filtered query still
// returns Limit hits when that many match.
func (r *Relay) SearchMemories(ctx context.Context, accountID string, p SearchParams) ([]Hit, error) {
	if strings.TrimFunc(p.Query, unicode.IsSpace) == "" {
		return nil, invalid("query", "query is required")
	}
	if utf8.RuneCountInString(p.Query) > MaxContentChars {
		return nil, invalid("query", "query must be 1-%d characters", MaxContentChars)
	}
	limit, err := pageLimit(p.Limit, DefaultHits, MaxHits)
	if err != nil {
		return nil, err
	}
	if math.IsNaN(p.Threshold) || p.Threshold < 0 || p.Threshold > 1 {
		return nil, invalid("threshold", "threshold must be between 0 and 1")
	}
	if p.MinImportance != nil && (math.IsNaN(*p.MinImportance) || *p.MinImportance < 0 || *p.MinImportance > 1) {
		return nil, invalid("min_importance", "min_importance must be between 0 and 1")
	}
	mode := p.Mode
	if mode == "" {
		mode = search.ModeHybrid
	}
	if !oneOf(mode, []string{search.ModeHybrid, search.ModeSemantic, search.ModeKeyword}) {
		return nil, invalid("search_mode", "search_mode must be hybrid, semantic or keyword")
	}
	if p.Scope != "" && p.Scope != "all" && !oneOf(p.Scope, memScopes) {
		return nil, invalid("scope", "scope must be session, long-term or all")
	}
	f := store.Filter{
		AccountID: accountID, AgentRef: p.AgentID, UserID: p.UserID, SessionID: p.SessionID, Tier: p.Tier,
		MinImportance: p.MinImportance, Project: p.Project, Scope: p.Scope, Namespace: p.Namespace,
		IncludeConfidential: p.IncludeConfidential, IncludeArchived: p.IncludeArchived,
	}
	if len(p.MetadataFilter) > MaxMetadataFilterKeys {
		return nil, invalid("metadata_filter", "metadata_filter must have at most %d keys", MaxMetadataFilterKeys)
	}
	if len(p.MetadataFilter) > 0 {
		f.Metadata = make(map[string][]byte, len(p.MetadataFilter))
		for k, v := range p.MetadataFilter {
			if !json.Valid(v) {
				return nil, invalid("metadata_filter", "metadata_filter values must be JSON")
			}
			// Counted as in stored metadata, the filter object being level
			// 1: anything deeper could match nothing stored.
			if storedjson.Exceeds(v, MaxJSONDepth-1) {
				return nil, invalid("metadata_filter", "metadata_filter must be nested at most %d levels deep", MaxJSONDepth)
			}
			f.Metadata[k] = v
		}
	}

	type cand struct {
		sem, kw   float64
		hasSem    bool
		createdAt int64
	}
	cands := map[int64]*cand{}
	get := func(seq, created int64) *cand {
		c := cands[seq]
		if c == nil {
			c = &cand{createdAt: created}
			cands[seq] = c
		}
		return c
	}

	terms := searchTerms(p.Query)
	if mode != search.ModeSemantic {
		terms, err := r.rarestTerms(ctx, terms)
		if err != nil {
			return nil, fmt.Errorf("memoryrelay: full-text search: %w", err)
		}
		text, err := r.store.TextCandidates(ctx, f, store.MatchExpr(terms))
		if err != nil {
			return nil, fmt.Errorf("memoryrelay: full-text search: %w", err)
		}
		for _, t := range text {
			mi, err := store.ParseMatchinfo(t.Info)
			if err != nil {
				return nil, fmt.Errorf("memoryrelay: full-text search: %w", err)
			}
			get(t.Seq, t.CreatedAt).kw = lexical.Score(mi)
		}
	}
	if mode != search.ModeKeyword {
		vecs, err := r.embed.Embed(ctx, []string{p.Query})
		if err != nil {
			return nil, fmt.Errorf("memoryrelay: embed query: %w", err)
		}
		if len(vecs) != 1 {
			return nil, fmt.Errorf("memoryrelay: embed query: %w", vector.ErrInvalid)
		}
		if err := vector.Check(vecs[0], r.embed.Dimension()); err != nil {
			return nil, fmt.Errorf("memoryrelay: embed query: %w", err)
		}
		// Enough vector candidates that every hit of the final top list
		// is among them: a memory outside the vector top 4·limit can only
		// rank through its keyword score, which every match has.
		k := limit * 4
		if vi := r.vindex.Load(); vi != nil {
			near, err := vi.Search(ctx, f, vecs[0], k)
			if err != nil {
				return nil, fmt.Errorf("memoryrelay: vector search: %w", err)
			}
			for _, n := range near {
				c := get(n.ID, 0) // created_at is known once the memory is read
				c.sem, c.hasSem = search.SemanticScore(1-float64(n.Score)), true
			}
		} else {
			near, err := r.store.VectorCandidates(ctx, f, store.EncodeVector(vecs[0]), k)
			if err != nil {
				return nil, fmt.Errorf("memoryrelay: vector search: %w", err)
			}
			for _, v := range near {
				c := get(v.Seq, v.CreatedAt)
				c.sem, c.hasSem = search.SemanticScore(v.Value), true
			}
		}
		// Keyword candidates beyond the vector top-k get their exact
		// semantic score too, so the fusion never understates them;
		// except under search.FusionLexicalFirst, which ignores the
		// semantic score of a lexical match, which saves reading the
		// vectors of what is often most of the account.
		lexicalFirst := r.fusion == search.FusionLexicalFirst
		var missing []int64
		for seq, c := range cands {
			if !c.hasSem && !(lexicalFirst && c.kw > 0) {
				missing = append(missing, seq)
			}
		}
		if len(missing) > 0 {
			blobs, err := r.store.Vectors(ctx, missing)
			if err != nil {
				return nil, fmt.Errorf("memoryrelay: vector search: %w", err)
			}
			for seq, b := range blobs {
				v, err := store.DecodeVector(b)
				if err != nil || len(v) != len(vecs[0]) {
					continue
				}
				cands[seq].sem = search.SemanticScore(1 - float64(vector.Cosine(v, vecs[0])))
			}
		}
	}

	type scored struct {
		seq, createdAt int64
		score          float64
	}
	var ranked []scored
	for seq, c := range cands {
		var s float64
		switch mode {
		case search.ModeKeyword:
			s = c.kw
		case search.ModeSemantic:
			s = c.sem
		default:
			s = r.fusion.Fuse(c.sem, c.kw)
		}
		if s >= p.Threshold && s > 0 {
			ranked = append(ranked, scored{seq, c.createdAt, s})
		}
	}
	sort.Slice(ranked, func(i, j int) bool {
		if ranked[i].score != ranked[j].score {
			return ranked[i].score > ranked[j].score
		}
		if ranked[i].createdAt != ranked[j].createdAt {
			return ranked[i].createdAt > ranked[j].createdAt
		}
		return ranked[i].seq > ranked[j].seq
	})
	if len(ranked) > limit {
		ranked = ranked[:limit]
	}
	seqs := make([]int64, len(ranked))
	for i, s := range ranked {
		seqs[i] = s.seq
	}
	mems, err := r.store.MemoriesBySeq(ctx, accountID, seqs)
	if err != nil {
		return nil, err
	}
	bySeq := make(map[int64]Memory, len(mems))
	for _, m := range mems {
		bySeq[m.Seq] = m
	}
	hits := make([]Hit, 0, len(ranked))
	for _, s := range ranked {
		if m, ok := bySeq[s.seq]; ok { // deleted meanwhile: skip
			hits = append(hits, Hit{Memory: m, Score: s.score})
		}
	}
	// Ties go to the newer memory (contract §7); candidates from the
	// vector index learn their created_at only now.
	sort.SliceStable(hits, func(i, j int) bool {
		if hits[i].Score != hits[j].Score {
			return hits[i].Score > hits[j].Score
		}
		return hits[i].Memory.CreatedAt.After(hits[j].Memory.CreatedAt)
	})
	return hits, nil
}

// rarestTerms keeps the query terms to match in full text: all of them
// while the memories containing them number at most
// Options.MaxTextCandidates in total, else the rarest ones up to that
// budget (and always the rarest one). A term so common that matching it
// would score a large part of the table adds little to BM25 and would
// dominate the time of the search; memories that share only such terms
// with the query are still found by the vector side.
func (r *Relay) rarestTerms(ctx context.Context, terms []string) ([]string, error) {
	if len(terms) < 2 {
		return terms, nil
	}
	docs, err := r.store.TermDocs(ctx, terms)
	if err != nil {
		return nil, err
	}
	total := 0
	for _, n := range docs {
		total += n
	}
	if total <= r.opts.MaxTextCandidates {
		return terms, nil
	}
	kept := slices.Clone(terms)
	slices.SortStableFunc(kept, func(a, b string) int { return cmp.Compare(docs[a], docs[b]) })
	sum := 0
	for i, t := range kept {
		sum += docs[t]
		if i > 0 && sum > r.opts.MaxTextCandidates {
			return kept[:i], nil
		}
	}
	return kept, nil
}

// encodeCursor makes the opaque cursor of the page after pos. The offset
// it carries only reports where the page starts (pos decides that), so it
// is capped at MaxOffset, which decodeCursor accepts.
func encodeCursor(pos store.Position, offset int) string {
	offset = min(offset, MaxOffset)
	raw := strconv.FormatInt(pos.CreatedAt, 10) + ":" + pos.ID + ":" + strconv.Itoa(offset)
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

func decodeCursor(c string) (store.Position, int, error) {
	bad := invalid("cursor", "cursor is not valid")
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return store.Position{}, 0, bad
	}
	parts := strings.Split(string(raw), ":")
	if len(parts) != 3 {
		return store.Position{}, 0, bad
	}
	at, err1 := strconv.ParseInt(parts[0], 10, 64)
	off, err2 := strconv.Atoi(parts[2])
	id, ok := uuid.Canonical(parts[1])
	if err1 != nil || err2 != nil || !ok || off < 0 || off > MaxOffset {
		return store.Position{}, 0, bad
	}
	return store.Position{CreatedAt: at, ID: id}, off, nil
}
