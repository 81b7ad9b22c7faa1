package dashboard_test

import (
	"context"
	"flag"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/memoryrelay/memoryrelay/scopes"
)

// The dashboard in a real browser: Debian's chromium, headless, driven by
// chromedp against the httptest server of newEnv.

var updateScreenshots = flag.Bool("update-screenshots", false, "write the README's screenshots to testdata/screenshots")

// chromium finds the browser. Without one the test skips, except under CI
// (CI set), where it fails: .ci/run installs chromium.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{os.Getenv("CHROMIUM"), "chromium", "chromium-browser", "google-chrome"} {
		if name == "" {
			continue
		}
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("no chromium found (set CHROMIUM, or install Debian's chromium: .ci/run does)")
	}
	t.Skip("no chromium found; install Debian's chromium (or set CHROMIUM) to run the browser tests")
	return ""
}

// tab is a headless browser with one tab on the dashboard.
type tab struct {
	t        *testing.T
	e        *env
	ctx      context.Context
	console  *consoleLog
	shots    string // the directory of screenshots
	step     int
	closeAll func()
}

// consoleLog keeps what the pages wrote to the console, and the browser's
// own reports (Content-Security-Policy violations among them).
type consoleLog struct {
	mu   sync.Mutex
	msgs []chromedp.ConsoleMessage
}

func (l *consoleLog) add(m chromedp.ConsoleMessage) {
	l.mu.Lock()
	l.msgs = append(l.msgs, m)
	l.mu.Unlock()
}

func (l *consoleLog) all() []chromedp.ConsoleMessage {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]chromedp.ConsoleMessage(nil), l.msgs...)
}

// newTab starts chromium and checks, at cleanup, that it and every process
// it started are gone.
func newTab(t *testing.T, e *env) *tab {
	t.Helper()
	path := chromium(t)
	dir, err := os.MkdirTemp("", "dashboard-chromium")
	if err != nil {
		t.Fatal(err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.UserDataDir(dir),
		chromedp.DisableGPU,
		chromedp.WindowSize(1280, 900),
	)
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox) // chromium refuses to run as root with its sandbox
	}
	base, cancelBase := context.WithTimeout(context.Background(), 3*time.Minute)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(base, opts...)
	ctx, cancelTab := chromedp.NewContext(allocCtx)
	tb := &tab{t: t, e: e, ctx: ctx, console: &consoleLog{}, shots: t.ArtifactDir()}
	tb.closeAll = func() {
		cancelTab()
		cancelAlloc() // waits for the browser to exit
		cancelBase()
	}
	t.Cleanup(func() {
		tb.closeAll()
		// No process of this browser may outlive the test.
		deadline := time.Now().Add(5 * time.Second)
		for {
			left := processesUsing(dir)
			if len(left) == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Errorf("chromium processes outlive the test: %v", left)
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		for range 50 { // children may still write in the directory briefly
			if err := os.RemoveAll(dir); err == nil {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
	if err := chromedp.Do(ctx); err != nil { // start the browser
		t.Fatalf("starting chromium: %v", err)
	}
	if len(processesUsing(dir)) == 0 {
		t.Fatal("cannot see the browser's processes: the leak check at cleanup would prove nothing")
	}
	msgs := chromedp.Console(ctx)
	go func() {
		for m, err := range msgs {
			if err != nil {
				return
			}
			tb.console.add(m)
		}
	}()
	// The copy button writes the clipboard; let the page read it back.
	for _, name := range []string{"clipboard-read", "clipboard-write"} {
		if _, err := chromedp.CallBrowser(ctx, browser.SetPermission, browser.SetPermissionParams{
			Permission: &browser.PermissionDescriptor{Name: name}, Setting: browser.PermissionSettingGranted, Origin: e.srv.URL,
		}); err != nil {
			t.Logf("clipboard permission %s: %v", name, err)
		}
	}
	return tb
}

// processesUsing lists the pids whose command line names the user data
// directory dir.
func processesUsing(dir string) []int {
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, en := range entries {
		pid, err := strconv.Atoi(en.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", en.Name(), "cmdline"))
		if err == nil && strings.Contains(string(b), "--user-data-dir="+dir) {
			pids = append(pids, pid)
		}
	}
	return pids
}

func (b *tab) fatal(what string, err error) {
	b.t.Helper()
	b.shot("failure")
	b.t.Fatalf("%s: %v", what, err)
}

// open navigates to a dashboard path and returns the status.
func (b *tab) open(path string) int64 {
	b.t.Helper()
	resp, err := chromedp.Run(b.ctx, chromedp.NavigateResponse(b.e.srv.URL+"/dashboard"+path))
	if err != nil {
		b.fatal("open "+path, err)
	}
	return resp.Status
}

// click clicks what sel selects and waits for the page it loads; it
// returns the status of that page.
func (b *tab) click(sel string) int64 {
	b.t.Helper()
	resp, err := chromedp.RunResponse(b.ctx, chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible))
	if err != nil {
		b.fatal("click "+sel, err)
	}
	return resp.Status
}

// set sets the value of a form field.
func (b *tab) set(sel, value string) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, chromedp.SetValue(chromedp.CSS(sel), value)); err != nil {
		b.fatal("set "+sel, err)
	}
}

// typeInto types text into a field with the keyboard.
func (b *tab) typeInto(sel, text string) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, chromedp.SendKeys(chromedp.CSS(sel), text)); err != nil {
		b.fatal("type into "+sel, err)
	}
}

func (b *tab) text(sel string) string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		b.fatal("text of "+sel, err)
	}
	return s
}

func evaluate[T any](b *tab, js string, opts ...chromedp.EvaluateOption) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](js, opts...))
	if err != nil {
		b.fatal("evaluate "+js, err)
	}
	return v
}

// html is the page's whole markup.
func (b *tab) html() string { return evaluate[string](b, "document.documentElement.outerHTML") }

func (b *tab) location() string {
	b.t.Helper()
	l, err := chromedp.Run(b.ctx, chromedp.Location())
	if err != nil {
		b.fatal("location", err)
	}
	return l
}

// expectText fails unless the element sel holds each of want.
func (b *tab) expectText(sel string, want ...string) {
	b.t.Helper()
	got := b.text(sel)
	for _, w := range want {
		if !strings.Contains(got, w) {
			b.shot("failure")
			b.t.Fatalf("%s on %s lacks %q: %q", sel, b.location(), w, got)
		}
	}
}

func (b *tab) expectStatus(what string, got, want int64) {
	b.t.Helper()
	if got != want {
		b.shot("failure")
		b.t.Fatalf("%s: status %d, want %d (at %s)", what, got, want, b.location())
	}
}

// shot writes a screenshot of the whole page, numbered in order.
func (b *tab) shot(name string) []byte {
	b.t.Helper()
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
		return nil
	}
	b.step++
	if err := os.WriteFile(filepath.Join(b.shots, strconv.Itoa(100 + b.step)[1:]+"-"+name+".png"), png, 0o644); err != nil {
		b.t.Errorf("screenshot %s: %v", name, err)
	}
	return png
}

// apiStatus calls the REST API with a key and returns the status.
func (e *env) apiStatus(t *testing.T, method, path, raw string) int {
	t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+raw)
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestBrowser walks the dashboard as a person would: sign in, create a key
// and see it once, use it, revoke it, rotate one, search memories, open a
// hostile one, delete one, look at agents, usage and health, at a phone's
// width too, and sign out.
func TestBrowser(t *testing.T) {
	e := newEnv(t)
	_, readerRaw := e.key("read-only", scopes.Read)
	_, rotRaw := e.key("rotating", scopes.Read, scopes.Write)
	e.memory("alice", "The user prefers TypeScript over JavaScript for new projects.", `{"source": "chat"}`)
	e.memory("alice", "Deployments happen on Tuesdays after the standup.", "")
	doomed := e.memory("bob", "A memory that the test deletes.", "")
	hostile := e.memory("mallory", scriptContent+"\n"+attrContent+"\n"+strings.Repeat("long text ", 60), `{"x": "<script>window.__xss=1</script>"}`)
	b := newTab(t, e)

	// Sign-in: the skip link comes first on the keyboard; a key without
	// admin gets a clear page.
	expectRedirectInBrowser(b, "/keys", "/dashboard/signin")
	if err := chromedp.Do(b.ctx, chromedp.KeyEvent("\t")); err != nil {
		b.fatal("tab", err)
	}
	if got := evaluate[string](b, "document.activeElement.className"); got != "skip" {
		t.Errorf("the first Tab stop is %q, want the skip link", got)
	}
	b.shot("signin")
	if bare := evaluate[[]string](b, unlabelled); len(bare) > 0 {
		t.Errorf("sign-in: controls without a label: %v", bare)
	}
	b.typeInto("#key", readerRaw)
	b.expectStatus("sign in with a read key", b.click("form button[type=submit]"), http.StatusForbidden)
	b.expectText("main", "This key cannot manage the account", "admin")
	b.shot("not-admin")

	b.open("/signin")
	b.typeInto("#key", e.adminRaw+"\r") // Enter submits
	if err := chromedp.Do(b.ctx, chromedp.WaitVisible(chromedp.CSS("table.keys"))); err != nil {
		b.fatal("keys page after sign-in", err)
	}
	if l := b.location(); !strings.HasSuffix(l, "/dashboard/keys") || strings.Contains(l, "mem_") {
		t.Errorf("after sign-in at %s", l)
	}
	// The browser holds a session id only: HttpOnly, SameSite=Strict; no
	// script can read it, nothing is in web storage, the key is nowhere.
	cookies, err := chromedp.Call(b.ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{e.srv.URL + "/dashboard/keys"}})
	if err != nil {
		b.fatal("cookies", err)
	}
	var session *network.Cookie
	for _, c := range cookies.Cookies {
		if strings.Contains(c.Value, e.adminRaw) {
			t.Errorf("cookie %s holds the key", c.Name)
		}
		if c.Name == "memoryrelay_session" {
			session = c
		}
	}
	if session == nil || !session.HTTPOnly || session.SameSite != network.CookieSameSiteStrict || session.Session || session.Path != "/dashboard/" {
		t.Errorf("session cookie %+v: want HttpOnly, SameSite=Strict, an expiry, path /dashboard/", session)
	}
	if got := evaluate[string](b, "document.cookie"); got != "" {
		t.Errorf("script sees cookies %q", got)
	}
	if n := evaluate[int](b, "localStorage.length + sessionStorage.length"); n != 0 {
		t.Errorf("%d items in web storage", n)
	}
	if strings.Contains(b.html(), e.adminRaw) {
		t.Error("the page holds the admin key")
	}
	b.shot("keys")

	// Create a key: shown once, copied, working.
	b.set("#name", "ci-bot")
	b.expectStatus("create a key", b.click("form[action$='/keys'] button[type=submit]"), http.StatusOK)
	b.expectText("main", "Copy the key now: it is only shown once", "never commit them to source control")
	secret, err := chromedp.Run(b.ctx, chromedp.Value(chromedp.CSS("#secret")))
	if err != nil || !secretRe.MatchString(secret) {
		b.fatal("the new key", err)
	}
	if err := chromedp.Do(b.ctx, chromedp.Click(chromedp.CSS("button[data-copy]"), chromedp.NodeVisible)); err != nil {
		b.fatal("copy", err)
	}
	if _, err := chromedp.Run(b.ctx, chromedp.Poll[bool](`document.getElementById("copy-status").textContent.includes("Copied")`, chromedp.WithPollingTimeout(5*time.Second))); err != nil {
		t.Errorf("the copy button did not say it copied: %q", b.text("#copy-status"))
	} else if clip, err := chromedp.Run(b.ctx, chromedp.Evaluate[string]("navigator.clipboard.readText()", chromedp.EvalAwaitPromise)); err == nil && clip != secret {
		t.Errorf("the clipboard holds %q, want the new key", clip)
	}
	b.shot("new-key")
	if got := e.apiStatus(t, "GET", "/v1/agents", secret); got != http.StatusOK {
		t.Errorf("the new key over the API: %d, want 200", got)
	}
	b.expectStatus("the new key's page again", b.open("/keys/new"), http.StatusGone)
	b.expectText("main", "shown only once")
	for _, p := range []string{"/keys/new", "/keys", "/usage"} {
		b.open(p)
		if strings.Contains(b.html(), secret) {
			t.Errorf("%s shows the new key after its page", p)
		}
	}

	// Revoke it, with a confirmation: then the API refuses it.
	b.open("/keys")
	b.expectStatus("revoke link", b.click(`a[aria-label="Revoke ci-bot"]`), http.StatusOK)
	b.expectText("main", "Revoke the key", "ci-bot", "cannot be undone")
	if got := e.apiStatus(t, "GET", "/v1/agents", secret); got != http.StatusOK {
		t.Fatalf("the confirmation page revoked the key: %d", got)
	}
	b.shot("revoke-confirm")
	b.expectStatus("confirm revoke", b.click("form button.danger"), http.StatusOK)
	b.expectText("main", "The key “ci-bot” was revoked")
	if got := e.apiStatus(t, "GET", "/v1/agents", secret); got != http.StatusUnauthorized {
		t.Errorf("the revoked key over the API: %d, want 401", got)
	}

	// Rotate another: both secrets work during the grace period.
	b.expectStatus("rotate link", b.click(`a[aria-label="Rotate rotating"]`), http.StatusOK)
	b.set("#grace", "30")
	b.expectStatus("rotate", b.click("form button[type=submit]:not(.link)"), http.StatusOK)
	b.expectText("main", "has a new secret", "the old one keeps working until")
	rotated, err := chromedp.Run(b.ctx, chromedp.Value(chromedp.CSS("#secret")))
	if err != nil || !secretRe.MatchString(rotated) || rotated == rotRaw {
		b.fatal("the rotated key", err)
	}
	for _, raw := range []string{rotRaw, rotated} {
		if got := e.apiStatus(t, "GET", "/v1/agents", raw); got != http.StatusOK {
			t.Errorf("a secret during the grace period: %d, want 200", got)
		}
	}
	b.open("/keys")
	b.expectText("table.keys", "in rotation grace", "revoked")

	// The last admin key stays.
	b.click(`a[aria-label="Revoke bootstrap-admin"]`)
	b.expectText("main", "This is the key you signed in with")
	b.expectStatus("revoke the last admin key", b.click("form button.danger"), http.StatusConflict)
	b.expectText("#page-error", "last admin key", "Create another admin key first.")
	b.shot("last-admin")

	// Search memories: mode, scores.
	b.open("/memories")
	b.set("#q", "which language does the user prefer")
	b.set("#mode", "hybrid")
	b.set("#agent", "alice")
	b.expectStatus("search", b.click("form[role=search] button[type=submit]"), http.StatusOK)
	b.expectText("ol.memories", "TypeScript", "score 0.")
	if strings.Contains(b.text("ol.memories"), "mallory") {
		t.Error("the agent filter let another agent through")
	}
	b.shot("search")

	// A hostile memory is text: no script runs, no handler exists.
	for _, p := range []string{"/memories", "/memories/" + hostile.ID} {
		b.expectStatus(p, b.open(p), http.StatusOK)
		if err := chromedp.Do(b.ctx, chromedp.Sleep(100*time.Millisecond)); err != nil {
			b.fatal("wait", err)
		}
		if got := evaluate[string](b, "typeof window.__xss"); got != "undefined" {
			t.Errorf("%s: a script of the memory ran (window.__xss is %s)", p, got)
		}
		if n := evaluate[int](b, "document.querySelectorAll('[onmouseover],[onerror],[onload],img,svg').length"); n != 0 {
			t.Errorf("%s: %d elements came from the memory's text", p, n)
		}
		if n := evaluate[int](b, "document.scripts.length"); n != 1 {
			t.Errorf("%s: %d scripts, want only the dashboard's", p, n)
		}
	}
	if err := chromedp.Do(b.ctx, chromedp.Click(chromedp.CSS("#content"))); err != nil { // mouse over and on the content
		b.fatal("hover", err)
	}
	if got := evaluate[string](b, "typeof window.__xss"); got != "undefined" {
		t.Error("hovering the memory ran its script")
	}
	b.expectText("#content", "<script>window.__xss=1</script>", `" onmouseover="window.__xss=1"`)
	b.expectText("#metadata", `"x": "<script>window.__xss=1</script>"`)
	b.shot("hostile-memory")
	b.open("/memories?agent=mallory")
	b.expectText("ol.memories", "Read all")

	// Delete one, with a confirmation.
	b.open("/memories/" + doomed.ID)
	b.expectStatus("delete link", b.click("p.actions a.danger"), http.StatusOK)
	b.expectText("main", "This cannot be undone")
	b.expectStatus("confirm delete", b.click("form button.danger"), http.StatusOK)
	b.expectText("main", "The memory was deleted.")
	if got := e.apiStatus(t, "GET", "/v1/memories/"+doomed.ID, e.adminRaw); got != http.StatusNotFound {
		t.Errorf("the deleted memory over the API: %d, want 404", got)
	}

	// Agents, usage, health.
	b.open("/agents")
	b.expectText("main table", "alice", "mallory")
	b.open("/usage")
	b.expectText("main table", "bootstrap-admin", "Requests today")
	b.shot("usage")
	b.open("/health")
	b.expectText("#health-status")
	b.expectText("main", "database", "Uptime")
	b.shot("health")

	// A phone's width: nothing wider than the screen but the tables, which
	// scroll in their own box.
	if err := chromedp.Do(b.ctx, chromedp.EmulateViewport(375, 812)); err != nil {
		b.fatal("viewport", err)
	}
	// Every control of every page has a label.
	for _, p := range []string{"/keys", "/memories", "/memories/" + hostile.ID, "/usage", "/keys/" + e.admin.ID + "/rotate", "/agents", "/health"} {
		b.open(p)
		if w := evaluate[int](b, "document.documentElement.scrollWidth - window.innerWidth"); w > 0 {
			t.Errorf("%s at 375px is %dpx wider than the screen", p, w)
		}
		if bare := evaluate[[]string](b, unlabelled); len(bare) > 0 {
			t.Errorf("%s: controls without a label: %v", p, bare)
		}
		if low := evaluate[[]string](b, lowContrast); len(low) > 0 {
			t.Errorf("%s: text below WCAG AA contrast: %v", p, low)
		}
	}
	b.open("/keys")
	mobile := b.shot("keys-mobile")
	if err := chromedp.Do(b.ctx, chromedp.EmulateViewport(1280, 900)); err != nil {
		b.fatal("viewport", err)
	}
	b.open("/keys")
	desktop := b.shot("keys-desktop")
	if *updateScreenshots {
		for name, png := range map[string][]byte{"keys.png": desktop, "keys-mobile.png": mobile} {
			if err := os.WriteFile(filepath.Join("testdata", "screenshots", name), png, 0o644); err != nil {
				t.Error(err)
			}
		}
	}

	// Sign out: the session is over on the server too.
	b.expectStatus("sign out", b.click("form.signout button"), http.StatusOK)
	b.expectText("main", "You are signed out.")
	expectRedirectInBrowser(b, "/keys", "/dashboard/signin")

	// Our own pages broke no rule of their Content-Security-Policy and
	// threw nothing.
	for _, m := range b.console.all() {
		if m.Type == chromedp.ConsoleException || strings.Contains(m.Text, "Content Security Policy") || strings.Contains(m.Text, "Refused to") {
			t.Errorf("console: %s: %s", m.Type, m.Text)
		}
	}
}

// unlabelled lists the form controls of a page that have no label, and
// the buttons and links that have no name.
const unlabelled = `[...document.querySelectorAll("input:not([type=hidden]), select, textarea")]
	.filter(el => el.labels.length === 0 && !el.getAttribute("aria-label")).map(el => el.outerHTML)
	.concat([...document.querySelectorAll("button, a")].filter(el => !el.hidden && el.textContent.trim() === "" && !el.getAttribute("aria-label")).map(el => el.outerHTML))`

// lowContrast lists the visible text of a page whose colour against its
// background is below WCAG 2 AA: a contrast ratio of 4.5:1, or 3:1 for
// large text (24px, or 18.66px bold). The background is the first opaque
// one among the element and its ancestors, as the browser computed them.
const lowContrast = `(() => {
	const rgb = s => (s.match(/[\d.]+/g) || []).map(Number);
	const lum = ([r, g, b]) => {
		const c = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
		return 0.2126 * c(r) + 0.7152 * c(g) + 0.0722 * c(b);
	};
	const background = el => {
		for (; el; el = el.parentElement) {
			const c = rgb(getComputedStyle(el).backgroundColor);
			if (c.length === 3 || (c.length === 4 && c[3] > 0)) return c.slice(0, 3);
		}
		return [255, 255, 255];
	};
	const out = [];
	for (const el of document.querySelectorAll("body *")) {
		const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim() !== "");
		if (!own || el.getClientRects().length === 0) continue;
		const st = getComputedStyle(el);
		if (st.visibility === "hidden" || parseFloat(st.opacity) === 0) continue;
		const fg = lum(rgb(st.color)), bg = lum(background(el));
		const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
		const size = parseFloat(st.fontSize), bold = parseInt(st.fontWeight, 10) >= 700;
		const need = size >= 24 || (bold && size >= 18.66) ? 3 : 4.5;
		if (ratio < need) out.push(el.tagName + " " + JSON.stringify(el.textContent.trim().slice(0, 40)) + " " + ratio.toFixed(2));
	}
	return out;
})()`

// expectRedirectInBrowser opens path and checks where the browser lands.
func expectRedirectInBrowser(b *tab, path, wantPath string) {
	b.t.Helper()
	b.open(path)
	if l := b.location(); !strings.Contains(l, wantPath) {
		b.t.Fatalf("%s led to %s, want %s", path, l, wantPath)
	}
}
