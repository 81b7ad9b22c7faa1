package webhook_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/memoryrelay/memoryrelay/internal/outbound"
	"github.com/memoryrelay/memoryrelay/internal/webhook"
	"github.com/memoryrelay/memoryrelay/internal/webhook/webhooktest"
	"github.com/memoryrelay/memoryrelay/secret"
)

// local is the policy of these tests: the receivers are httptest servers
// on 127.0.0.1, which the default policy refuses.
var local = outbound.Policy{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, AllowHTTP: []string{"127.0.0.1"}}

// receiver is an httptest server that records what it gets; reply, called
// for each request with its 1-based number, writes the answer.
type receiver struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []got
}

type got struct {
	at     time.Time
	header http.Header
	body   []byte
}

func newReceiver(t testing.TB, reply func(n int, w http.ResponseWriter, r *http.Request)) *receiver {
	t.Helper()
	rc := &receiver{}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.reqs = append(rc.reqs, got{at: time.Now(), header: r.Header.Clone(), body: body})
		n := len(rc.reqs)
		rc.mu.Unlock()
		if reply == nil {
			w.WriteHeader(http.StatusOK)
			return
		}
		reply(n, w, r)
	}))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) requests() []got {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]got(nil), rc.reqs...)
}

func status(codes ...int) func(int, http.ResponseWriter, *http.Request) {
	return func(n int, w http.ResponseWriter, _ *http.Request) {
		c := http.StatusOK
		if n <= len(codes) {
			c = codes[n-1]
		}
		w.WriteHeader(c)
	}
}

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

// fast are dispatcher options that make these tests quick.
func fast(ob webhook.Outbox) webhook.DispatcherOptions {
	return webhook.DispatcherOptions{
		Outbox: ob, Policy: local, Timeout: 2 * time.Second, PollInterval: 5 * time.Millisecond,
		LeaseFor: 3 * time.Second, MinBackoff: 20 * time.Millisecond, MaxBackoff: 80 * time.Millisecond,
		UserAgent: "memoryrelay-test",
	}
}

func start(t testing.TB, o webhook.DispatcherOptions) *webhook.Dispatcher {
	t.Helper()
	d, err := webhook.NewDispatcher(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Close)
	return d
}

var evN atomic.Int64

func event(typ, data string) webhook.Event {
	n := evN.Add(1)
	return webhook.Event{ID: fmt.Sprintf("00000000-0000-4000-8000-%012d", n), Type: typ,
		CreatedAt: time.Date(2025, 3, 17, 9, 30, 0, int(n)*int(time.Millisecond), time.UTC), Data: json.RawMessage(data)}
}

func addTarget(t testing.TB, ob *webhooktest.Memory, id, url, sec string) {
	t.Helper()
	if err := ob.SetTarget(context.Background(), webhook.Target{ID: id, URL: url, Secret: secret.New(sec)}, true); err != nil {
		t.Fatal(err)
	}
}

func publish(t testing.TB, ob *webhooktest.Memory, e webhook.Event, subject string, targets ...string) []string {
	t.Helper()
	ids, err := ob.Publish(context.Background(), e, subject, targets...)
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

func waitState(t testing.TB, ob *webhooktest.Memory, id string, want webhook.Outcome) {
	t.Helper()
	ob.Wait(t, 10*time.Second, "delivery "+id+" "+want.String(), func() bool {
		s, _, _, _ := ob.State(id)
		return s == want
	})
}

func waitAttempts(t testing.TB, ob *webhooktest.Memory, target string, n int) []webhook.Attempt {
	t.Helper()
	ob.Wait(t, 10*time.Second, fmt.Sprintf("%d attempts for %s", n, target), func() bool { return len(ob.Attempts(target)) >= n })
	return ob.Attempts(target)
}

// TestDeliverySigned checks a delivery against API.md §10.3 as a receiver
// would: the body, the headers, and the signature by the documented
// scheme, computed here from the spec's words alone.
func TestDeliverySigned(t *testing.T) {
	const sec = "whsec_test_0123456789"
	rc := newReceiver(t, nil)
	ob := webhooktest.NewMemory()
	addTarget(t, ob, "wh-1", rc.URL+"/hook?x=1", sec)
	addTarget(t, ob, "wh-unsigned", rc.URL+"/plain", "")
	start(t, fast(ob))
	e := event(webhook.EventMemoryCreated, `{"id":"m-1","object":"memory","content":"hello"}`)
	ids := publish(t, ob, e, "m-1", "wh-1", "wh-unsigned")
	waitState(t, ob, ids[0], webhook.Delivered)
	waitState(t, ob, ids[1], webhook.Delivered)

	reqs := rc.requests()
	if len(reqs) != 2 {
		t.Fatalf("%d requests, want 2", len(reqs))
	}
	var signed, plain got
	for _, r := range reqs {
		if r.header.Get(webhook.SignatureHeader) != "" {
			signed = r
		} else {
			plain = r
		}
	}
	if plain.header == nil || signed.header == nil {
		t.Fatalf("want one signed and one unsigned request: %v", reqs)
	}
	var body struct {
		ID        string          `json:"id"`
		Type      string          `json:"type"`
		CreatedAt string          `json:"created_at"`
		Data      json.RawMessage `json:"data"`
	}
	dec := json.NewDecoder(bytes.NewReader(signed.body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		t.Fatalf("body %s: %v", signed.body, err)
	}
	if body.ID != e.ID || body.Type != "memory.created" || body.CreatedAt != e.CreatedAt.Format("2006-01-02T15:04:05.000Z") ||
		string(body.Data) != `{"id":"m-1","object":"memory","content":"hello"}` {
		t.Fatalf("body %s", signed.body)
	}
	h := signed.header
	if h.Get("X-MemoryRelay-Event") != "memory.created" || h.Get("X-MemoryRelay-Delivery") != e.ID ||
		h.Get("Content-Type") != "application/json" || h.Get("User-Agent") != "memoryrelay-test" {
		t.Fatalf("headers %v", h)
	}
	// t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">
	sig := h.Get("X-MemoryRelay-Signature")
	tPart, v1Part, ok := strings.Cut(sig, ",")
	if !ok || !strings.HasPrefix(tPart, "t=") || !strings.HasPrefix(v1Part, "v1=") {
		t.Fatalf("signature %q", sig)
	}
	ts, err := strconv.ParseInt(tPart[2:], 10, 64)
	if err != nil || time.Since(time.Unix(ts, 0)).Abs() > time.Minute {
		t.Fatalf("timestamp %q", tPart)
	}
	mac := hmac.New(sha256.New, []byte(sec))
	mac.Write([]byte(tPart[2:] + "." + string(signed.body)))
	if want := hex.EncodeToString(mac.Sum(nil)); v1Part[3:] != want {
		t.Fatalf("v1 %s, want %s", v1Part[3:], want)
	}
	if err := webhook.Verify([]byte(sec), sig, signed.body, time.Now(), 0); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if err := webhook.Verify([]byte("other"), sig, signed.body, time.Now(), 0); !errors.Is(err, webhook.ErrBadSignature) {
		t.Fatalf("Verify with another secret: %v", err)
	}
	if !bytes.Equal(signed.body, plain.body) {
		t.Error("the two webhooks got different bodies for one event")
	}
	a := ob.Attempts("wh-1")
	if len(a) != 1 || a[0].N != 1 || a[0].StatusCode != 200 || a[0].Outcome != webhook.Delivered || a[0].Error != "" ||
		a[0].EventID != e.ID || a[0].EventType != e.Type || a[0].FinishedAt.Before(a[0].StartedAt) {
		t.Fatalf("attempts %+v", a)
	}
}

func TestVerify(t *testing.T) {
	sec := []byte("s")
	body := []byte(`{"id":"x"}`)
	at := time.Unix(1_700_000_000, 0)
	sig := webhook.SignAt(sec, at, body)
	if sig[:13] != "t=1700000000," {
		t.Fatalf("SignAt = %q", sig)
	}
	cases := []struct {
		name   string
		header string
		body   []byte
		now    time.Time
		want   error
	}{
		{"good", sig, body, at, nil},
		{"good, clock skew within tolerance", sig, body, at.Add(-4 * time.Minute), nil},
		{"stale", sig, body, at.Add(6 * time.Minute), webhook.ErrStale},
		{"future", sig, body, at.Add(-6 * time.Minute), webhook.ErrStale},
		{"body changed", sig, []byte(`{"id":"y"}`), at, webhook.ErrBadSignature},
		{"timestamp changed", strings.Replace(sig, "t=1700000000", "t=1700000001", 1), body, at, webhook.ErrBadSignature},
		{"several v1, one good", "t=1700000000,v1=" + strings.Repeat("00", 32) + "," + sig[13:], body, at, nil},
		{"empty", "", body, at, webhook.ErrNoSignature},
		{"old scheme", "sha256=" + strings.Repeat("ab", 32), body, at, webhook.ErrNoSignature},
		{"no v1", "t=1700000000", body, at, webhook.ErrNoSignature},
		{"bad t", "t=abc," + sig[13:], body, at, webhook.ErrNoSignature},
	}
	for _, c := range cases {
		if err := webhook.Verify(sec, c.header, c.body, c.now, 0); !errors.Is(err, c.want) {
			t.Errorf("%s: Verify = %v, want %v", c.name, err, c.want)
		}
	}
}

func FuzzVerify(f *testing.F) {
	sec := []byte("s")
	f.Add(webhook.SignAt(sec, time.Unix(1_700_000_000, 0), []byte("b")), []byte("b"))
	f.Add("t=1,v1=zz", []byte(""))
	f.Add(",,=,t=,v1=", []byte("x"))
	f.Fuzz(func(t *testing.T, header string, body []byte) {
		err := webhook.Verify(sec, header, body, time.Unix(1_700_000_000, 0), 0)
		if err == nil && header != webhook.SignAt(sec, time.Unix(1_700_000_000, 0), body) {
			// Accepting another header is fine only if it carries the
			// right v1 for its own timestamp (in either case: the hex is
			// decoded, so upper-case digits are the same MAC).
			for _, p := range strings.Split(header, ",") {
				if k, v, _ := strings.Cut(strings.TrimSpace(p), "="); k == "t" {
					sec2, _ := strconv.ParseInt(v, 10, 64)
					want := webhook.SignAt(sec, time.Unix(sec2, 0), body)
					if !strings.Contains(strings.ToLower(header), want[strings.Index(want, ",v1=")+4:]) {
						t.Fatalf("forged signature accepted: %q", header)
					}
				}
			}
		}
	})
}

func TestRetriesAfterServerErrors(t *testing.T) {
	rc := newReceiver(t, status(500, 503, 200))
	ob := webhooktest.NewMemory()
	addTarget(t, ob, "wh", rc.URL, "sec")
	start(t, fast(ob))
	ids := publish(t, ob, event(webhook.EventMemoryUpdated, `{"id":"m"}`), "m", "wh")
	waitState(t, ob, ids[0], webhook.Delivered)
	a := ob.Attempts("wh")
	if len(a) != 3 {
		t.Fatalf("%d attempts, want 3: %+v", len(a), a)
	}
	for i, want := range []struct {
		code int
		o    webhook.Outcome
	}{{500, webhook.Retry}, {503, webhook.Retry}, {200, webhook.Delivered}} {
		if a[i].N != i+1 || a[i].StatusCode != want.code || a[i].Outcome != want.o {
			t.Errorf("attempt %d: %+v, want %d %v", i+1, a[i], want.code, want.o)
		}
	}
	if a[0].Error != "receiver answered 500" {
		t.Errorf("attempt 1 error %q", a[0].Error)
	}
	// Backoff: 20 ms after attempt 1 (jittered in [10, 20]), 40 ms after 2.
	for i, max := range []time.Duration{20 * time.Millisecond, 40 * time.Millisecond} {
		if d := a[i].NextAt.Sub(a[i].FinishedAt); d < max/2 || d > max {
			t.Errorf("backoff after attempt %d: %v, want within [%v, %v]", i+1, d, max/2, max)
		}
	}
	reqs := rc.requests()
	for _, r := range reqs[1:] {
		if r.header.Get(webhook.DeliveryHeader) != reqs[0].header.Get(webhook.DeliveryHeader) {
			t.Fatal("retries carry another delivery id")
		}
	}
}

// TestRetriesAfterTimeout: a receiver that does not answer within
// Timeout is retried, and the attempt says it timed out.
func TestRetriesAfterTimeout(t *testing.T) {
	rc := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) {
		if n == 1 {
			<-r.Context().Done() // hang until the dispatcher gives up
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	ob := webhooktest.NewMemory()
	addTarget(t, ob, "wh", rc.URL, "")
	o := fast(ob)
	o.Timeout = 150 * time.Millisecond
	start(t, o)
	ids := publish(t, ob, event(webhook.EventMemoryCreated, `{}`), "", "wh")
	waitState(t, ob, ids[0], webhook.Delivered)
	a := ob.Attempts("wh")
	if len(a) != 2 || a[0].StatusCode != 0 || !strings.Contains(a[0].Error, "timed out") || a[0].Outcome != webhook.Retry ||
		a[1].StatusCode != 204 || a[1].Outcome != webhook.Delivered {
		t.Fatalf("attempts %+v", a)
	}
	if d := a[0].FinishedAt.Sub(a[0].StartedAt); d < 150*time.Millisecond || d > 2*time.Second {
		t.Errorf("the timed-out attempt took %v", d)
	}
}

// TestRetryForEndsRetries: the first failure RetryFor after the first
// attempt is final.
func TestRetryForEndsRetries(t *testing.T) {
	rc := newReceiver(t, status(500, 500, 500))
	ob := webhooktest.NewMemory()
	addTarget(t, ob, "wh", rc.URL, "")
	clk := &clock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	o := fast(ob)
	o.Now = clk.Now
	o.MinBackoff, o.MaxBackoff, o.RetryFor = time.Second, 8*time.Second, time.Hour
	start(t, o)
	ids := publish(t, ob, event(webhook.EventMemoryCreated, `{}`), "", "wh")
	t0 := clk.Now()
	a := waitAttempts(t, ob, "wh", 1)
	if a[0].Outcome != webhook.Retry {
		t.Fatalf("attempt 1: %+v", a[0])
	}
	clk.Set(a[0].NextAt) // due again
	a = waitAttempts(t, ob, "wh", 2)
	if a[1].Outcome != webhook.Retry {
		t.Fatalf("attempt 2: %+v", a[1])
	}
	if d := a[1].NextAt.Sub(a[1].FinishedAt); d < time.Second || d > 2*time.Second {
		t.Errorf("backoff after attempt 2: %v, want in [1s, 2s]", d)
	}
	clk.Set(t0.Add(time.Hour)) // the hour is up: this failure is final
	waitState(t, ob, ids[0], webhook.Failed)
	a = ob.Attempts("wh")
	if len(a) != 3 || a[2].Outcome != webhook.Failed || a[2].N != 3 {
		t.Fatalf("attempts %+v", a)
	}
	clk.Set(t0.Add(3 * time.Hour))
	// Nothing more: a later delivery to the same receiver goes out while
	// the failed one stays failed.
	ids2 := publish(t, ob, event(webhook.EventMemoryCreated, `{}`), "", "wh")
	waitState(t, ob, ids2[0], webhook.Delivered) // the receiver answers 200 from request 4 on
	if n := len(rc.requests()); n != 4 {
		t.Fatalf("%d requests, want 3 for the failed delivery and 1 for the next", n)
	}
}

func TestRedirectsAreNotFollowed(t *testing.T) {
	other := newReceiver(t, nil)
	rc := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) {
		if n == 1 {
			http.Redirect(w, r, other.URL, http.StatusTemporaryRedirect)
			return
		}
		w.WriteHeader(200)
	})
	ob := webhooktest.NewMemory()
	addTarget(t, ob, "wh", rc.URL, "")
	start(t, fast(ob))
	ids := publish(t, ob, event(webhook.EventMemoryDeleted, `{"id":"m"}`), "", "wh")
	waitState(t, ob, ids[0], webhook.Delivered)
	a := ob.Attempts("wh")
	if len(a) != 2 || a[0].StatusCode != 307 || a[0].Outcome != webhook.Retry {
		t.Fatalf("attempts %+v", a)
	}
	if n := len(other.requests()); n != 0 {
		t.Fatalf("the redirect was followed: %d requests to its target", n)
	}
}

// TestPolicyRefusesPrivateAddresses: with the default policy a receiver
// on loopback is never called, whether named by address or by a name
// that resolves to it (refused when dialled).
func TestPolicyRefusesPrivateAddresses(t *testing.T) {
	rc := newReceiver(t, nil)
	u, _ := url.Parse(rc.URL)
	ob := webhooktest.NewMemory()
	addTarget(t, ob, "by-ip", rc.URL, "")
	addTarget(t, ob, "by-name", "http://localhost:"+u.Port()+"/", "")
	addTarget(t, ob, "https-ip", "https://127.0.0.1:"+u.Port()+"/", "")
	o := fast(ob)
	o.Policy = outbound.Policy{AllowHTTP: []string{"127.0.0.1", "localhost"}} // http allowed, loopback not
	start(t, o)
	publish(t, ob, event(webhook.EventMemoryCreated, `{}`), "", "by-ip", "by-name", "https-ip")
	for _, id := range []string{"by-ip", "by-name", "https-ip"} {
		a := waitAttempts(t, ob, id, 1)
		if a[0].StatusCode != 0 || a[0].Outcome != webhook.Retry || !strings.Contains(a[0].Error, "loopback") {
			t.Errorf("%s: attempt %+v, want refused as loopback", id, a[0])
		}
	}
	if n := len(rc.requests()); n != 0 {
		t.Fatalf("the receiver was called %d times", n)
	}
}

// TestSlowReceiverDoesNotDelayOthers: a receiver that never answers holds
// at most PerTarget attempts, and another receiver's deliveries all go
// out meanwhile.
func TestSlowReceiverDoesNotDelayOthers(t *testing.T) {
	release := make(chan struct{})
	var slowInFlight, slowMax atomic.Int64
	slow := newReceiver(t, func(_ int, w http.ResponseWriter, r *http.Request) {
		n := slowInFlight.Add(1)
		defer slowInFlight.Add(-1)
		for {
			m := slowMax.Load()
			if n <= m || slowMax.CompareAndSwap(m, n) {
				break
			}
		}
		select {
		case <-release:
		case <-r.Context().Done():
		}
		w.WriteHeader(200)
	})
	fastRc := newReceiver(t, nil)
	ob := webhooktest.NewMemory()
	addTarget(t, ob, "slow", slow.URL, "")
	addTarget(t, ob, "fast", fastRc.URL, "")
	o := fast(ob)
	o.Timeout, o.LeaseFor = 30*time.Second, time.Minute
	o.Concurrency, o.PerTarget = 8, 2
	start(t, o)
	var slowIDs, fastIDs []string
	for i := range 10 {
		slowIDs = append(slowIDs, publish(t, ob, event(webhook.EventMemoryCreated, `{}`), fmt.Sprint("s", i), "slow")...)
		fastIDs = append(fastIDs, publish(t, ob, event(webhook.EventMemoryCreated, `{}`), fmt.Sprint("f", i), "fast")...)
	}
	for _, id := range fastIDs {
		waitState(t, ob, id, webhook.Delivered)
	}
	if n := len(ob.Attempts("slow")); n != 0 {
		t.Fatalf("the slow receiver finished %d attempts before release", n)
	}
	if m := slowMax.Load(); m > 2 {
		t.Fatalf("the slow receiver had %d attempts in flight, PerTarget is 2", m)
	}
	close(release)
	for _, id := range slowIDs {
		waitState(t, ob, id, webhook.Delivered)
	}
	if m := slowMax.Load(); m != 2 {
		t.Errorf("slow receiver peak in flight %d, want 2", m)
	}
}

// TestOrderPerSubject: a memory's create, then update, reach a webhook
// in that order even when the create needs retries; another memory's
// event is not held up by them.
func TestOrderPerSubject(t *testing.T) {
	var mu sync.Mutex
	var order []string
	rc := newReceiver(t, func(_ int, w http.ResponseWriter, r *http.Request) {
		typ := r.Header.Get(webhook.EventHeader)
		mu.Lock()
		defer mu.Unlock()
		if typ == webhook.EventMemoryCreated && !strings.Contains(strings.Join(order, ","), "fail") {
			order = append(order, "fail:"+r.Header.Get(webhook.DeliveryHeader))
			w.WriteHeader(500)
			return
		}
		order = append(order, typ+":"+r.Header.Get(webhook.DeliveryHeader))
		w.WriteHeader(200)
	})
	ob := webhooktest.NewMemory()
	addTarget(t, ob, "wh", rc.URL, "")
	start(t, fast(ob))
	create := event(webhook.EventMemoryCreated, `{"id":"m1"}`)
	update := event(webhook.EventMemoryUpdated, `{"id":"m1"}`)
	other := event(webhook.EventMemoryDeleted, `{"id":"m2"}`)
	c := publish(t, ob, create, "m1", "wh")
	u := publish(t, ob, update, "m1", "wh")
	x := publish(t, ob, other, "m2", "wh")
	waitState(t, ob, u[0], webhook.Delivered)
	waitState(t, ob, x[0], webhook.Delivered)
	waitState(t, ob, c[0], webhook.Delivered)
	mu.Lock()
	defer mu.Unlock()
	idx := func(s string) int {
		for i, o := range order {
			if o == s {
				return i
			}
		}
		t.Fatalf("%q not in %v", s, order)
		return -1
	}
	fail, created, updated := idx("fail:"+create.ID), idx("memory.created:"+create.ID), idx("memory.updated:"+update.ID)
	if !(fail < created && created < updated) {
		t.Fatalf("order %v: want the failed create, the create, then the update", order)
	}
}

// TestDisableEnable: a disabled webhook's deliveries wait, and go out
// once it is enabled.
func TestDisableEnable(t *testing.T) {
	rc := newReceiver(t, nil)
	other := newReceiver(t, nil)
	ob := webhooktest.NewMemory()
	addTarget(t, ob, "wh", rc.URL, "")
	addTarget(t, ob, "other", other.URL, "")
	ob.SetEnabled("wh", false)
	start(t, fast(ob))
	held := publish(t, ob, event(webhook.EventMemoryCreated, `{}`), "", "wh")
	// A later delivery elsewhere going out shows the dispatcher has read
	// past the held one.
	later := publish(t, ob, event(webhook.EventMemoryCreated, `{}`), "", "other")
	waitState(t, ob, later[0], webhook.Delivered)
	if s, attempts, claims, _ := ob.State(held[0]); s != 0 || attempts != 0 || claims != 0 || len(rc.requests()) != 0 {
		t.Fatalf("disabled webhook: state %v, %d attempts, %d claims, %d requests", s, attempts, claims, len(rc.requests()))
	}
	ob.SetEnabled("wh", true)
	waitState(t, ob, held[0], webhook.Delivered)
	// Deleted: its deliveries are gone, and recording for one is no error.
	ob.RemoveTarget("wh")
	if _, _, _, ok := ob.State(held[0]); ok {
		t.Fatal("a deleted webhook's delivery remains")
	}
}

// TestRestartMidRetry: a dispatcher stopped between a failed attempt and
// its retry; a new one over the same outbox makes the retry, numbered on.
func TestRestartMidRetry(t *testing.T) {
	rc := newReceiver(t, status(500))
	ob := webhooktest.NewMemory()
	addTarget(t, ob, "wh", rc.URL, "sec")
	o := fast(ob)
	o.MinBackoff, o.MaxBackoff = 200*time.Millisecond, 200*time.Millisecond
	d1 := start(t, o)
	ids := publish(t, ob, event(webhook.EventMemoryCreated, `{}`), "m", "wh")
	waitAttempts(t, ob, "wh", 1)
	d1.Close()
	if s, _, _, _ := ob.State(ids[0]); s != 0 {
		t.Fatalf("state after the failed attempt: %v, want pending", s)
	}
	start(t, o)
	waitState(t, ob, ids[0], webhook.Delivered)
	a := ob.Attempts("wh")
	if len(a) != 2 || a[1].N != 2 || a[1].Outcome != webhook.Delivered || a[1].StartedAt.Before(a[0].NextAt) {
		t.Fatalf("attempts %+v", a)
	}
}

// TestRestartMidAttempt: a dispatcher closed while an attempt is in
// flight records nothing and hands the delivery back, so the next one
// makes it at once; when the hand-back fails too, the next one makes it
// once the lease ends. Either way the receiver sees the event twice, with
// one delivery id: at least once.
func TestRestartMidAttempt(t *testing.T) {
	for _, releaseFails := range []bool{false, true} {
		t.Run(fmt.Sprint("release fails ", releaseFails), func(t *testing.T) {
			inFlight := make(chan struct{}, 1)
			rc := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) {
				if n == 1 {
					inFlight <- struct{}{}
					<-r.Context().Done()
					return
				}
				w.WriteHeader(200)
			})
			ob := webhooktest.NewMemory()
			if releaseFails {
				ob.ReleaseErr = func() error { return errors.New("database is locked") }
			}
			addTarget(t, ob, "wh", rc.URL, "")
			o := fast(ob)
			o.Timeout, o.LeaseFor = time.Second, 1500*time.Millisecond
			d1 := start(t, o)
			ids := publish(t, ob, event(webhook.EventMemoryCreated, `{}`), "", "wh")
			<-inFlight
			d1.Close()
			if n := len(ob.Attempts("wh")); n != 0 {
				t.Fatalf("an attempt cut by Close was recorded (%d)", n)
			}
			start(t, o)
			waitState(t, ob, ids[0], webhook.Delivered)
			reqs := rc.requests()
			a := ob.Attempts("wh")
			if len(reqs) != 2 || reqs[0].header.Get(webhook.DeliveryHeader) != reqs[1].header.Get(webhook.DeliveryHeader) ||
				len(a) != 1 || a[0].N != 1 {
				t.Fatalf("%d requests, attempts %+v", len(reqs), a)
			}
			gap := reqs[1].at.Sub(reqs[0].at)
			if releaseFails && gap < 1450*time.Millisecond {
				t.Errorf("retried %v after the cut attempt, before the lease ended", gap)
			}
			if !releaseFails && gap > 1200*time.Millisecond {
				t.Errorf("retried %v after the cut attempt: the release did not hand it back", gap)
			}
		})
	}
}

// TestRecordFailureRedelivers: when recording a delivered attempt fails,
// the delivery stays pending and is made again after its lease.
func TestRecordFailureRedelivers(t *testing.T) {
	rc := newReceiver(t, nil)
	ob := webhooktest.NewMemory()
	var failed atomic.Bool
	ob.RecordErr = func(webhook.Attempt) error {
		if failed.CompareAndSwap(false, true) {
			return errors.New("disk full")
		}
		return nil
	}
	var logs bytes.Buffer
	var logMu sync.Mutex
	addTarget(t, ob, "wh", rc.URL, "topsecret-value")
	o := fast(ob)
	o.Timeout, o.LeaseFor = 200*time.Millisecond, 300*time.Millisecond
	o.Logger = slog.New(slog.NewTextHandler(lockedWriter{w: &logs, mu: &logMu}, nil))
	start(t, o)
	ids := publish(t, ob, event(webhook.EventMemoryCreated, `{"content":"private words"}`), "", "wh")
	waitState(t, ob, ids[0], webhook.Delivered)
	if n := len(rc.requests()); n != 2 {
		t.Fatalf("%d requests, want 2 (the first unrecorded)", n)
	}
	logMu.Lock()
	defer logMu.Unlock()
	if !strings.Contains(logs.String(), "disk full") {
		t.Errorf("the record failure was not logged: %s", logs.String())
	}
	if strings.Contains(logs.String(), "topsecret") || strings.Contains(logs.String(), "private words") {
		t.Errorf("a secret or a body reached the log: %s", logs.String())
	}
}

func TestClaimErrorsAreSurvived(t *testing.T) {
	rc := newReceiver(t, nil)
	ob := webhooktest.NewMemory()
	var n atomic.Int64
	ob.ClaimErr = func() error {
		if n.Add(1) <= 3 {
			return errors.New("database is locked")
		}
		return nil
	}
	addTarget(t, ob, "wh", rc.URL, "")
	start(t, fast(ob))
	ids := publish(t, ob, event(webhook.EventMemoryCreated, `{}`), "", "wh")
	waitState(t, ob, ids[0], webhook.Delivered)
}

// TestCloseStopsEverything: Close returns with attempts in flight, and no
// goroutine of the dispatcher is left; Close twice is fine; Notify after
// Close does not block.
func TestCloseStopsEverything(t *testing.T) {
	hang := newReceiver(t, func(_ int, w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	ob := webhooktest.NewMemory()
	addTarget(t, ob, "wh", hang.URL, "")
	o := fast(ob)
	o.Timeout, o.LeaseFor = time.Minute, 2*time.Minute
	d := start(t, o)
	var ids []string
	for range 5 {
		ids = append(ids, publish(t, ob, event(webhook.EventMemoryCreated, `{}`), "", "wh")...)
	}
	ob.Wait(t, 10*time.Second, "attempts in flight", func() bool {
		_, _, claims, _ := ob.State(ids[3])
		return claims > 0
	})
	done := make(chan struct{})
	go func() { d.Close(); d.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not return")
	}
	d.Notify()
	deadline := time.Now().Add(5 * time.Second)
	for {
		buf := make([]byte, 1<<20)
		stacks := string(buf[:runtime.Stack(buf, true)])
		if !strings.Contains(stacks, "webhook.(*Dispatcher)") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("dispatcher goroutines left after Close:\n%s", stacks)
		}
		runtime.Gosched()
	}
}

func TestNewDispatcherOptions(t *testing.T) {
	ob := webhooktest.NewMemory()
	for _, o := range []webhook.DispatcherOptions{
		{},
		{Outbox: ob, Timeout: -1},
		{Outbox: ob, Timeout: time.Minute, LeaseFor: time.Second},
		{Outbox: ob, MinBackoff: time.Minute, MaxBackoff: time.Second},
	} {
		if d, err := webhook.NewDispatcher(o); err == nil {
			d.Close()
			t.Errorf("NewDispatcher(%+v) accepted", o)
		}
	}
	d, err := webhook.NewDispatcher(webhook.DispatcherOptions{Outbox: ob})
	if err != nil {
		t.Fatal(err)
	}
	d.Close()
}

// lockedWriter serialises the writes of a logger shared by goroutines.
type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
