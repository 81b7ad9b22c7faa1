package memorytest

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/memoryrelay/memoryrelay/memory"
)

func testMemories(t *testing.T, open Opener) {
	t.Run("CreateDefaults", func(t *testing.T) { memCreateDefaults(t, open(t)) })
	t.Run("CreateEveryField", func(t *testing.T) { memCreateEveryField(t, open(t)) })
	t.Run("ProjectNotASlug", func(t *testing.T) { memProjectNotASlug(t, open(t)) })
	t.Run("ProjectID", func(t *testing.T) { memProjectID(t, open(t)) })
	t.Run("DefaultTier", func(t *testing.T) { memDefaultTier(t, open(t)) })
	t.Run("Invalid", func(t *testing.T) { memInvalid(t, open(t)) })
	t.Run("Limits", func(t *testing.T) { memLimits(t, open(t)) })
	t.Run("Update", func(t *testing.T) { memUpdate(t, open(t)) })
	t.Run("UpdateFields", func(t *testing.T) { memUpdateFields(t, open(t)) })
	t.Run("UpdateInvalid", func(t *testing.T) { memUpdateInvalid(t, open(t)) })
	t.Run("SetImportance", func(t *testing.T) { memSetImportance(t, open(t)) })
	t.Run("Delete", func(t *testing.T) { memDelete(t, open(t)) })
	t.Run("DeleteUser", func(t *testing.T) { memDeleteUser(t, open(t)) })
	t.Run("ListFilters", func(t *testing.T) { memListFilters(t, open(t)) })
	t.Run("Paging", func(t *testing.T) { memPaging(t, open(t)) })
	t.Run("PageSizeClamped", func(t *testing.T) { memClamped(t, open(t)) })
	t.Run("Batch", func(t *testing.T) { memBatch(t, open(t)) })
	t.Run("BatchInvalid", func(t *testing.T) { memBatchInvalid(t, open(t)) })
	t.Run("Deduplicate", func(t *testing.T) { memDedup(t, open(t)) })
	t.Run("Async", func(t *testing.T) { memAsync(t, open(t)) })
	t.Run("Embed", func(t *testing.T) { memEmbed(t, open(t)) })
}

// create stores a memory and returns it.
func create(t *testing.T, a memory.Account, in memory.NewMemory) memory.Memory {
	t.Helper()
	res := try(a.Memories().Create(t.Context(), in)).must(t)
	if res.IsDuplicate {
		t.Fatalf("Create(%q) reports a duplicate without Deduplicate", in.Content)
	}
	return res.Memory
}

// memoryIDs lists the ids of memories.
func memoryIDs(ms []memory.Memory) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.ID
	}
	return out
}

func memCreateDefaults(t *testing.T, e Env) {
	ctx, c, mem := t.Context(), newClock(), e.Account.Memories()
	m := create(t, e.Account, memory.NewMemory{Content: "Likes green tea in the morning"})
	wantUUID(t, "ID", m.ID)
	c.instant(t, "CreatedAt", m.CreatedAt)
	wantEqual(t, "Create", m, memory.Memory{
		ID: m.ID, AgentID: "default", Content: "Likes green tea in the morning",
		Visibility: "private", Importance: 0.5, Tier: "warm", Scope: "long-term",
		CreatedAt: m.CreatedAt, UpdatedAt: m.CreatedAt,
	})
	wantEqual(t, "Get after Create", try(mem.Get(ctx, m.ID)).must(t), m)

	a := try(e.Account.Agents().Get(ctx, "default")).must(t)
	if a.ID != "default" || a.Name != "default" || a.MemoryCount != 1 {
		t.Errorf("the auto-created default agent: ID %q, Name %q, MemoryCount %d; want default, default, 1", a.ID, a.Name, a.MemoryCount)
	}
}

func memCreateEveryField(t *testing.T, e Env) {
	ctx, c := t.Context(), newClock()
	sess := try(e.Account.Sessions().Create(ctx, memory.NewSession{AgentID: "writer"})).must(t)
	meta := json.RawMessage(`{"b": 1.50, "a": [1, "x", null], "nested": {"k": true, "s": "é"}}`)
	in := memory.NewMemory{
		Content: "Deploys run on Fridays after lunch", AgentID: "writer", UserID: ptr("user-1"),
		Metadata: meta, MemoryType: ptr("fact"), Visibility: "confidential", Importance: ptr(0.9),
		Tier: "cold", Scope: "session", SessionID: &sess.ID, Project: ptr("ops-team"),
	}
	m := create(t, e.Account, in)
	p := try(e.Account.Projects().Get(ctx, "ops-team")).must(t)
	c.instant(t, "CreatedAt", m.CreatedAt)
	wantEqual(t, "Create with every field", m, memory.Memory{
		ID: m.ID, AgentID: "writer", UserID: ptr("user-1"), Content: in.Content, Metadata: meta,
		MemoryType: ptr("fact"), Visibility: "confidential", Importance: 0.9, Tier: "cold",
		Scope: "session", SessionID: &sess.ID, Project: ptr("ops-team"), ProjectID: &p.ID,
		CreatedAt: m.CreatedAt, UpdatedAt: m.CreatedAt,
	})
	wantEqual(t, "Get after Create", try(e.Account.Memories().Get(ctx, m.ID)).must(t), m)
	if p.Name != "ops-team" {
		t.Errorf("auto-created project: Name = %q, want its slug", p.Name)
	}
}

func memProjectNotASlug(t *testing.T, e Env) {
	ctx := t.Context()
	m := create(t, e.Account, memory.NewMemory{Content: "Uses a free-form project label", Project: ptr("Not A Slug")})
	if m.Project == nil || *m.Project != "Not A Slug" || m.ProjectID != nil {
		t.Errorf("Project %v, ProjectID %v; want the label kept as given and no project id (API.md §5.9)", showPtr(m.Project), showPtr(m.ProjectID))
	}
	_, err := e.Account.Projects().Get(ctx, "Not A Slug")
	wantNotFound(t, "Projects.Get of a label that is no slug", err)
}

// memProjectID: a project named by its id wins over the slug given
// beside it (API.md §10.6); an id of no project of the account, another
// account's included, is invalid, on create, batch and update alike.
func memProjectID(t *testing.T, e Env) {
	ctx := t.Context()
	web := try(e.Account.Projects().Create(ctx, memory.NewProject{Slug: "web", Name: "Web"})).must(t)
	theirs := try(e.Other.Projects().Create(ctx, memory.NewProject{Slug: "theirs", Name: "Theirs"})).must(t)
	m := create(t, e.Account, memory.NewMemory{Content: "Ships on Fridays", Project: ptr("ignored"), ProjectID: ptr(strings.ToUpper(web.ID))})
	if m.Project == nil || *m.Project != "web" || m.ProjectID == nil || *m.ProjectID != web.ID {
		t.Errorf("Project %v, ProjectID %v; want web and %s", showPtr(m.Project), showPtr(m.ProjectID), web.ID)
	}
	for _, id := range []string{theirs.ID, "00000000-0000-4000-8000-000000000000", "not-a-uuid"} {
		_, err := e.Account.Memories().Create(ctx, memory.NewMemory{Content: "x", ProjectID: ptr(id)})
		wantInvalid(t, "Create with ProjectID "+id, err, "ProjectID")
		_, err = e.Account.Memories().Update(ctx, m.ID, memory.MemoryPatch{ProjectID: ptr(id)})
		wantInvalid(t, "Update with ProjectID "+id, err, "ProjectID")
	}
	other := try(e.Account.Projects().Create(ctx, memory.NewProject{Slug: "api", Name: "API"})).must(t)
	up := try(e.Account.Memories().Update(ctx, m.ID, memory.MemoryPatch{ProjectID: &other.ID})).must(t)
	if up.Project == nil || *up.Project != "api" || up.ProjectID == nil || *up.ProjectID != other.ID {
		t.Errorf("after Update: Project %v, ProjectID %v", showPtr(up.Project), showPtr(up.ProjectID))
	}
	res := try(e.Account.Memories().CreateBatch(ctx, memory.BatchParams{Memories: []memory.NewMemory{
		{Content: "in web", ProjectID: &web.ID}, {Content: "nowhere", ProjectID: &theirs.ID}}})).must(t)
	if len(res.Items) != 2 || res.Items[0].Status != memory.BatchSuccess || res.Items[1].Status != memory.BatchFailed {
		t.Fatalf("batch items %+v", res.Items)
	}
	wantInvalid(t, "batch item with another account's ProjectID", res.Items[1].Err, "ProjectID")
}

func memDefaultTier(t *testing.T, e Env) {
	for _, tc := range []struct {
		importance *float64
		tier       string
		want       string
	}{
		{nil, "", "warm"},
		{ptr(0.0), "", "warm"},
		{ptr(0.79), "", "warm"},
		{ptr(0.8), "", "hot"},
		{ptr(1.0), "", "hot"},
		{ptr(0.1), "hot", "hot"},
		{ptr(0.95), "cold", "cold"},
	} {
		m := create(t, e.Account, memory.NewMemory{Content: "A memory about tiers", Importance: tc.importance, Tier: tc.tier})
		want := 0.5
		if tc.importance != nil {
			want = *tc.importance
		}
		if m.Tier != tc.want || m.Importance != want {
			t.Errorf("importance %v, tier %q: got importance %v, tier %q; want %v, %q", showPtr(tc.importance), tc.tier, m.Importance, m.Tier, want, tc.want)
		}
	}
}

// metadataOfSize is a JSON object of exactly n bytes (n ≥ 8).
func metadataOfSize(n int) json.RawMessage {
	return json.RawMessage(`{"k":"` + strings.Repeat("x", n-8) + `"}`)
}

// metadataOfDepth is a JSON object nested depth levels deep.
func metadataOfDepth(depth int) json.RawMessage {
	return json.RawMessage(strings.Repeat(`{"a":`, depth-1) + `{}` + strings.Repeat(`}`, depth-1))
}

func memInvalid(t *testing.T, e Env) {
	ctx := t.Context()
	other := try(e.Other.Sessions().Create(ctx, memory.NewSession{})).must(t)
	for _, tc := range []struct {
		name  string
		in    memory.NewMemory
		field string
	}{
		{"no content", memory.NewMemory{}, "Content"},
		{"blank content", memory.NewMemory{Content: " \n\t "}, "Content"},
		{"content over 51,200 code points", memory.NewMemory{Content: strings.Repeat("é", 51_201)}, "Content"},
		{"content not UTF-8", memory.NewMemory{Content: "bad \xff byte"}, "Content"},
		{"metadata an array", memory.NewMemory{Content: "x", Metadata: json.RawMessage(`[1]`)}, "Metadata"},
		{"metadata a string", memory.NewMemory{Content: "x", Metadata: json.RawMessage(`"x"`)}, "Metadata"},
		{"metadata over 10 KiB", memory.NewMemory{Content: "x", Metadata: metadataOfSize(10<<10 + 1)}, "Metadata"},
		{"metadata 33 levels deep", memory.NewMemory{Content: "x", Metadata: metadataOfDepth(33)}, "Metadata"},
		{"unknown memory type", memory.NewMemory{Content: "x", MemoryType: ptr("opinion")}, "MemoryType"},
		{"unknown visibility", memory.NewMemory{Content: "x", Visibility: "public"}, "Visibility"},
		{"importance below 0", memory.NewMemory{Content: "x", Importance: ptr(-0.1)}, "Importance"},
		{"importance above 1", memory.NewMemory{Content: "x", Importance: ptr(1.1)}, "Importance"},
		{"unknown tier", memory.NewMemory{Content: "x", Tier: "lukewarm"}, "Tier"},
		{"unknown scope", memory.NewMemory{Content: "x", Scope: "global"}, "Scope"},
		{"unknown session", memory.NewMemory{Content: "x", SessionID: ptr(unknownID)}, "SessionID"},
		{"malformed session", memory.NewMemory{Content: "x", SessionID: ptr(malformedID)}, "SessionID"},
		{"another account's session", memory.NewMemory{Content: "x", SessionID: &other.ID}, "SessionID"},
		{"project over 100 characters", memory.NewMemory{Content: "x", Project: ptr(strings.Repeat("p", 101))}, "Project"},
		{"agent id over 255 bytes", memory.NewMemory{Content: "x", AgentID: strings.Repeat("a", 256)}, "AgentID"},
		{"blank agent id", memory.NewMemory{Content: "x", AgentID: "   "}, "AgentID"},
		{"user id over 255 characters", memory.NewMemory{Content: "x", UserID: ptr(strings.Repeat("u", 256))}, "UserID"},
		{"dedup threshold below 0.5", memory.NewMemory{Content: "x", Deduplicate: true, DedupThreshold: ptr(0.4)}, "DedupThreshold"},
		{"dedup threshold above 1", memory.NewMemory{Content: "x", Deduplicate: true, DedupThreshold: ptr(1.1)}, "DedupThreshold"},
	} {
		_, err := e.Account.Memories().Create(ctx, tc.in)
		wantInvalid(t, tc.name, err, tc.field)
	}
	if pg := try(e.Account.Memories().List(ctx, memory.ListParams{})).must(t); pg.Total != 0 {
		t.Errorf("after invalid creates the account has %d memories, want 0", pg.Total)
	}
}

// memLimits checks that values at the limits are accepted.
func memLimits(t *testing.T, e Env) {
	ctx := t.Context()
	slug := strings.Repeat("p", 100)
	for _, tc := range []struct {
		name string
		in   memory.NewMemory
	}{
		{"content of 51,200 code points", memory.NewMemory{Content: strings.Repeat("é", 51_200)}},
		{"metadata of 10 KiB", memory.NewMemory{Content: "x", Metadata: metadataOfSize(10 << 10)}},
		{"metadata 32 levels deep", memory.NewMemory{Content: "x", Metadata: metadataOfDepth(32)}},
		{"agent id of 255 bytes", memory.NewMemory{Content: "x", AgentID: strings.Repeat("é", 127) + "a"}},
		{"user id of 255 characters", memory.NewMemory{Content: "x", UserID: ptr(strings.Repeat("u", 255))}},
		{"project of 100 characters", memory.NewMemory{Content: "x", Project: &slug}},
		{"importance 0", memory.NewMemory{Content: "x", Importance: ptr(0.0)}},
		{"importance 1", memory.NewMemory{Content: "x", Importance: ptr(1.0)}},
		{"dedup threshold 0.5", memory.NewMemory{Content: "limits: dedup low", Deduplicate: true, DedupThreshold: ptr(0.5)}},
		{"dedup threshold 1", memory.NewMemory{Content: "limits: dedup high", Deduplicate: true, DedupThreshold: ptr(1.0)}},
	} {
		res, err := e.Account.Memories().Create(ctx, tc.in)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		got := try(e.Account.Memories().Get(ctx, res.Memory.ID)).must(t)
		if got.Content != tc.in.Content || diff(got.Metadata, tc.in.Metadata) != "" {
			t.Errorf("%s: the stored memory differs from the input", tc.name)
		}
	}
	if _, err := e.Account.Projects().Get(ctx, slug); err != nil {
		t.Errorf("the 100-character slug created no project: %v", err)
	}
}

func memUpdate(t *testing.T, e Env) {
	ctx, mem := t.Context(), e.Account.Memories()
	m := create(t, e.Account, memory.NewMemory{Content: "Original words alpha", UserID: ptr("u1"),
		Metadata: json.RawMessage(`{"a":1,"b":2}`)})
	u := try(mem.Update(ctx, m.ID, memory.MemoryPatch{Content: ptr("Replacement words omega"),
		Metadata: json.RawMessage(`{"b":null,"c":3}`)})).must(t)
	if u.ID != m.ID || u.Content != "Replacement words omega" || !u.CreatedAt.Equal(m.CreatedAt) {
		t.Errorf("Update: ID %s, Content %q, CreatedAt %v; want %s, the new content, %v", u.ID, u.Content, u.CreatedAt, m.ID, m.CreatedAt)
	}
	if !u.UpdatedAt.After(m.UpdatedAt) {
		t.Errorf("Update: UpdatedAt %v did not advance past %v", u.UpdatedAt, m.UpdatedAt)
	}
	if !sameJSON(u.Metadata, json.RawMessage(`{"a":1,"c":3}`)) {
		t.Errorf("Update merged metadata into %s, want {\"a\":1,\"c\":3}", u.Metadata)
	}
	if u.UserID == nil || *u.UserID != "u1" {
		t.Errorf("Update changed UserID to %v", showPtr(u.UserID))
	}
	wantEqual(t, "Get after Update", try(mem.Get(ctx, m.ID)).must(t), u)

	again := try(mem.Update(ctx, m.ID, memory.MemoryPatch{Importance: ptr(0.4)})).must(t)
	if !again.UpdatedAt.After(u.UpdatedAt) {
		t.Errorf("a second Update at once: UpdatedAt %v did not advance past %v", again.UpdatedAt, u.UpdatedAt)
	}

	// New content is what search finds (re-indexed), old content is not.
	hits := try(mem.Search(ctx, memory.SearchParams{Query: "omega", Mode: memory.ModeKeyword})).must(t)
	if !hasHit(hits, m.ID) {
		t.Errorf("keyword search for a word of the new content misses the memory")
	}
	hits = try(mem.Search(ctx, memory.SearchParams{Query: "alpha", Mode: memory.ModeKeyword})).must(t)
	if hasHit(hits, m.ID) {
		t.Errorf("keyword search for a word of the old content still finds the memory")
	}
}

func memUpdateFields(t *testing.T, e Env) {
	ctx, mem := t.Context(), e.Account.Memories()
	m := create(t, e.Account, memory.NewMemory{Content: "A memory to change", UserID: ptr("u1")})
	for _, tc := range []struct {
		name  string
		patch memory.MemoryPatch
		check func(memory.Memory) bool
	}{
		{"UserID", memory.MemoryPatch{UserID: ptr("u2")}, func(m memory.Memory) bool { return m.UserID != nil && *m.UserID == "u2" }},
		{"MemoryType", memory.MemoryPatch{MemoryType: ptr("event")}, func(m memory.Memory) bool { return m.MemoryType != nil && *m.MemoryType == "event" }},
		{"Visibility", memory.MemoryPatch{Visibility: ptr("confidential")}, func(m memory.Memory) bool { return m.Visibility == "confidential" }},
		{"Importance and Tier", memory.MemoryPatch{Importance: ptr(0.2), Tier: ptr("hot")}, func(m memory.Memory) bool { return m.Importance == 0.2 && m.Tier == "hot" }},
		{"Scope", memory.MemoryPatch{Scope: ptr("session")}, func(m memory.Memory) bool { return m.Scope == "session" }},
		{"Project", memory.MemoryPatch{Project: ptr("moved-here")}, func(m memory.Memory) bool { return m.Project != nil && *m.Project == "moved-here" }},
	} {
		before := try(mem.Get(ctx, m.ID)).must(t)
		u, err := mem.Update(ctx, m.ID, tc.patch)
		if err != nil {
			t.Errorf("Update %s: %v", tc.name, err)
			continue
		}
		if !tc.check(u) {
			t.Errorf("Update %s: the memory is now %+v", tc.name, u)
		}
		if u.Content != before.Content || !sameJSON(u.Metadata, before.Metadata) {
			t.Errorf("Update %s changed the content or the metadata", tc.name)
		}
		wantEqual(t, "Get after Update "+tc.name, try(mem.Get(ctx, m.ID)).must(t), u)
	}
	p := try(e.Account.Projects().Get(ctx, "moved-here")).must(t)
	if u := try(mem.Get(ctx, m.ID)).must(t); u.ProjectID == nil || *u.ProjectID != p.ID {
		t.Errorf("after Update Project, ProjectID = %v, want %s", showPtr(u.ProjectID), p.ID)
	}

	// An empty patch changes nothing a caller set.
	before := try(mem.Get(ctx, m.ID)).must(t)
	u := try(mem.Update(ctx, m.ID, memory.MemoryPatch{})).must(t)
	before.UpdatedAt = u.UpdatedAt
	wantEqual(t, "an empty Update", u, before)
}

func memUpdateInvalid(t *testing.T, e Env) {
	ctx, mem := t.Context(), e.Account.Memories()
	m := create(t, e.Account, memory.NewMemory{Content: "A memory that stays", Metadata: json.RawMessage(`{"a":1}`)})
	for _, tc := range []struct {
		name  string
		patch memory.MemoryPatch
		field string
	}{
		{"empty content", memory.MemoryPatch{Content: ptr("")}, "Content"},
		{"blank content", memory.MemoryPatch{Content: ptr("   ")}, "Content"},
		{"metadata an array", memory.MemoryPatch{Metadata: json.RawMessage(`[1]`)}, "Metadata"},
		{"importance above 1", memory.MemoryPatch{Importance: ptr(2.0)}, "Importance"},
		{"unknown tier", memory.MemoryPatch{Tier: ptr("lukewarm")}, "Tier"},
		{"unknown visibility", memory.MemoryPatch{Visibility: ptr("public")}, "Visibility"},
		{"unknown memory type", memory.MemoryPatch{MemoryType: ptr("opinion")}, "MemoryType"},
		{"unknown scope", memory.MemoryPatch{Scope: ptr("global")}, "Scope"},
	} {
		_, err := mem.Update(ctx, m.ID, tc.patch)
		wantInvalid(t, tc.name, err, tc.field)
	}
	wantEqual(t, "the memory after invalid updates", try(mem.Get(ctx, m.ID)).must(t), m)
}

func memSetImportance(t *testing.T, e Env) {
	ctx, mem := t.Context(), e.Account.Memories()
	m := create(t, e.Account, memory.NewMemory{Content: "A memory of varying importance"})
	last := m
	for _, tc := range []struct {
		importance float64
		tier       *string
		want       string
	}{
		{0.9, nil, "hot"},
		{0.3, nil, "warm"},
		{0.95, ptr("cold"), "cold"},
		{0.1, ptr("hot"), "hot"},
	} {
		u := try(mem.SetImportance(ctx, m.ID, tc.importance, tc.tier)).must(t)
		if u.Importance != tc.importance || u.Tier != tc.want {
			t.Errorf("SetImportance(%v, %v): importance %v, tier %q; want %v, %q", tc.importance, showPtr(tc.tier), u.Importance, u.Tier, tc.importance, tc.want)
		}
		if !u.UpdatedAt.After(last.UpdatedAt) {
			t.Errorf("SetImportance(%v): UpdatedAt %v did not advance past %v", tc.importance, u.UpdatedAt, last.UpdatedAt)
		}
		if u.Content != m.Content {
			t.Errorf("SetImportance changed the content")
		}
		wantEqual(t, "Get after SetImportance", try(mem.Get(ctx, m.ID)).must(t), u)
		last = u
	}
	_, err := mem.SetImportance(ctx, m.ID, 1.5, nil)
	wantInvalid(t, "SetImportance 1.5", err, "importance")
	_, err = mem.SetImportance(ctx, m.ID, -0.1, nil)
	wantInvalid(t, "SetImportance -0.1", err, "importance")
	_, err = mem.SetImportance(ctx, m.ID, 0.5, ptr("lukewarm"))
	wantInvalid(t, "SetImportance with an unknown tier", err, "tier")
	wantEqual(t, "the memory after invalid SetImportance calls", try(mem.Get(ctx, m.ID)).must(t), last)
}

func memDelete(t *testing.T, e Env) {
	ctx, mem := t.Context(), e.Account.Memories()
	gone := create(t, e.Account, memory.NewMemory{Content: "Forget the zebra password"})
	kept := create(t, e.Account, memory.NewMemory{Content: "Remember the giraffe"})
	ok(t, mem.Delete(ctx, gone.ID))
	_, err := mem.Get(ctx, gone.ID)
	wantNotFound(t, "Get after Delete", err)
	wantNotFound(t, "a second Delete", mem.Delete(ctx, gone.ID))
	pg := try(mem.List(ctx, memory.ListParams{})).must(t)
	wantEqual(t, "List after Delete", memoryIDs(pg.Data), []string{kept.ID})
	for _, mode := range []string{memory.ModeKeyword, memory.ModeSemantic, memory.ModeHybrid} {
		hits := try(mem.Search(ctx, memory.SearchParams{Query: gone.Content, Mode: mode})).must(t)
		if hasHit(hits, gone.ID) {
			t.Errorf("%s search finds a deleted memory", mode)
		}
	}
	wantEqual(t, "the other memory", try(mem.Get(ctx, kept.ID)).must(t), kept)
}

func memDeleteUser(t *testing.T, e Env) {
	ctx, mem := t.Context(), e.Account.Memories()
	for i := range 3 {
		create(t, e.Account, memory.NewMemory{Content: "u1 memory " + strings.Repeat("x", i+1), UserID: ptr("u1")})
	}
	u2 := create(t, e.Account, memory.NewMemory{Content: "u2 memory", UserID: ptr("u2")})
	none := create(t, e.Account, memory.NewMemory{Content: "a memory of no user"})
	other := create(t, e.Other, memory.NewMemory{Content: "u1 in the other account", UserID: ptr("u1")})

	if n := try(mem.DeleteUser(ctx, "u1")).must(t); n != 3 {
		t.Errorf("DeleteUser(u1) = %d, want 3", n)
	}
	pg := try(mem.List(ctx, memory.ListParams{})).must(t)
	wantEqual(t, "List after DeleteUser", memoryIDs(pg.Data), newestFirst([]memory.Memory{u2, none}, memCreated, memID))
	if n := try(mem.DeleteUser(ctx, "u1")).must(t); n != 0 {
		t.Errorf("DeleteUser(u1) again = %d, want 0", n)
	}
	if n := try(mem.DeleteUser(ctx, "nobody")).must(t); n != 0 {
		t.Errorf("DeleteUser of an unknown user = %d, want 0", n)
	}
	_, err := mem.DeleteUser(ctx, "")
	wantInvalid(t, "DeleteUser(\"\")", err, "userID", "UserID")
	if _, err := e.Other.Memories().Get(ctx, other.ID); err != nil {
		t.Errorf("DeleteUser removed the same user's memory of another account: %v", err)
	}
}

func memCreated(m memory.Memory) time.Time { return m.CreatedAt }
func memID(m memory.Memory) string         { return m.ID }

func memListFilters(t *testing.T, e Env) {
	ctx, mem := t.Context(), e.Account.Memories()
	a1 := create(t, e.Account, memory.NewMemory{Content: "filter one", AgentID: "ag-one", UserID: ptr("u1")})
	a2 := create(t, e.Account, memory.NewMemory{Content: "filter two", AgentID: "ag-two", UserID: ptr("u2"), Scope: "session"})
	a3 := create(t, e.Account, memory.NewMemory{Content: "filter three", AgentID: "ag-one", Scope: "session"})
	try2(e.Account.Agents().Create(ctx, memory.NewAgent{ID: "ag-three", Name: "Third"})).must(t)
	a4 := create(t, e.Account, memory.NewMemory{Content: "filter four", AgentID: "Third"})
	if a4.AgentID != "ag-three" {
		t.Errorf("a memory written with an agent's name has AgentID %q, want the agent's id ag-three", a4.AgentID)
	}
	all := []memory.Memory{a1, a2, a3, a4}
	for _, tc := range []struct {
		name string
		p    memory.ListParams
		want []memory.Memory
	}{
		{"all", memory.ListParams{}, all},
		{"agent by id", memory.ListParams{AgentID: ptr("ag-one")}, []memory.Memory{a1, a3}},
		{"agent by name", memory.ListParams{AgentID: ptr("Third")}, []memory.Memory{a4}},
		{"agent by id, named", memory.ListParams{AgentID: ptr("ag-three")}, []memory.Memory{a4}},
		{"unknown agent", memory.ListParams{AgentID: ptr("nobody")}, nil},
		{"user", memory.ListParams{UserID: ptr("u1")}, []memory.Memory{a1}},
		{"scope session", memory.ListParams{Scope: "session"}, []memory.Memory{a2, a3}},
		{"scope long-term", memory.ListParams{Scope: "long-term"}, []memory.Memory{a1, a4}},
		{"scope all", memory.ListParams{Scope: "all"}, all},
		{"agent and scope", memory.ListParams{AgentID: ptr("ag-one"), Scope: "session"}, []memory.Memory{a3}},
	} {
		pg, err := mem.List(ctx, tc.p)
		if err != nil {
			t.Errorf("List %s: %v", tc.name, err)
			continue
		}
		want := newestFirst(tc.want, memCreated, memID)
		wantEqual(t, "List "+tc.name, memoryIDs(pg.Data), want)
		if pg.Total != len(want) || pg.HasMore || pg.NextCursor != nil {
			t.Errorf("List %s: Total %d, HasMore %v, NextCursor %v; want %d, false, nil", tc.name, pg.Total, pg.HasMore, showPtr(pg.NextCursor), len(want))
		}
	}
	// Items are whole memories, equal to what Get returns.
	pg := try(mem.List(ctx, memory.ListParams{AgentID: ptr("ag-two")})).must(t)
	if len(pg.Data) == 1 {
		wantEqual(t, "a listed memory", pg.Data[0], a2)
	}
	_, err := mem.List(ctx, memory.ListParams{Scope: "global"})
	wantInvalid(t, "List with an unknown scope", err, "Scope")
}

func memPaging(t *testing.T, e Env) {
	var ms []memory.Memory
	for i := range 7 {
		ms = append(ms, create(t, e.Account, memory.NewMemory{Content: "paged memory " + strings.Repeat("i", i+1)}))
	}
	checkPaging(t, paging[memory.Memory]{
		list: func(ctx context.Context, limit, offset int, cursor string) (memory.Page[memory.Memory], error) {
			return e.Account.Memories().List(ctx, memory.ListParams{Limit: limit, Offset: offset, Cursor: cursor})
		},
		id:   memID,
		want: newestFirst(ms, memCreated, memID),
		add:  func(t *testing.T) { create(t, e.Account, memory.NewMemory{Content: "a newer memory"}) },
	})
}

// memClamped checks clamping where it shows: 105 memories, limit 1,000.
func memClamped(t *testing.T, e Env) {
	ctx, mem := t.Context(), e.Account.Memories()
	items := make([]memory.NewMemory, 105)
	for i := range items {
		items[i] = memory.NewMemory{Content: "clamped kumquat number " + strings.Repeat("n", i+1)}
	}
	res := try(mem.CreateBatch(ctx, memory.BatchParams{Memories: items})).must(t)
	if res.Succeeded != 105 {
		t.Fatalf("batch of 105: %d succeeded", res.Succeeded)
	}
	pg := try(mem.List(ctx, memory.ListParams{Limit: 1000})).must(t)
	if len(pg.Data) != 100 || pg.Limit != 100 || pg.Total != 105 || !pg.HasMore || pg.NextCursor == nil {
		t.Errorf("List limit 1000 of 105: %d items, Limit %d, Total %d, HasMore %v, NextCursor %v; want 100, 100, 105, true, a cursor",
			len(pg.Data), pg.Limit, pg.Total, pg.HasMore, showPtr(pg.NextCursor))
	}
	if hits := try(mem.Search(ctx, memory.SearchParams{Query: "kumquat", Limit: 1000})).must(t); len(hits) != 100 {
		t.Errorf("Search limit 1000 over 105 matches: %d hits, want 100 (clamped)", len(hits))
	}
	if hits := try(mem.Search(ctx, memory.SearchParams{Query: "kumquat"})).must(t); len(hits) != 10 {
		t.Errorf("Search with no limit over 105 matches: %d hits, want 10 (the default)", len(hits))
	}
	if hits := try(mem.Search(ctx, memory.SearchParams{Query: "kumquat", Limit: 3})).must(t); len(hits) != 3 {
		t.Errorf("Search limit 3 over 105 matches: %d hits, want 3", len(hits))
	}
}

func memBatch(t *testing.T, e Env) {
	ctx, mem := t.Context(), e.Account.Memories()
	existing := create(t, e.Account, memory.NewMemory{Content: "The office plant needs water on Mondays", AgentID: "batcher"})
	res := try(mem.CreateBatch(ctx, memory.BatchParams{AgentID: "batcher", Memories: []memory.NewMemory{
		{Content: "Batch item zero", UserID: ptr("u1"), Metadata: json.RawMessage(`{"i":0}`)},
		{Content: ""},
		{Content: "Batch item two", AgentID: "own-agent"},
		{Content: existing.Content, Deduplicate: true},
		{Content: "Batch item four", SessionID: ptr(unknownID)},
	}})).must(t)
	if len(res.Items) != 5 {
		t.Fatalf("%d results for 5 items", len(res.Items))
	}
	if res.Succeeded != 2 || res.Failed != 2 || res.Skipped != 1 {
		t.Errorf("counts: %d succeeded, %d failed, %d skipped; want 2, 2, 1", res.Succeeded, res.Failed, res.Skipped)
	}
	for i, want := range []string{memory.BatchSuccess, memory.BatchFailed, memory.BatchSuccess, memory.BatchSkipped, memory.BatchFailed} {
		it := res.Items[i]
		if it.Status != want {
			t.Errorf("item %d: Status %q, want %q (err %v)", i, it.Status, want, it.Err)
		}
		switch want {
		case memory.BatchFailed:
			if it.MemoryID != "" {
				t.Errorf("failed item %d has MemoryID %q", i, it.MemoryID)
			}
			wantInvalid(t, "failed item "+strconv.Itoa(i), it.Err)
		default:
			if it.Err != nil {
				t.Errorf("item %d (%s) has Err %v", i, want, it.Err)
			}
		}
	}
	if res.Items[3].MemoryID != existing.ID {
		t.Errorf("skipped item: MemoryID %q, want the duplicate's %q", res.Items[3].MemoryID, existing.ID)
	}
	m0 := try(mem.Get(ctx, res.Items[0].MemoryID)).must(t)
	if m0.Content != "Batch item zero" || m0.AgentID != "batcher" || m0.UserID == nil || *m0.UserID != "u1" || diff(m0.Metadata, json.RawMessage(`{"i":0}`)) != "" {
		t.Errorf("item 0 stored as %+v", m0)
	}
	if m2 := try(mem.Get(ctx, res.Items[2].MemoryID)).must(t); m2.AgentID != "own-agent" {
		t.Errorf("item 2 has agent %q, want its own, own-agent", m2.AgentID)
	}
	if pg := try(mem.List(ctx, memory.ListParams{})).must(t); pg.Total != 3 {
		t.Errorf("after the batch the account has %d memories, want 3", pg.Total)
	}
	// Without a batch agent, items go to the default agent; a batch item
	// is found by search at once.
	res = try(mem.CreateBatch(ctx, memory.BatchParams{Memories: []memory.NewMemory{{Content: "Batch item with no agent quince"}}})).must(t)
	if res.Succeeded != 1 {
		t.Fatalf("a batch of one: %+v", res)
	}
	if m := try(mem.Get(ctx, res.Items[0].MemoryID)).must(t); m.AgentID != "default" {
		t.Errorf("a batch item with no agent has agent %q, want default", m.AgentID)
	}
	if hits := try(mem.Search(ctx, memory.SearchParams{Query: "quince", Mode: memory.ModeKeyword})).must(t); !hasHit(hits, res.Items[0].MemoryID) {
		t.Errorf("keyword search misses a batch item")
	}
}

func memBatchInvalid(t *testing.T, e Env) {
	ctx, mem := t.Context(), e.Account.Memories()
	_, err := mem.CreateBatch(ctx, memory.BatchParams{})
	wantInvalid(t, "an empty batch", err, "Memories")
	big := make([]memory.NewMemory, 1001)
	for i := range big {
		big[i] = memory.NewMemory{Content: "x"}
	}
	_, err = mem.CreateBatch(ctx, memory.BatchParams{Memories: big})
	wantInvalid(t, "a batch of 1,001", err, "Memories")
	if pg := try(mem.List(ctx, memory.ListParams{})).must(t); pg.Total != 0 {
		t.Errorf("refused batches stored %d memories", pg.Total)
	}
	res := try(mem.CreateBatch(ctx, memory.BatchParams{Memories: big[:1000]})).must(t)
	if res.Succeeded != 1000 {
		t.Errorf("a batch of 1,000: %d succeeded", res.Succeeded)
	}
}

func memDedup(t *testing.T, e Env) {
	ctx, mem := t.Context(), e.Account.Memories()
	orig := create(t, e.Account, memory.NewMemory{Content: "The build server is in Frankfurt", AgentID: "dedup"})
	res := try(mem.Create(ctx, memory.NewMemory{Content: orig.Content, AgentID: "dedup", Deduplicate: true})).must(t)
	if !res.IsDuplicate || res.Memory.ID != orig.ID {
		t.Errorf("a duplicate: IsDuplicate %v, ID %s; want true, %s", res.IsDuplicate, res.Memory.ID, orig.ID)
	}
	wantEqual(t, "the duplicate returned", res.Memory, orig)

	other := try(mem.Create(ctx, memory.NewMemory{Content: orig.Content, AgentID: "someone-else", Deduplicate: true})).must(t)
	if other.IsDuplicate {
		t.Errorf("the same content of another agent is reported a duplicate")
	}
	plain := try(mem.Create(ctx, memory.NewMemory{Content: orig.Content, AgentID: "dedup"})).must(t)
	if plain.IsDuplicate || plain.Memory.ID == orig.ID {
		t.Errorf("without Deduplicate a repeat is stored anew: IsDuplicate %v, ID %s", plain.IsDuplicate, plain.Memory.ID)
	}
	fresh := try(mem.Create(ctx, memory.NewMemory{Content: "Lunch is served at noon on weekdays", AgentID: "dedup", Deduplicate: true})).must(t)
	if fresh.IsDuplicate {
		t.Errorf("unrelated content is reported a duplicate")
	}
	if pg := try(mem.List(ctx, memory.ListParams{AgentID: ptr("dedup")})).must(t); pg.Total != 3 {
		t.Errorf("agent dedup has %d memories, want 3", pg.Total)
	}
}

func memAsync(t *testing.T, e Env) {
	ctx, c, mem := t.Context(), newClock(), e.Account.Memories()
	in := memory.NewMemory{Content: "Async memory about the persimmon harvest", AgentID: "async", UserID: ptr("u9"),
		Metadata: json.RawMessage(`{"source":"v2"}`)}
	j := try(mem.CreateAsync(ctx, in, memory.AsyncOptions{})).must(t)
	wantUUID(t, "Job.ID", j.ID)
	if !strings.HasPrefix(j.JobID, "job_") {
		t.Errorf("Job.JobID = %q, want job_<uuid>", j.JobID)
	}
	switch j.Status {
	case memory.JobPending, memory.JobProcessing, memory.JobReady:
	default:
		t.Errorf("a new job's status is %q", j.Status)
	}
	if j.Error != nil {
		t.Errorf("a new job has Error %q", *j.Error)
	}
	c.instant(t, "Job.CreatedAt", j.CreatedAt)

	// API.md §10.1: the memory is readable and listed at once, before its
	// job has run.
	if m, err := mem.Get(ctx, j.ID); err != nil {
		t.Errorf("Get right after CreateAsync: %v", err)
	} else if m.Content != in.Content || m.AgentID != "async" || m.UserID == nil || *m.UserID != "u9" || diff(m.Metadata, in.Metadata) != "" {
		t.Errorf("the memory read at once: %+v", m)
	}
	wantEqual(t, "List right after CreateAsync", memoryIDs(try(mem.List(ctx, memory.ListParams{})).must(t).Data), []string{j.ID})
	done := pollJob(t, ctx, mem, j.ID)
	if m, err := mem.Get(ctx, j.ID); err != nil {
		t.Errorf("Get when ready: %v", err)
	} else if m.Content != in.Content || m.AgentID != "async" || m.UserID == nil || *m.UserID != "u9" || diff(m.Metadata, in.Metadata) != "" {
		t.Errorf("the memory read when ready: %+v", m)
	}
	pg := try(mem.List(ctx, memory.ListParams{})).must(t)
	wantEqual(t, "List when ready", memoryIDs(pg.Data), []string{j.ID})
	if done.Status != memory.JobReady || done.Error != nil || done.ID != j.ID || done.JobID != j.JobID {
		t.Fatalf("the finished job: %+v", done)
	}
	if done.UpdatedAt.Before(done.CreatedAt) || !done.CreatedAt.Equal(j.CreatedAt) {
		t.Errorf("the finished job: CreatedAt %v, UpdatedAt %v; the accepted one's CreatedAt %v", done.CreatedAt, done.UpdatedAt, j.CreatedAt)
	}
	m := try(mem.Get(ctx, j.ID)).must(t)
	if m.Content != in.Content || m.AgentID != "async" || m.UserID == nil || *m.UserID != "u9" || diff(m.Metadata, in.Metadata) != "" {
		t.Errorf("the memory once ready: %+v", m)
	}
	for _, mode := range []string{memory.ModeKeyword, memory.ModeSemantic, memory.ModeHybrid} {
		hits := try(mem.Search(ctx, memory.SearchParams{Query: in.Content, Mode: mode})).must(t)
		if !hasHit(hits, j.ID) {
			t.Errorf("%s search misses the ready async memory", mode)
		}
	}

	_, err := mem.CreateAsync(ctx, memory.NewMemory{Content: " "}, memory.AsyncOptions{})
	wantInvalid(t, "CreateAsync with blank content", err, "Content")
	_, err = mem.CreateAsync(ctx, memory.NewMemory{Content: "x", SessionID: ptr(unknownID)}, memory.AsyncOptions{})
	wantInvalid(t, "CreateAsync with an unknown session", err, "SessionID")
}

func memEmbed(t *testing.T, e Env) {
	ctx, mem := t.Context(), e.Account.Memories()
	em := try(mem.Embed(ctx, "The quick brown fox", "")).must(t)
	if em.Dimension <= 0 || len(em.Vector) != em.Dimension || em.Model == "" {
		t.Errorf("Embed: dimension %d, %d values, model %q", em.Dimension, len(em.Vector), em.Model)
	}
	nonzero := false
	for _, v := range em.Vector {
		nonzero = nonzero || v != 0
	}
	if !nonzero {
		t.Errorf("Embed returned the zero vector")
	}
	for _, prefix := range []string{"search_query", "search_document"} {
		q := try(mem.Embed(ctx, "The quick brown fox", prefix)).must(t)
		if q.Dimension != em.Dimension || q.Model != em.Model {
			t.Errorf("Embed with prefix %s: dimension %d, model %q; want %d, %q", prefix, q.Dimension, q.Model, em.Dimension, em.Model)
		}
	}
	_, err := mem.Embed(ctx, "", "")
	wantInvalid(t, "Embed of no text", err, "text")
	_, err = mem.Embed(ctx, strings.Repeat("é", 51_201), "")
	wantInvalid(t, "Embed of 51,201 code points", err, "text")
}

// hasHit reports whether the memory is among the hits.
func hasHit(hits []memory.Hit, id string) bool {
	for _, h := range hits {
		if h.Memory.ID == id {
			return true
		}
	}
	return false
}
