package sqlite

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/memoryrelay/memoryrelay/internal/jobs"
	"github.com/memoryrelay/memoryrelay/internal/store"
	"github.com/memoryrelay/memoryrelay/internal/store/sqlite/sqlitedb"
	"github.com/memoryrelay/memoryrelay/search"
)

// legacyRows are rows as the code of each schema version wrote them:
// since is the first user_version whose schema holds the table (and
// columns) the statement writes. Columns added later are left out, so
// that the rows are exactly what an older binary left behind.
var legacyRows = []struct {
	since int
	sql   string
}{
	{1, `INSERT INTO accounts(id, name, created_at) VALUES ('acct-a', 'A', 1), ('acct-b', 'B', 1)`},
	{1, `INSERT INTO api_keys(id, account_id, name, prefix, scopes, metadata, rate_limit, created_at)
		VALUES ('key-a', 'acct-a', 'admin', 'mr_legacy', 1, '{"team":"x"}', 60, 2)`},
	{1, `INSERT INTO api_key_secrets(hash, key_id) VALUES (?, 'key-a')`},
	// Before migration 6, agents.id was the agent's id as the API showed it.
	{1, `INSERT INTO agents(id, account_id, name, description, metadata, created_at, updated_at)
		VALUES ('agent-a', 'acct-a', 'bot', 'old agent', '{"v":1}', 3, 3), ('agent-b', 'acct-b', 'bot', NULL, '{}', 3, 3)`},
	{1, `INSERT INTO memories(seq, id, account_id, agent_id, agent_ref, user_id, content, metadata, memory_type, created_at, updated_at)
		VALUES (1, 'mem-a', 'acct-a', 'agent-a', 'bot', 'user-1', 'legacy alpha words', '{"k":1}', 'fact', 10, 10),
		       (2, 'mem-b', 'acct-b', 'agent-b', 'bot', NULL, 'legacy beta words', '{}', NULL, 11, 11)`},
	{1, `INSERT INTO memory_vectors(seq, embedding) VALUES (1, ?), (2, ?)`},
	{1, `INSERT INTO memory_fts(docid, terms) VALUES (1, 'legacy alpha words'), (2, 'legacy beta words')`},
	{1, `INSERT INTO meta(key, value) VALUES ('embedder', 'legacy-model')`},

	{2, `INSERT INTO projects(id, account_id, slug, name, stack, created_at, updated_at)
		VALUES ('proj-web', 'acct-a', 'web', 'Web', '{"lang":"go"}', 20, 20), ('proj-api', 'acct-a', 'api', 'API', NULL, 20, 20)`},
	{2, `INSERT INTO project_relationships(id, account_id, source_project_id, target_project_id, relationship_type, created_at)
		VALUES ('rel-1', 'acct-a', 'proj-web', 'proj-api', 'depends_on', 21)`},
	{2, `INSERT INTO sessions(id, account_id, agent_id, agent_ref, external_id, project, title, started_at, created_at, updated_at)
		VALUES ('sess-a', 'acct-a', 'agent-a', 'bot', 'ext-1', 'web', 'legacy session', 22, 22, 22)`},
	{2, `INSERT INTO memories(seq, id, account_id, agent_id, agent_ref, content, session_id, project, project_id, created_at, updated_at)
		VALUES (3, 'mem-a2', 'acct-a', 'agent-a', 'bot', 'legacy gamma', 'sess-a', 'web', 'proj-web', 23, 23)`},
	{2, `INSERT INTO memory_vectors(seq, embedding) VALUES (3, ?)`},
	{2, `INSERT INTO memory_fts(docid, terms) VALUES (3, 'legacy gamma')`},
	{2, `INSERT INTO entities(id, account_id, agent_id, agent_ref, name, type, created_at, updated_at)
		VALUES ('ent-a', 'acct-a', 'agent-a', 'bot', 'Go', 'concept', 24, 24)`},
	{2, `INSERT INTO entity_links(entity_id, memory_id, created_at) VALUES ('ent-a', 'mem-a', 25)`},
	{2, `INSERT INTO decisions(id, account_id, agent_id, agent_ref, session_id, project_slug, title, rationale, tags, embedding, created_at, updated_at)
		VALUES ('dec-a', 'acct-a', 'agent-a', 'bot', 'sess-a', 'web', 'Legacy decision', 'because', '["db"]', ?, 26, 26)`},
	{2, `INSERT INTO patterns(id, account_id, title, description, tags, source_project_id, source_project_slug, adoption_count, created_at, updated_at)
		VALUES ('pat-a', 'acct-a', 'Legacy pattern', 'how', '["go"]', 'proj-web', 'web', 1, 27, 27)`},
	{2, `INSERT INTO pattern_adoptions(pattern_id, project_id, created_at) VALUES ('pat-a', 'proj-web', 27)`},
	{2, `INSERT INTO jobs(id, memory_id, account_id, status, payload, attempts, created_at, updated_at)
		VALUES ('job-pending', 'mem-job-1', 'acct-a', 'pending', '{}', 0, 28, 28),
		       ('job-of-mem', 'mem-a2', 'acct-a', 'ready', '{}', 1, 28, 28)`},
	{2, `INSERT INTO key_usage(key_id, day, count) VALUES ('key-a', '2023-11-14', 7)`},
	// Migration 5 added leases: a job a worker of that time was running.
	{5, `INSERT INTO jobs(id, memory_id, account_id, status, payload, attempts, lease_owner, lease_expires, created_at, updated_at)
		VALUES ('job-leased', 'mem-job-2', 'acct-a', 'processing', '{}', 1, 'old-worker', 29, 29, 29)`},
	// From migration 6 on, the code wrote an agent's public id with it
	// (the agents above are written as version 1 wrote them).
	{6, `UPDATE agents SET public_id = id WHERE public_id = ''`},
}

// legacyHash is the hash of key-a's secret in legacyRows.
var legacyHash = sha256.Sum256([]byte("legacy secret"))

// seedLegacy writes the rows valid at schema version v.
func seedLegacy(t *testing.T, db *sqlitedb.DB, v int) {
	t.Helper()
	args := map[string][]any{
		`INSERT INTO api_key_secrets(hash, key_id) VALUES (?, 'key-a')`:    {legacyHash[:]},
		`INSERT INTO memory_vectors(seq, embedding) VALUES (1, ?), (2, ?)`: {vecBlob(1, 0, 0, 0), vecBlob(0, 1, 0, 0)},
		`INSERT INTO memory_vectors(seq, embedding) VALUES (3, ?)`:         {vecBlob(0, 0, 1, 0)},
	}
	for _, r := range legacyRows {
		if r.since > v {
			continue
		}
		a := args[r.sql]
		if strings.HasPrefix(r.sql, "INSERT INTO decisions") {
			a = []any{vecBlob(1, 0, 0, 0)}
		}
		if _, err := db.W.Exec(r.sql, a...); err != nil {
			t.Fatalf("v%d: %v\n%s", v, err, r.sql)
		}
	}
}

// TestMigrateFromEveryVersion builds a database at every schema version
// before the current one (running the first v migrations through the
// runner Open uses), fills it with rows as the code of that version wrote
// them, and opens it with the full migrations: every row reads back as
// the current code expects, searches find the old memories, and new
// writes work, on the old rows too.
func TestMigrateFromEveryVersion(t *testing.T) {
	for v := range len(migrations) {
		t.Run(fmt.Sprintf("v%d", v), func(t *testing.T) {
			ctx := context.Background()
			path := filepath.Join(t.TempDir(), "old.db")
			old, err := sqlitedb.Open(ctx, sqlitedb.Options{Path: path}, migrations[:v])
			if err != nil {
				t.Fatal(err)
			}
			var have int
			if err := old.W.QueryRow("PRAGMA user_version").Scan(&have); err != nil || have != v {
				t.Fatalf("built version %d, %v", have, err)
			}
			seedLegacy(t, old, v)
			if err := old.Close(); err != nil {
				t.Fatal(err)
			}

			st, err := Open(ctx, Options{Path: path})
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			if got, err := queryValue[int](ctx, st.db.R, "PRAGMA user_version"); err != nil || got != len(migrations) {
				t.Fatalf("user_version %d, %v; want %d", got, err, len(migrations))
			}
			if v >= 1 {
				checkLegacyV1(t, st)
			}
			if v >= 2 {
				checkLegacyV2(t, st, v)
			}
			checkNewWrites(t, st, v)
		})
	}
}

// checkLegacyV1 reads back the rows of schema version 1.
func checkLegacyV1(t *testing.T, st *Store) {
	t.Helper()
	ctx := context.Background()
	if a, err := st.Account(ctx, "acct-a"); err != nil || a.Name != "A" || a.CreatedAt != fromMS(1) {
		t.Fatalf("account: %+v %v", a, err)
	}
	sec, err := st.Keys().SecretByHash(ctx, legacyHash)
	if err != nil || sec.Key.ID != "key-a" || sec.Key.AccountID != "acct-a" || string(sec.Key.Metadata) != `{"team":"x"}` ||
		sec.Key.RateLimit != 60 || sec.ValidUntil != nil || sec.Key.LastUsedAt != nil {
		t.Fatalf("key: %+v %v", sec, err)
	}
	// The agent keeps its id; its name still resolves.
	for _, ref := range []string{"agent-a", "bot"} {
		if id, err := st.ResolveAgent(ctx, "acct-a", ref); err != nil || id != "agent-a" {
			t.Fatalf("resolve %q: %q %v", ref, id, err)
		}
	}
	ag, err := st.GetAgent(ctx, "acct-a", "bot")
	if err != nil || ag.ID != "agent-a" || ag.Name != "bot" || *ag.Description != "old agent" || string(ag.Metadata) != `{"v":1}` || ag.MemoryCount == 0 {
		t.Fatalf("agent: %+v %v", ag, err)
	}
	m, err := st.GetMemory(ctx, "acct-a", "mem-a")
	if err != nil || m.Seq != 1 || m.AgentID != "agent-a" || m.AgentRef != "bot" || m.Content != "legacy alpha words" ||
		string(m.Metadata) != `{"k":1}` || *m.UserID != "user-1" || *m.MemoryType != "fact" ||
		m.Visibility != "private" || m.Importance != 0.5 || m.Tier != "warm" || m.Scope != "long-term" || m.ProjectID != nil {
		t.Fatalf("memory: %+v %v", m, err)
	}
	// The search tables still answer for the old rows.
	if sc, err := st.TextCandidates(ctx, search.Filter{AccountID: "acct-a"}, []string{"alpha"}); err != nil || len(sc) != 1 || sc[0].ID != 1 {
		t.Fatalf("text: %+v %v", sc, err)
	}
	if sc, err := st.NearestVectors(ctx, search.Filter{AccountID: "acct-a"}, []float32{1, 0, 0, 0}, 1); err != nil || len(sc) != 1 || sc[0].ID != 1 || sc[0].Distance > 1e-6 {
		t.Fatalf("vector: %+v %v", sc, err)
	}
	// fts4aux (migration 4) counts the documents indexed before it.
	if td, err := st.TermDocs(ctx, []string{"legacy", "alpha"}); err != nil || td["legacy"] < 2 || td["alpha"] != 1 {
		t.Fatalf("term docs: %v %v", td, err)
	}
	if val, ok, err := st.Meta(ctx, "embedder"); err != nil || !ok || val != "legacy-model" {
		t.Fatalf("meta: %q %v %v", val, ok, err)
	}
	// The vector index is built from vectors that predate the change log.
	v := openTestIndex(t, st, 4)
	ns, err := v.Search(ctx, search.Filter{AccountID: "acct-b"}, []float32{0, 1, 0, 0}, 5)
	if err != nil || len(ns) != 1 || ns[0].ID != 2 {
		t.Fatalf("index: %+v %v", ns, err)
	}
}

// checkLegacyV2 reads back the rows of schema versions 2 to v.
func checkLegacyV2(t *testing.T, st *Store, v int) {
	t.Helper()
	ctx := context.Background()
	x, mems, err := st.GetSession(ctx, "acct-a", "sess-a", 10)
	if err != nil || x.AgentID != "agent-a" || *x.ExternalID != "ext-1" || *x.Title != "legacy session" || x.Status != store.SessionActive ||
		x.MemoryCount != 1 || len(mems) != 1 || mems[0].ID != "mem-a2" {
		t.Fatalf("session: %+v %+v %v", x, mems, err)
	}
	p, err := st.GetProject(ctx, "acct-a", "web")
	if err != nil || p.ID != "proj-web" || string(p.Stack) != `{"lang":"go"}` || p.MemoryCount != 1 || p.Metadata != nil {
		t.Fatalf("project: %+v %v", p, err)
	}
	if links, err := st.ProjectLinks(ctx, "acct-a", "web", true, false, nil, 10); err != nil || len(links) != 1 || links[0].Slug != "api" {
		t.Fatalf("links: %+v %v", links, err)
	}
	e, nb, _, err := st.Neighborhood(ctx, "acct-a", "ent-a", 1, 10, 100)
	if err != nil || e.AgentID == nil || *e.AgentID != "agent-a" || e.MemoryCount != 1 || len(nb) != 0 {
		t.Fatalf("entity: %+v %+v %v", e, nb, err)
	}
	if m, err := st.GetMemory(ctx, "acct-a", "mem-a"); err != nil || len(m.Entities) != 1 || m.Entities[0].Value != "Go" {
		t.Fatalf("memory entities: %+v %v", m, err)
	}
	d, err := st.GetDecision(ctx, "acct-a", "dec-a")
	if err != nil || *d.AgentID != "agent-a" || !slices.Equal(d.Tags, []string{"db"}) || d.Status != "active" {
		t.Fatalf("decision: %+v %v", d, err)
	}
	pt, err := st.GetPattern(ctx, "acct-a", "pat-a")
	if err != nil || pt.Scope != "global" || pt.AdoptionCount != 1 || *pt.SourceProjectID != "proj-web" || !slices.Equal(pt.Tags, []string{"go"}) {
		t.Fatalf("pattern: %+v %v", pt, err)
	}
	j, err := st.JobByID(ctx, "acct-a", "job-pending")
	if err != nil || j.Status != jobs.Pending || j.LeaseOwner != "" || !j.LeaseExpires.Equal(time.UnixMilli(0)) {
		t.Fatalf("job: %+v %v", j, err)
	}
	if n, err := st.KeyUsage(ctx, "key-a", "2023-11-14"); err != nil || n != 7 {
		t.Fatalf("usage: %d %v", n, err)
	}
	if v >= 5 {
		j, err := st.JobByID(ctx, "acct-a", "job-leased")
		if err != nil || j.LeaseOwner != "old-worker" || j.LeaseExpires != fromMS(29) {
			t.Fatalf("leased job: %+v %v", j, err)
		}
	}
	// Triggers of later migrations apply to earlier rows: deleting a
	// memory takes its job (3) and logs its vector (2).
	logged := func() int {
		n, err := queryValue[int](ctx, st.db.R, "SELECT count(*) FROM vector_changes WHERE seq = 3")
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := logged()
	if err := st.DeleteMemory(ctx, "acct-a", "mem-a2"); err != nil {
		t.Fatal(err)
	}
	if _, err := st.JobByMemory(ctx, "acct-a", "mem-a2"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("job of a deleted memory: %v", err)
	}
	if n := logged(); n != before+1 {
		t.Fatalf("change log of the deletion: %d rows, had %d", n, before)
	}
}

// checkNewWrites writes through the current code into the migrated
// database, using the old rows where there are some.
func checkNewWrites(t *testing.T, st *Store, v int) {
	t.Helper()
	ctx := context.Background()
	now := t0
	acct := "acct-a"
	if v == 0 {
		a, err := st.CreateAccount(ctx, "new", now)
		if err != nil {
			t.Fatal(err)
		}
		acct = a.ID
	}
	// A new memory by the old agent's name goes to the old agent.
	m := store.Memory{ID: "mem-new", AccountID: acct, AgentRef: "bot", Content: "fresh", Visibility: "private", Importance: 0.5,
		Tier: "warm", Scope: "long-term", Project: ptr("web"), CreatedAt: now, UpdatedAt: now}
	if err := st.InsertMemory(ctx, &m, store.Indexed{Vector: vecOf(0, 0, 0, 1), Terms: "fresh"}); err != nil {
		t.Fatal(err)
	}
	if v >= 1 && m.AgentID != "agent-a" {
		t.Fatalf("new memory's agent %q", m.AgentID)
	}
	if v >= 2 && (m.ProjectID == nil || *m.ProjectID != "proj-web") {
		t.Fatalf("new memory's project %v", m.ProjectID)
	}
	if _, _, err := st.CreateAgent(ctx, acct, "chosen-id", "", nil, nil, now); err != nil {
		t.Fatal(err)
	}
	if _, err := st.UpdateAgent(ctx, acct, "bot", func(a *store.Agent) error { a.Name = "renamed"; return nil }); err != nil {
		t.Fatal(err)
	}
	if got, err := st.GetMemory(ctx, acct, "mem-new"); err != nil || got.AgentRef != "bot" {
		t.Fatalf("after rename: %+v %v", got, err)
	}
	x := store.Session{ID: "sess-new", AccountID: acct, AgentRef: "renamed", ExternalID: ptr("ext-new"), Status: store.SessionActive,
		StartedAt: now, CreatedAt: now, UpdatedAt: now}
	if err := st.InsertSession(ctx, &x); err != nil {
		t.Fatal(err)
	}
	if v >= 1 {
		if _, err := st.UpdateMemory(ctx, acct, "mem-a", func(m *store.Memory) error { m.Tier = "hot"; return nil }, nil); err != nil {
			t.Fatal(err)
		}
		if err := st.Keys().TouchKeys(ctx, map[string]time.Time{"key-a": now}); err != nil {
			t.Fatal(err)
		}
		if k, err := st.Keys().KeyByID(ctx, acct, "key-a"); err != nil || k.LastUsedAt == nil {
			t.Fatalf("touched key: %+v %v", k, err)
		}
	}
	if v >= 2 {
		// Jobs an older binary left: the expired lease first, then the
		// pending job, which had lease_expires 0 after migration 5.
		want := []string{"job-pending"}
		if v >= 5 {
			want = []string{"job-leased", "job-pending"}
		}
		for _, id := range want {
			j, ok, err := st.Jobs(nil).Claim(ctx, "new-worker", now, time.Minute)
			if err != nil || !ok || j.ID != id || j.LeaseOwner != "new-worker" {
				t.Fatalf("claim: want %s, got %+v %v %v", id, j, ok, err)
			}
		}
		if _, err := st.AdoptPattern(ctx, acct, "pat-a", "api", now); err != nil {
			t.Fatal(err)
		}
		d := store.Decision{ID: "dec-new", AccountID: acct, Title: "t", Rationale: "r", Status: "active", CreatedAt: now, UpdatedAt: now}
		if err := st.SupersedeDecision(ctx, acct, "dec-a", &d, nil, func(store.Decision, *store.Decision) error { return nil }); err != nil {
			t.Fatal(err)
		}
		if d.AgentID == nil || *d.AgentID != "agent-a" {
			t.Fatalf("superseding decision's agent %v", d.AgentID)
		}
	}
	// The new rows are in the change log and in a fresh index.
	if n, err := queryValue[int](ctx, st.db.R, "SELECT count(*) FROM vector_changes WHERE seq = ?", m.Seq); err != nil || n == 0 {
		t.Fatalf("change log of the new memory: %d %v", n, err)
	}
	idx := openTestIndex(t, st, 4)
	ns, err := idx.Search(ctx, search.Filter{AccountID: acct}, []float32{0, 0, 0, 1}, 1)
	if err != nil || len(ns) != 1 || ns[0].ID != m.Seq {
		t.Fatalf("index: %+v %v", ns, err)
	}
}

// TestOpenTwiceAndNewerSchema: Open on a current database changes
// nothing, and a database from a newer binary is refused.
func TestOpenTwiceAndNewerSchema(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "s.db")
	for range 2 {
		st, err := Open(ctx, Options{Path: path})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.CreateAccount(ctx, "x", t0); err != nil {
			t.Fatal(err)
		}
		st.Close()
	}
	st, err := Open(ctx, Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := queryValue[int](ctx, st.db.R, "SELECT count(*) FROM accounts"); err != nil || n != 2 {
		t.Fatalf("%d accounts, %v", n, err)
	}
	if err := st.db.Write(ctx, func(tx *sql.Tx) error {
		_, err := tx.Exec(fmt.Sprintf("PRAGMA user_version = %d", len(migrations)+1))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	st.Close()
	if st, err := Open(ctx, Options{Path: path}); err == nil || !strings.Contains(err.Error(), "newer") {
		if st != nil {
			st.Close()
		}
		t.Fatalf("opened a newer schema: %v", err)
	}
}
