package memoryrelay_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/memoryrelay/memoryrelay"
	"github.com/memoryrelay/memoryrelay/memory"
	"github.com/memoryrelay/memoryrelay/secret"
)

// hookServer records the webhook requests it gets; reply chooses the
// status of the nth (1-based) request.
type hookServer struct {
	*httptest.Server
	reqs chan hookReq
}

type hookReq struct {
	n      int
	method string
	header http.Header
	body   []byte
}

func newHookServer(t testing.TB, reply func(n int) int) *hookServer {
	t.Helper()
	s := &hookServer{reqs: make(chan hookReq, 256)}
	var mu sync.Mutex
	n := 0
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		n++
		k := n
		mu.Unlock()
		body, _ := io.ReadAll(r.Body)
		s.reqs <- hookReq{n: k, method: r.Method, header: r.Header.Clone(), body: body}
		w.WriteHeader(reply(k))
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *hookServer) host() string { u, _ := url.Parse(s.URL); return u.Host }

// next returns the next request, failing after a while without one.
func (s *hookServer) next(t testing.TB) hookReq {
	t.Helper()
	select {
	case r := <-s.reqs:
		return r
	case <-time.After(15 * time.Second):
		t.Fatal("no webhook request")
		return hookReq{}
	}
}

// none asserts that no request has arrived.
func (s *hookServer) none(t testing.TB) {
	t.Helper()
	select {
	case r := <-s.reqs:
		t.Fatalf("unexpected webhook request %d: %s", r.n, r.body)
	default:
	}
}

func ok200(int) int { return http.StatusOK }

// event is a delivery's body (API.md §10.3).
type event struct {
	ID        string          `json:"id"`
	Type      string          `json:"type"`
	CreatedAt string          `json:"created_at"`
	Data      json.RawMessage `json:"data"`
}

func decodeEvent(t testing.TB, req hookReq) event {
	t.Helper()
	var e event
	if err := json.Unmarshal(req.body, &e); err != nil {
		t.Fatalf("body %s: %v", req.body, err)
	}
	if req.header.Get("X-MemoryRelay-Event") != e.Type || req.header.Get("X-MemoryRelay-Delivery") != e.ID {
		t.Errorf("headers %v for %s", req.header, req.body)
	}
	return e
}

// localHooks are options that let the tests' receivers on 127.0.0.1 be
// called quickly.
func localHooks() (memoryrelay.OutboundPolicy, memoryrelay.WebhookOptions) {
	return memoryrelay.OutboundPolicy{AllowNetworks: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, AllowHTTP: []string{"127.0.0.1"}},
		memoryrelay.WebhookOptions{PollInterval: 5 * time.Millisecond, MinBackoff: 10 * time.Millisecond, MaxBackoff: 20 * time.Millisecond}
}

// enqueue makes a v2 create with a webhook and waits for it to finish.
func enqueue(t testing.TB, r *memoryrelay.Relay, acct, content, hook string) memory.Job {
	t.Helper()
	st, err := r.Account(acct).Memories().CreateAsync(context.Background(), memory.NewMemory{Content: content}, memory.AsyncOptions{WebhookURL: &hook})
	if err != nil {
		t.Fatal(err)
	}
	return waitJob(t, r, acct, st.ID)
}

// The dispatcher itself (signing, retries, timeouts, order, bounds) is
// package webhook's, tested there and over SQLite. These tests are the
// wiring: the writes of the Relay publish their events in their
// transaction, and Options reach the dispatcher.

// TestWebhookEventsOfWrites: a registered webhook receives, in order and
// signed, the events of a memory's life: created (its data the Memory as
// the API returns it), updated, deleted, and a user's erasure; a write
// that fails publishes nothing; event_types filters.
func TestWebhookEventsOfWrites(t *testing.T) {
	ctx := context.Background()
	srv := newHookServer(t, ok200)
	deletes := newHookServer(t, ok200)
	policy, hooks := localHooks()
	r, _ := open(t, memoryrelay.Options{Outbound: policy, Webhooks: hooks})
	acct := account(t, r)
	a := r.Account(acct)
	const sec = "whsec_0123456789"
	if _, err := a.Webhooks().Create(ctx, memory.NewWebhook{URL: srv.URL + "/hook", Secret: secret.New(sec)}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Webhooks().Create(ctx, memory.NewWebhook{URL: deletes.URL, EventTypes: []string{memory.EventMemoryDeleted}}); err != nil {
		t.Fatal(err)
	}
	m, err := a.Memories().Create(ctx, memory.NewMemory{Content: "Ships on Fridays", UserID: ptr("u1")})
	if err != nil {
		t.Fatal(err)
	}
	// A failed write: nothing is published.
	bad := "00000000-0000-4000-8000-000000000000"
	if _, err := a.Memories().Create(ctx, memory.NewMemory{Content: "in no session", SessionID: &bad}); err == nil {
		t.Fatal("a create in an unknown session passed")
	}
	if _, err := a.Memories().Update(ctx, m.Memory.ID, memory.MemoryPatch{Content: ptr("Ships on Thursdays")}); err != nil {
		t.Fatal(err)
	}
	if err := a.Memories().Delete(ctx, m.Memory.ID); err != nil {
		t.Fatal(err)
	}
	m2, _ := a.Memories().Create(ctx, memory.NewMemory{Content: "Erased soon", UserID: ptr("u2")})
	if n, err := a.Memories().DeleteUser(ctx, "u2"); err != nil || n != 1 {
		t.Fatalf("DeleteUser = %d, %v", n, err)
	}
	// In order per memory (deliveries of different memories may overlap).
	bySubject := map[string][]event{}
	for range 5 {
		req := srv.next(t)
		if err := memoryrelay.VerifyWebhook([]byte(sec), req.header.Get(memoryrelay.WebhookSignatureHeader), req.body, time.Now(), 0); err != nil {
			t.Errorf("signature: %v", err)
		}
		e := decodeEvent(t, req)
		var d struct{ ID string }
		json.Unmarshal(e.Data, &d)
		bySubject[d.ID] = append(bySubject[d.ID], e)
	}
	types := func(es []event) string {
		var ts []string
		for _, e := range es {
			ts = append(ts, e.Type)
		}
		return strings.Join(ts, " ")
	}
	if got := types(bySubject[m.Memory.ID]); got != "memory.created memory.updated memory.deleted" {
		t.Fatalf("events of the memory: %s", got)
	}
	if got := types(bySubject[m2.Memory.ID]); got != "memory.created memory.deleted" {
		t.Fatalf("events of the erased memory: %s", got)
	}
	got := append(bySubject[m.Memory.ID], bySubject[m2.Memory.ID]...)
	var created map[string]any
	json.Unmarshal(got[0].Data, &created)
	if created["id"] != m.Memory.ID || created["object"] != "memory" || created["content"] != "Ships on Fridays" || created["user_id"] != "u1" {
		t.Errorf("memory.created data %s", got[0].Data)
	}
	var updated map[string]any
	json.Unmarshal(got[1].Data, &updated)
	if updated["content"] != "Ships on Thursdays" {
		t.Errorf("memory.updated data %s", got[1].Data)
	}
	if string(got[2].Data) != `{"id":"`+m.Memory.ID+`"}` || string(got[4].Data) != `{"id":"`+m2.Memory.ID+`"}` {
		t.Errorf("memory.deleted data %s, %s", got[2].Data, got[4].Data)
	}
	// The deletes-only webhook got the two deletes, unsigned.
	for range 2 {
		req := deletes.next(t)
		if e := decodeEvent(t, req); e.Type != "memory.deleted" || req.header.Get(memoryrelay.WebhookSignatureHeader) != "" {
			t.Errorf("deletes-only webhook got %s, signature %q", e.Type, req.header.Get(memoryrelay.WebhookSignatureHeader))
		}
	}
	srv.none(t)
	deletes.none(t)
}

// TestWebhookV2 (API.md §10.3): a v2 webhook_url receives the
// embedding.completed event, signed with Options.Webhooks.Secret, only
// when Enabled and only for hosts in AllowedHosts; the account's webhooks
// receive it too, after the memory's created event.
func TestWebhookV2(t *testing.T) {
	target := newHookServer(t, ok200)
	registered := newHookServer(t, ok200)
	policy, hooks := localHooks()
	sec := []byte("s3cret")
	t.Run("disabled", func(t *testing.T) {
		r, _ := open(t, memoryrelay.Options{Workers: 1, Outbound: policy, Webhooks: memoryrelay.WebhookOptions{AllowedHosts: []string{target.host()}, PollInterval: hooks.PollInterval}})
		acct := account(t, r)
		enqueue(t, r, acct, "webhooks off", target.URL+"/hook")
		r.Close()
		target.none(t)
	})
	hooks.Enabled, hooks.AllowedHosts, hooks.Secret = true, []string{strings.ToUpper(target.host())}, sec
	r, _ := open(t, memoryrelay.Options{Workers: 1, Outbound: policy, Webhooks: hooks})
	acct := account(t, r)
	if _, err := r.Account(acct).Webhooks().Create(context.Background(), memory.NewWebhook{URL: registered.URL}); err != nil {
		t.Fatal(err)
	}
	enqueue(t, r, acct, "to a host not allowed", "http://example.com/hook")
	final := enqueue(t, r, acct, "to the target", target.URL+"/hook?x=1")
	req := target.next(t)
	if err := memoryrelay.VerifyWebhook(sec, req.header.Get(memoryrelay.WebhookSignatureHeader), req.body, time.Now(), 0); err != nil {
		t.Fatalf("signature %q: %v", req.header.Get(memoryrelay.WebhookSignatureHeader), err)
	}
	e := decodeEvent(t, req)
	var st map[string]any
	json.Unmarshal(e.Data, &st)
	if e.Type != "embedding.completed" || st["id"] != final.ID || st["job_id"] != final.JobID || st["status"] != "ready" ||
		st["updated_at"] != float64(final.UpdatedAt.UnixMilli()) {
		t.Fatalf("event %s", req.body)
	}
	target.none(t) // the disallowed host's event went nowhere, and nothing else came here
	// The registered webhook: created then completed, per memory.
	seen := map[string][]string{}
	for range 4 {
		e := decodeEvent(t, registered.next(t))
		var d map[string]any
		json.Unmarshal(e.Data, &d)
		id := d["id"].(string)
		seen[id] = append(seen[id], e.Type)
	}
	for id, types := range seen {
		if len(types) != 2 || types[0] != "memory.created" || types[1] != "embedding.completed" {
			t.Errorf("memory %s: events %v, want created then completed", id, types)
		}
	}
}

// TestWebhookDeliveriesSurviveRestart: events written while the receiver
// fails are delivered by the next Relay on the file: a crash (here a
// Close) between the commit and the delivery loses nothing.
func TestWebhookDeliveriesSurviveRestart(t *testing.T) {
	ctx := context.Background()
	var mu sync.Mutex
	up := false
	srv := newHookServer(t, func(int) int {
		mu.Lock()
		defer mu.Unlock()
		if up {
			return http.StatusNoContent
		}
		return http.StatusServiceUnavailable
	})
	policy, hooks := localHooks()
	hooks.MinBackoff, hooks.MaxBackoff = 50*time.Millisecond, 50*time.Millisecond
	r, path := open(t, memoryrelay.Options{Outbound: policy, Webhooks: hooks})
	acct := account(t, r)
	hook, err := r.Account(acct).Webhooks().Create(ctx, memory.NewWebhook{URL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	m, err := r.Account(acct).Memories().Create(ctx, memory.NewMemory{Content: "survives"})
	if err != nil {
		t.Fatal(err)
	}
	first := decodeEvent(t, srv.next(t)) // refused
	r.Close()
	mu.Lock()
	up = true
	mu.Unlock()
	r2, _ := open(t, memoryrelay.Options{Path: path, Outbound: policy, Webhooks: hooks})
	again := decodeEvent(t, srv.next(t))
	if again.ID != first.ID || again.Type != "memory.created" {
		t.Fatalf("after the restart: %s %s, want the same event %s", again.Type, again.ID, first.ID)
	}
	var data map[string]any
	json.Unmarshal(again.Data, &data)
	if data["id"] != m.Memory.ID {
		t.Fatalf("data %s", again.Data)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		ds, err := r2.Account(acct).Webhooks().Deliveries(ctx, hook.ID, 10)
		if err != nil {
			t.Fatal(err)
		}
		// The last attempt delivered; any before it (the refused one, if
		// it was recorded before Close) retrying with the 503.
		okLog := len(ds) >= 1 && ds[0].Outcome == memory.DeliveryDelivered && ds[0].Attempt == len(ds)
		for _, d := range ds[min(1, len(ds)):] {
			okLog = okLog && d.Outcome == memory.DeliveryRetrying && d.StatusCode == 503
		}
		if okLog {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("deliveries %+v", ds)
		}
		time.Sleep(10 * time.Millisecond) // the record follows the 2xx
	}
}

// TestWebhookCloseAbandonsDelivery: Relay.Close cuts an attempt in
// flight at once, however long the attempt's timeout.
func TestWebhookCloseAbandonsDelivery(t *testing.T) {
	hung := make(chan struct{}, 8)
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		hung <- struct{}{}
		<-r.Context().Done()
	}))
	t.Cleanup(hang.Close)
	policy, hooks := localHooks()
	hooks.Timeout = time.Hour
	r, _ := open(t, memoryrelay.Options{Outbound: policy, Webhooks: hooks})
	acct := account(t, r)
	if _, err := r.Account(acct).Webhooks().Create(context.Background(), memory.NewWebhook{URL: hang.URL}); err != nil {
		t.Fatal(err)
	}
	r.Account(acct).Memories().Create(context.Background(), memory.NewMemory{Content: "hang during close"})
	<-hung
	t0 := time.Now()
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(t0); d > 5*time.Second {
		t.Errorf("Close took %v", d)
	}
}

// TestWebhookAgentDeleteEvents: deleting an agent publishes a
// memory.deleted event for each memory that went with it, in the
// delete's transaction (a delete that fails publishes none).
func TestWebhookAgentDeleteEvents(t *testing.T) {
	ctx := context.Background()
	srv := newHookServer(t, ok200)
	policy, hooks := localHooks()
	r, _ := open(t, memoryrelay.Options{Outbound: policy, Webhooks: hooks})
	a := r.Account(account(t, r))
	if _, err := a.Webhooks().Create(ctx, memory.NewWebhook{URL: srv.URL, EventTypes: []string{memory.EventMemoryDeleted}}); err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{}
	for i := range 3 {
		m, err := a.Memories().Create(ctx, memory.NewMemory{AgentID: "leaving", Content: fmt.Sprint("memory ", i)})
		if err != nil {
			t.Fatal(err)
		}
		want[m.Memory.ID] = true
	}
	if _, err := a.Memories().Create(ctx, memory.NewMemory{AgentID: "staying", Content: "kept"}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Agents().Delete(ctx, "nobody"); !errors.Is(err, memory.ErrNotFound) {
		t.Fatalf("delete of an unknown agent: %v", err)
	}
	del, err := a.Agents().Delete(ctx, "leaving")
	if err != nil || del.DeletedMemories != 3 {
		t.Fatalf("delete = %+v, %v", del, err)
	}
	for range 3 {
		e := decodeEvent(t, srv.next(t))
		var d struct{ ID string }
		json.Unmarshal(e.Data, &d)
		if e.Type != memory.EventMemoryDeleted || !want[d.ID] {
			t.Errorf("event %s %s", e.Type, e.Data)
		}
		delete(want, d.ID)
	}
	time.Sleep(50 * time.Millisecond)
	srv.none(t)
}
