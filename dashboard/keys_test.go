package dashboard_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/memoryrelay/memoryrelay"
	"github.com/memoryrelay/memoryrelay/keys"
	"github.com/memoryrelay/memoryrelay/memory"
	"github.com/memoryrelay/memoryrelay/scopes"
	"github.com/memoryrelay/memoryrelay/search/embed"
)

// keyCount is the number of keys of the account.
func (e *env) keyCount() int {
	e.t.Helper()
	p, err := e.acct.Keys().List(context.Background(), memory.PageParams{Limit: 100})
	if err != nil {
		e.t.Fatal(err)
	}
	return p.Total
}

func TestCreateKeyShownOnce(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	token := c.signIn()
	exp := e.clock.Now().Add(2 * 24 * time.Hour)
	r := c.post("/dashboard/keys", url.Values{"csrf": {token}, "name": {"ci-bot"}, "scope": {"read", "write"}, "expires_days": {"2"}, "rate_limit": {"250"}})
	expectRedirect(t, r, "/dashboard/keys/new")
	if strings.Contains(r.Header.Get("Location"), "mem_") || secretRe.MatchString(r.body) {
		t.Fatal("the create answer carries the key")
	}

	shown := c.get("/dashboard/keys/new")
	expect(t, shown, http.StatusOK, "only shown once", "never commit them to source control", "ci-bot", "read, write", "data-copy")
	secret := secretRe.FindString(shown.body)
	if secret == "" {
		t.Fatalf("no key on the page:\n%s", shown.body)
	}
	if cc := shown.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q on the page of a secret, want no-store", cc)
	}
	// The key works, with the scopes, expiry and limit asked for.
	auth, err := e.relay.Authorize(context.Background(), secret, scopes.Read, scopes.Write)
	if err != nil {
		t.Fatalf("the shown key: %v", err)
	}
	if k := auth.Key; k.Name != "ci-bot" || k.RateLimit != 250 || k.ExpiresAt == nil || !k.ExpiresAt.Equal(exp) || k.Scopes.Has(scopes.Delete) {
		t.Errorf("created key %+v", k)
	}

	// Once shown, never again: not on reload, not on the list.
	again := c.get("/dashboard/keys/new")
	expect(t, again, http.StatusGone, "shown only once")
	for _, p := range []string{"/dashboard/keys/new", "/dashboard/keys", "/dashboard/usage", "/dashboard/keys/" + auth.Key.ID + "/revoke", "/dashboard/keys/" + auth.Key.ID + "/rotate"} {
		if body := c.get(p).body; strings.Contains(body, secret) {
			t.Errorf("%s shows the key after its creation page", p)
		}
	}
	list := c.get("/dashboard/keys")
	expect(t, list, http.StatusOK, "ci-bot", auth.Key.Prefix+"…", "250/min")
	if strings.Contains(e.logs.String(), secret) {
		t.Error("the new key reached a log line")
	}
}

func TestCreateKeyValidation(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	token := c.signIn()
	tests := []struct {
		name   string
		form   url.Values
		status int
		want   string
	}{
		{"empty name: the default, key- and the prefix (API.md §10.2)", url.Values{"name": {" "}, "scope": {"read"}}, 303, ""},
		{"name too long", url.Values{"name": {strings.Repeat("n", 256)}, "scope": {"read"}}, 400, "Name must be"},
		{"name at the limit", url.Values{"name": {strings.Repeat("n", 255)}, "scope": {"read"}}, 303, ""},
		{"no scope", url.Values{"name": {"x"}}, 400, "Choose at least one scope."},
		{"unknown scope", url.Values{"name": {"x"}, "scope": {"root"}}, 400, "Choose scopes among read, write, delete and admin."},
		{"expires in 1 day", url.Values{"name": {"x"}, "scope": {"read"}, "expires_days": {"1"}}, 303, ""},
		{"expires in the maximum", url.Values{"name": {"x"}, "scope": {"read"}, "expires_days": {strconv.Itoa(keys.MaxExpiresDays)}}, 303, ""},
		{"expires past the maximum", url.Values{"name": {"x"}, "scope": {"read"}, "expires_days": {strconv.Itoa(keys.MaxExpiresDays + 1)}}, 400, "Expires in must be a whole number of days from 1 to 365"},
		{"expires in 0 days", url.Values{"name": {"x"}, "scope": {"read"}, "expires_days": {"0"}}, 400, "Expires in must be"},
		{"expires negative", url.Values{"name": {"x"}, "scope": {"read"}, "expires_days": {"-1"}}, 400, "Expires in must be"},
		{"expires not a number", url.Values{"name": {"x"}, "scope": {"read"}, "expires_days": {"tomorrow"}}, 400, "Expires in must be"},
		{"expires a date", url.Values{"name": {"x"}, "scope": {"read"}, "expires_days": {"2026-12-31"}}, 400, "Expires in must be"},
		{"rate limit not a number", url.Values{"name": {"x"}, "scope": {"read"}, "rate_limit": {"lots"}}, 400, "Rate limit must be a whole number"},
		{"rate limit negative", url.Values{"name": {"x"}, "scope": {"read"}, "rate_limit": {"-1"}}, 400, "Rate limit must be"},
		{"rate limit past the maximum", url.Values{"name": {"x"}, "scope": {"read"}, "rate_limit": {"1000001"}}, 400, "Rate limit must be"},
		{"rate limit at the maximum", url.Values{"name": {"x"}, "scope": {"read"}, "rate_limit": {"1000000"}}, 303, ""},
		{"daily spend 0", url.Values{"name": {"x"}, "scope": {"read"}, "daily_spend_limit": {"0"}}, 303, ""},
		{"daily spend at the maximum", url.Values{"name": {"x"}, "scope": {"read"}, "daily_spend_limit": {strconv.Itoa(keys.MaxSpendLimit)}}, 303, ""},
		{"daily spend past the maximum", url.Values{"name": {"x"}, "scope": {"read"}, "daily_spend_limit": {strconv.Itoa(keys.MaxSpendLimit) + ".01"}}, 400, "Daily spend limit must be"},
		{"daily spend negative", url.Values{"name": {"x"}, "scope": {"read"}, "daily_spend_limit": {"-0.01"}}, 400, "Daily spend limit must be"},
		{"monthly spend not a number", url.Values{"name": {"x"}, "scope": {"read"}, "monthly_spend_limit": {"lots"}}, 400, "Monthly spend limit must be"},
		{"monthly spend NaN", url.Values{"name": {"x"}, "scope": {"read"}, "monthly_spend_limit": {"NaN"}}, 400, "Monthly spend limit must be"},
		{"monthly spend at the maximum", url.Values{"name": {"x"}, "scope": {"read"}, "monthly_spend_limit": {strconv.Itoa(keys.MaxSpendLimit)}}, 303, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := e.keyCount()
			tt.form.Set("csrf", token)
			r := c.post("/dashboard/keys", tt.form)
			if tt.status == http.StatusSeeOther {
				expectRedirect(t, r, "/dashboard/keys/new")
				c.get("/dashboard/keys/new")
				return
			}
			expect(t, r, tt.status, tt.want, `role="alert"`, "Create API key")
			if n := e.keyCount(); n != before {
				t.Errorf("a refused form made a key: %d keys, were %d", n, before)
			}
			// The form keeps what was typed.
			if name := tt.form.Get("name"); strings.TrimSpace(name) != "" && !strings.Contains(r.body, `value="`+name+`"`) {
				t.Error("the form lost the name")
			}
			if d := tt.form.Get("expires_days"); d != "" && !strings.Contains(r.body, `value="`+d+`"`) {
				t.Error("the form lost the days of the expiry")
			}
		})
	}
}

func TestRevokeKey(t *testing.T) {
	e := newEnv(t)
	k, raw := e.key("to-revoke", scopes.Read)
	c := e.client()
	token := c.signIn()

	confirm := c.get("/dashboard/keys/" + k.ID + "/revoke")
	expect(t, confirm, http.StatusOK, "Revoke the key", "to-revoke", "cannot be undone", `action="/dashboard/keys/`+k.ID+`/revoke"`)
	if _, err := e.relay.Authorize(context.Background(), raw, scopes.Read); err != nil {
		t.Fatal("the confirmation page revoked the key already")
	}
	expectRedirect(t, c.post("/dashboard/keys/"+k.ID+"/revoke", url.Values{"csrf": {token}}), "/dashboard/keys")
	list := c.get("/dashboard/keys")
	expect(t, list, http.StatusOK, "The key “to-revoke” was revoked", ">revoked<")
	if _, err := e.relay.Authorize(context.Background(), raw, scopes.Read); err == nil {
		t.Error("the revoked key still works")
	}
	expect(t, c.get("/dashboard/keys/"+k.ID+"/revoke"), http.StatusOK, "already revoked")
	// Unknown keys, in any form, are a readable 404.
	for _, id := range []string{"00000000-0000-4000-8000-000000000000", "not-a-uuid"} {
		expect(t, c.get("/dashboard/keys/"+id+"/revoke"), http.StatusNotFound, "API key not found.")
		expect(t, c.post("/dashboard/keys/"+id+"/revoke", url.Values{"csrf": {token}}), http.StatusNotFound, "API key not found.")
	}
}

func TestLastAdminKeyStays(t *testing.T) {
	e := newEnv(t)
	e.key("reader", scopes.Read)
	c := e.client()
	token := c.signIn()
	expect(t, c.get("/dashboard/keys/"+e.admin.ID+"/revoke"), http.StatusOK, "This is the key you signed in with")
	r := c.post("/dashboard/keys/"+e.admin.ID+"/revoke", url.Values{"csrf": {token}})
	expect(t, r, http.StatusConflict, "last admin key", "Create another admin key first.")
	if _, err := e.relay.Authorize(context.Background(), e.adminRaw, scopes.Admin); err != nil {
		t.Fatalf("the last admin key was revoked: %v", err)
	}
	// With a second admin key, the first can go: this session ends.
	e.key("second-admin", scopes.Admin)
	expectRedirect(t, c.post("/dashboard/keys/"+e.admin.ID+"/revoke", url.Values{"csrf": {token}}), "/dashboard/keys")
	expectRedirect(t, c.get("/dashboard/keys"), "/dashboard/signin?ended=revoked")
}

func TestRotateKey(t *testing.T) {
	e := newEnv(t)
	k, oldRaw := e.key("rotating", scopes.Read)
	c := e.client()
	token := c.signIn()
	expect(t, c.get("/dashboard/keys/"+k.ID+"/rotate"), http.StatusOK, "Grace period (minutes)", `value="60"`)

	for _, bad := range []string{"soon", "-1", "1441", "1e3"} {
		r := c.post("/dashboard/keys/"+k.ID+"/rotate", url.Values{"csrf": {token}, "grace_minutes": {bad}})
		expect(t, r, http.StatusBadRequest, "Grace period must be a whole number of minutes from 0 to 1,440")
	}
	if _, err := e.relay.Authorize(context.Background(), oldRaw, scopes.Read); err != nil {
		t.Fatal("a refused rotation changed the key")
	}
	expectRedirect(t, c.post("/dashboard/keys/"+k.ID+"/rotate", url.Values{"csrf": {token}, "grace_minutes": {"1440"}}), "/dashboard/keys/new")
	shown := c.get("/dashboard/keys/new")
	expect(t, shown, http.StatusOK, "has a new secret", "the old one keeps working until")
	newRaw := secretRe.FindString(shown.body)
	if newRaw == "" || newRaw == oldRaw {
		t.Fatalf("rotated key %q", newRaw)
	}
	for _, raw := range []string{oldRaw, newRaw} {
		if _, err := e.relay.Authorize(context.Background(), raw, scopes.Read); err != nil {
			t.Errorf("during the grace period: %v", err)
		}
	}
	expect(t, c.get("/dashboard/keys"), http.StatusOK, "in rotation grace", "old secret until")
	expect(t, c.get("/dashboard/keys/new"), http.StatusGone)

	// After the grace, the old secret is refused and the key is active.
	e.clock.Add(24*time.Hour + time.Second)
	if _, err := e.relay.Authorize(context.Background(), oldRaw, scopes.Read); err == nil {
		t.Error("the old secret works after its grace")
	}
	if body := c.signInAgain(); !strings.Contains(body, "rotating") || strings.Contains(body, "in rotation grace") {
		t.Errorf("after the grace the key is not shown active:\n%s", body)
	}

	// A revoked key cannot be rotated.
	gone, _ := e.key("gone", scopes.Read)
	e.acct.Keys().Revoke(context.Background(), gone.ID)
	token = c.token()
	expect(t, c.get("/dashboard/keys/"+gone.ID+"/rotate"), http.StatusOK, "cannot be rotated")
	expect(t, c.post("/dashboard/keys/"+gone.ID+"/rotate", url.Values{"csrf": {token}, "grace_minutes": {"0"}}), http.StatusBadRequest)
}

// signInAgain signs in anew (the old session has timed out) and returns
// the keys page.
func (c *client) signInAgain() string {
	c.e.t.Helper()
	c.signIn()
	return c.get("/dashboard/keys").body
}

// TestCSRFOnEveryPost: every state-changing request without the
// session's token, with another one, or from another origin is refused
// and changes nothing.
func TestCSRFOnEveryPost(t *testing.T) {
	e := newEnv(t)
	victim, victimRaw := e.key("victim", scopes.Read)
	m := e.memory("agent-a", "a memory to keep", "")
	c := e.client()
	token := c.signIn()
	other := e.client()
	otherToken := other.signIn()
	if otherToken == token {
		t.Fatal("two sessions share a CSRF token")
	}
	posts := []struct {
		path string
		form url.Values
	}{
		{"/dashboard/keys", url.Values{"name": {"sneaky"}, "scope": {"admin"}}},
		{"/dashboard/keys/" + victim.ID + "/revoke", nil},
		{"/dashboard/keys/" + victim.ID + "/rotate", url.Values{"grace_minutes": {"0"}}},
		{"/dashboard/keys/" + victim.ID + "/edit", url.Values{"name": {"renamed"}, "daily_spend_limit": {"0"}}},
		{"/dashboard/memories/" + m.ID + "/delete", nil},
		{"/dashboard/signout", nil},
	}
	for _, p := range posts {
		for _, tc := range []struct {
			name   string
			token  string
			header [2]string
		}{
			{"no token", "", [2]string{}},
			{"forged token", "forged", [2]string{}},
			{"another session's token", otherToken, [2]string{}},
			{"cross-site", token, [2]string{"Sec-Fetch-Site", "cross-site"}},
			{"foreign origin", token, [2]string{"Origin", "https://evil.example"}},
		} {
			form := url.Values{}
			for k, v := range p.form {
				form[k] = v
			}
			if tc.token != "" {
				form.Set("csrf", tc.token)
			}
			if tc.header[0] != "" {
				c.header.Set(tc.header[0], tc.header[1])
			}
			r := c.post(p.path, form)
			c.header = http.Header{}
			if r.StatusCode != http.StatusForbidden {
				t.Errorf("POST %s, %s: %d, want 403", p.path, tc.name, r.StatusCode)
			}
		}
	}
	if n := e.keyCount(); n != 2 {
		t.Errorf("%d keys after refused posts, want 2", n)
	}
	if _, err := e.relay.Authorize(context.Background(), victimRaw, scopes.Read); err != nil {
		t.Errorf("a refused post revoked or rotated the key: %v", err)
	}
	if _, err := e.acct.Memories().Get(context.Background(), m.ID); err != nil {
		t.Errorf("a refused post deleted the memory: %v", err)
	}
	if k, err := e.acct.Keys().Get(context.Background(), victim.ID); err != nil || k.Name != "victim" || k.DailySpendLimit != nil {
		t.Errorf("a refused post edited the key: %+v, %v", k, err)
	}
	expect(t, c.get("/dashboard/keys"), http.StatusOK) // still signed in
}

func TestCreateKeySpendLimitsStored(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	token := c.signIn()
	r := c.post("/dashboard/keys", url.Values{"csrf": {token}, "name": {"capped"}, "scope": {"read"},
		"daily_spend_limit": {"12.5"}, "monthly_spend_limit": {"0"}})
	expectRedirect(t, r, "/dashboard/keys/new")
	p, err := e.acct.Keys().List(context.Background(), memory.PageParams{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range p.Data {
		if k.Name != "capped" {
			continue
		}
		if k.DailySpendLimit == nil || *k.DailySpendLimit != 12.5 || k.MonthlySpendLimit == nil || *k.MonthlySpendLimit != 0 {
			t.Fatalf("limits stored: daily %v, monthly %v; want 12.5 and 0", k.DailySpendLimit, k.MonthlySpendLimit)
		}
		return
	}
	t.Fatal("no key named capped")
}

// wordEmbedder is a paid embedder: the built-in one, billing one token
// per word.
type wordEmbedder struct{ embed.Embedder }

func (wordEmbedder) CountTokens(texts []string) int {
	n := 0
	for _, t := range texts {
		n += len(strings.Fields(t))
	}
	return n
}

// TestKeysListSpend: the keys list shows each key's spend today and this
// month (what the API's spend_info reports) against its daily and monthly
// limits, "no limit" where it has none, and a rotated key's rotation and
// auto-revoke instants.
func TestKeysListSpend(t *testing.T) {
	// $1 per million tokens: a 5-word memory costs $0.000005.
	e := newEnv(t, func(c *envConfig) {
		c.relay = memoryrelay.Options{Embedder: wordEmbedder{embed.NewHashing(0)}, EmbeddingPrice: 1}
	})
	ctx := context.Background()
	daily, monthly := 2.5, 40.0
	k, tok, err := e.acct.Keys().Create(ctx, memory.NewKey{Name: "metered", Scopes: scopes.NewSet(scopes.Read, scopes.Write),
		DailySpendLimit: &daily, MonthlySpendLimit: &monthly})
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("POST", e.srv.URL+"/v1/memories", strings.NewReader(`{"content":"one two three four five"}`))
	req.Header.Set("Authorization", "Bearer "+tok.Reveal())
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create a memory: %d", resp.StatusCode)
	}
	old, _ := e.key("rotated", scopes.Read)
	rot, _, err := e.acct.Keys().Rotate(ctx, old.ID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}

	c := e.client()
	c.signIn()
	list := c.get("/dashboard/keys")
	expect(t, list, http.StatusOK, "<th scope=\"col\">Spend</th>", " this month</td>")
	row := func(id string) string {
		i := strings.Index(list.body, `data-key-id="`+id+`"`)
		if i < 0 {
			t.Fatalf("no row of %s", id)
		}
		end := strings.Index(list.body[i:], "</tr>")
		return list.body[i : i+end]
	}
	metered := row(k.ID)
	for _, want := range []string{`class="spend-day">$0.000005 of $2.5<`, `class="spend-month">$0.000005 of $40<`} {
		if !strings.Contains(metered, want) {
			t.Errorf("the metered key's row lacks %q:\n%s", want, metered)
		}
	}
	admin := row(e.admin.ID)
	for _, want := range []string{`class="spend-day">$0 of no limit<`, `class="spend-month">$0 of no limit<`} {
		if !strings.Contains(admin, want) {
			t.Errorf("the admin key's row lacks %q:\n%s", want, admin)
		}
	}
	if strings.Contains(admin, "rotated") {
		t.Error("a key never rotated shows a rotation")
	}
	want := "rotated " + rot.DeprecatedAt.UTC().Format("2006-01-02 15:04 UTC") + "; old secret auto-revoked " + rot.GraceUntil.UTC().Format("2006-01-02 15:04 UTC")
	if r := row(rot.ID); !strings.Contains(r, want) {
		t.Errorf("the rotated key's row lacks %q:\n%s", want, r)
	}
}

// limit shows a spend limit by value: "none" for nil.
func limit(l *float64) string {
	if l == nil {
		return "none"
	}
	return fmt.Sprint(*l)
}

// TestEditKey: the edit page shows a key's name and spend limits, a post
// stores the change (an empty limit clears it), values at the limits are
// taken and one past them refused with the field's message and nothing
// changed, and an unknown key is a 404.
func TestEditKey(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	daily := 3.0
	k, _, err := e.acct.Keys().Create(ctx, memory.NewKey{Name: "before", Scopes: scopes.NewSet(scopes.Read), DailySpendLimit: &daily})
	if err != nil {
		t.Fatal(err)
	}
	c := e.client()
	token := c.signIn()
	path := "/dashboard/keys/" + k.ID + "/edit"
	expect(t, c.get(path), http.StatusOK, `value="before"`, `name="daily_spend_limit" type="number" min="0" step="0.01" inputmode="decimal" value="3"`, `action="`+path+`"`)
	expect(t, c.get("/dashboard/keys"), http.StatusOK, `href="`+path+`"`)

	r := c.post(path, url.Values{"csrf": {token}, "name": {" after "}, "daily_spend_limit": {""}, "monthly_spend_limit": {"7.25"}})
	expectRedirect(t, r, "/dashboard/keys")
	got, err := e.acct.Keys().Get(ctx, k.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "after" || got.DailySpendLimit != nil || got.MonthlySpendLimit == nil || *got.MonthlySpendLimit != 7.25 {
		t.Fatalf("after the edit: name %q, daily %v, monthly %v; want after, none, 7.25", got.Name, got.DailySpendLimit, got.MonthlySpendLimit)
	}
	expect(t, c.get("/dashboard/keys"), http.StatusOK, "was updated", "of $7.25")

	max := strconv.Itoa(keys.MaxSpendLimit)
	tests := []struct {
		name   string
		form   url.Values
		status int
		want   string
	}{
		{"name at the limit", url.Values{"name": {strings.Repeat("n", keys.MaxName)}}, 303, ""},
		{"name too long", url.Values{"name": {strings.Repeat("n", keys.MaxName+1)}}, 400, "Name must be"},
		{"empty name", url.Values{"name": {"  "}}, 400, "Enter a name"},
		{"limits at the maximum", url.Values{"name": {"x"}, "daily_spend_limit": {max}, "monthly_spend_limit": {max}}, 303, ""},
		{"daily past the maximum", url.Values{"name": {"x"}, "daily_spend_limit": {max + ".01"}}, 400, "Daily spend limit must be"},
		{"monthly negative", url.Values{"name": {"x"}, "monthly_spend_limit": {"-1"}}, 400, "Monthly spend limit must be"},
		{"monthly not a number", url.Values{"name": {"x"}, "monthly_spend_limit": {"lots"}}, 400, "Monthly spend limit must be"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before, err := e.acct.Keys().Get(ctx, k.ID)
			if err != nil {
				t.Fatal(err)
			}
			tt.form.Set("csrf", token)
			r := c.post(path, tt.form)
			if tt.status == http.StatusSeeOther {
				expectRedirect(t, r, "/dashboard/keys")
				return
			}
			expect(t, r, tt.status, tt.want, `role="alert"`, "Save")
			after, err := e.acct.Keys().Get(ctx, k.ID)
			if err != nil {
				t.Fatal(err)
			}
			if after.Name != before.Name || limit(after.DailySpendLimit) != limit(before.DailySpendLimit) || limit(after.MonthlySpendLimit) != limit(before.MonthlySpendLimit) {
				t.Errorf("a refused edit changed the key: %q %s %s, was %q %s %s", after.Name, limit(after.DailySpendLimit), limit(after.MonthlySpendLimit),
					before.Name, limit(before.DailySpendLimit), limit(before.MonthlySpendLimit))
			}
		})
	}
	if got, _ := e.acct.Keys().Get(ctx, k.ID); got.DailySpendLimit == nil || *got.DailySpendLimit != keys.MaxSpendLimit {
		t.Errorf("daily limit %v after the edit at the maximum", got.DailySpendLimit)
	}
	expect(t, c.get("/dashboard/keys/nope/edit"), http.StatusNotFound)
	// Another account's key: 404, and untouched.
	info, err := e.relay.CreateAccount(ctx, "other")
	if err != nil {
		t.Fatal(err)
	}
	foreign, _, err := e.relay.Account(info.ID).Keys().Create(ctx, memory.NewKey{Name: "theirs", Scopes: scopes.NewSet(scopes.Admin)})
	if err != nil {
		t.Fatal(err)
	}
	expect(t, c.get("/dashboard/keys/"+foreign.ID+"/edit"), http.StatusNotFound)
	expect(t, c.post("/dashboard/keys/"+foreign.ID+"/edit", url.Values{"csrf": {token}, "name": {"mine"}}), http.StatusNotFound)
	if got, _ := e.relay.Account(info.ID).Keys().Get(ctx, foreign.ID); got.Name != "theirs" {
		t.Errorf("another account's key renamed to %q", got.Name)
	}
	expect(t, c.post("/dashboard/keys/nope/edit", url.Values{"csrf": {token}, "name": {"x"}}), http.StatusNotFound)
}
