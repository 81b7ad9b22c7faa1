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

	"github.com/memoryrelay/memoryrelay/internal/store"
	"github.com/memoryrelay/memoryrelay/search"
	"github.com/memoryrelay/memoryrelay/search/index"
)

// Store is what the suite calls of an implementation: the transaction
// boundary and a cross-section of the domain's methods.
type Store interface {
	InTx(ctx context.Context, fn func(ctx context.Context) error) error
	Close() error

	Meta(ctx context.Context, key string) (string, bool, error)
	SetMeta(ctx context.Context, key, value string) error

	CreateAccount(ctx context.Context, name string, now time.Time) (store.Account, error)
	Account(ctx context.Context, id string) (store.Account, error)
	CreateAgent(ctx context.Context, accountID, id, name string, description *string, metadata []byte, now time.Time) (store.Agent, bool, error)
	GetAgent(ctx context.Context, accountID, ref string) (store.Agent, error)

	InsertMemory(ctx context.Context, m *store.Memory, idx store.Indexed) error
	InsertMemories(ctx context.Context, items []store.BatchItem) ([]store.BatchOutcome, error)
	GetMemory(ctx context.Context, accountID, id string) (store.Memory, error)
	UpdateMemory(ctx context.Context, accountID, id string, apply func(*store.Memory) error, idx *store.Indexed) (store.Memory, error)
	DeleteMemory(ctx context.Context, accountID, id string) error
	ListMemories(ctx context.Context, f store.Filter, limit, offset int, after *store.Position) ([]store.Memory, int, error)

	InsertDecision(ctx context.Context, d *store.Decision, vec []float32) error
	DecisionCandidates(ctx context.Context, f store.DecisionFilter, vec []float32, limit int, fn func(store.RankCandidate)) error
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
