package sqlite

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/memoryrelay/memoryrelay/internal/store"
	"github.com/memoryrelay/memoryrelay/internal/store/sqlite/sqlitedb"
)

// TestMigrateAgentIDs opens a database made under the schema before agent
// ids were chosen by clients, holding what the code of that time wrote,
// and checks that every agent keeps its UUID id, every name still
// resolves, and stored objects keep their agent.
func TestMigrateAgentIDs(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	before := slices.Index(migrations, migrationAgentIDs)
	if before < 0 {
		t.Fatal("agent id migration not in the migrations")
	}
	old, err := sqlitedb.Open(ctx, sqlitedb.Options{Path: path}, migrations[:before])
	if err != nil {
		t.Fatal(err)
	}
	const (
		acctA, acctB = "aaaaaaaa-0000-4000-8000-000000000001", "bbbbbbbb-0000-4000-8000-000000000002"
		bot          = "11111111-1111-4111-8111-111111111111" // A's agent auto-created by the name "bot"
		named        = "22222222-2222-4222-8222-222222222222" // A's agent created with this UUID id and a name
		bForeign     = "33333333-3333-4333-8333-333333333333" // B's agent for a reference to A's UUID bot (c99bc90)
		now          = int64(1_700_000_000_000)
	)
	// The rows as the code before the migration wrote them: agents.id was
	// the agent's id, memories and the rest reference it, agent_ref is
	// the reference as supplied.
	for _, q := range []string{
		`INSERT INTO accounts(id, name, created_at) VALUES ('` + acctA + `', 'a', 0), ('` + acctB + `', 'b', 0)`,
		`INSERT INTO agents(id, account_id, name, created_at, updated_at) VALUES
			('` + bot + `', '` + acctA + `', 'bot', 1, 1),
			('` + named + `', '` + acctA + `', 'Named', 2, 2),
			('` + bForeign + `', '` + acctB + `', '` + bot + `', 3, 3)`,
		`INSERT INTO memories(id, account_id, agent_id, agent_ref, content, created_at, updated_at) VALUES
			('m0000000-0000-4000-8000-000000000001', '` + acctA + `', '` + bot + `', 'bot', 'by name', 10, 10),
			('m0000000-0000-4000-8000-000000000002', '` + acctA + `', '` + named + `', '` + named + `', 'by id', 11, 11),
			('m0000000-0000-4000-8000-000000000003', '` + acctB + `', '` + bForeign + `', '` + bot + `', 'B, by A''s id', 12, 12)`,
		`INSERT INTO sessions(id, account_id, agent_id, agent_ref, started_at, created_at, updated_at) VALUES
			('s0000000-0000-4000-8000-000000000001', '` + acctA + `', '` + bot + `', 'bot', 20, 20, 20)`,
		`INSERT INTO entities(id, account_id, agent_id, agent_ref, name, created_at, updated_at) VALUES
			('e0000000-0000-4000-8000-000000000001', '` + acctA + `', '` + bot + `', 'bot', 'TypeScript', 30, 30)`,
		`INSERT INTO decisions(id, account_id, agent_id, agent_ref, title, rationale, created_at, updated_at) VALUES
			('d0000000-0000-4000-8000-000000000001', '` + acctA + `', '` + bot + `', 'bot', 't', 'r', 40, 40)`,
	} {
		if _, err := old.W.ExecContext(ctx, q); err != nil {
			t.Fatalf("%v: %s", err, q)
		}
	}
	if err := old.Close(); err != nil {
		t.Fatal(err)
	}

	s, err := Open(ctx, Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var version int
	if err := s.db.R.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil || version != len(migrations) {
		t.Fatalf("user_version %d, %v; want %d", version, err, len(migrations))
	}

	// Ids kept, names resolve, in their account only.
	for _, c := range []struct{ acct, ref, id, name string }{
		{acctA, bot, bot, "bot"},
		{acctA, strings.ToUpper(bot), bot, "bot"},
		{acctA, "bot", bot, "bot"},
		{acctA, named, named, "Named"},
		{acctA, "Named", named, "Named"},
		{acctB, bot, bForeign, bot}, // by its name, the UUID it was made for
		{acctB, bForeign, bForeign, bot},
	} {
		a, err := s.GetAgent(ctx, c.acct, c.ref)
		if err != nil || a.ID != c.id || a.Name != c.name {
			t.Errorf("agent %q: %+v %v; want id %s, name %s", c.ref, a, err, c.id, c.name)
		}
	}
	if a, err := s.GetAgent(ctx, acctB, "bot"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("A's agent name from B: %+v %v", a, err)
	}
	if a, err := s.GetAgent(ctx, acctA, bForeign); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("B's agent id from A: %+v %v", a, err)
	}

	// Stored objects carry their agent's id, and filters by id or name
	// find them.
	for _, ref := range []string{"bot", bot} {
		ms, total, err := s.ListMemories(ctx, store.Filter{AccountID: acctA, AgentRef: &ref}, 10, 0, nil)
		if err != nil || total != 1 || ms[0].AgentID != bot || ms[0].Content != "by name" {
			t.Errorf("memories of %q: %+v %d %v", ref, ms, total, err)
		}
	}
	ref := bot
	if ms, total, err := s.ListMemories(ctx, store.Filter{AccountID: acctB, AgentRef: &ref}, 10, 0, nil); err != nil || total != 1 || ms[0].AgentID != bForeign {
		t.Errorf("B's memories of %q: %+v %d %v", ref, ms, total, err)
	}
	if x, _, err := s.GetSession(ctx, acctA, "s0000000-0000-4000-8000-000000000001", 0); err != nil || x.AgentID != bot {
		t.Errorf("session: %+v %v", x, err)
	}
	if e, err := s.GetEntity(ctx, acctA, "e0000000-0000-4000-8000-000000000001"); err != nil || e.AgentID == nil || *e.AgentID != bot {
		t.Errorf("entity: %+v %v", e, err)
	}
	if d, err := s.GetDecision(ctx, acctA, "d0000000-0000-4000-8000-000000000001"); err != nil || d.AgentID == nil || *d.AgentID != bot {
		t.Errorf("decision: %+v %v", d, err)
	}

	// New writes by the old references reach the old agents; nothing new
	// is made for them.
	at := time.UnixMilli(now)
	for _, c := range []struct{ acct, ref, id string }{{acctA, "bot", bot}, {acctA, named, named}, {acctB, bot, bForeign}} {
		m := store.Memory{ID: "n" + c.id[1:], AccountID: c.acct, AgentRef: c.ref, Content: "new", Visibility: "private", Tier: "warm", Scope: "long-term", CreatedAt: at, UpdatedAt: at}
		if err := s.InsertMemory(ctx, &m, store.Indexed{Vector: make([]float32, 4)}); err != nil || m.AgentID != c.id {
			t.Errorf("new memory by %q: agent %q, %v; want %s", c.ref, m.AgentID, err, c.id)
		}
	}
	if a, created, err := s.CreateAgent(ctx, acctA, named, "", nil, nil, at); err != nil || created || a.ID != named || a.MemoryCount != 2 {
		t.Errorf("create by an old id: %+v %v %v", a, created, err)
	}
	if a, created, err := s.CreateAgent(ctx, acctA, "", "bot", nil, nil, at); err != nil || created || a.ID != bot {
		t.Errorf("create by an old name: %+v %v %v", a, created, err)
	}
	// A rename of an old agent changes nothing else either.
	if _, err := s.UpdateAgent(ctx, acctA, "bot", func(a *store.Agent) error { a.Name = "robot"; return nil }); err != nil {
		t.Fatal(err)
	}
	if a, err := s.GetAgent(ctx, acctA, bot); err != nil || a.Name != "robot" || a.MemoryCount != 2 || a.SessionCount != 1 {
		t.Errorf("renamed old agent: %+v %v", a, err)
	}
	if _, total, err := s.ListAgents(ctx, acctA, 10, 0, nil); err != nil || total != 2 {
		t.Errorf("A's agents: %d %v", total, err)
	}
	if _, total, err := s.ListAgents(ctx, acctB, 10, 0, nil); err != nil || total != 1 {
		t.Errorf("B's agents: %d %v", total, err)
	}

	// Ids are unique per account, and may repeat across accounts.
	if _, created, err := s.CreateAgent(ctx, acctB, named, "theirs", nil, nil, at); err != nil || !created {
		t.Errorf("A's id in B: %v %v", created, err)
	}
	if _, err := s.db.W.ExecContext(ctx, `INSERT INTO agents(id, public_id, account_id, name, created_at, updated_at)
		VALUES ('k', ?, ?, 'dup', 0, 0)`, named, acctA); err == nil || !strings.Contains(err.Error(), "UNIQUE") {
		t.Errorf("a second agent with one id in one account: %v", err)
	}
}
