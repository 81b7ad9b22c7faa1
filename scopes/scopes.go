package scopes

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Scope is one permission of an API key. The constants are distinct bits,
// so a Scope converts to a one-element [Set] with [NewSet].
type Scope uint8

// The four scopes of API.md §2.3.
const (
	Read   Scope = 1 << iota // list and retrieve, and read-only POSTs
	Write                    // create and update
	Delete                   // delete
	Admin                    // everything, plus key management; implies Read, Write and Delete
)

// known holds every defined scope bit.
const known = Read | Write | Delete | Admin

// implied is what Admin grants on top of itself.
const implied = Read | Write | Delete

// ordered lists the scopes in canonical order.
var ordered = [...]Scope{Read, Write, Delete, Admin}

// ErrUnknown is wrapped by the error returned for a scope name that is not
// one of read, write, delete and admin.
var ErrUnknown = errors.New("scopes: unknown scope")

// maxQuoted bounds how much of an unknown name is quoted in an error, so that
// a client cannot make error messages (and logs) arbitrarily long.
const maxQuoted = 32

// String returns the scope's name: "read", "write", "delete" or "admin".
// Any other value is shown as "scopes.Scope(N)".
func (sc Scope) String() string {
	switch sc {
	case Read:
		return "read"
	case Write:
		return "write"
	case Delete:
		return "delete"
	case Admin:
		return "admin"
	}
	return "scopes.Scope(" + strconv.Itoa(int(sc)) + ")"
}

// Parse returns the scope named s. Surrounding white space is ignored and
// ASCII case does not matter ("Read" is [Read]). Any other name returns an
// error wrapping [ErrUnknown] that quotes the name (truncated when long):
//
//	scopes: unknown scope "foo"
func Parse(s string) (Scope, error) {
	name := strings.TrimSpace(s)
	for _, sc := range ordered {
		if asciiEqualFold(name, sc.String()) {
			return sc, nil
		}
	}
	if len(name) > maxQuoted {
		n := maxQuoted
		for n > 0 && !utf8.RuneStart(name[n]) {
			n--
		}
		name = name[:n] + "…"
	}
	return 0, fmt.Errorf("%w %q", ErrUnknown, name)
}

// asciiEqualFold reports whether s equals the lowercase ASCII word lower,
// ignoring ASCII case only (unlike strings.EqualFold, "K" is not "k").
func asciiEqualFold(s, lower string) bool {
	if len(s) != len(lower) {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

// Set is a set of scopes. The zero value is the empty set. A Set is a
// comparable value. Bits that are not defined scopes (possible only by
// converting an integer) are ignored by every method.
//
// Set implements [encoding.TextMarshaler] (the comma list of [Set.String])
// and [json.Marshaler] (a JSON array of names, as in the API's Key object).
type Set uint8

// NewSet returns the set holding the given scopes. Values that are not
// defined scopes are ignored.
func NewSet(s ...Scope) Set {
	var set Set
	for _, sc := range s {
		set |= Set(sc & known)
	}
	return set
}

// ParseSet returns the set of the named scopes, each parsed as by [Parse].
// Duplicates are allowed. An empty or nil slice gives the empty set and no
// error; callers that need at least one scope check [Set.IsEmpty]. The
// first unknown name returns an error wrapping [ErrUnknown].
func ParseSet(names []string) (Set, error) {
	var set Set
	for _, n := range names {
		sc, err := Parse(n)
		if err != nil {
			return 0, err
		}
		set |= Set(sc)
	}
	return set, nil
}

// ParseList parses a list of scope names separated by commas and/or white
// space, such as "read,write", "read write" or "read, write". Empty items
// are skipped, so "" gives the empty set. The first unknown name returns an
// error wrapping [ErrUnknown].
func ParseList(s string) (Set, error) {
	var set Set
	for len(s) > 0 {
		i := strings.IndexFunc(s, isSeparator)
		var item string
		if i < 0 {
			item, s = s, ""
		} else {
			item = s[:i]
			_, size := utf8.DecodeRuneInString(s[i:])
			s = s[i+size:]
		}
		if item == "" {
			continue
		}
		sc, err := Parse(item)
		if err != nil {
			return 0, err
		}
		set |= Set(sc)
	}
	return set, nil
}

func isSeparator(r rune) bool { return r == ',' || unicode.IsSpace(r) }

// effective returns s with Admin's implied scopes added and unknown bits
// dropped.
func (s Set) effective() Scope {
	e := Scope(s) & known
	if e&Admin != 0 {
		e |= implied
	}
	return e
}

// IsEmpty reports whether s holds no scope.
func (s Set) IsEmpty() bool { return Scope(s)&known == 0 }

// Has reports whether s grants sc. Admin grants Read, Write and Delete too.
// If sc combines several scopes (Read|Write), Has reports whether all are
// granted. Has(0) is false.
func (s Set) Has(sc Scope) bool {
	return sc != 0 && sc&^s.effective() == 0
}

// Check returns nil if s grants every required scope, and otherwise a
// [*MissingError] naming the first one missing, in argument order (for a
// combined scope such as Read|Write, its first missing member). With no
// arguments it returns nil. As with [Set.Has], a zero or undefined Scope is
// never granted, so a requirement left unset fails closed. Check does not
// allocate unless it fails.
func (s Set) Check(required ...Scope) error {
	e := s.effective()
	for _, r := range required {
		if r == 0 {
			return &MissingError{Scope: 0}
		}
		if missing := r &^ e; missing != 0 {
			return &MissingError{Scope: missing & -missing} // lowest missing bit
		}
	}
	return nil
}

// Contains reports whether s grants every scope that other holds, with
// Admin's implication applied to s: {admin} contains {read, delete}, but
// {read, write, delete} does not contain {admin}. Every set contains the
// empty set.
func (s Set) Contains(other Set) bool {
	return Scope(other)&known&^s.effective() == 0
}

// Strings returns the names of the scopes s holds explicitly, in the order
// read, write, delete, admin. Scopes implied by admin are not listed. The
// empty set gives an empty, non-nil slice.
func (s Set) Strings() []string {
	out := make([]string, 0, 4)
	for _, sc := range ordered {
		if Scope(s)&sc != 0 {
			out = append(out, sc.String())
		}
	}
	return out
}

// String returns [Set.Strings] joined with commas, such as "read,write".
// The empty set gives "". [ParseList] parses the result back to s (less any
// undefined bits).
func (s Set) String() string {
	return strings.Join(s.Strings(), ",")
}

// MarshalText implements [encoding.TextMarshaler] with [Set.String].
func (s Set) MarshalText() ([]byte, error) {
	return []byte(s.String()), nil
}

// UnmarshalText implements [encoding.TextUnmarshaler] with [ParseList].
// On error s is left unchanged.
func (s *Set) UnmarshalText(text []byte) error {
	set, err := ParseList(string(text))
	if err != nil {
		return err
	}
	*s = set
	return nil
}

// MarshalJSON encodes s as a JSON array of names in canonical order, such
// as ["read","write"]; the empty set is [].
func (s Set) MarshalJSON() ([]byte, error) {
	return json.Marshal(s.Strings())
}

// UnmarshalJSON accepts a JSON array of names (as [ParseSet]) or a string
// list (as [ParseList]). JSON null leaves s unchanged, as do errors.
func (s *Set) UnmarshalJSON(data []byte) error {
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	var (
		set Set
		err error
	)
	switch v := v.(type) {
	case nil:
		return nil
	case string:
		set, err = ParseList(v)
	case []any:
		for _, e := range v {
			name, ok := e.(string)
			if !ok {
				return errors.New("scopes: scope names must be strings")
			}
			sc, perr := Parse(name)
			if perr != nil {
				return perr
			}
			set |= Set(sc)
		}
	default:
		return errors.New("scopes: want an array of scope names")
	}
	if err != nil {
		return err
	}
	*s = set
	return nil
}

// MissingError reports the scope a key lacks. Its message is the exact text
// the HTTP API returns with 403 authorization_error, so it carries no
// "scopes:" prefix:
//
//	Insufficient scope. Required: write
type MissingError struct {
	Scope Scope // the first required scope that is not granted
}

func (e *MissingError) Error() string {
	return "Insufficient scope. Required: " + e.Scope.String()
}
