package keys

import (
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/memoryrelay/memoryrelay/internal/storedjson"
	"github.com/memoryrelay/memoryrelay/scopes"
)

// Limits on the fields of a key (API.md §9), enforced by [Store.Create],
// [Store.Import] and [Store.Rotate], which every way of making a key goes
// through: the memoryrelay facade and its HTTP API call them too.
const (
	// MaxName is the longest name, in characters (code points): 255
	// (API.md §10.2 raised it from 100).
	MaxName = 255
	// MaxMetadataSize is the most bytes a key's metadata object may take
	// once compacted: the same limit as every other object's metadata.
	MaxMetadataSize = storedjson.MaxSize
	// MaxRateLimit is the highest per-key rate limit, in requests per
	// minute (0 means the server's default).
	MaxRateLimit = 1_000_000
	// MaxGrace is the longest grace period of a rotation (API.md §9:
	// grace_seconds at most 86,400).
	MaxGrace = 24 * time.Hour
)

// Limits of an expiry given in days from now, as the hosted create takes
// it (API.md §10.2 expires_days): the HTTP API and the dashboard read it.
const (
	// MinExpiresDays is the shortest expiry in days: 1.
	MinExpiresDays = 1
	// MaxExpiresDays is the longest expiry in days: 365.
	MaxExpiresDays = 365
)

// ErrInvalid is matched by every *[InvalidError].
var ErrInvalid = errors.New("keys: invalid key field")

// InvalidError reports a field of a new key, or of a rotation, that the
// store refuses. Nothing was stored. It matches [ErrInvalid].
type InvalidError struct {
	// Field is the Go name of the field: Name, Scopes, ExpiresAt,
	// RateLimit or Metadata of CreateParams, or grace (Rotate's
	// parameter). HTTP maps it to the wire name (package httpapi).
	Field string
	// Message says what is wrong, naming the field, e.g. "Name must be
	// 1-255 characters".
	Message string
}

func (e *InvalidError) Error() string        { return "keys: " + e.Message }
func (e *InvalidError) Is(target error) bool { return target == ErrInvalid }

func invalid(field, format string, args ...any) error {
	return &InvalidError{Field: field, Message: fmt.Sprintf(format, args...)}
}

// DefaultName is the name of a key created without one (API.md §10.2):
// "key-" and the key's display prefix, e.g. "key-mem_live_Vuf".
func DefaultName(prefix string) string { return "key-" + prefix }

// allScopes holds every defined scope.
var allScopes = scopes.NewSet(scopes.Read, scopes.Write, scopes.Delete, scopes.Admin)

// normalize checks p at instant now and returns it as it is stored: the
// expiry in UTC milliseconds (a copy, not the caller's pointer) and the
// metadata compacted, nil for none.
func (p CreateParams) normalize(now time.Time) (CreateParams, error) {
	// An empty name is the default, filled in by Import (DefaultName).
	if err := checkName(p.Name); err != nil {
		return p, err
	}
	if p.Scopes.IsEmpty() || p.Scopes&^allScopes != 0 {
		return p, invalid("Scopes", "Scopes must be a non-empty list of read, write, delete, admin")
	}
	if p.ExpiresAt != nil {
		// Stored in milliseconds: return what Get and Verify will return.
		exp := p.ExpiresAt.UTC().Truncate(time.Millisecond)
		if !exp.After(now) {
			return p, invalid("ExpiresAt", "ExpiresAt must be in the future")
		}
		p.ExpiresAt = &exp
	}
	if p.RateLimit < 0 {
		return p, invalid("RateLimit", "RateLimit must be 0 or more")
	}
	if p.RateLimit > MaxRateLimit {
		return p, invalid("RateLimit", "RateLimit must be at most %d", MaxRateLimit)
	}
	meta, err := storedjson.Object(p.Metadata, MaxMetadataSize)
	if err != nil {
		return p, invalid("Metadata", "Metadata %v", err)
	}
	p.Metadata = meta
	if err := checkLimit("DailySpendLimit", p.DailySpendLimit); err != nil {
		return p, err
	}
	if err := checkLimit("MonthlySpendLimit", p.MonthlySpendLimit); err != nil {
		return p, err
	}
	return p, nil
}

// checkName accepts a name of valid UTF-8 of at most MaxName characters
// ("" is the default name of a new key).
func checkName(name string) error {
	if !utf8.ValidString(name) {
		return invalid("Name", "Name must be valid UTF-8")
	}
	if n := utf8.RuneCountInString(name); n > MaxName {
		return invalid("Name", "Name must be 1-%d characters", MaxName)
	}
	return nil
}

// checkGrace checks the grace period of a rotation.
func checkGrace(grace time.Duration) error {
	if grace < 0 || grace > MaxGrace {
		return invalid("grace", "grace must be between 0 and %v", MaxGrace)
	}
	return nil
}

// readable returns k as the store returns it: a key stored before its
// fields were checked (by an older version, or by hand) may hold metadata
// that is not a JSON object, or not one any client can parse. Such
// metadata reads as none ({}) so that one bad row cannot break every
// listing of its account; the rest of the key is returned as stored.
func readable(k Key) Key {
	if len(k.Metadata) > 0 {
		if m, err := storedjson.Object(k.Metadata, 0); err != nil || m == nil {
			k.Metadata = nil // not an object, or null: none
		}
	}
	return k
}
