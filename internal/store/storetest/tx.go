package storetest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/memoryrelay/memoryrelay/internal/store"
)

var errFn = errors.New("storetest: fn refuses")

// found reports whether the account's memory id exists, read with ctx.
func found(t *testing.T, ctx context.Context, st Store, acct, id string) bool {
	t.Helper()
	_, err := st.GetMemory(ctx, acct, id)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("GetMemory %s: %v", id, err)
	}
	return err == nil
}

// testInTxCommitsTogether: the writes of several methods called with
// InTx's ctx are all there once it returns nil.
func testInTxCommitsTogether(t *testing.T, open Opener) {
	ctx := context.Background()
	st := open(t)
	defer st.Close()
	A := account(t, st, "a")
	err := st.InTx(ctx, func(ctx context.Context) error {
		if err := st.InsertMemory(ctx, newMemory(A, "m1", "one"), idx("one", 1, 0, 0, 0)); err != nil {
			return err
		}
		if err := st.InsertMemory(ctx, newMemory(A, "m2", "two"), idx("two", 0, 1, 0, 0)); err != nil {
			return err
		}
		return st.SetMeta(ctx, "k", "v")
	})
	if err != nil {
		t.Fatal(err)
	}
	if !found(t, ctx, st, A, "m1") || !found(t, ctx, st, A, "m2") {
		t.Error("a memory written in InTx is missing after it committed")
	}
	if v, ok, err := st.Meta(ctx, "k"); err != nil || !ok || v != "v" {
		t.Errorf("meta written in InTx: %q %v %v", v, ok, err)
	}
}

// testInTxRollsBack: fn's error, or its panic, leaves nothing of what the
// methods it called wrote, the agent they created on the way included,
// and the store takes writes afterwards.
func testInTxRollsBack(t *testing.T, open Opener) {
	ctx := context.Background()
	st := open(t)
	defer st.Close()
	A := account(t, st, "a")
	write := func(ctx context.Context) {
		if err := st.InsertMemory(ctx, newMemory(A, "m1", "one"), idx("one", 1, 0, 0, 0)); err != nil {
			t.Fatal(err)
		}
		if err := st.SetMeta(ctx, "k", "v"); err != nil {
			t.Fatal(err)
		}
	}
	check := func(how string) {
		t.Helper()
		if found(t, ctx, st, A, "m1") {
			t.Errorf("%s: the memory is there", how)
		}
		if _, ok, err := st.Meta(ctx, "k"); err != nil || ok {
			t.Errorf("%s: meta %v %v", how, ok, err)
		}
		if _, err := st.GetAgent(ctx, A, "bot"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s: the agent the insert created: %v", how, err)
		}
	}

	if err := st.InTx(ctx, func(ctx context.Context) error { write(ctx); return errFn }); !errors.Is(err, errFn) {
		t.Fatalf("InTx = %v, want fn's error", err)
	}
	check("fn's error")

	func() {
		defer func() {
			if recover() == nil {
				t.Error("InTx swallowed fn's panic")
			}
		}()
		st.InTx(ctx, func(ctx context.Context) error { write(ctx); panic("storetest") })
	}()
	check("fn's panic")

	cctx, cancel := context.WithCancel(ctx)
	err := st.InTx(cctx, func(ctx context.Context) error { write(ctx); cancel(); return nil })
	if err == nil {
		t.Error("InTx committed after its ctx was cancelled")
	}
	check("ctx cancelled")

	if err := st.InsertMemory(ctx, newMemory(A, "m2", "after"), idx("after", 1, 0, 0, 0)); err != nil {
		t.Fatalf("a write after the rollbacks: %v", err)
	}
}

// testInTxReadsItsWrites: inside InTx the methods read what it wrote
// (single rows, lists and their counts), and a read outside it does not
// see them before it commits.
func testInTxReadsItsWrites(t *testing.T, open Opener) {
	ctx := context.Background()
	st := open(t)
	defer st.Close()
	A := account(t, st, "a")
	err := st.InTx(ctx, func(tctx context.Context) error {
		if err := st.InsertMemory(tctx, newMemory(A, "m1", "one"), idx("one", 1, 0, 0, 0)); err != nil {
			return err
		}
		if !found(t, tctx, st, A, "m1") {
			t.Error("GetMemory inside InTx misses its own write")
		}
		ms, total, err := st.ListMemories(tctx, store.Filter{AccountID: A}, 10, 0, nil)
		if err != nil || total != 1 || len(ms) != 1 || ms[0].ID != "m1" {
			t.Errorf("ListMemories inside InTx: %d of %d, %v", len(ms), total, err)
		}
		if _, err := st.GetAgent(tctx, A, "bot"); err != nil {
			t.Errorf("the agent created inside InTx: %v", err)
		}
		m, err := st.UpdateMemory(tctx, A, "m1", func(m *store.Memory) error { m.Content = "changed"; return nil }, nil)
		if err != nil || m.Content != "changed" {
			t.Errorf("UpdateMemory inside InTx: %+v %v", m, err)
		}
		if found(t, ctx, st, A, "m1") {
			t.Error("a read outside InTx sees its write before the commit")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if m, err := st.GetMemory(ctx, A, "m1"); err != nil || m.Content != "changed" {
		t.Errorf("after the commit: %+v %v", m, err)
	}
}

// testInTxFailedMethod: a method that fails inside InTx undoes its own
// writes, however far it got, and nothing else; fn may go on and commit.
func testInTxFailedMethod(t *testing.T, open Opener) {
	ctx := context.Background()
	st := open(t)
	defer st.Close()
	A := account(t, st, "a")
	err := st.InTx(ctx, func(ctx context.Context) error {
		if err := st.InsertMemory(ctx, newMemory(A, "m1", "one"), idx("one", 1, 0, 0, 0)); err != nil {
			return err
		}
		// The same id again, by a new agent: the agent is created before
		// the memory's row is refused.
		dup := newMemory(A, "m1", "dup")
		dup.AgentRef = "new-agent"
		if err := st.InsertMemory(ctx, dup, idx("dup", 0, 1, 0, 0)); err == nil {
			t.Error("a second memory with the same id was stored")
		}
		// An item of a batch in an unknown session fails alone.
		bad := newMemory(A, "m2", "two")
		bad.SessionID = ptr("no-such-session")
		out, err := st.InsertMemories(ctx, []store.BatchItem{{Memory: bad, Index: idx("two", 0, 0, 1, 0)}, {Memory: newMemory(A, "m3", "three"), Index: idx("three", 0, 0, 0, 1)}})
		if err != nil || len(out) != 2 || !errors.Is(out[0].Err, store.ErrSessionNotFound) || out[1].Err != nil {
			t.Errorf("InsertMemories inside InTx: %+v %v", out, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !found(t, ctx, st, A, "m1") || !found(t, ctx, st, A, "m3") {
		t.Error("the writes that succeeded are missing")
	}
	if m, err := st.GetMemory(ctx, A, "m1"); err != nil || m.Content != "one" {
		t.Errorf("m1 is %+v %v, want the first one", m, err)
	}
	if found(t, ctx, st, A, "m2") {
		t.Error("the batch item in an unknown session was stored")
	}
	if _, err := st.GetAgent(ctx, A, "new-agent"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the agent of the failed insert: %v, want ErrNotFound", err)
	}
}

// testInTxNested: an InTx inside another joins it; its failure rolls back
// its own writes only, and its success commits with the outer one.
func testInTxNested(t *testing.T, open Opener) {
	ctx := context.Background()
	st := open(t)
	defer st.Close()
	A := account(t, st, "a")
	err := st.InTx(ctx, func(ctx context.Context) error {
		if err := st.InsertMemory(ctx, newMemory(A, "outer", "o"), idx("o", 1, 0, 0, 0)); err != nil {
			return err
		}
		err := st.InTx(ctx, func(ctx context.Context) error {
			if err := st.InsertMemory(ctx, newMemory(A, "inner-failed", "f"), idx("f", 1, 0, 0, 0)); err != nil {
				return err
			}
			return errFn
		})
		if !errors.Is(err, errFn) {
			t.Errorf("inner InTx = %v, want fn's error", err)
		}
		return st.InTx(ctx, func(ctx context.Context) error {
			return st.InsertMemory(ctx, newMemory(A, "inner-ok", "k"), idx("k", 1, 0, 0, 0))
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	if !found(t, ctx, st, A, "outer") || !found(t, ctx, st, A, "inner-ok") {
		t.Error("the outer write or the committed inner one is missing")
	}
	if found(t, ctx, st, A, "inner-failed") {
		t.Error("the failed inner InTx's write was committed")
	}
}

// testInTxWritersWait: a write from another goroutine while InTx is open
// is not lost: it waits for the transaction (or runs beside it, in an
// engine with several writers) and lands.
func testInTxWritersWait(t *testing.T, open Opener) {
	ctx := context.Background()
	st := open(t)
	defer st.Close()
	A := account(t, st, "a")
	var wg sync.WaitGroup
	errs := make(chan error, 1)
	err := st.InTx(ctx, func(tctx context.Context) error {
		if err := st.InsertMemory(tctx, newMemory(A, "in-tx", "t"), idx("t", 1, 0, 0, 0)); err != nil {
			return err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- st.InsertMemory(ctx, newMemory(A, "beside", "b"), idx("b", 0, 1, 0, 0))
		}()
		time.Sleep(20 * time.Millisecond) // let it reach the store
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if err := <-errs; err != nil {
		t.Fatalf("the write beside InTx: %v", err)
	}
	if !found(t, ctx, st, A, "in-tx") || !found(t, ctx, st, A, "beside") {
		t.Error("a write is missing")
	}
}

// testInTxCtxEnds: InTx's ctx is no transaction once InTx has returned:
// a write made with it afterwards is not silently committed somewhere.
func testInTxCtxEnds(t *testing.T, open Opener) {
	ctx := context.Background()
	st := open(t)
	defer st.Close()
	A := account(t, st, "a")
	var kept context.Context
	if err := st.InTx(ctx, func(ctx context.Context) error { kept = ctx; return nil }); err != nil {
		t.Fatal(err)
	}
	if err := st.InsertMemory(kept, newMemory(A, "late", "l"), idx("l", 1, 0, 0, 0)); err == nil {
		if found(t, ctx, st, A, "late") {
			return // an implementation may run it as a write of its own
		}
		t.Error("a write with InTx's ctx after it returned reported success and stored nothing")
	}
}

// testMethodsAreAtomic: a method that fails part-way leaves nothing of
// what it did on the way (the agent its write would have created).
func testMethodsAreAtomic(t *testing.T, open Opener) {
	ctx := context.Background()
	st := open(t)
	defer st.Close()
	A := account(t, st, "a")
	if err := st.InsertMemory(ctx, newMemory(A, "m1", "one"), idx("one", 1, 0, 0, 0)); err != nil {
		t.Fatal(err)
	}
	dup := newMemory(A, "m1", "dup")
	dup.AgentRef = "new-agent"
	if err := st.InsertMemory(ctx, dup, idx("dup", 1, 0, 0, 0)); err == nil {
		t.Fatal("a second memory with the same id was stored")
	}
	if _, err := st.GetAgent(ctx, A, "new-agent"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the agent of the failed insert: %v, want ErrNotFound", err)
	}
	errApply := errors.New("apply refuses")
	if _, err := st.UpdateMemory(ctx, A, "m1", func(m *store.Memory) error { m.Content = "x"; return errApply }, nil); !errors.Is(err, errApply) {
		t.Errorf("UpdateMemory with a refusing apply: %v", err)
	}
	if m, err := st.GetMemory(ctx, A, "m1"); err != nil || m.Content != "one" {
		t.Errorf("after the refused update: %+v %v", m, err)
	}
}

// testOtherAccountNotFound: an id of another account's row is
// ErrNotFound to every method that names it.
func testOtherAccountNotFound(t *testing.T, open Opener) {
	ctx := context.Background()
	st := open(t)
	defer st.Close()
	A, B := account(t, st, "a"), account(t, st, "b")
	if err := st.InsertMemory(ctx, newMemory(A, "m1", "one"), idx("one", 1, 0, 0, 0)); err != nil {
		t.Fatal(err)
	}
	if _, err := st.GetMemory(ctx, B, "m1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetMemory of another account's memory: %v", err)
	}
	if _, err := st.UpdateMemory(ctx, B, "m1", func(m *store.Memory) error { m.Content = "stolen"; return nil }, nil); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("UpdateMemory of another account's memory: %v", err)
	}
	if err := st.DeleteMemory(ctx, B, "m1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("DeleteMemory of another account's memory: %v", err)
	}
	if ms, total, err := st.ListMemories(ctx, store.Filter{AccountID: B}, 10, 0, nil); err != nil || total != 0 || len(ms) != 0 {
		t.Errorf("ListMemories of the other account: %d of %d, %v", len(ms), total, err)
	}
	if _, err := st.GetAgent(ctx, B, "bot"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetAgent of another account's agent: %v", err)
	}
	if m, err := st.GetMemory(ctx, A, "m1"); err != nil || m.Content != "one" {
		t.Errorf("the owner's memory: %+v %v", m, err)
	}
	if _, err := st.Account(ctx, "no-such-account"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Account of an unknown id: %v", err)
	}
}

// testForeignKey: a write for an account that does not exist is
// ErrForeignKey (store.ForeignKey), not an engine's bare error.
func testForeignKey(t *testing.T, open Opener) {
	ctx := context.Background()
	st := open(t)
	defer st.Close()
	if _, _, err := st.CreateAgent(ctx, "no-such-account", "", "a", nil, nil, t0); !errors.Is(err, store.ErrForeignKey) || !store.ForeignKey(err) {
		t.Errorf("CreateAgent in an unknown account: %v, want ErrForeignKey", err)
	}
	if err := st.InsertMemory(ctx, newMemory("no-such-account", "m1", "c"), idx("c", 1, 0, 0, 0)); !errors.Is(err, store.ErrForeignKey) {
		t.Errorf("InsertMemory in an unknown account: %v, want ErrForeignKey", err)
	}
	if store.ForeignKey(store.ErrNotFound) || store.Closed(store.ErrNotFound) {
		t.Error("ErrNotFound is classified as a foreign-key or closed error")
	}
}

// testClosed: after Close every call fails with an error that matches
// ErrClosed, reads, writes, transactions and the change feed alike.
func testClosed(t *testing.T, open Opener) {
	ctx := context.Background()
	st := open(t)
	A := account(t, st, "a")
	if err := st.InsertMemory(ctx, newMemory(A, "m1", "one"), idx("one", 1, 0, 0, 0)); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	calls := map[string]func() error{
		"Meta":      func() error { _, _, err := st.Meta(ctx, "k"); return err },
		"GetMemory": func() error { _, err := st.GetMemory(ctx, A, "m1"); return err },
		"ListMemories": func() error {
			_, _, err := st.ListMemories(ctx, store.Filter{AccountID: A}, 10, 0, nil)
			return err
		},
		"InsertMemory":   func() error { return st.InsertMemory(ctx, newMemory(A, "m2", "two"), idx("two", 1, 0, 0, 0)) },
		"SetMeta":        func() error { return st.SetMeta(ctx, "k", "v") },
		"InTx":           func() error { return st.InTx(ctx, func(context.Context) error { return nil }) },
		"Vectors":        func() error { _, err := st.Vectors(ctx, []int64{1}); return err },
		"OpenVectorFeed": func() error { _, err := st.OpenVectorFeed(ctx); return err },
	}
	for name, call := range calls {
		if err := call(); !errors.Is(err, store.ErrClosed) || !store.Closed(err) {
			t.Errorf("%s after Close: %v, want ErrClosed", name, err)
		}
	}
	if err := st.Close(); err != nil {
		t.Errorf("a second Close: %v", err)
	}
}
