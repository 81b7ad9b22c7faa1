package dashboard

import (
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/memoryrelay/memoryrelay/internal/spend"
	"github.com/memoryrelay/memoryrelay/keys"
	"github.com/memoryrelay/memoryrelay/memory"
	"github.com/memoryrelay/memoryrelay/scopes"
)

// The API Keys page (Settings > API Keys of the hosted service): every key
// with its state, create, revoke with a confirmation, rotate with a grace
// period. A new secret is shown once, on the page the browser is sent to
// right after, and is then forgotten.

// MaxGraceMinutes is the longest grace period of a rotation, in the
// form's unit (keys.MaxGrace).
const MaxGraceMinutes = int(keys.MaxGrace / time.Minute)

// DefaultGraceMinutes is the grace period the rotate form proposes.
const DefaultGraceMinutes = 60

// Key states, as the keys page shows them.
const (
	statusActive  = "active"
	statusExpired = "expired"
	statusRevoked = "revoked"
	statusGrace   = "in rotation grace"
)

type keyRow struct {
	Key    keys.Key
	Status string
	Class  string // for the style sheet: ok, warn, off
	Own    bool   // the key of this session
	// What the key's requests cost in now's UTC day and month
	// (keys.Spend.At, as the API's spend_info), and its limits: "$0.25",
	// "no limit".
	SpendToday, SpendMonth   string
	DailyLimit, MonthlyLimit string
}

// usdLimit shows a spend limit; nil is "no limit".
func usdLimit(l *float64) string {
	if l == nil {
		return "no limit"
	}
	return "$" + strconv.FormatFloat(*l, 'f', -1, 64)
}

func keyStatus(k keys.Key, now time.Time) (status, class string) {
	switch {
	case k.RevokedAt != nil:
		return statusRevoked, "off"
	case k.ExpiresAt != nil && !now.Before(*k.ExpiresAt):
		return statusExpired, "off"
	case k.GraceUntil != nil && now.Before(*k.GraceUntil):
		return statusGrace, "warn"
	}
	return statusActive, "ok"
}

func (c *call) keyRow(k keys.Key) keyRow {
	st, cl := keyStatus(k, c.now)
	day, month := k.Spend.At(c.now)
	return keyRow{Key: k, Status: st, Class: cl, Own: k.ID == c.sess.key().ID,
		SpendToday: spend.Amount(day).String(), SpendMonth: spend.Amount(month).String(),
		DailyLimit: usdLimit(k.DailySpendLimit), MonthlyLimit: usdLimit(k.MonthlySpendLimit)}
}

// scopeChoice is a checkbox of the create form.
type scopeChoice struct {
	Name, Help string
	Checked    bool
}

var scopeHelp = []struct{ name, help string }{
	{"read", "List and retrieve agents, memories, entities, sessions, decisions, patterns, projects"},
	{"write", "Create and update them"},
	{"delete", "Delete them"},
	{"admin", "Full access including API key management and maintenance (implies the other three)"},
}

// keyForm is what the create form holds, kept to fill it again after an
// error.
type keyForm struct {
	Name, ExpiresDays, RateLimit string // ExpiresDays: empty for never
	DailySpend, MonthlySpend     string // USD, empty for no limit
	Scopes                       []scopeChoice
}

func newKeyForm(checked map[string]bool) keyForm {
	f := keyForm{}
	for _, s := range scopeHelp {
		f.Scopes = append(f.Scopes, scopeChoice{Name: s.name, Help: s.help, Checked: checked[s.name]})
	}
	return f
}

type keysData struct {
	Rows    []keyRow
	Pager   pager
	Form    keyForm
	MaxName int
	// The range of the Expires in field (keys.MinExpiresDays to keys.MaxExpiresDays).
	MinDays, MaxDays int
}

func (h *handler) keysPage(c *call) {
	c.showKeys(http.StatusOK, newKeyForm(map[string]bool{"read": true, "write": true}), "")
}

// showKeys renders the keys page with the create form f and an error.
func (c *call) showKeys(status int, f keyForm, errMsg string) {
	q := c.r.URL.Query()
	offset, err := parseOffset(q.Get("offset"))
	if err != nil {
		c.failErr(err)
		return
	}
	page, err := c.account().Keys().List(c.ctx(), memory.PageParams{Limit: KeysPage, Offset: offset})
	if err != nil {
		c.failErr(err)
		return
	}
	d := keysData{Form: f, MaxName: keys.MaxName, MinDays: keys.MinExpiresDays, MaxDays: keys.MaxExpiresDays, Pager: c.pager("/keys", url.Values{}, page.Offset, page.Limit, page.Total, len(page.Data))}
	for _, k := range page.Data {
		d.Rows = append(d.Rows, c.keyRow(k))
	}
	c.render(status, "keys", "API keys", view{Error: errMsg, Data: d})
}

// createKey makes a key from the form and sends the browser to the page
// that shows its secret once.
func (h *handler) createKey(c *call) {
	form := c.r.PostForm
	checked := map[string]bool{}
	for _, s := range form["scope"] {
		checked[s] = true
	}
	f := newKeyForm(checked)
	f.Name, f.ExpiresDays, f.RateLimit = form.Get("name"), form.Get("expires_days"), form.Get("rate_limit")
	f.DailySpend, f.MonthlySpend = form.Get("daily_spend_limit"), form.Get("monthly_spend_limit")
	in, err := parseNewKey(f.Name, form["scope"], f.ExpiresDays, f.RateLimit, c.now)
	if err == nil {
		in.DailySpendLimit, err = parseSpendLimit("Daily spend limit", f.DailySpend)
	}
	if err == nil {
		in.MonthlySpendLimit, err = parseSpendLimit("Monthly spend limit", f.MonthlySpend)
	}
	if err == nil {
		var k keys.Key
		var tok keys.Token
		if k, tok, err = c.account().Keys().Create(c.ctx(), in); err == nil {
			c.sess.setReveal(&reveal{key: k, secret: tok.Reveal(), until: c.now.Add(RevealTTL)})
			c.redirect("/keys/new")
			return
		}
	}
	status, msg := h.describe(err)
	if status >= 500 {
		c.fail(status, msg)
		return
	}
	c.showKeys(status, f, msg)
}

// parseNewKey reads the create form; the library checks the values.
func parseNewKey(name string, scopeNames []string, expiresDays, rateLimit string, now time.Time) (memory.NewKey, error) {
	set, err := scopes.ParseSet(scopeNames)
	if err != nil {
		return memory.NewKey{}, badInput("Choose scopes among read, write, delete and admin.")
	}
	if set.IsEmpty() {
		return memory.NewKey{}, badInput("Choose at least one scope.")
	}
	in := memory.NewKey{Name: strings.TrimSpace(name), Scopes: set}
	if in.ExpiresAt, err = parseExpiresDays(expiresDays, now); err != nil {
		return memory.NewKey{}, err
	}
	if in.RateLimit, err = parseRateLimit(rateLimit); err != nil {
		return memory.NewKey{}, err
	}
	return in, nil
}

// parseExpiresDays reads an expiry in whole days from now, as the
// hosted create's expires_days (API.md §10.2): keys.MinExpiresDays to
// keys.MaxExpiresDays; empty is never.
func parseExpiresDays(s string, now time.Time) (*time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	d, err := strconv.Atoi(s)
	if err != nil || d < keys.MinExpiresDays || d > keys.MaxExpiresDays {
		return nil, badInput("Expires in must be a whole number of days from " + strconv.Itoa(keys.MinExpiresDays) + " to " + strconv.Itoa(keys.MaxExpiresDays) + ", or empty for a key that never expires.")
	}
	t := now.Add(time.Duration(d) * 24 * time.Hour)
	return &t, nil
}

// parseRateLimit reads a per-minute rate limit; empty is the server's
// default (0).
func parseRateLimit(s string) (int, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > keys.MaxRateLimit {
		return 0, badInput("Rate limit must be a whole number of requests per minute, from 0 (the server's default) to " + number(keys.MaxRateLimit) + ".")
	}
	return n, nil
}

// parseSpendLimit reads a spend limit in USD, 0 to keys.MaxSpendLimit;
// empty is no limit.
func parseSpendLimit(field, s string) (*float64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || v < 0 || v > keys.MaxSpendLimit {
		return nil, badInput(field + " must be a number of USD from 0 to " + number(int64(keys.MaxSpendLimit)) + ", or empty for no limit.")
	}
	return &v, nil
}

type newKeyData struct {
	Key     keys.Key
	Secret  string
	Rotated bool
}

// newKeyPage shows a key just created or rotated, once.
func (h *handler) newKeyPage(c *call) {
	rv := c.sess.takeReveal(c.now)
	if rv == nil {
		c.render(http.StatusGone, "newkey", "Key already shown", view{})
		return
	}
	title := "Your new API key"
	if rv.rotated {
		title = "Your rotated API key"
	}
	c.render(http.StatusOK, "newkey", title, view{Data: newKeyData{Key: rv.key, Secret: rv.secret, Rotated: rv.rotated}})
}

type confirmData struct {
	Row   keyRow
	Grace int // rotate: the grace period proposed, in minutes
	Max   int
}

// keyPage renders a confirmation page of the key in the path.
func (c *call) keyPage(status int, page, title string, errMsg string, grace int) {
	k, err := c.account().Keys().Get(c.ctx(), c.r.PathValue("id"))
	if err != nil {
		c.failErr(err)
		return
	}
	c.render(status, page, title, view{Error: errMsg, Data: confirmData{Row: c.keyRow(k), Grace: grace, Max: MaxGraceMinutes}})
}

func (h *handler) revokePage(c *call) { c.keyPage(http.StatusOK, "revoke", "Revoke key", "", 0) }

func (h *handler) revokeKey(c *call) {
	k, err := c.account().Keys().Revoke(c.ctx(), c.r.PathValue("id"))
	if err != nil {
		status, msg := h.describe(err)
		if status == http.StatusNotFound || status >= 500 {
			c.fail(status, msg)
			return
		}
		c.keyPage(status, "revoke", "Revoke key", msg, 0)
		return
	}
	c.sess.setNotice("The key “" + k.Name + "” was revoked. Requests made with it are refused from now on.")
	c.redirect("/keys")
}

func (h *handler) rotatePage(c *call) {
	c.keyPage(http.StatusOK, "rotate", "Rotate key", "", DefaultGraceMinutes)
}

func (h *handler) rotateKey(c *call) {
	grace, err := parseGrace(c.r.PostFormValue("grace_minutes"))
	if err == nil {
		var k keys.Key
		var tok keys.Token
		if k, tok, err = c.account().Keys().Rotate(c.ctx(), c.r.PathValue("id"), time.Duration(grace)*time.Minute); err == nil {
			c.sess.setReveal(&reveal{key: k, secret: tok.Reveal(), rotated: true, until: c.now.Add(RevealTTL)})
			c.redirect("/keys/new")
			return
		}
	}
	status, msg := h.describe(err)
	if status == http.StatusNotFound || status >= 500 {
		c.fail(status, msg)
		return
	}
	c.keyPage(status, "rotate", "Rotate key", msg, DefaultGraceMinutes)
}

// parseGrace reads a grace period in minutes, 0 to MaxGraceMinutes.
func parseGrace(s string) (int, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > MaxGraceMinutes {
		return 0, badInput("Grace period must be a whole number of minutes from 0 to " + number(int64(MaxGraceMinutes)) + " (24 hours).")
	}
	return n, nil
}

// editForm is what the edit form holds: the key's values, or what was
// typed, after an error.
type editForm struct {
	Name, DailySpend, MonthlySpend string // a limit empty for none
}

type editData struct {
	Row     keyRow
	Form    editForm
	MaxName int
}

// usdField is a spend limit as the form shows it; nil is empty.
func usdField(l *float64) string {
	if l == nil {
		return ""
	}
	return strconv.FormatFloat(*l, 'f', -1, 64)
}

// editPage shows the form that changes a key's name and spend limits.
func (h *handler) editPage(c *call) {
	k, err := c.account().Keys().Get(c.ctx(), c.r.PathValue("id"))
	if err != nil {
		c.failErr(err)
		return
	}
	f := editForm{Name: k.Name, DailySpend: usdField(k.DailySpendLimit), MonthlySpend: usdField(k.MonthlySpendLimit)}
	c.showEdit(http.StatusOK, k, f, "")
}

func (c *call) showEdit(status int, k keys.Key, f editForm, errMsg string) {
	c.render(status, "edit", "Edit key", view{Error: errMsg, Data: editData{Row: c.keyRow(k), Form: f, MaxName: keys.MaxName}})
}

// editKey changes a key's name and both spend limits as the form gives
// them (an empty limit clears it); the library checks the values.
func (h *handler) editKey(c *call) {
	form := c.r.PostForm
	f := editForm{Name: form.Get("name"), DailySpend: form.Get("daily_spend_limit"), MonthlySpend: form.Get("monthly_spend_limit")}
	name := strings.TrimSpace(f.Name)
	p := memory.KeyPatch{Name: &name, DailySpendLimit: keys.LimitChange{Set: true}, MonthlySpendLimit: keys.LimitChange{Set: true}}
	var err error
	if name == "" {
		err = badInput("Enter a name, 1 to " + strconv.Itoa(keys.MaxName) + " characters.")
	}
	if err == nil {
		p.DailySpendLimit.USD, err = parseSpendLimit("Daily spend limit", f.DailySpend)
	}
	if err == nil {
		p.MonthlySpendLimit.USD, err = parseSpendLimit("Monthly spend limit", f.MonthlySpend)
	}
	if err == nil {
		var k keys.Key
		if k, err = c.account().Keys().Update(c.ctx(), c.r.PathValue("id"), p); err == nil {
			c.sess.setNotice("The key “" + k.Name + "” was updated.")
			c.redirect("/keys")
			return
		}
	}
	status, msg := h.describe(err)
	if status == http.StatusNotFound || status >= 500 {
		c.fail(status, msg)
		return
	}
	k, gerr := c.account().Keys().Get(c.ctx(), c.r.PathValue("id"))
	if gerr != nil {
		c.failErr(gerr)
		return
	}
	c.showEdit(status, k, f, msg)
}
