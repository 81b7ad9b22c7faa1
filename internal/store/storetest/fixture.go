package storetest

import (
	"context"
	"crypto/sha256"
	"testing"
	"time"

	"github.com/memoryrelay/memoryrelay/internal/jobs"
	"github.com/memoryrelay/memoryrelay/internal/store"
	"github.com/memoryrelay/memoryrelay/keys"
	"github.com/memoryrelay/memoryrelay/scopes"
	"github.com/memoryrelay/memoryrelay/search/index"
	"github.com/memoryrelay/memoryrelay/search/vector"
)

// The fixture of the isolation and query suites: two tenants with one
// object of every kind each, made through the store's own methods.

// vecOf is v, a vector as the store's methods take it.
func vecOf(v ...float32) []float32 { return v }

// openTestIndex opens a vector index of dimension dim that follows st's
// feed, as the facade does.
func openTestIndex(t *testing.T, st Store, dim int) *index.Index {
	t.Helper()
	feed, err := st.OpenVectorFeed(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	v, err := index.Open(context.Background(), feed, st, vector.IndexOptions{Dim: dim})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	return v
}

// tenant is one account with one object of every kind, made through the
// store's own methods: what the isolation and edge-case tests read.
type tenant struct {
	account  store.Account
	agent    store.Agent
	memory   store.Memory // of agent, in session and project, linked to entity
	session  store.Session
	project  store.Project // slug "web", source of pattern, adopted it
	other    store.Project // slug "api": web depends_on api
	entity   store.Entity
	decision store.Decision
	pattern  store.Pattern
	job      jobs.Job
	key      keys.Key
	keyHash  [32]byte
}

// seedTenant makes a tenant named name in st. Names and slugs are the
// same in every tenant, so that a query that forgets the account would
// find another tenant's rows.
func seedTenant(t *testing.T, st Store, name string) tenant {
	t.Helper()
	ctx := context.Background()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	var x tenant
	var err error
	x.account, err = st.CreateAccount(ctx, name, t0)
	must(err)
	acct := x.account.ID

	x.key = keys.Key{ID: name + "-key", AccountID: acct, Name: "k", Prefix: "mr_" + name, Scopes: scopes.NewSet(scopes.Admin), CreatedAt: t0}
	x.keyHash = sha256.Sum256([]byte(name + "-secret"))
	must(st.Keys().InsertKey(ctx, x.key, x.keyHash))

	x.agent, _, err = st.CreateAgent(ctx, acct, name+"-agent", "bot", nil, nil, t0)
	must(err)

	x.project = store.Project{ID: name + "-web", AccountID: acct, Slug: "web", Name: "Web", CreatedAt: t0, UpdatedAt: t0}
	must(st.InsertProject(ctx, &x.project))
	x.other = store.Project{ID: name + "-api", AccountID: acct, Slug: "api", Name: "API", CreatedAt: t0.Add(time.Millisecond), UpdatedAt: t0}
	must(st.InsertProject(ctx, &x.other))
	_, err = st.InsertProjectRelationship(ctx, &store.ProjectRelationship{AccountID: acct, Source: "web", Target: "api", Type: "depends_on", CreatedAt: t0})
	must(err)

	x.session = store.Session{ID: name + "-session", AccountID: acct, AgentRef: "bot", ExternalID: ptr("ext"), Project: ptr("web"),
		Status: store.SessionActive, StartedAt: t0, CreatedAt: t0, UpdatedAt: t0}
	must(st.InsertSession(ctx, &x.session))

	x.memory = store.Memory{ID: name + "-memory", AccountID: acct, AgentRef: "bot", UserID: ptr("user"), Content: "shared words",
		Visibility: "private", Importance: 0.5, Tier: "warm", Scope: "long-term", SessionID: ptr(x.session.ID), Project: ptr("web"),
		CreatedAt: t0, UpdatedAt: t0}
	must(st.InsertMemory(ctx, &x.memory, store.Indexed{Vector: vecOf(1, 0, 0, 0), Terms: "shared words"}))

	x.entity = store.Entity{ID: name + "-entity", AccountID: acct, AgentRef: ptr("bot"), Name: "Go", Type: "concept", CreatedAt: t0, UpdatedAt: t0}
	must(st.InsertEntity(ctx, &x.entity))
	_, err = st.LinkEntity(ctx, acct, &store.EntityLink{EntityID: x.entity.ID, MemoryID: x.memory.ID, Relationship: "mentioned_in", CreatedAt: t0})
	must(err)

	x.decision = store.Decision{ID: name + "-decision", AccountID: acct, AgentRef: ptr("bot"), SessionID: ptr(x.session.ID), ProjectSlug: ptr("web"),
		Title: "Use SQLite", Rationale: "one file", Status: "active", Tags: []string{"db"}, CreatedAt: t0, UpdatedAt: t0}
	must(st.InsertDecision(ctx, &x.decision, vecOf(1, 0, 0, 0)))

	x.pattern = store.Pattern{ID: name + "-pattern", AccountID: acct, Title: "Table tests", Description: "one table", Scope: "global",
		SourceProjectSlug: ptr("web"), CreatedAt: t0, UpdatedAt: t0}
	must(st.InsertPattern(ctx, &x.pattern, vecOf(1, 0, 0, 0)))
	_, err = st.AdoptPattern(ctx, acct, x.pattern.ID, "web", t0)
	must(err)
	_, err = st.AdoptPattern(ctx, acct, x.pattern.ID, "api", t0)
	must(err)

	x.job = jobs.Job{ID: name + "-job", MemoryID: name + "-job-memory", AccountID: acct, Status: jobs.Pending, Payload: []byte(`{}`), CreatedAt: t0, UpdatedAt: t0}
	must(st.InsertJob(ctx, x.job))
	must(st.AddKeyUsage(ctx, []store.Usage{{KeyID: x.key.ID, Day: "2023-11-14", Count: 3}}))
	return x
}

// openStore opens a store with open and closes it when t ends.
func openStore(t *testing.T, open Opener) Store {
	t.Helper()
	st := open(t)
	t.Cleanup(func() { st.Close() })
	return st
}

// twoTenants opens a store holding tenants "a" and "b".
func twoTenants(t *testing.T, open Opener) (Store, tenant, tenant) {
	t.Helper()
	st := openStore(t, open)
	return st, seedTenant(t, st, "a"), seedTenant(t, st, "b")
}
