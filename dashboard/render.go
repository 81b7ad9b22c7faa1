package dashboard

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/memoryrelay/memoryrelay/keys"
	"github.com/memoryrelay/memoryrelay/scopes"
)

// ui holds the templates (ui/templates) and the static files
// (ui/assets) of the dashboard: all of it is in the binary.
//
//go:embed ui
var ui embed.FS

// view is what the layout shows around every page.
type view struct {
	Title  string
	Base   string // the mount prefix, for links
	Nav    string // the current section: "keys", "memories", …
	Signed bool
	CSRF   string   // the session's token, for the forms of the page
	Key    keys.Key // the signed-in key
	Notice string   // a message of success
	Error  string   // what went wrong
	Data   any      // the page's own data
}

// pages are the parsed templates: each page file with the layout.
type pages struct{ t map[string]*template.Template }

// sections name the navigation entry each page belongs to.
var sections = map[string]string{
	"keys": "keys", "newkey": "keys", "revoke": "keys", "rotate": "keys", "edit": "keys",
	"memories": "memories", "memory": "memories", "delete": "memories",
	"agents": "agents", "usage": "usage", "health": "health",
}

var funcs = template.FuncMap{
	"when":    formatTime,
	"whenp":   formatTimePtr,
	"scopes":  func(s scopes.Set) string { return strings.Join(s.Strings(), ", ") },
	"preview": preview,
	"long":    func(s string) bool { return utf8.RuneCountInString(s) > PreviewChars },
	"chars":   func(s string) string { return number(int64(utf8.RuneCountInString(s))) },
	"json":    indentJSON,
	"score":   func(f float64) string { return strconv.FormatFloat(f, 'f', 3, 64) },
	"num":     func(n any) string { return fmt.Sprint(number(toInt64(n))) },
	"dur":     formatDuration,
	"deref":   func(s *string) string { return deref(s) },
}

func parsePages() (*pages, error) {
	names, err := fs.Glob(ui, "ui/templates/*.html")
	if err != nil {
		return nil, err
	}
	p := &pages{t: make(map[string]*template.Template)}
	for _, name := range names {
		base := strings.TrimSuffix(path.Base(name), ".html")
		if base == "layout" {
			continue
		}
		t, err := template.New(base).Funcs(funcs).ParseFS(ui, "ui/templates/layout.html", name)
		if err != nil {
			return nil, err
		}
		p.t[base] = t
	}
	return p, nil
}

// render writes a page inside the layout. The page is executed into a
// buffer first, so that a template error becomes a clean 500, never half a
// page.
func (c *call) render(status int, page, title string, v view) {
	v.Title, v.Base, v.Nav = title, c.base, sections[page]
	if c.sess != nil {
		v.Signed, v.CSRF, v.Key = true, c.sess.csrf, c.sess.key()
		if n := c.sess.takeNotice(); n != "" && v.Notice == "" {
			v.Notice = n
		}
	}
	t := c.h.pages.t[page]
	var buf bytes.Buffer
	if t == nil {
		c.h.opts.Logger.Error("dashboard: no template", "page", page)
		http.Error(c.w, "Internal error", http.StatusInternalServerError)
		return
	}
	if err := t.ExecuteTemplate(&buf, "layout", v); err != nil {
		c.h.opts.Logger.Error("dashboard: rendering a page failed", "page", page, "err", err)
		http.Error(c.w, "Internal error", http.StatusInternalServerError)
		return
	}
	c.w.Header().Set("Content-Type", "text/html; charset=utf-8")
	c.w.WriteHeader(status)
	c.w.Write(buf.Bytes())
}

// fail shows an error page with the status and a message for people.
func (c *call) fail(status int, msg string) {
	c.render(status, "error", http.StatusText(status), view{Error: msg})
}

// failErr shows the error page of err (see describe).
func (c *call) failErr(err error) {
	status, msg := c.h.describe(err)
	c.fail(status, msg)
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

func formatTimePtr(t *time.Time, none string) string {
	if t == nil {
		return none
	}
	return formatTime(*t)
}

// formatDuration writes d in whole units: "3h 12m", "45s".
func formatDuration(d time.Duration) string {
	d = d.Round(time.Second)
	switch {
	case d >= 24*time.Hour:
		return fmt.Sprintf("%dd %dh", d/(24*time.Hour), d%(24*time.Hour)/time.Hour)
	case d >= time.Hour:
		return fmt.Sprintf("%dh %dm", d/time.Hour, d%time.Hour/time.Minute)
	case d >= time.Minute:
		return fmt.Sprintf("%dm %ds", d/time.Minute, d%time.Minute/time.Second)
	}
	return fmt.Sprintf("%ds", d/time.Second)
}

// preview is the first PreviewChars characters of s, with "…" when cut.
func preview(s string) string {
	n := 0
	for i := range s {
		if n == PreviewChars {
			return strings.TrimRight(s[:i], " \n\t") + "…"
		}
		n++
	}
	return s
}

// indentJSON pretty-prints a JSON value; nil or empty is {}.
func indentJSON(raw []byte) string {
	if len(bytes.TrimSpace(raw)) == 0 {
		return "{}"
	}
	var b bytes.Buffer
	if err := json.Indent(&b, raw, "", "  "); err != nil {
		return string(raw)
	}
	return b.String()
}

// number writes n with thousands separators: 12,345.
func number(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func toInt64(n any) int64 {
	switch v := n.(type) {
	case int:
		return int64(v)
	case int64:
		return v
	}
	return 0
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
