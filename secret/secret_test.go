package secret_test

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/memoryrelay/memoryrelay/secret"
)

var serverSecret = []byte("0123456789abcdef0123456789abcdef-server")

func sealer(t testing.TB, key []byte, purpose string) *secret.Sealer {
	t.Helper()
	s, err := secret.NewSealer(key, purpose)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSealOpen(t *testing.T) {
	s := sealer(t, serverSecret, "extraction-keys")
	for _, pt := range []string{"", "sk-abc", strings.Repeat("x", 10_000)} {
		sealed, err := s.Seal([]byte(pt), []byte("acct/key-1"))
		if err != nil {
			t.Fatal(err)
		}
		if len(sealed) != 1+4+12+len(pt)+16 {
			t.Errorf("sealed %d bytes of plaintext into %d", len(pt), len(sealed))
		}
		if pt != "" && bytes.Contains(sealed, []byte(pt)) {
			t.Error("the plaintext shows in the sealed value")
		}
		got, err := s.Open(sealed, []byte("acct/key-1"))
		if err != nil || string(got) != pt {
			t.Fatalf("Open = %q, %v; want %q", got, err, pt)
		}
	}
}

func TestSealNonceIsFresh(t *testing.T) {
	s := sealer(t, serverSecret, "p")
	a, _ := s.Seal([]byte("same"), nil)
	b, _ := s.Seal([]byte("same"), nil)
	if bytes.Equal(a, b) || bytes.Equal(a[5:17], b[5:17]) {
		t.Fatal("two seals of one plaintext share a nonce")
	}
}

// TestSealFormat opens a sealed value by the documented derivation and
// layout alone, with the standard library, so the doc cannot drift from
// the code.
func TestSealFormat(t *testing.T) {
	s := sealer(t, serverSecret, "extraction-keys")
	sealed, err := s.Seal([]byte("sk-live-123"), []byte("bind"))
	if err != nil {
		t.Fatal(err)
	}
	key, err := hkdf.Key(sha256.New, serverSecret, []byte("memoryrelay/secret/v1"), "extraction-keys", 32)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := aes.NewCipher(key)
	gcm, _ := cipher.NewGCM(block)
	if sealed[0] != 1 {
		t.Fatalf("version byte %d", sealed[0])
	}
	aad := append(append([]byte{}, sealed[:5]...), "bind"...)
	pt, err := gcm.Open(nil, sealed[5:17], sealed[17:], aad)
	if err != nil || string(pt) != "sk-live-123" {
		t.Fatalf("documented layout does not open: %q, %v", pt, err)
	}
}

func TestOpenErrors(t *testing.T) {
	s := sealer(t, serverSecret, "extraction-keys")
	sealed, err := s.Seal([]byte("sk-secret-value"), []byte("acct-1/key-1"))
	if err != nil {
		t.Fatal(err)
	}
	other := sealer(t, []byte(strings.Repeat("z", 32)), "extraction-keys")
	otherPurpose := sealer(t, serverSecret, "webhook-secrets")
	v2 := append([]byte{}, sealed...)
	v2[0] = 2
	cases := []struct {
		name    string
		s       *secret.Sealer
		sealed  []byte
		binding string
		want    error
	}{
		{"wrong server secret", other, sealed, "acct-1/key-1", secret.ErrWrongSecret},
		{"wrong purpose", otherPurpose, sealed, "acct-1/key-1", secret.ErrWrongSecret},
		{"wrong binding", s, sealed, "acct-2/key-1", secret.ErrTampered},
		{"no binding", s, sealed, "", secret.ErrTampered},
		{"truncated", s, sealed[:len(sealed)-1], "acct-1/key-1", secret.ErrTampered},
		{"too short", s, sealed[:32], "acct-1/key-1", secret.ErrMalformed},
		{"empty", s, nil, "acct-1/key-1", secret.ErrMalformed},
		{"unknown version", s, v2, "acct-1/key-1", secret.ErrMalformed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pt, err := c.s.Open(c.sealed, []byte(c.binding))
			if !errors.Is(err, c.want) || pt != nil {
				t.Fatalf("Open = %q, %v; want %v", pt, err, c.want)
			}
			if strings.Contains(err.Error(), "sk-secret") {
				t.Fatal("error shows the plaintext")
			}
		})
	}
	// Every single bit flipped anywhere is refused, never opened.
	for i := range sealed {
		for bit := range 8 {
			bad := append([]byte{}, sealed...)
			bad[i] ^= 1 << bit
			if pt, err := s.Open(bad, []byte("acct-1/key-1")); err == nil {
				t.Fatalf("byte %d bit %d flipped: opened to %q", i, bit, pt)
			}
		}
	}
}

func TestNewSealerRefusesShortSecret(t *testing.T) {
	if _, err := secret.NewSealer(make([]byte, secret.MinServerSecret-1), "p"); !errors.Is(err, secret.ErrShortSecret) {
		t.Fatalf("31-byte secret: %v", err)
	}
	if _, err := secret.NewSealer(make([]byte, secret.MinServerSecret), "p"); err != nil {
		t.Fatalf("32-byte secret: %v", err)
	}
	if _, err := secret.NewSealer(serverSecret, ""); err == nil {
		t.Fatal("empty purpose accepted")
	}
}

func TestTextNeverPrints(t *testing.T) {
	const raw = "sk-proj-abcdefghijklmnop1234"
	tx := secret.New(raw)
	type wrapper struct {
		Name string
		Key  secret.Text
		Ptr  *secret.Text
	}
	w := wrapper{Name: "n", Key: tx, Ptr: &tx}
	var outs []string
	for _, f := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%10s", "%-20v"} {
		outs = append(outs, fmt.Sprintf(f, tx), fmt.Sprintf(f, w))
	}
	outs = append(outs, tx.String(), tx.GoString(), fmt.Sprint(tx), fmt.Sprintln(tx))
	js, err := json.Marshal(w)
	if err != nil {
		t.Fatal(err)
	}
	outs = append(outs, string(js))
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("msg", "key", tx, "w", w)
	slog.New(slog.NewTextHandler(&logged, nil)).Info("msg", "key", tx)
	outs = append(outs, logged.String())
	txt, _ := tx.MarshalText()
	outs = append(outs, string(txt))
	for _, o := range outs {
		if strings.Contains(o, "abcdefgh") || strings.Contains(o, "1234") {
			t.Errorf("secret printed: %s", o)
		}
	}
	if !strings.Contains(string(js), `"Key":"[redacted]"`) {
		t.Errorf("JSON = %s", js)
	}
	if tx.Reveal() != raw {
		t.Fatal("Reveal lost the value")
	}
}

func TestTextMask(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"", ""},
		{"short", "…"},
		{"123456789012345", "…"},
		{"sk-1234567890abcd", "sk-…abcd"},
		{"sk-proj-abcdefghijklmnopqrstuvwxyz", "sk-…wxyz"},
		{"ключключключключ", "клю…ключ"},
	} {
		if got := secret.New(c.in).Mask(); got != c.want {
			t.Errorf("Mask(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	if secret.New("").String() != "" || !secret.New("").IsZero() {
		t.Error("the empty secret prints or is not zero")
	}
}

func TestSealText(t *testing.T) {
	s := sealer(t, serverSecret, "p")
	sealed, err := s.SealText(secret.New("v"), []byte("b"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.OpenText(sealed, []byte("b"))
	if err != nil || got.Reveal() != "v" {
		t.Fatalf("OpenText = %v, %v", got.Reveal(), err)
	}
	if _, err := s.OpenText(sealed, []byte("c")); !errors.Is(err, secret.ErrTampered) {
		t.Fatal(err)
	}
}

func FuzzOpen(f *testing.F) {
	s := sealer(f, serverSecret, "p")
	good, _ := s.Seal([]byte("hello"), []byte("b"))
	f.Add(good, []byte("b"))
	f.Add([]byte{1, 2, 3}, []byte(nil))
	f.Add(make([]byte, 33), []byte("b"))
	f.Fuzz(func(t *testing.T, sealed, binding []byte) {
		pt, err := s.Open(sealed, binding)
		if err == nil {
			// Anything that opens must have been sealed by us: here only
			// the seed, with its binding.
			if string(pt) != "hello" || !bytes.Equal(binding, []byte("b")) {
				t.Fatalf("forged value opened: %q", pt)
			}
			return
		}
		if !errors.Is(err, secret.ErrMalformed) && !errors.Is(err, secret.ErrWrongSecret) && !errors.Is(err, secret.ErrTampered) {
			t.Fatalf("unexpected error %v", err)
		}
	})
}
