package dashboard

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/memoryrelay/memoryrelay"
	"github.com/memoryrelay/memoryrelay/keys"
	"github.com/memoryrelay/memoryrelay/memory"
	"github.com/memoryrelay/memoryrelay/scopes"
)

// TestRoutesCheckScopes: every route checks its scope against the
// session's key, whatever let the session in. Sign-in admits admin keys
// only, so the sessions here are made directly, for keys with less.
func TestRoutesCheckScopes(t *testing.T) {
	ctx := context.Background()
	r, err := memoryrelay.Open(ctx, memoryrelay.Options{Path: filepath.Join(t.TempDir(), "scopes.db"), Workers: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	info, err := r.CreateAccount(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	res, err := r.Account(info.ID).Memories().Create(ctx, memory.NewMemory{Content: "keep me"})
	if err != nil {
		t.Fatal(err)
	}
	mem := res.Memory.ID
	hd, err := New(r, Options{})
	if err != nil {
		t.Fatal(err)
	}
	h := hd.(*handler)

	sessionFor := func(ss ...scopes.Scope) (*session, string, keys.Key) {
		k, _, err := r.Account(info.ID).Keys().Create(ctx, memory.NewKey{Name: "k", Scopes: scopes.NewSet(ss...)})
		if err != nil {
			t.Fatal(err)
		}
		s, id := h.sessions.create(k, time.Now())
		return s, id, k
	}
	do := func(id, method, path string, form url.Values) *httptest.ResponseRecorder {
		var req *http.Request
		if form != nil {
			req = httptest.NewRequest(method, path, strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		} else {
			req = httptest.NewRequest(method, path, nil)
		}
		req.AddCookie(&http.Cookie{Name: sessionCookie, Value: id})
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		return w
	}

	readS, readID, readKey := sessionFor(scopes.Read)
	writeS, writeID, _ := sessionFor(scopes.Read, scopes.Write)
	tests := []struct {
		sess   *session
		id     string
		method string
		path   string
		want   int
	}{
		{readS, readID, "GET", "/memories", 200},
		{readS, readID, "GET", "/memories/" + mem, 200},
		{readS, readID, "GET", "/agents", 200},
		{readS, readID, "GET", "/health", 200},
		{readS, readID, "GET", "/keys", 403},
		{readS, readID, "GET", "/keys/new", 403},
		{readS, readID, "GET", "/keys/" + readKey.ID + "/revoke", 403},
		{readS, readID, "POST", "/keys/" + readKey.ID + "/revoke", 403},
		{readS, readID, "POST", "/keys/" + readKey.ID + "/rotate", 403},
		{readS, readID, "POST", "/keys", 403},
		{readS, readID, "GET", "/usage", 403},
		{readS, readID, "GET", "/memories/" + mem + "/delete", 403},
		{readS, readID, "POST", "/memories/" + mem + "/delete", 403},
		{writeS, writeID, "POST", "/memories/" + mem + "/delete", 403},
		{readS, readID, "POST", "/signout", 403},
	}
	for _, tt := range tests {
		var form url.Values
		if tt.method == "POST" {
			form = url.Values{csrfField: {tt.sess.csrf}, "name": {"x"}, "scope": {"admin"}}
		}
		w := do(tt.id, tt.method, tt.path, form)
		if w.Code != tt.want {
			t.Errorf("%s %s with scopes %v: %d, want %d", tt.method, tt.path, tt.sess.key().Scopes, w.Code, tt.want)
		}
		if tt.want == 403 && !strings.Contains(w.Body.String(), "cannot do this") {
			t.Errorf("%s %s: the 403 page does not say why:\n%s", tt.method, tt.path, w.Body.String())
		}
	}
	if _, err := r.Account(info.ID).Memories().Get(ctx, mem); err != nil {
		t.Error("a key without the delete scope deleted a memory")
	}
	if _, err := r.Account(info.ID).Keys().Get(ctx, readKey.ID); err != nil {
		t.Fatal(err)
	}
	if k, _ := r.Account(info.ID).Keys().Get(ctx, readKey.ID); k.RevokedAt != nil {
		t.Error("a read key revoked a key")
	}
}

// TestSessionStoreBound: past MaxSessions a sign-in ends the least
// recently used session, and ended sessions are dropped when one is
// created.
func TestSessionStoreBound(t *testing.T) {
	st := newSessionStore(time.Hour, 10*time.Minute, 3)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var ids []string
	for i := range 3 {
		_, id := st.create(keys.Key{ID: "k"}, t0.Add(time.Duration(i)*time.Second))
		ids = append(ids, id)
	}
	st.get(ids[0], t0.Add(5*time.Second)) // 0 is now more recent than 1
	_, id3 := st.create(keys.Key{ID: "k"}, t0.Add(6*time.Second))
	if st.len() != 3 {
		t.Fatalf("%d sessions, want 3", st.len())
	}
	if s, _ := st.get(ids[1], t0.Add(7*time.Second)); s != nil {
		t.Error("the least recently used session survived")
	}
	for _, id := range []string{ids[0], ids[2], id3} {
		if s, why := st.get(id, t0.Add(7*time.Second)); s == nil {
			t.Errorf("a recent session ended (%s)", why)
		}
	}
	// Idle ones are dropped by the next create.
	st.create(keys.Key{ID: "k"}, t0.Add(30*time.Minute))
	if st.len() != 1 {
		t.Errorf("%d sessions after the others idled out, want 1", st.len())
	}
	if s, why := st.get("", t0); s != nil || why != endedNone {
		t.Error("an empty cookie found a session")
	}
	if s, why := st.get("made-up", t0); s != nil || why != endedExpired {
		t.Error("an unknown cookie found a session")
	}
}

func TestRevealOnceWithinTTL(t *testing.T) {
	st := newSessionStore(time.Hour, time.Hour, 10)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s, _ := st.create(keys.Key{ID: "k"}, t0)
	s.setReveal(&reveal{secret: "s", until: t0.Add(RevealTTL)})
	if rv := s.takeReveal(t0.Add(RevealTTL - time.Millisecond)); rv == nil || rv.secret != "s" {
		t.Fatal("a fresh reveal was not shown")
	}
	if rv := s.takeReveal(t0); rv != nil {
		t.Fatal("a reveal was shown twice")
	}
	s.setReveal(&reveal{secret: "s", until: t0.Add(RevealTTL)})
	if rv := s.takeReveal(t0.Add(RevealTTL)); rv != nil {
		t.Fatal("a reveal was shown after RevealTTL")
	}
}
