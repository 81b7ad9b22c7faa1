package dashboard

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"sync"
	"time"

	"github.com/memoryrelay/memoryrelay/keys"
)

// Cookie and form field names.
const (
	sessionCookie = "memoryrelay_session" // the session id
	signInCookie  = "memoryrelay_signin"  // the sign-in form's CSRF token
	csrfField     = "csrf"                // the hidden field of every form
)

// signInTokenTTL is how long a sign-in form stays valid.
const signInTokenTTL = time.Hour

// Why a request has no session; the sign-in page says so.
const (
	endedNone       = ""        // no session cookie at all
	endedExpired    = "expired" // timed out (absolute or idle), or unknown
	endedRevoked    = "revoked" // its key was revoked or deleted
	endedExpiredKey = "keyexpired"
	endedSignedOut  = "signedout"
)

// newToken returns 32 random bytes in URL-safe base64: a session id or a
// CSRF token.
func newToken() string { return base64.RawURLEncoding.EncodeToString(randomBytes(32)) }

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b) // never fails (crypto/rand since Go 1.24)
	return b
}

// session is one signed-in browser. Only the key's record is kept (no
// secret: the raw key is dropped once verified), with the session's CSRF
// token and what the next page shows once. Its methods are safe for
// concurrent use.
type session struct {
	id      [32]byte // SHA-256 of the cookie's value: the map key
	csrf    string
	created time.Time
	expires time.Time // absolute end

	mu     sync.Mutex
	k      keys.Key
	seen   time.Time // last request
	notice string    // shown once by the next page
	reveal *reveal   // a new key, shown once by /keys/new
}

// reveal is a key just created or rotated, waiting to be shown once.
type reveal struct {
	key     keys.Key
	secret  string
	rotated bool
	until   time.Time
}

func (s *session) key() keys.Key {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.k
}

func (s *session) setKey(k keys.Key) {
	s.mu.Lock()
	s.k = k
	s.mu.Unlock()
}

// checkCSRF reports whether token is the session's CSRF token.
func (s *session) checkCSRF(token string) bool {
	return subtle.ConstantTimeCompare([]byte(token), []byte(s.csrf)) == 1
}

func (s *session) setNotice(msg string) {
	s.mu.Lock()
	s.notice = msg
	s.mu.Unlock()
}

func (s *session) takeNotice() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.notice
	s.notice = ""
	return n
}

func (s *session) setReveal(rv *reveal) {
	s.mu.Lock()
	s.reveal = rv
	s.mu.Unlock()
}

// takeReveal returns the key waiting to be shown, if any and still
// fresh, and forgets it: it is shown once.
func (s *session) takeReveal(now time.Time) *reveal {
	s.mu.Lock()
	defer s.mu.Unlock()
	rv := s.reveal
	s.reveal = nil
	if rv == nil || !now.Before(rv.until) {
		return nil
	}
	return rv
}

// sessionStore keeps sessions in memory: they end with the process. It
// starts no goroutine: ended sessions are dropped when met, and all of
// them whenever a session is created. It is safe for concurrent use.
type sessionStore struct {
	ttl, idle time.Duration
	max       int

	mu   sync.Mutex
	byID map[[32]byte]*session
}

func newSessionStore(ttl, idle time.Duration, max int) *sessionStore {
	return &sessionStore{ttl: ttl, idle: idle, max: max, byID: make(map[[32]byte]*session)}
}

// create starts a session for k and returns it with the cookie's value.
func (st *sessionStore) create(k keys.Key, now time.Time) (*session, string) {
	id := newToken()
	s := &session{id: sha256.Sum256([]byte(id)), csrf: newToken(), created: now, expires: now.Add(st.ttl), k: k, seen: now}
	st.mu.Lock()
	defer st.mu.Unlock()
	var oldest *session
	for _, o := range st.byID {
		if !st.live(o, now) {
			delete(st.byID, o.id)
		} else if oldest == nil || o.lastSeen().Before(oldest.lastSeen()) {
			oldest = o
		}
	}
	if len(st.byID) >= st.max && oldest != nil {
		delete(st.byID, oldest.id)
	}
	st.byID[s.id] = s
	return s, id
}

func (s *session) lastSeen() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.seen
}

// live reports whether s has neither expired nor been idle too long.
func (st *sessionStore) live(s *session, now time.Time) bool {
	return now.Before(s.expires) && now.Sub(s.lastSeen()) < st.idle
}

// get returns the live session of the cookie value id and marks it used
// now; or nil and why there is none.
func (st *sessionStore) get(id string, now time.Time) (*session, string) {
	if id == "" {
		return nil, endedNone
	}
	h := sha256.Sum256([]byte(id))
	st.mu.Lock()
	defer st.mu.Unlock()
	s := st.byID[h]
	if s == nil {
		return nil, endedExpired
	}
	if !st.live(s, now) {
		delete(st.byID, h)
		return nil, endedExpired
	}
	s.mu.Lock()
	s.seen = now
	s.mu.Unlock()
	return s, ""
}

// end ends s (sign-out, or its key is no longer valid).
func (st *sessionStore) end(s *session) {
	st.mu.Lock()
	delete(st.byID, s.id)
	st.mu.Unlock()
}

// len is the number of sessions held, live or not yet dropped.
func (st *sessionStore) len() int {
	st.mu.Lock()
	defer st.mu.Unlock()
	return len(st.byID)
}

func (h *handler) sessionID(r *http.Request) string {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return ""
	}
	return c.Value
}

// cookie returns a cookie of the dashboard: HttpOnly, SameSite=Strict,
// scoped to its path, Secure over TLS (or with Options.SecureCookies).
// A zero expires deletes it.
func (c *call) cookie(name, value string, expires time.Time) *http.Cookie {
	ck := &http.Cookie{
		Name: name, Value: value, Path: c.base + "/",
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: c.h.secure(c.r),
	}
	if expires.IsZero() {
		ck.MaxAge = -1
	} else {
		ck.Expires = expires
		ck.MaxAge = max(int(expires.Sub(c.now)/time.Second), 1)
	}
	return ck
}

// toSignIn sends a request without a live session to the sign-in page,
// saying why, and drops a stale session cookie.
func (c *call) toSignIn(why string) {
	if why != endedNone {
		http.SetCookie(c.w, c.cookie(sessionCookie, "", time.Time{}))
	}
	path := "/signin"
	if why != endedNone {
		path += "?ended=" + why
	}
	c.redirect(path)
}
