package memorytest

import (
	"context"
	"errors"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/memoryrelay/memoryrelay/memory"
)

// Env is what [Run] needs of an implementation: two new accounts of one
// library or server.
type Env struct {
	// Account is a new account that holds no data: no memories, agents,
	// projects and no keys but the one it acts for (KeyID).
	Account memory.Account
	// Other is a second new account of the same library or server,
	// distinct from Account: its objects must be invisible to Account.
	Other memory.Account
	// KeyID is the id of the key Account acts for, which must hold the
	// admin scope (the Keys group is checked through Account), or "" for
	// an Account that acts for no key (memoryrelay.Relay.Account), whose
	// Usage.Quota must then fail with memory.ErrInvalid.
	KeyID string
}

// Opener makes a new [Env] for a test. It is called once per subtest,
// often: it may share one library or server between calls as long as each
// Env's accounts are new, and it registers whatever cleanup it needs with
// t.Cleanup. Run makes a few hundred calls per Env; a remote server's rate
// limit must let them through without waiting.
type Opener func(t *testing.T) Env

// JobTimeout is how long Run waits for an asynchronous create to reach
// JobReady: the contract's bound under normal load (API.md §5.3).
const JobTimeout = 30 * time.Second

// Run runs the conformance suite against the implementation that open
// makes: one subtest per resource group (Memories, Agents, Entities,
// Sessions, Decisions, Patterns, Projects, Contexts, Keys, Usage), then
// the cross-cutting ones (NotFound, Isolation). Each leaf subtest opens
// its own Env. Run does not call t.Parallel.
func Run(t *testing.T, open Opener) {
	groups := []struct {
		name string
		run  func(*testing.T, Opener)
	}{
		{"Memories", testMemories},
		{"Search", testSearch},
		{"Agents", testAgents},
		{"Entities", testEntities},
		{"Sessions", testSessions},
		{"Decisions", testDecisions},
		{"Patterns", testPatterns},
		{"Projects", testProjects},
		{"Contexts", testContexts},
		{"Keys", testKeys},
		{"Usage", testUsage},
		{"Webhooks", testWebhooks},
		{"Extraction", testExtraction},
		{"NotFound", testNotFound},
		{"Isolation", testIsolation},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) { g.run(t, open) })
	}
}

// result carries the outcome of a call to a helper that checks it.
type result[T any] struct {
	v   T
	err error
}

// try wraps a call's results: try(f()).must(t).
func try[T any](v T, err error) result[T] { return result[T]{v, err} }

// must returns the value, or fails the test on an error.
func (r result[T]) must(t *testing.T) T {
	t.Helper()
	if r.err != nil {
		t.Fatalf("unexpected error: %v", r.err)
	}
	return r.v
}

type result2[T, U any] struct {
	v   T
	u   U
	err error
}

// try2 is try for calls with two results and an error.
func try2[T, U any](v T, u U, err error) result2[T, U] { return result2[T, U]{v, u, err} }

func (r result2[T, U]) must(t *testing.T) (T, U) {
	t.Helper()
	if r.err != nil {
		t.Fatalf("unexpected error: %v", r.err)
	}
	return r.v, r.u
}

// ok fails the test on an error.
func ok(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
}

func ptr[T any](v T) *T { return &v }

// wantNotFound checks that err reports an object that does not exist.
func wantNotFound(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, memory.ErrNotFound) {
		t.Errorf("%s: err = %v, want one matching memory.ErrNotFound", what, err)
		return
	}
	var nf *memory.NotFoundError
	if !errors.As(err, &nf) {
		t.Errorf("%s: err = %v (%T) matches ErrNotFound but is no *memory.NotFoundError", what, err, err)
	} else if nf.Kind == "" {
		t.Errorf("%s: *memory.NotFoundError with no Kind", what)
	}
	if errors.Is(err, memory.ErrInvalid) || errors.Is(err, memory.ErrConflict) {
		t.Errorf("%s: err = %v matches another sentinel besides ErrNotFound", what, err)
	}
}

// wantConflict checks that err reports a collision with existing state.
func wantConflict(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, memory.ErrConflict) {
		t.Errorf("%s: err = %v, want one matching memory.ErrConflict", what, err)
		return
	}
	var ce *memory.ConflictError
	if !errors.As(err, &ce) {
		t.Errorf("%s: err = %v (%T) matches ErrConflict but is no *memory.ConflictError", what, err, err)
	}
}

// wantInvalid checks that err is a *memory.ValidationError whose first
// problem names one of the fields (compared by [sameField]).
func wantInvalid(t *testing.T, what string, err error, fields ...string) {
	t.Helper()
	if !errors.Is(err, memory.ErrInvalid) {
		t.Errorf("%s: err = %v, want one matching memory.ErrInvalid", what, err)
		return
	}
	var ve *memory.ValidationError
	if !errors.As(err, &ve) {
		t.Errorf("%s: err = %v (%T) matches ErrInvalid but is no *memory.ValidationError", what, err, err)
		return
	}
	if len(ve.Problems) == 0 || ve.Field() == "" {
		t.Errorf("%s: *memory.ValidationError %q names no field", what, err)
		return
	}
	for _, p := range ve.Problems {
		if p.Field == "" || p.Message == "" {
			t.Errorf("%s: problem %+v lacks a field or a message", what, p)
		}
	}
	if errors.Is(err, memory.ErrNotFound) || errors.Is(err, memory.ErrConflict) {
		t.Errorf("%s: err = %v matches another sentinel besides ErrInvalid", what, err)
	}
	if len(fields) > 0 && !slices.ContainsFunc(fields, func(f string) bool { return sameField(ve.Field(), f) }) {
		t.Errorf("%s: the error names field %q, want %s", what, ve.Field(), strings.Join(fields, " or "))
	}
}

// sameField reports whether the field a *memory.ValidationError names is
// want, a Go field or parameter name. Case, underscores and a leading
// path ("Memories[3].") are ignored: the suite checks that an error points
// at the right input, not how it spells it.
func sameField(got, want string) bool {
	norm := func(s string) string {
		if i := strings.LastIndexByte(s, '.'); i >= 0 {
			s = s[i+1:]
		}
		if i := strings.IndexByte(s, '['); i >= 0 {
			s = s[:i]
		}
		return strings.ToLower(strings.ReplaceAll(s, "_", ""))
	}
	return norm(got) == norm(want)
}

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// wantUUID checks that id is a lowercase UUID (API.md §1.2).
func wantUUID(t *testing.T, what, id string) {
	t.Helper()
	if !uuidRE.MatchString(id) {
		t.Errorf("%s = %q, want a lowercase UUID", what, id)
	}
}

// Unknown ids the NotFound checks try: well-formed but unused, the nil
// UUID, and malformed (API.md §1.2: unknown or malformed ids are 404).
const (
	unknownID   = "0b5ef3e6-3bc4-4c57-9b8a-4d6a2c9f0e11"
	nilUUID     = "00000000-0000-0000-0000-000000000000"
	malformedID = "not-a-uuid"
)

var unknownIDs = []string{unknownID, nilUUID, malformedID}

// clock bounds the instants an implementation may report for what a test
// does: from shortly before the test began to shortly after now. The
// implementation and the test share the machine's clock.
type clock struct{ start time.Time }

const clockSlack = 5 * time.Second

func newClock() clock { return clock{start: time.Now()} }

// instant checks that tm is a UTC instant to the millisecond (package
// memory's conventions) within the test's lifetime.
func (c clock) instant(t *testing.T, what string, tm time.Time) {
	t.Helper()
	switch {
	case tm.IsZero():
		t.Errorf("%s is zero", what)
		return
	case tm.Location() != time.UTC:
		t.Errorf("%s = %v is not in UTC", what, tm)
	case !tm.Equal(tm.Truncate(time.Millisecond)):
		t.Errorf("%s = %v has a fraction of a millisecond", what, tm)
	}
	if tm.Before(c.start.Add(-clockSlack)) || tm.After(time.Now().Add(clockSlack)) {
		t.Errorf("%s = %v, not within the test's run (started %v)", what, tm, c.start)
	}
}

// instantPtr is instant for an optional instant that must be set.
func (c clock) instantPtr(t *testing.T, what string, tm *time.Time) {
	t.Helper()
	if tm == nil {
		t.Errorf("%s is nil, want an instant", what)
		return
	}
	c.instant(t, what, *tm)
}

// wantEqual reports the first difference between got and want, compared
// as [diff] does.
func wantEqual(t *testing.T, what string, got, want any) {
	t.Helper()
	if d := diff(got, want); d != "" {
		t.Errorf("%s: %s", what, d)
	}
}

// pollJob polls an asynchronous create until it is JobReady or JobFailed,
// or JobTimeout passes.
func pollJob(t *testing.T, ctx context.Context, m memory.Memories, id string) memory.Job {
	t.Helper()
	deadline := time.Now().Add(JobTimeout)
	for {
		j, err := m.Job(ctx, id)
		if err != nil {
			t.Fatalf("Job(%s): %v", id, err)
		}
		if j.Status == memory.JobReady || j.Status == memory.JobFailed {
			return j
		}
		if time.Now().After(deadline) {
			t.Fatalf("Job(%s) still %s after %v", id, j.Status, JobTimeout)
		}
		select {
		case <-ctx.Done():
			t.Fatal(ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// parallel runs f n times at once and returns the results in call order.
func parallel[T any](n int, f func(i int) (T, error)) ([]T, []error) {
	vs, errs := make([]T, n), make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			vs[i], errs[i] = f(i)
		}()
	}
	wg.Wait()
	return vs, errs
}
