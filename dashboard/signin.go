package dashboard

import (
	"crypto/subtle"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/memoryrelay/memoryrelay/keys"
	"github.com/memoryrelay/memoryrelay/limiter"
	"github.com/memoryrelay/memoryrelay/scopes"
)

// Sign-in: an admin key, typed into a form posted once, is exchanged for
// a server-side session. The key itself is never kept (only its record),
// never put in a cookie, a URL or a page, and never logged.

// endedNotices are the sign-in page's words for ?ended=.
var endedNotices = map[string]string{
	endedExpired:    "Your session has ended. Sign in again to continue.",
	endedRevoked:    "The key you signed in with was revoked, so your session ended.",
	endedExpiredKey: "The key you signed in with has expired, so your session ended.",
	endedSignedOut:  "You are signed out.",
}

type signInData struct {
	Token string // the sign-in form's CSRF token
}

// signInPage shows the sign-in form, with a fresh CSRF token in a cookie
// and in the form (or the token the browser already holds, so that two
// tabs can sign in).
func (h *handler) signInPage(c *call) {
	if s, _ := h.sessions.get(h.sessionID(c.r), c.now); s != nil {
		c.redirect("/keys")
		return
	}
	c.renderSignIn(http.StatusOK, endedNotices[c.r.URL.Query().Get("ended")], "")
}

// renderSignIn shows the sign-in form with a notice or an error.
func (c *call) renderSignIn(status int, notice, errMsg string) {
	token := ""
	if ck, err := c.r.Cookie(signInCookie); err == nil && len(ck.Value) == len(newToken()) {
		token = ck.Value
	} else {
		token = newToken()
	}
	http.SetCookie(c.w, c.cookie(signInCookie, token, c.now.Add(signInTokenTTL)))
	c.render(status, "signin", "Sign in", view{Notice: notice, Error: errMsg, Data: signInData{Token: token}})
}

// signIn checks the form's token, the client's rate of attempts, and the
// key: it must be valid and hold the admin scope.
func (h *handler) signIn(c *call) {
	d := h.signIns.AllowAt(h.opts.ClientIP(c.r), 0, c.now)
	if !d.Allowed {
		c.w.Header().Set("Retry-After", strconv.Itoa(d.RetryAfterSeconds()))
		c.renderSignIn(http.StatusTooManyRequests, "", "Too many sign-in attempts from your address. Try again in "+seconds(d.RetryAfterSeconds())+".")
		return
	}
	ck, err := c.r.Cookie(signInCookie)
	if err != nil || subtle.ConstantTimeCompare([]byte(ck.Value), []byte(c.r.PostFormValue(csrfField))) != 1 {
		c.renderSignIn(http.StatusForbidden, "", "The sign-in form has expired or did not come from this dashboard. Try again.")
		return
	}
	raw := strings.TrimSpace(c.r.PostFormValue("key"))
	if raw == "" {
		c.renderSignIn(http.StatusBadRequest, "", "Enter an API key.")
		return
	}
	auth, err := h.svc.Authorize(c.ctx(), raw, scopes.Admin)
	var missing *scopes.MissingError
	var limited *limiter.LimitedError
	switch {
	case err == nil:
	case errors.Is(err, keys.ErrMalformed), errors.Is(err, keys.ErrNotFound):
		c.renderSignIn(http.StatusUnauthorized, "", "This is not a valid API key. Check that you pasted all of it.")
		return
	case errors.Is(err, keys.ErrRevoked):
		c.renderSignIn(http.StatusUnauthorized, "", "This key has been revoked.")
		return
	case errors.Is(err, keys.ErrExpired):
		c.renderSignIn(http.StatusUnauthorized, "", "This key has expired.")
		return
	case errors.As(err, &missing):
		c.render(http.StatusForbidden, "noadmin", "This key cannot manage the account", view{Data: auth.Key})
		return
	case errors.As(err, &limited):
		c.w.Header().Set("Retry-After", strconv.Itoa(limited.Decision.RetryAfterSeconds()))
		c.renderSignIn(http.StatusTooManyRequests, "", "This key is over its rate limit. Try again in "+seconds(limited.Decision.RetryAfterSeconds())+".")
		return
	default:
		status, msg := h.describe(err)
		c.renderSignIn(status, "", msg)
		return
	}
	s, id := h.sessions.create(auth.Key, c.now)
	http.SetCookie(c.w, c.cookie(sessionCookie, id, s.expires))
	http.SetCookie(c.w, c.cookie(signInCookie, "", time.Time{}))
	c.redirect("/keys")
}

// signOut ends the session and deletes its cookie.
func (h *handler) signOut(c *call) {
	h.sessions.end(c.sess)
	http.SetCookie(c.w, c.cookie(sessionCookie, "", time.Time{}))
	c.redirect("/signin?ended=" + endedSignedOut)
}

// seconds is n seconds in words.
func seconds(n int) string {
	if n == 1 {
		return "1 second"
	}
	return strconv.Itoa(n) + " seconds"
}
