package keys

import (
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"log/slog"
)

// ErrMalformed is wrapped by every error [Parse] returns. The wrapping error
// adds a short reason ("keys: malformed key: bad checksum") and never
// includes any part of the input.
var ErrMalformed = errors.New("keys: malformed key")

// Layout of a key: "mem_" env "_" body checksum.
const (
	tokenLead        = "mem_"
	tokenMaxEnv      = 8   // longest env
	tokenBodyLen     = 32  // body length of generated keys
	tokenMinBody     = 30  // shortest body Parse accepts
	tokenSumLen      = 6   // base62 digits of the CRC-32
	tokenMaxLen      = 128 // longest key Parse accepts, in bytes
	tokenPrefixLen   = 12  // length of Prefix and of the redacted form
	tokenMinLen      = len(tokenLead) + 1 + 1 + tokenMinBody + tokenSumLen
	tokenRandomLimit = 256 // random bytes GenerateFrom reads at most per key
	tokenRedacted    = "…"
	tokenAlphabet    = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
)

// malformedError is a reason a key failed to parse. It matches ErrMalformed.
type malformedError struct{ reason string }

func (e *malformedError) Error() string { return ErrMalformed.Error() + ": " + e.reason }
func (e *malformedError) Unwrap() error { return ErrMalformed }

// The reasons Parse gives. They are never modified.
var (
	errTooLong   = &malformedError{"too long"}
	errTooShort  = &malformedError{"too short"}
	errLead      = &malformedError{`missing "mem_" prefix`}
	errEnv       = &malformedError{"bad env"}
	errShortBody = &malformedError{"body too short"}
	errCharset   = &malformedError{"non-base62 character"}
	errChecksum  = &malformedError{"bad checksum"}
)

var errRandomSource = errors.New("keys: random source yields too few usable bytes")

// Token is an API key. Its zero value is no key. A Token is an immutable
// value, safe to copy, compare with == and share between goroutines.
//
// A Token never prints its secret: String, GoString, Format (every fmt verb)
// and LogValue all give the redacted form, the first 12 characters followed
// by "…" (for example "mem_live_Vuf…"). Use [Token.Reveal] to get the key.
// Token has no exported fields, so encoding/json encodes it as {}.
type Token struct {
	raw string // the whole key
	env string // substring of raw
}

// Generate returns a new key for the given env, which must be 1 to 8
// lowercase ASCII letters (by convention "live", "test", "dev" or "prod").
// The body comes from crypto/rand.
func Generate(env string) (Token, error) {
	return GenerateFrom(rand.Reader, env)
}

// GenerateFrom is [Generate] with the random bytes read from r, so tests can
// be deterministic. Outside tests r must be a cryptographically secure
// source. Each byte read gives one body character when its low 6 bits are
// below 62 and is skipped otherwise (rejection sampling, so every character
// is equally likely); GenerateFrom reads only as many bytes as that needs.
// A read error is returned wrapped, as is a source that yields fewer than 32
// usable bytes in 256.
func GenerateFrom(r io.Reader, env string) (Token, error) {
	if !tokenEnvOK(env) {
		return Token{}, fmt.Errorf("keys: env %q must be 1-8 lowercase letters", env)
	}
	var buf [tokenMaxLen]byte
	n := copy(buf[:], tokenLead)
	n += copy(buf[n:], env)
	buf[n] = '_'
	n++

	var random [tokenBodyLen]byte
	need, read := tokenBodyLen, 0
	for need > 0 {
		if read >= tokenRandomLimit {
			return Token{}, errRandomSource
		}
		chunk := random[:need]
		if _, err := io.ReadFull(r, chunk); err != nil {
			return Token{}, fmt.Errorf("keys: reading random source: %w", err)
		}
		read += len(chunk)
		for _, b := range chunk {
			if v := b & 63; v < 62 {
				buf[n] = tokenAlphabet[v]
				n++
				need--
			}
		}
	}
	sum := tokenChecksum(buf[:n])
	n += copy(buf[n:], sum[:])
	raw := string(buf[:n])
	return Token{raw: raw, env: raw[len(tokenLead) : len(tokenLead)+len(env)]}, nil
}

// Parse checks that raw is a well-formed key and returns it as a Token.
// It checks, in this order, with no database work and no allocation: the
// length (at most 128 bytes), the "mem_" prefix, an env of 1 to 8 lowercase
// letters followed by "_", a body of at least 30 base62 characters followed
// by 6 more, and the checksum. raw must not carry surrounding white space.
//
// Every error wraps [ErrMalformed] and never contains any part of raw, so it
// is safe to log. Parse never panics.
func Parse(raw string) (Token, error) {
	n := len(raw)
	switch {
	case n > tokenMaxLen:
		return Token{}, errTooLong
	case n < tokenMinLen:
		return Token{}, errTooShort
	case raw[:len(tokenLead)] != tokenLead:
		return Token{}, errLead
	}
	i := len(tokenLead)
	for i < n && i <= len(tokenLead)+tokenMaxEnv && 'a' <= raw[i] && raw[i] <= 'z' {
		i++
	}
	envLen := i - len(tokenLead)
	if envLen == 0 || envLen > tokenMaxEnv || raw[i] != '_' {
		// i < n: raw is at least tokenMinLen long and i <= 13.
		return Token{}, errEnv
	}
	rest := raw[i+1:]
	if len(rest) < tokenMinBody+tokenSumLen {
		return Token{}, errShortBody
	}
	for j := 0; j < len(rest); j++ {
		if !tokenIsBase62(rest[j]) {
			return Token{}, errCharset
		}
	}
	end := n - tokenSumLen
	if sum := tokenChecksum(raw[:end]); string(sum[:]) != raw[end:] {
		return Token{}, errChecksum
	}
	return Token{raw: raw, env: raw[len(tokenLead):i]}, nil
}

// HashString returns the SHA-256 of raw, the form in which keys are stored
// and looked up. It does not check raw; for a parsed key it equals
// [Token.Hash].
func HashString(raw string) [32]byte {
	if len(raw) <= tokenMaxLen {
		// Copying to the stack avoids the heap allocation of []byte(raw).
		var buf [tokenMaxLen]byte
		return sha256.Sum256(buf[:copy(buf[:], raw)])
	}
	return sha256.Sum256([]byte(raw))
}

// Reveal returns the raw key. It is the only way to get the secret: use it
// to show a new key once to its owner, never to log it.
func (t Token) Reveal() string { return t.raw }

// Env returns the key's env, such as "live". It is "" for the zero Token.
func (t Token) Env() string { return t.env }

// Prefix returns the first 12 characters of the key, stored and shown to
// identify a key without revealing it (the "prefix" of API.md §9). For
// "mem_live_" keys that is the 9-character lead plus 3 body characters.
// It is "" for the zero Token.
func (t Token) Prefix() string {
	if len(t.raw) < tokenPrefixLen {
		return t.raw
	}
	return t.raw[:tokenPrefixLen]
}

// Hash returns the SHA-256 of the whole raw key, the only form in which a
// key is stored.
func (t Token) Hash() [32]byte { return HashString(t.raw) }

// IsZero reports whether t is the zero Token.
func (t Token) IsZero() bool { return t.raw == "" }

// String returns the redacted form: [Token.Prefix] followed by "…", such as
// "mem_live_Vuf…". It returns "" for the zero Token.
func (t Token) String() string {
	if t.raw == "" {
		return ""
	}
	return t.Prefix() + tokenRedacted
}

// GoString returns the redacted form, as [Token.String], so that %#v does
// not leak the secret either.
func (t Token) GoString() string { return t.String() }

// Format implements [fmt.Formatter]: every verb and flag is applied to the
// redacted form of [Token.String], so %v, %s, %q, %x, %+v and %#v never
// print the secret.
func (t Token) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		// %#v of a string would quote it; show the same as %v.
		io.WriteString(f, t.GoString())
		return
	}
	fmt.Fprintf(f, fmt.FormatString(f, verb), t.String())
}

// LogValue implements [slog.LogValuer] with the redacted form.
func (t Token) LogValue() slog.Value { return slog.StringValue(t.String()) }

// tokenEnvOK reports whether env is 1 to 8 lowercase ASCII letters.
func tokenEnvOK(env string) bool {
	if len(env) < 1 || len(env) > tokenMaxEnv {
		return false
	}
	for i := 0; i < len(env); i++ {
		if env[i] < 'a' || env[i] > 'z' {
			return false
		}
	}
	return true
}

func tokenIsBase62(c byte) bool {
	return '0' <= c && c <= '9' || 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z'
}

// tokenChecksum returns the CRC-32 (IEEE) of s in 6 base62 digits, most
// significant first. The CRC is computed here with the standard table
// rather than with crc32.ChecksumIEEE, whose argument escapes, so that
// checking a key does not allocate.
func tokenChecksum[T string | []byte](s T) [tokenSumLen]byte {
	tab := crc32.IEEETable
	crc := ^uint32(0)
	for i := 0; i < len(s); i++ {
		crc = tab[byte(crc)^s[i]] ^ crc>>8
	}
	crc = ^crc
	var out [tokenSumLen]byte
	for i := tokenSumLen - 1; i >= 0; i-- {
		out[i] = tokenAlphabet[crc%62]
		crc /= 62
	}
	return out
}
