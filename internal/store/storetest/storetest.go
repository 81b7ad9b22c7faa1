// Package storetest checks that an implementation of package store's
// contract keeps its rules: the transaction boundary (InTx, and the
// atomicity of each method), the errors of the vocabulary (ErrNotFound
// across accounts, ErrForeignKey, ErrClosed), vectors crossing the seam as
// []float32, and the change feed of the vectors. Every implementation's
// tests call [Run]; the SQLite one's do (package store/sqlite).
package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/memoryrelay/memoryrelay/internal/jobs"
	"github.com/memoryrelay/memoryrelay/internal/store"
	"github.com/memoryrelay/memoryrelay/keys"
	"github.com/memoryrelay/memoryrelay/search"
	"github.com/memoryrelay/memoryrelay/search/index"
)

// Store is what the suite calls of an implementation: the whole storage
// method set of the domain.
type Store interface {
	InTx(ctx context.Context, fn func(ctx context.Context) error) error
	Close() error
	Ping(ctx context.Context) error
	CheckRead(ctx context.Context) error
	JobQueueState(ctx context.Context) (store.JobQueue, error)

	Meta(ctx context.Context, key string) (string, bool, error)
	SetMeta(ctx context.Context, key, value string) error
	SetMetaIfAbsent(ctx context.Context, key, value string) (string, error)
	FinishMeta(ctx context.Context, key, value string, drop ...string) error
	MetaKeys(ctx context.Context, prefix string) ([]string, error)

	CreateAccount(ctx context.Context, name string, now time.Time) (store.Account, error)
	Account(ctx context.Context, id string) (store.Account, error)
	AccountByName(ctx context.Context, name string) (store.Account, error)
	CountKeys(ctx context.Context, accountID string) (int, error)
	Keys() keys.Repository
	AddKeyUsage(ctx context.Context, batch []store.Usage) error
	KeyUsage(ctx context.Context, keyID, day string) (int64, error)

	CreateAgent(ctx context.Context, accountID, id, name string, description *string, metadata []byte, now time.Time) (store.Agent, bool, error)
	GetAgent(ctx context.Context, accountID, ref string) (store.Agent, error)
	ResolveAgent(ctx context.Context, accountID, ref string) (string, error)
	ListAgents(ctx context.Context, accountID string, limit, offset int, after *store.Position) ([]store.Agent, int, error)
	UpdateAgent(ctx context.Context, accountID, ref string, apply func(*store.Agent) error) (store.Agent, error)
	DeleteAgent(ctx context.Context, accountID, ref string) (id string, memories int, err error)
	AgentMemoryIDs(ctx context.Context, accountID, ref string) ([]string, error)
	AgentStats(ctx context.Context, accountID, ref string) (store.AgentStats, error)

	InsertMemory(ctx context.Context, m *store.Memory, idx store.Indexed) error
	InsertMemories(ctx context.Context, items []store.BatchItem) ([]store.BatchOutcome, error)
	GetMemory(ctx context.Context, accountID, id string) (store.Memory, error)
	UpdateMemory(ctx context.Context, accountID, id string, apply func(*store.Memory) error, idx *store.Indexed) (store.Memory, error)
	DeleteMemory(ctx context.Context, accountID, id string) error
	DeleteUserMemories(ctx context.Context, accountID, userID string) (int, error)
	ListMemories(ctx context.Context, f store.Filter, limit, offset int, after *store.Position) ([]store.Memory, int, error)

	InsertSession(ctx context.Context, x *store.Session) error
	GetOrCreateSession(ctx context.Context, x store.Session) (store.Session, bool, error)
	GetSession(ctx context.Context, accountID, id string, memories int) (store.Session, []store.Memory, error)
	EndSession(ctx context.Context, accountID, id string, summary *string, now time.Time) (store.Session, error)
	ListSessions(ctx context.Context, f store.SessionFilter, limit, offset int, after *store.Position) ([]store.Session, int, error)
	SessionExists(ctx context.Context, accountID, sessionID string) (bool, error)

	InsertEntity(ctx context.Context, e *store.Entity) error
	GetEntity(ctx context.Context, accountID, id string) (store.Entity, error)
	ListEntities(ctx context.Context, f store.EntityFilter, limit, offset int, after *store.Position) ([]store.Entity, int, error)
	DeleteEntity(ctx context.Context, accountID, id string) error
	LinkEntity(ctx context.Context, accountID string, l *store.EntityLink) (bool, error)
	Neighborhood(ctx context.Context, accountID, id string, depth, maxNeighbors, budget int) (store.Entity, []store.Neighbor, store.NeighborhoodStats, error)

	InsertDecision(ctx context.Context, d *store.Decision, vec []float32) error
	GetDecision(ctx context.Context, accountID, id string) (store.Decision, error)
	SupersedeDecision(ctx context.Context, accountID, oldID string, d *store.Decision, vec []float32, prepare func(old store.Decision, d *store.Decision) error) error
	ListDecisions(ctx context.Context, f store.DecisionFilter, limit, offset int, after *store.Position) ([]store.Decision, int, error)
	DecisionCandidates(ctx context.Context, f store.DecisionFilter, vec []float32, limit int, fn func(store.RankCandidate)) error
	DecisionsByID(ctx context.Context, accountID string, ids []string) ([]store.Decision, error)

	InsertPattern(ctx context.Context, p *store.Pattern, vec []float32) error
	GetPattern(ctx context.Context, accountID, id string) (store.Pattern, error)
	PatternCandidates(ctx context.Context, f store.PatternFilter, vec []float32, limit int, fn func(store.RankCandidate)) error
	PatternsByID(ctx context.Context, accountID string, ids []string) ([]store.Pattern, error)
	TopPatterns(ctx context.Context, f store.PatternFilter, limit int) ([]store.Pattern, error)
	AdoptPattern(ctx context.Context, accountID, id, slug string, now time.Time) (store.Pattern, error)
	SuggestPatterns(ctx context.Context, accountID, slug string, limit int) ([]store.Pattern, error)
	SharedPatterns(ctx context.Context, accountID, projectA, projectB string, limit int) ([]store.Pattern, error)

	InsertProject(ctx context.Context, p *store.Project) error
	GetProject(ctx context.Context, accountID, slug string) (store.Project, error)
	ListProjects(ctx context.Context, accountID string, limit, offset int, after *store.Position) ([]store.Project, int, error)
	ProjectMemories(ctx context.Context, accountID, projectID, tier string, limit int) ([]store.Memory, error)
	InsertProjectRelationship(ctx context.Context, rel *store.ProjectRelationship) (bool, error)
	ProjectLinks(ctx context.Context, accountID, slug string, out, in bool, types []string, limit int) ([]store.ProjectLink, error)
	Dependents(ctx context.Context, accountID, slug string, types []string, maxDepth, limit int) ([]store.Dependent, error)

	InsertJob(ctx context.Context, j jobs.Job) error
	JobByID(ctx context.Context, accountID, id string) (jobs.Job, error)
	JobByMemory(ctx context.Context, accountID, memoryID string) (jobs.Job, error)
	Jobs(explain func(store.BatchOutcome) string) jobs.Queue[store.BatchItem]

	SetEmbeddings(ctx context.Context, table string, rowIDs []int64, vectors [][]float32, checkpoint string) error
	TextsAfter(ctx context.Context, table string, after int64, limit int) ([]store.TextRow, error)

	search.Store[store.Memory]
	index.Store
	OpenVectorFeed(ctx context.Context) (index.Feed, error)
}

// Opener returns a new, empty store of the implementation under test. The
// suite closes it (Close may then be called again by the opener's own
// cleanup: it must be safe to call more than once).
type Opener func(t *testing.T) Store

// Run runs the suite against the stores open returns, one per test.
func Run(t *testing.T, open Opener) {
	for _, c := range []struct {
		name string
		test func(*testing.T, Opener)
	}{
		{"InTxCommitsTogether", testInTxCommitsTogether},
		{"InTxRollsBack", testInTxRollsBack},
		{"InTxReadsItsWrites", testInTxReadsItsWrites},
		{"InTxFailedMethodUndoesItselfOnly", testInTxFailedMethod},
		{"InTxNested", testInTxNested},
		{"InTxWritersWait", testInTxWritersWait},
		{"InTxCtxEnds", testInTxCtxEnds},
		{"MethodsAreAtomic", testMethodsAreAtomic},
		{"OtherAccountNotFound", testOtherAccountNotFound},
		{"ForeignKey", testForeignKey},
		{"Closed", testClosed},
		{"Vectors", testVectors},
		{"ChangeFeed", testChangeFeed},
		{"AccountIsolation", testAccountIsolation},
		{"EmptyResults", testEmptyResults},
		{"NotFound", testNotFound},
		{"Pagination", testPagination},
		{"MemoryFilters", testMemoryFilters},
		{"VectorsInChunks", testVectorsInChunks},
		{"TextStats", testTextStats},
		{"MetaAndReembedding", testMetaAndReembedding},
		{"AgentLifecycle", testAgentLifecycle},
		{"SessionsAndLinks", testSessionsAndLinks},
		{"ProjectsAndPatterns", testProjectsAndPatterns},
		{"DecisionFilters", testDecisionFilters},
		{"JobLease", testJobLease},
		{"JobLeaseRelease", testJobLeaseRelease},
		{"JobComplete", testJobComplete},
		{"JobClaimsConcurrent", testJobClaimsConcurrent},
	} {
		t.Run(c.name, func(t *testing.T) { c.test(t, open) })
	}
}

// t0 is the clock of the suite's rows.
var t0 = time.UnixMilli(1_700_000_000_000).UTC()

func ptr[T any](v T) *T { return &v }

// account creates an account named name.
func account(t *testing.T, st Store, name string) string {
	t.Helper()
	a, err := st.CreateAccount(context.Background(), name, t0)
	if err != nil {
		t.Fatal(err)
	}
	return a.ID
}

// newMemory is a memory of the account by agent "bot", ready to insert.
func newMemory(acct, id, content string) *store.Memory {
	return &store.Memory{ID: id, AccountID: acct, AgentRef: "bot", Content: content, Visibility: "private", Importance: 0.5,
		Tier: "warm", Scope: "long-term", CreatedAt: t0, UpdatedAt: t0}
}

// idx is the index entries of a memory with the vector v.
func idx(terms string, v ...float32) store.Indexed { return store.Indexed{Vector: v, Terms: terms} }
