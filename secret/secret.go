package secret

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"unicode/utf8"
)

// Redacted is how a [Text] prints.
const Redacted = "[redacted]"

// Text is a secret string. Its zero value is the empty secret. It never
// prints or encodes its value: see the package doc.
type Text struct {
	v string
}

// New returns s as a Text.
func New(s string) Text { return Text{v: s} }

// Reveal returns the secret itself. Call it only where the value is
// used: in an Authorization header, in an HMAC.
func (t Text) Reveal() string { return t.v }

// IsZero reports whether the secret is empty.
func (t Text) IsZero() bool { return t.v == "" }

// Len is the length of the secret in bytes.
func (t Text) Len() int { return len(t.v) }

// Mask returns the display form of the secret: its first 3 and last 4
// characters around "…" ("sk-…abcd") when it has at least 16 characters,
// so that at most 7 of them show; "…" alone for a shorter non-empty
// secret; "" for the empty one.
func (t Text) Mask() string {
	n := utf8.RuneCountInString(t.v)
	switch {
	case n == 0:
		return ""
	case n < 16:
		return "…"
	}
	r := []rune(t.v)
	return string(r[:3]) + "…" + string(r[n-4:])
}

// String returns [Redacted], or "" for the empty secret.
func (t Text) String() string {
	if t.v == "" {
		return ""
	}
	return Redacted
}

// GoString returns the same as String, so %#v hides the secret too.
func (t Text) GoString() string { return t.String() }

// Format implements fmt.Formatter: every verb prints the String form.
func (t Text) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		io.WriteString(f, t.GoString())
		return
	}
	fmt.Fprintf(f, fmt.FormatString(f, verb), t.String())
}

// LogValue implements slog.LogValuer with the String form.
func (t Text) LogValue() slog.Value { return slog.StringValue(t.String()) }

// MarshalJSON encodes the String form, never the secret.
func (t Text) MarshalJSON() ([]byte, error) {
	if t.v == "" {
		return []byte(`""`), nil
	}
	return []byte(`"` + Redacted + `"`), nil
}

// MarshalText encodes the String form, never the secret.
func (t Text) MarshalText() ([]byte, error) { return []byte(t.String()), nil }

// MinServerSecret is the shortest server secret [NewSealer] accepts, in
// bytes.
const MinServerSecret = 32

const (
	version    = 0x01
	keyIDLen   = 4
	nonceLen   = 12
	tagLen     = 16
	headerLen  = 1 + keyIDLen
	overhead   = headerLen + nonceLen + tagLen
	hkdfSalt   = "memoryrelay/secret/v1"
	keyIDLabel = "memoryrelay key id"
)

// Errors of [NewSealer] and [Sealer.Open].
var (
	// ErrShortSecret: the server secret has fewer than MinServerSecret
	// bytes.
	ErrShortSecret = fmt.Errorf("secret: the server secret must be at least %d bytes", MinServerSecret)
	// ErrMalformed: the sealed value is too short or of an unknown
	// version; it was not made by Seal.
	ErrMalformed = errors.New("secret: not a sealed value")
	// ErrWrongSecret: the value was sealed under another server secret
	// (or purpose): the operator changed the secret, or the value was
	// copied from another server.
	ErrWrongSecret = errors.New("secret: sealed under a different server secret")
	// ErrTampered: the value, or its binding, was altered after sealing.
	ErrTampered = errors.New("secret: sealed value was altered or belongs elsewhere")
)

// Sealer seals and opens values under a key derived from the server
// secret. It is safe for concurrent use.
type Sealer struct {
	aead  cipher.AEAD
	keyID [keyIDLen]byte
}

// NewSealer derives the key of purpose from serverSecret (see the package
// doc). purpose must not be empty. The server secret is not kept.
func NewSealer(serverSecret []byte, purpose string) (*Sealer, error) {
	if len(serverSecret) < MinServerSecret {
		return nil, ErrShortSecret
	}
	if purpose == "" {
		return nil, errors.New("secret: empty purpose")
	}
	key, err := hkdf.Key(sha256.New, serverSecret, []byte(hkdfSalt), purpose, 32)
	if err != nil {
		return nil, fmt.Errorf("secret: deriving the key: %w", err)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("secret: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("secret: %w", err)
	}
	s := &Sealer{aead: aead}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(keyIDLabel))
	copy(s.keyID[:], mac.Sum(nil))
	return s, nil
}

// Seal encrypts plaintext, bound to binding (any bytes identifying where
// the value belongs, such as an account and row id; nil for none), and
// returns the sealed value. Only the random source can fail.
func (s *Sealer) Seal(plaintext, binding []byte) ([]byte, error) {
	out := make([]byte, headerLen+nonceLen, overhead+len(plaintext))
	out[0] = version
	copy(out[1:headerLen], s.keyID[:])
	if _, err := rand.Read(out[headerLen:]); err != nil {
		return nil, fmt.Errorf("secret: nonce: %w", err)
	}
	nonce := out[headerLen:]
	return s.aead.Seal(out, nonce, plaintext, s.aad(binding)), nil
}

// Open decrypts a value made by Seal with the same binding. Errors:
// [ErrMalformed], [ErrWrongSecret], [ErrTampered].
func (s *Sealer) Open(sealed, binding []byte) ([]byte, error) {
	if len(sealed) < overhead {
		return nil, ErrMalformed
	}
	if sealed[0] != version {
		return nil, fmt.Errorf("%w (version %d)", ErrMalformed, sealed[0])
	}
	if !hmac.Equal(sealed[1:headerLen], s.keyID[:]) {
		return nil, ErrWrongSecret
	}
	nonce := sealed[headerLen : headerLen+nonceLen]
	pt, err := s.aead.Open(nil, nonce, sealed[headerLen+nonceLen:], s.aad(binding))
	if err != nil {
		return nil, ErrTampered
	}
	return pt, nil
}

// SealText is Seal for a Text.
func (s *Sealer) SealText(t Text, binding []byte) ([]byte, error) {
	return s.Seal([]byte(t.v), binding)
}

// OpenText is Open returning a Text.
func (s *Sealer) OpenText(sealed, binding []byte) (Text, error) {
	pt, err := s.Open(sealed, binding)
	if err != nil {
		return Text{}, err
	}
	return Text{v: string(pt)}, nil
}

// aad is the additional data of a seal: the header, then the binding.
func (s *Sealer) aad(binding []byte) []byte {
	a := make([]byte, 0, headerLen+len(binding))
	a = append(a, version)
	a = append(a, s.keyID[:]...)
	return append(a, binding...)
}
