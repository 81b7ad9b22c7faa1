package dashboard_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/memoryrelay/memoryrelay/dashboard"
	"github.com/memoryrelay/memoryrelay/keys"
	"github.com/memoryrelay/memoryrelay/memory"
	"github.com/memoryrelay/memoryrelay/scopes"
)

func TestSignInMakesASession(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	expectRedirect(t, c.get("/dashboard/"), "/dashboard/signin")
	expectRedirect(t, c.get("/dashboard/keys"), "/dashboard/signin")

	page := c.get("/dashboard/signin")
	expect(t, page, http.StatusOK, `name="key"`, `type="password"`)
	form := setCookie(page, "memoryrelay_signin")
	if form == nil || !form.HttpOnly || form.SameSite != http.SameSiteStrictMode || form.Path != "/dashboard/" {
		t.Fatalf("sign-in form cookie %+v: want HttpOnly, SameSite=Strict, Path=/dashboard/", form)
	}

	r := c.post("/dashboard/signin", url.Values{"csrf": {csrf(t, page.body)}, "key": {e.adminRaw}})
	expectRedirect(t, r, "/dashboard/keys")
	sess := setCookie(r, "memoryrelay_session")
	switch {
	case sess == nil:
		t.Fatal("no session cookie")
	case !sess.HttpOnly, sess.SameSite != http.SameSiteStrictMode, sess.Path != "/dashboard/", sess.Secure:
		t.Errorf("session cookie %+v: want HttpOnly, SameSite=Strict, Path=/dashboard/, not Secure over plain HTTP", sess)
	case sess.MaxAge != int((12*time.Hour).Seconds()) || !sess.Expires.After(e.clock.Now().Add(11*time.Hour)):
		t.Errorf("session cookie expiry: MaxAge %d, Expires %v; want the 12h session lifetime", sess.MaxAge, sess.Expires)
	case strings.Contains(sess.Value, e.adminRaw) || len(sess.Value) < 40:
		t.Errorf("session cookie value %q: want a long random id, not the key", sess.Value)
	}
	for _, h := range r.Header.Values("Set-Cookie") {
		if strings.Contains(h, e.adminRaw) {
			t.Errorf("a cookie holds the key: %s", h)
		}
	}
	if u := r.Header.Get("Location"); strings.Contains(u, "mem_") {
		t.Errorf("the redirect URL holds a key: %s", u)
	}
	keysPage := c.get("/dashboard/keys")
	expect(t, keysPage, http.StatusOK, "bootstrap-admin", e.admin.Prefix)
	if strings.Contains(keysPage.body, e.adminRaw) {
		t.Error("the keys page shows the admin key")
	}
	// Signed in, the sign-in page sends to the keys.
	expectRedirect(t, c.get("/dashboard/signin"), "/dashboard/keys")
	expectRedirect(t, c.get("/dashboard/"), "/dashboard/keys")
}

func TestCookiesSecure(t *testing.T) {
	t.Run("TLS", func(t *testing.T) {
		e := newEnv(t, func(c *envConfig) { c.tls = true })
		c := e.client()
		if ck := setCookie(c.get("/dashboard/signin"), "memoryrelay_signin"); ck == nil || !ck.Secure {
			t.Errorf("sign-in cookie over TLS: %+v, want Secure", ck)
		}
		r := c.signInAs(e.adminRaw)
		if ck := setCookie(r, "memoryrelay_session"); ck == nil || !ck.Secure {
			t.Errorf("session cookie over TLS: %+v, want Secure", ck)
		}
		expect(t, c.get("/dashboard/keys"), http.StatusOK, "bootstrap-admin")
	})
	t.Run("SecureCookies behind a proxy", func(t *testing.T) {
		e := newEnv(t, func(c *envConfig) { c.opts.SecureCookies = true })
		if ck := setCookie(e.client().get("/dashboard/signin"), "memoryrelay_signin"); ck == nil || !ck.Secure {
			t.Errorf("sign-in cookie with SecureCookies: %+v, want Secure", ck)
		}
	})
}

func TestSignInRefusals(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	_, readRaw := e.key("reader", scopes.Read, scopes.Write, scopes.Delete)
	revoked, revokedRaw := e.key("gone", scopes.Admin)
	if _, err := e.acct.Keys().Revoke(ctx, revoked.ID); err != nil {
		t.Fatal(err)
	}
	soon := e.clock.Now().Add(time.Minute)
	_, tok, err := e.relay.Account(e.accID).Keys().Create(ctx, memory.NewKey{Name: "brief", Scopes: scopes.NewSet(scopes.Admin), ExpiresAt: &soon})
	if err != nil {
		t.Fatal(err)
	}
	expiredRaw := tok.Reveal()
	e.clock.Add(2 * time.Minute)
	unknown, _ := keys.Generate("live")
	// A typo in the checksum: the last character replaced by one that differs
	// from it (always "x" would leave a key ending in "x" valid).
	typo := "x"
	if strings.HasSuffix(e.adminRaw, typo) {
		typo = "y"
	}

	tests := []struct {
		name   string
		key    string
		status int
		want   string
	}{
		{"empty", "  ", http.StatusBadRequest, "Enter an API key."},
		{"malformed", "mem_live_nope", http.StatusUnauthorized, "This is not a valid API key."},
		{"checksum typo", e.adminRaw[:len(e.adminRaw)-1] + typo, http.StatusUnauthorized, "This is not a valid API key."},
		{"unknown", unknown.Reveal(), http.StatusUnauthorized, "This is not a valid API key."},
		{"revoked", revokedRaw, http.StatusUnauthorized, "This key has been revoked."},
		{"expired", expiredRaw, http.StatusUnauthorized, "This key has expired."},
		{"not admin", readRaw, http.StatusForbidden, "This key cannot manage the account"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := e.client()
			c.header.Set("X-Test-Client", "client-"+strconv.Itoa(i))
			r := c.signInAs(tt.key)
			expect(t, r, tt.status, tt.want)
			if setCookie(r, "memoryrelay_session") != nil {
				t.Error("a refused sign-in set a session cookie")
			}
			if tt.key != "  " && strings.Contains(r.body, tt.key) {
				t.Error("the page repeats the key")
			}
			expectRedirect(t, c.get("/dashboard/keys"), "/dashboard/signin")
		})
	}
	// The non-admin page says what the key has.
	c := e.client()
	c.header.Set("X-Test-Client", "reader")
	expect(t, c.signInAs(readRaw), http.StatusForbidden, "admin", "read, write, delete", "reader")
}

func TestSignInCSRF(t *testing.T) {
	e := newEnv(t)
	t.Run("no form cookie", func(t *testing.T) {
		c := e.client()
		page := c.get("/dashboard/signin")
		c2 := e.client() // without the form's cookie
		r := c2.post("/dashboard/signin", url.Values{"csrf": {csrf(t, page.body)}, "key": {e.adminRaw}})
		expect(t, r, http.StatusForbidden, "has expired or did not come from this dashboard")
		if setCookie(r, "memoryrelay_session") != nil {
			t.Error("signed in without the form's cookie")
		}
	})
	t.Run("wrong token", func(t *testing.T) {
		c := e.client()
		c.get("/dashboard/signin")
		r := c.post("/dashboard/signin", url.Values{"csrf": {"forged"}, "key": {e.adminRaw}})
		expect(t, r, http.StatusForbidden)
		if setCookie(r, "memoryrelay_session") != nil {
			t.Error("signed in with a forged token")
		}
	})
	t.Run("cross-origin", func(t *testing.T) {
		c := e.client()
		page := c.get("/dashboard/signin")
		c.header.Set("Sec-Fetch-Site", "cross-site")
		r := c.post("/dashboard/signin", url.Values{"csrf": {csrf(t, page.body)}, "key": {e.adminRaw}})
		expect(t, r, http.StatusForbidden, "sent from another site")
		c.header.Del("Sec-Fetch-Site")
		c.header.Set("Origin", "https://evil.example")
		expect(t, c.post("/dashboard/signin", url.Values{"csrf": {csrf(t, page.body)}, "key": {e.adminRaw}}), http.StatusForbidden)
	})
}

func TestSignInRateLimit(t *testing.T) {
	e := newEnv(t, func(c *envConfig) { c.opts.SignInRate = 5 })
	a := e.client()
	a.header.Set("X-Test-Client", "198.51.100.7")
	for range 5 {
		expect(t, a.signInAs("mem_live_wrong"), http.StatusUnauthorized, "not a valid API key")
	}
	// The sixth attempt is refused before the key is looked at, even the
	// right key.
	r := a.signInAs(e.adminRaw)
	expect(t, r, http.StatusTooManyRequests, "Too many sign-in attempts", "Try again in 12 seconds")
	if r.Header.Get("Retry-After") != "12" {
		t.Errorf("Retry-After %q, want 12 (a minute / 5 attempts)", r.Header.Get("Retry-After"))
	}
	if setCookie(r, "memoryrelay_session") != nil {
		t.Error("a rate-limited sign-in made a session")
	}
	// Another client is not limited.
	b := e.client()
	b.header.Set("X-Test-Client", "203.0.113.9")
	expectRedirect(t, b.signInAs(e.adminRaw), "/dashboard/keys")
	// After the wait, one more attempt.
	e.clock.Add(12 * time.Second)
	expectRedirect(t, a.signInAs(e.adminRaw), "/dashboard/keys")
}

func TestSessionExpiry(t *testing.T) {
	e := newEnv(t, func(c *envConfig) {
		c.opts.SessionTTL = 4 * time.Hour
		c.opts.IdleTimeout = time.Hour
	})
	t.Run("idle", func(t *testing.T) {
		c := e.client()
		c.signIn()
		e.clock.Add(59 * time.Minute)
		expect(t, c.get("/dashboard/keys"), http.StatusOK)
		e.clock.Add(time.Hour)
		r := c.get("/dashboard/keys")
		expectRedirect(t, r, "/dashboard/signin?ended=expired")
		if ck := setCookie(r, "memoryrelay_session"); ck == nil || ck.MaxAge >= 0 {
			t.Errorf("an ended session's cookie is not deleted: %+v", ck)
		}
		expect(t, c.get("/dashboard/signin?ended=expired"), http.StatusOK, "Your session has ended")
	})
	t.Run("absolute", func(t *testing.T) {
		c := e.client()
		c.signIn()
		for range 7 { // active every 30 minutes: 3.5h
			e.clock.Add(30 * time.Minute)
			expect(t, c.get("/dashboard/keys"), http.StatusOK)
		}
		e.clock.Add(30 * time.Minute)
		expectRedirect(t, c.get("/dashboard/keys"), "/dashboard/signin?ended=expired")
	})
}

func TestSignOut(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	token := c.signIn()
	u, _ := url.Parse(e.srv.URL + "/dashboard/")
	old := c.c.Jar.Cookies(u)
	r := c.post("/dashboard/signout", url.Values{"csrf": {token}})
	expectRedirect(t, r, "/dashboard/signin?ended=signedout")
	if ck := setCookie(r, "memoryrelay_session"); ck == nil || ck.MaxAge >= 0 {
		t.Errorf("sign-out does not delete the cookie: %+v", ck)
	}
	expect(t, c.get("/dashboard/signin?ended=signedout"), http.StatusOK, "You are signed out.")
	// The old cookie no longer opens anything: the session ended on the
	// server.
	replay := e.client()
	replay.c.Jar.SetCookies(u, old)
	expectRedirect(t, replay.get("/dashboard/keys"), "/dashboard/signin?ended=expired")
}

// TestRevokedKeyEndsSession: a key revoked elsewhere (the API, another
// session) ends the sessions it opened at their next request.
func TestRevokedKeyEndsSession(t *testing.T) {
	e := newEnv(t)
	e.key("second-admin", scopes.Admin)
	c := e.client()
	c.signIn()
	if _, err := e.acct.Keys().Revoke(context.Background(), e.admin.ID); err != nil {
		t.Fatal(err)
	}
	expectRedirect(t, c.get("/dashboard/memories"), "/dashboard/signin?ended=revoked")
	expect(t, c.get("/dashboard/signin?ended=revoked"), http.StatusOK, "was revoked")
}

func TestExpiredKeyEndsSession(t *testing.T) {
	e := newEnv(t)
	exp := e.clock.Now().Add(10 * time.Minute)
	_, tok, err := e.relay.Account(e.accID).Keys().Create(context.Background(), memory.NewKey{Name: "temp-admin", Scopes: scopes.NewSet(scopes.Admin), ExpiresAt: &exp})
	if err != nil {
		t.Fatal(err)
	}
	c := e.client()
	expectRedirect(t, c.signInAs(tok.Reveal()), "/dashboard/keys")
	expect(t, c.get("/dashboard/keys"), http.StatusOK, "temp-admin")
	e.clock.Add(10 * time.Minute)
	expectRedirect(t, c.get("/dashboard/keys"), "/dashboard/signin?ended=keyexpired")
}

func TestOptionsChecked(t *testing.T) {
	e := newEnv(t)
	for _, o := range []dashboard.Options{
		{SessionTTL: -1}, {IdleTimeout: -time.Second}, {MaxSessions: -1}, {SignInRate: -3},
		{BasePath: "dashboard"}, {BasePath: "/dashboard/"},
	} {
		if _, err := dashboard.New(e.relay, o); err == nil || !strings.HasPrefix(err.Error(), "dashboard: ") {
			t.Errorf("New(%+v) = %v, want a dashboard: error", o, err)
		}
	}
	if _, err := dashboard.New(nil, dashboard.Options{}); err == nil {
		t.Error("New(nil) did not fail")
	}
}
