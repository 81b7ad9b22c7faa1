package memoryrelay_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/memoryrelay/memoryrelay"
	"github.com/memoryrelay/memoryrelay/memory"
	"github.com/memoryrelay/memoryrelay/secret"
)

// receive is the webhook receiver of README "Webhooks", verbatim: it
// checks the signature with the standard library alone.
func receive(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	if err != nil {
		http.Error(w, "too large", http.StatusRequestEntityTooLarge)
		return
	}
	// memoryrelay.VerifyWebhook does the same; with the standard library alone:
	var ts, sig string
	for _, part := range strings.Split(r.Header.Get("X-MemoryRelay-Signature"), ",") {
		if k, v, ok := strings.Cut(part, "="); ok && k == "t" {
			ts = v
		} else if ok && k == "v1" {
			sig = v
		}
	}
	mac := hmac.New(sha256.New, []byte(os.Getenv("WEBHOOK_SECRET")))
	mac.Write([]byte(ts + "." + string(body)))
	want := hex.EncodeToString(mac.Sum(nil))
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || !hmac.Equal([]byte(sig), []byte(want)) || time.Since(time.Unix(sec, 0)).Abs() > 5*time.Minute {
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	var ev struct {
		ID, Type  string
		CreatedAt time.Time `json:"created_at"`
		Data      json.RawMessage
	}
	if err := json.Unmarshal(body, &ev); err != nil {
		http.Error(w, "bad body", http.StatusBadRequest)
		return
	}
	handle(ev.ID, ev.Type, ev.Data)     // deliveries are at least once: act once per ev.ID
	w.WriteHeader(http.StatusNoContent) // answer quickly: a timeout is retried
}

// handled receives what receive accepted.
var handled = make(chan string, 16)

func handle(id, typ string, data json.RawMessage) {
	handled <- fmt.Sprintf("%s %s %s", id, typ, data)
}

// TestWebhookReceiverExample: README's receiver accepts a real delivery
// and refuses a forged, a replayed (stale) and an unsigned one.
func TestWebhookReceiverExample(t *testing.T) {
	const sec = "whsec_readme_example_secret"
	t.Setenv("WEBHOOK_SECRET", sec)
	srv := httptest.NewServer(http.HandlerFunc(receive))
	defer srv.Close()
	ctx := context.Background()
	policy, hooks := localHooks()
	r, _ := open(t, memoryrelay.Options{Outbound: policy, Webhooks: hooks})
	a := r.Account(account(t, r))
	hook, err := a.Webhooks().Create(ctx, memory.NewWebhook{URL: srv.URL, Secret: secret.New(sec), EventTypes: []string{memory.EventMemoryCreated}})
	if err != nil {
		t.Fatal(err)
	}
	m, err := a.Memories().Create(ctx, memory.NewMemory{Content: "Deploys need a second reviewer"})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-handled:
		if !strings.Contains(got, " memory.created {") || !strings.Contains(got, `"id":"`+m.Memory.ID+`"`) {
			t.Errorf("handled %s", got)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("the delivery was not accepted")
	}
	// The delivery is recorded as delivered (a 204).
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		ds, err := a.Webhooks().Deliveries(ctx, hook.ID, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(ds) == 1 && ds[0].Outcome == memory.DeliveryDelivered && ds[0].StatusCode == http.StatusNoContent {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("deliveries %+v", ds)
		}
	}

	body := []byte(`{"id":"evt_1","type":"memory.deleted","created_at":"2026-03-17T10:00:00.000Z","data":{"id":"x"}}`)
	for name, sig := range map[string]string{
		"forged":   memoryrelay.SignWebhook([]byte("another secret"), time.Now(), body),
		"replayed": memoryrelay.SignWebhook([]byte(sec), time.Now().Add(-time.Hour), body),
		"unsigned": "",
		"garbage":  "t=,v1=",
	} {
		req, _ := http.NewRequest("POST", srv.URL, strings.NewReader(string(body)))
		if sig != "" {
			req.Header.Set("X-MemoryRelay-Signature", sig)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s: %d, want 401", name, res.StatusCode)
		}
	}
	// A correctly signed one is accepted, with the same verdict as
	// VerifyWebhook's.
	good := memoryrelay.SignWebhook([]byte(sec), time.Now(), body)
	if err := memoryrelay.VerifyWebhook([]byte(sec), good, body, time.Now(), 0); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("POST", srv.URL, strings.NewReader(string(body)))
	req.Header.Set("X-MemoryRelay-Signature", good)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNoContent {
		t.Errorf("signed: %d", res.StatusCode)
	}
	if got := <-handled; got != `evt_1 memory.deleted {"id":"x"}` {
		t.Errorf("handled %s", got)
	}
	select {
	case got := <-handled:
		t.Errorf("handled more: %s", got)
	default:
	}
}

// TestWebhookReceiverInREADME: README shows receive as it is here.
func TestWebhookReceiverInREADME(t *testing.T) {
	src, err := os.ReadFile("webhook_receiver_test.go")
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	s := string(src)
	start := strings.Index(s, "func receive(")
	end := start + strings.Index(s[start:], "\n}\n") + 2
	if start < 0 || !strings.Contains(string(readme), "```go\n"+s[start:end]+"\n```") {
		t.Error("README's receiver differs from receive in webhook_receiver_test.go")
	}
}
