package webhooktest

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/memoryrelay/memoryrelay/internal/webhook"
	"github.com/memoryrelay/memoryrelay/secret"
)

// Harness is an Outbox under test with the two writes the storage makes
// around it: a webhook (target) added or changed, and an event's
// deliveries written.
type Harness interface {
	webhook.Outbox
	// SetTarget adds or replaces a target (a webhook), enabled or not.
	SetTarget(ctx context.Context, t webhook.Target, enabled bool) error
	// Publish writes one delivery of e, with the subject, for every
	// enabled target, in the order the targets were added, and returns
	// their ids.
	Publish(ctx context.Context, e webhook.Event, subject string) ([]string, error)
}

// TestOutbox checks the rules of webhook.Outbox on the Harness open
// returns (a fresh, empty one per call).
func TestOutbox(t *testing.T, open func(t *testing.T) Harness) {
	ctx := context.Background()
	t0 := time.Date(2025, 3, 17, 9, 30, 0, 0, time.UTC)
	ev := func(n int) webhook.Event {
		return webhook.Event{ID: fmt.Sprintf("00000000-0000-4000-8000-%012d", n), Type: webhook.EventMemoryCreated,
			CreatedAt: t0, Data: json.RawMessage(fmt.Sprintf(`{"n":%d}`, n))}
	}
	claim := func(t *testing.T, h Harness, now time.Time, limit, per int, busy map[string]int) []webhook.Delivery {
		t.Helper()
		ds, err := h.Claim(ctx, webhook.Claim{Now: now, LeaseUntil: now.Add(time.Minute), Limit: limit, PerTarget: per, InFlight: busy})
		if err != nil {
			t.Fatal(err)
		}
		return ds
	}
	ids := func(ds []webhook.Delivery) []string {
		var out []string
		for _, d := range ds {
			out = append(out, d.ID)
		}
		return out
	}
	setup := func(t *testing.T, targets ...string) Harness {
		t.Helper()
		h := open(t)
		for _, id := range targets {
			if err := h.SetTarget(ctx, webhook.Target{ID: id, URL: "https://" + id + ".example/hook", Secret: secret.New("s-" + id)}, true); err != nil {
				t.Fatal(err)
			}
		}
		return h
	}
	publish := func(t *testing.T, h Harness, e webhook.Event, subject string) []string {
		t.Helper()
		ids, err := h.Publish(ctx, e, subject)
		if err != nil {
			t.Fatal(err)
		}
		return ids
	}
	record := func(t *testing.T, h Harness, d webhook.Delivery, o webhook.Outcome, next time.Time, at time.Time) {
		t.Helper()
		a := webhook.Attempt{DeliveryID: d.ID, TargetID: d.Target.ID, EventID: d.Event.ID, EventType: d.Event.Type,
			N: d.Attempts + 1, StartedAt: at, FinishedAt: at, Outcome: o, NextAt: next}
		if o != webhook.Delivered {
			a.StatusCode, a.Error = 500, "receiver answered 500"
		}
		if err := h.Record(ctx, a); err != nil {
			t.Fatal(err)
		}
	}

	t.Run("claim returns the event and target, oldest first, and leases", func(t *testing.T) {
		h := setup(t, "a")
		d1 := publish(t, h, ev(1), "m1")
		d2 := publish(t, h, ev(2), "m2")
		got := claim(t, h, t0, 10, 10, nil)
		if !slices.Equal(ids(got), append(d1, d2...)) {
			t.Fatalf("claimed %v, want %v", ids(got), append(d1, d2...))
		}
		g := got[0]
		if g.Event.ID != ev(1).ID || g.Event.Type != webhook.EventMemoryCreated || !g.Event.CreatedAt.Equal(t0) ||
			string(g.Event.Data) != `{"n":1}` || g.Subject != "m1" || g.Attempts != 0 || !g.FirstAttemptAt.IsZero() {
			t.Fatalf("claimed delivery %+v", g)
		}
		if g.Target.ID != "a" || g.Target.URL != "https://a.example/hook" || g.Target.Secret.Reveal() != "s-a" {
			t.Fatalf("target %+v", g.Target)
		}
		if again := claim(t, h, t0.Add(59*time.Second), 10, 10, nil); len(again) != 0 {
			t.Fatalf("leased deliveries claimed again: %v", ids(again))
		}
		if after := claim(t, h, t0.Add(time.Minute), 10, 10, nil); len(after) != 2 {
			t.Fatalf("after the lease: claimed %v, want both again", ids(after))
		}
	})

	t.Run("one subject of one target: only the head", func(t *testing.T) {
		h := setup(t, "a", "b")
		created := publish(t, h, ev(1), "m1") // a, b
		updated := publish(t, h, ev(2), "m1")
		other := publish(t, h, ev(3), "m2")
		if len(created) != 2 || len(updated) != 2 || len(other) != 2 {
			t.Fatalf("published %v %v %v, want one delivery per target", created, updated, other)
		}
		got := claim(t, h, t0, 10, 10, nil)
		if want := []string{created[0], created[1], other[0], other[1]}; !slices.Equal(ids(got), want) {
			t.Fatalf("claimed %v, want the heads %v", ids(got), want)
		}
		// a's head fails and waits for its retry: a's update still waits.
		record(t, h, got[0], webhook.Retry, t0.Add(time.Hour), t0)
		if got := claim(t, h, t0.Add(2*time.Minute), 10, 10, nil); slices.Contains(ids(got), updated[0]) {
			t.Fatalf("the update was claimed while the create is pending: %v", ids(got))
		}
		// b's head delivered: b's update is the head now.
		record(t, h, got[1], webhook.Delivered, time.Time{}, t0)
		got2 := claim(t, h, t0.Add(2*time.Minute), 10, 10, nil)
		if !slices.Contains(ids(got2), updated[1]) || slices.Contains(ids(got2), updated[0]) {
			t.Fatalf("claimed %v: want b's update, not a's", ids(got2))
		}
		// An empty subject orders nothing.
		h2 := setup(t, "a")
		x := publish(t, h2, ev(4), "")
		y := publish(t, h2, ev(5), "")
		if got := claim(t, h2, t0, 10, 10, nil); !slices.Equal(ids(got), append(x, y...)) {
			t.Fatalf("no subject: claimed %v", ids(got))
		}
	})

	t.Run("limit and per-target bound", func(t *testing.T) {
		h := setup(t, "a", "b")
		var as, bs []string
		for i := range 5 {
			d := publish(t, h, ev(10+i), "")
			as, bs = append(as, d[0]), append(bs, d[1])
		}
		got := claim(t, h, t0, 3, 2, map[string]int{"b": 1})
		if want := []string{as[0], bs[0], as[1]}; !slices.Equal(ids(got), want) {
			t.Fatalf("claimed %v, want %v (a: 2, b: 2-1)", ids(got), want)
		}
		if got := claim(t, h, t0, 100, 2, map[string]int{"a": 2, "b": 2}); len(got) != 0 {
			t.Fatalf("claimed %v for saturated targets", ids(got))
		}
	})

	t.Run("disabled targets wait; changes apply", func(t *testing.T) {
		h := setup(t, "a")
		d := publish(t, h, ev(1), "")
		if err := h.SetTarget(ctx, webhook.Target{ID: "a", URL: "https://new.example/x", Secret: secret.New("new")}, false); err != nil {
			t.Fatal(err)
		}
		if got := claim(t, h, t0, 10, 10, nil); len(got) != 0 {
			t.Fatalf("a disabled target's delivery was claimed: %v", ids(got))
		}
		if err := h.SetTarget(ctx, webhook.Target{ID: "a", URL: "https://new.example/x", Secret: secret.New("new")}, true); err != nil {
			t.Fatal(err)
		}
		got := claim(t, h, t0, 10, 10, nil)
		if !slices.Equal(ids(got), d) || got[0].Target.URL != "https://new.example/x" || got[0].Target.Secret.Reveal() != "new" {
			t.Fatalf("after enabling: %+v", got)
		}
	})

	t.Run("record: retry, delivered, failed", func(t *testing.T) {
		h := setup(t, "a")
		d := publish(t, h, ev(1), "")
		e := publish(t, h, ev(2), "")
		got := claim(t, h, t0, 10, 10, nil)
		record(t, h, got[0], webhook.Retry, t0.Add(10*time.Second), t0)
		record(t, h, got[1], webhook.Failed, time.Time{}, t0)
		if got := claim(t, h, t0.Add(9*time.Second), 10, 10, nil); len(got) != 0 {
			t.Fatalf("claimed before the retry is due: %v", ids(got))
		}
		again := claim(t, h, t0.Add(10*time.Second), 10, 10, nil)
		if !slices.Equal(ids(again), d) || again[0].Attempts != 1 || !again[0].FirstAttemptAt.Equal(t0) {
			t.Fatalf("the retry: %+v (want %v with 1 attempt, first at %v)", again, d, t0)
		}
		record(t, h, again[0], webhook.Delivered, time.Time{}, t0.Add(11*time.Second))
		if got := claim(t, h, t0.Add(time.Hour), 10, 10, nil); len(got) != 0 {
			t.Fatalf("a delivered or failed delivery was claimed: %v (failed: %v)", ids(got), e)
		}
		// Recording or releasing a delivery that is gone is not an error.
		if err := h.Release(ctx, "no-such-delivery"); err != nil {
			t.Fatalf("Release of an unknown delivery: %v", err)
		}
		if err := h.Record(ctx, webhook.Attempt{DeliveryID: "no-such-delivery", TargetID: "a", N: 1, Outcome: webhook.Delivered}); err != nil {
			t.Fatalf("Record of an unknown delivery: %v", err)
		}
	})

	t.Run("release: due again at once, no attempt counted", func(t *testing.T) {
		h := setup(t, "a")
		d := publish(t, h, ev(1), "m")
		got := claim(t, h, t0, 10, 10, nil)
		if err := h.Release(ctx, got[0].ID); err != nil {
			t.Fatal(err)
		}
		again := claim(t, h, t0.Add(time.Second), 10, 10, nil)
		if !slices.Equal(ids(again), d) || again[0].Attempts != 0 {
			t.Fatalf("after Release: %+v", again)
		}
	})

	t.Run("concurrent claims never share a delivery", func(t *testing.T) {
		h := setup(t, "a", "b", "c")
		want := map[string]bool{}
		for i := range 60 {
			for _, id := range publish(t, h, ev(100+i), "") {
				want[id] = true
			}
		}
		got := make(chan string, 200)
		var wg sync.WaitGroup
		for range 6 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					ds, err := h.Claim(ctx, webhook.Claim{Now: t0, LeaseUntil: t0.Add(time.Minute), Limit: 4, PerTarget: 100})
					if err != nil {
						t.Error(err)
						return
					}
					if len(ds) == 0 {
						return
					}
					for _, d := range ds {
						got <- d.ID
					}
				}
			}()
		}
		wg.Wait()
		close(got)
		seen := map[string]bool{}
		for id := range got {
			if seen[id] {
				t.Fatalf("delivery %s claimed twice under one lease", id)
			}
			seen[id] = true
		}
		if len(seen) != len(want) {
			t.Fatalf("claimed %d of %d", len(seen), len(want))
		}
	})
}
