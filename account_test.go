package memoryrelay_test

import (
	"context"
	"errors"
	"math"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/memoryrelay/memoryrelay"
	"github.com/memoryrelay/memoryrelay/keys"
	"github.com/memoryrelay/memoryrelay/memory"
	"github.com/memoryrelay/memoryrelay/scopes"
	"github.com/memoryrelay/memoryrelay/search/embed"
)

// eachCall calls every method of every resource group of acct with zero
// arguments (a live context), and hands each error to check.
func eachCall(t *testing.T, acct memory.Account, check func(t *testing.T, call string, err error)) {
	t.Helper()
	ctx := context.Background()
	groups := reflect.ValueOf(acct)
	n := 0
	for i := range groups.NumMethod() {
		group := groups.Method(i).Call(nil)[0]
		gname := groups.Type().Method(i).Name
		for j := range group.NumMethod() {
			m := group.Method(j)
			in := make([]reflect.Value, m.Type().NumIn())
			for k := range in {
				in[k] = reflect.Zero(m.Type().In(k))
			}
			in[0] = reflect.ValueOf(ctx)
			out := m.Call(in)
			err, _ := out[len(out)-1].Interface().(error)
			check(t, gname+"()."+group.Type().Method(j).Name, err)
			n++
		}
	}
	if n < 50 {
		t.Fatalf("only %d methods called", n)
	}
}

// TestClosedRelay: after Close, every method of an account handle and of
// the Relay answers ErrClosed (memory.ErrClosed), never a driver error.
func TestClosedRelay(t *testing.T) {
	ctx := context.Background()
	r, _ := open(t, memoryrelay.Options{})
	id := account(t, r)
	acct := r.Account(id)
	_, tok, err := acct.Keys().Create(ctx, memory.NewKey{Name: "k", Scopes: scopes.NewSet(scopes.Read)})
	if err != nil {
		t.Fatal(err)
	}
	a, err := r.Authorize(ctx, tok.Reveal())
	if err != nil {
		t.Fatal(err)
	}
	forKey := r.AccountFor(a.Key)
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	for _, h := range []memory.Account{acct, forKey, r.Account("unknown")} {
		eachCall(t, h, func(t *testing.T, call string, err error) {
			if !errors.Is(err, memoryrelay.ErrClosed) || !errors.Is(err, memory.ErrClosed) {
				t.Errorf("%s after Close: %v, want ErrClosed", call, err)
			}
		})
	}
	checks := map[string]error{}
	_, checks["Authorize"] = r.Authorize(ctx, tok.Reveal())
	_, checks["CreateAccount"] = r.CreateAccount(ctx, "x")
	_, checks["LookupAccount"] = r.LookupAccount(ctx, id)
	_, checks["AccountByName"] = r.AccountByName(ctx, "acct")
	checks["Backup"] = r.Backup(ctx, filepath.Join(t.TempDir(), "b.db"))
	checks["Compact"] = r.Compact(ctx)
	checks["WaitSearchIndex"] = r.WaitSearchIndex(ctx)
	for name, err := range checks {
		if !errors.Is(err, memoryrelay.ErrClosed) {
			t.Errorf("%s after Close: %v, want ErrClosed", name, err)
		}
	}
	if h := r.Health(ctx); h.Status != "unhealthy" || h.Services["database"] != memoryrelay.ServiceDown {
		t.Errorf("Health after Close: %+v", h)
	}
}

// TestUnknownAccount: every method of the handle of an account that does
// not exist answers a *memory.NotFoundError of kind "account", whatever
// the call (writes that would have met a foreign key included).
func TestUnknownAccount(t *testing.T) {
	r, _ := open(t, memoryrelay.Options{})
	account(t, r) // another account exists
	for _, h := range []memory.Account{r.Account("no-such-account"), r.Account(""),
		r.AccountFor(keys.Key{ID: "k", AccountID: "0b5ef3e6-3bc4-4c57-9b8a-4d6a2c9f0e11"})} {
		eachCall(t, h, func(t *testing.T, call string, err error) {
			var nf *memory.NotFoundError
			if !errors.As(err, &nf) || nf.Kind != "account" || !errors.Is(err, memoryrelay.ErrNotFound) {
				t.Errorf("%s of an unknown account: %v, want account not found", call, err)
			}
		})
	}
	ctx := context.Background()
	if _, err := r.Account("no-such-account").Memories().Create(ctx, memory.NewMemory{Content: "x"}); err == nil ||
		strings.Contains(err.Error(), "FOREIGN KEY") || err.Error() != "account not found" {
		t.Errorf("create in an unknown account: %v", err)
	}
	var nf *memory.NotFoundError
	if _, err := r.LookupAccount(ctx, "no-such-account"); !errors.As(err, &nf) || nf.Kind != "account" {
		t.Errorf("LookupAccount of an unknown id: %v", err)
	}
	if _, err := r.AccountByName(ctx, "nobody"); !errors.As(err, &nf) || nf.Kind != "account" {
		t.Errorf("AccountByName of an unknown name: %v", err)
	}
}

// TestAccountAdministration: account records through the facade.
func TestAccountAdministration(t *testing.T) {
	ctx := context.Background()
	r, _ := open(t, memoryrelay.Options{})
	info, err := r.CreateAccount(ctx, "acme")
	if err != nil || info.Name != "acme" || info.ID == "" || info.CreatedAt.IsZero() {
		t.Fatalf("CreateAccount: %+v %v", info, err)
	}
	if got, err := r.LookupAccount(ctx, info.ID); err != nil || got != info {
		t.Errorf("LookupAccount: %+v %v, want %+v", got, err, info)
	}
	if got, err := r.AccountByName(ctx, "acme"); err != nil || got != info {
		t.Errorf("AccountByName: %+v %v, want %+v", got, err, info)
	}
	var verr *memory.ValidationError
	if _, err := r.CreateAccount(ctx, ""); !errors.As(err, &verr) || verr.Field() != "name" {
		t.Errorf("CreateAccount of an empty name: %v", err)
	}
}

// TestKeyNotFoundMatchesBoth: an unknown key, by every path of an
// account's Keys, is a *memory.NotFoundError of kind "key" that matches
// memory.ErrNotFound and keys.ErrNotFound.
func TestKeyNotFoundMatchesBoth(t *testing.T) {
	ctx := context.Background()
	r, _ := open(t, memoryrelay.Options{})
	acct, other := r.Account(account(t, r)), r.Account(account(t, r))
	theirs, _, err := other.Keys().Create(ctx, memory.NewKey{Name: "theirs", Scopes: scopes.NewSet(scopes.Read)})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"0b5ef3e6-3bc4-4c57-9b8a-4d6a2c9f0e11", "not-a-uuid", "", theirs.ID} {
		_, err1 := acct.Keys().Get(ctx, id)
		_, err2 := acct.Keys().Revoke(ctx, id)
		_, _, err3 := acct.Keys().Rotate(ctx, id, 0)
		for i, err := range []error{err1, err2, err3} {
			var nf *memory.NotFoundError
			if !errors.Is(err, memory.ErrNotFound) || !errors.Is(err, keys.ErrNotFound) || !errors.As(err, &nf) || nf.Kind != "key" {
				t.Errorf("call %d of key %q: %v, want a key not found matching both sentinels", i, id, err)
			}
		}
	}
	// The last admin key: a validation error that also matches the key
	// store's sentinel.
	admin, _, err := acct.Keys().Create(ctx, memory.NewKey{Name: "admin", Scopes: scopes.NewSet(scopes.Admin)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := acct.Keys().Revoke(ctx, admin.ID); !errors.Is(err, memory.ErrInvalid) || !errors.Is(err, keys.ErrLastAdmin) {
		t.Errorf("revoking the last admin key: %v", err)
	}
	// A relay's handle acts for no key: Quota is refused.
	var verr *memory.ValidationError
	if _, err := acct.Usage().Quota(ctx); !errors.As(err, &verr) || !errors.Is(err, memory.ErrInvalid) {
		t.Errorf("Quota of a handle without a key: %v", err)
	}
}

// TestOptionsValidation: Open checks every option in one pass and reports
// one *OptionError per problem, each matching ErrInvalid and naming the Go
// field; nothing is created.
func TestOptionsValidation(t *testing.T) {
	for _, c := range []struct {
		name   string
		opts   memoryrelay.Options
		fields []string
	}{
		{"memory path", memoryrelay.Options{Path: ":memory:"}, []string{"Options.Path"}},
		{"synchronous", memoryrelay.Options{Synchronous: "full"}, []string{"Options.Synchronous"}},
		{"vector encoding", memoryrelay.Options{VectorEncoding: "float16"}, []string{"Options.VectorEncoding"}},
		{"negatives", memoryrelay.Options{BusyTimeout: -1, Readers: -1, RateLimit: -1, RateBurst: -1, JobLease: -1, MaxTextCandidates: -1},
			[]string{"Options.BusyTimeout", "Options.Readers", "Options.RateLimit", "Options.RateBurst", "Options.JobLease", "Options.MaxTextCandidates"}},
		{"below -1", memoryrelay.Options{AutoCheckpoint: -2, QuickCheckBytes: -2, Workers: -2},
			[]string{"Options.AutoCheckpoint", "Options.QuickCheckBytes", "Options.Workers"}},
		{"key env", memoryrelay.Options{KeyEnv: "Live!"}, []string{"Options.KeyEnv"}},
		{"embedding price", memoryrelay.Options{EmbeddingPrice: -0.01}, []string{"Options.EmbeddingPrice"}},
		{"embedding price NaN", memoryrelay.Options{EmbeddingPrice: math.NaN()}, []string{"Options.EmbeddingPrice"}},
		{"webhooks", memoryrelay.Options{Webhooks: memoryrelay.WebhookOptions{Timeout: -time.Second, MaxAttempts: -1, Concurrency: -1}},
			[]string{"Options.Webhooks.Timeout", "Options.Webhooks.MaxAttempts", "Options.Webhooks.Concurrency"}},
		{"everything at once", memoryrelay.Options{Path: ":memory:", Readers: -3, Workers: -5, Webhooks: memoryrelay.WebhookOptions{Concurrency: -1}},
			[]string{"Options.Path", "Options.Readers", "Options.Workers", "Options.Webhooks.Concurrency"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			if c.opts.Path == "" {
				c.opts.Path = filepath.Join(dir, "x.db")
			}
			r, err := memoryrelay.Open(context.Background(), c.opts)
			if err == nil {
				r.Close()
				t.Fatal("Open accepted the options")
			}
			if !errors.Is(err, memoryrelay.ErrInvalid) || !errors.Is(err, memory.ErrInvalid) {
				t.Errorf("%v does not match ErrInvalid", err)
			}
			joined, ok := err.(interface{ Unwrap() []error })
			if !ok {
				t.Fatalf("%T is not a list of errors", err)
			}
			var got []string
			for _, e := range joined.Unwrap() {
				var oe *memoryrelay.OptionError
				if !errors.As(e, &oe) || !errors.Is(e, memoryrelay.ErrInvalid) {
					t.Errorf("%v is no *OptionError matching ErrInvalid", e)
					continue
				}
				if !strings.HasPrefix(oe.Message, oe.Field+" ") || e.Error() != "memoryrelay: "+oe.Message {
					t.Errorf("%q: the message does not name the field %s", e, oe.Field)
				}
				got = append(got, oe.Field)
			}
			if !slices.Equal(got, c.fields) {
				t.Errorf("problems %q, want %q", got, c.fields)
			}
			if c.opts.Path != ":memory:" {
				if matches, _ := filepath.Glob(filepath.Join(dir, "*")); len(matches) > 0 {
					t.Errorf("Open left files behind: %v", matches)
				}
			}
		})
	}
	// Reembed checks its options the same way.
	_, err := memoryrelay.Reembed(context.Background(), memoryrelay.Options{Path: ":memory:", Embedder: embed.NewHashing(0), Readers: -1}, 0, nil)
	var oe *memoryrelay.OptionError
	if !errors.As(err, &oe) || oe.Field != "Options.Path" || !errors.Is(err, memoryrelay.ErrInvalid) {
		t.Errorf("Reembed of bad options: %v", err)
	}
}

// TestMemoryPath: SQLite's in-memory database cannot serve a Relay (each
// connection would see its own, empty database): Open refuses it clearly.
func TestMemoryPath(t *testing.T) {
	_, err := memoryrelay.Open(context.Background(), memoryrelay.Options{Path: ":memory:"})
	var oe *memoryrelay.OptionError
	if !errors.As(err, &oe) || oe.Field != "Options.Path" || !strings.Contains(err.Error(), `":memory:" is not supported`) {
		t.Fatalf("Open(:memory:): %v", err)
	}
}

// TestNoWorkers: Workers -1 runs no v2 worker: asynchronous creates are
// queued and stay pending until a Relay with workers takes them, and
// Health reports no task queue.
func TestNoWorkers(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "x.db")
	r, _ := open(t, memoryrelay.Options{Path: path, Workers: -1})
	id := account(t, r)
	st, err := r.Account(id).Memories().CreateAsync(ctx, memory.NewMemory{Content: "queued"}, memory.AsyncOptions{})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	if j, err := r.Account(id).Memories().Job(ctx, st.ID); err != nil || j.Status != memory.JobPending {
		t.Fatalf("job with no workers: %+v %v, want pending", j, err)
	}
	h := r.Health(ctx)
	if _, ok := h.Services["task_queue"]; ok || h.Jobs.Workers != 0 || h.Status != "healthy" {
		t.Errorf("Health with no workers: %+v", h)
	}
	w, _ := open(t, memoryrelay.Options{Path: path})
	if j := waitJob(t, w, id, st.ID); j.Status != memory.JobReady {
		t.Fatalf("job taken by a Relay with workers: %+v", j)
	}
}
