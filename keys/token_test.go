package keys_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/memoryrelay/memoryrelay/keys"
)

// Helpers are prefixed "tok" so they cannot collide with other tests of the
// package.

const tokAlphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// tokMake builds a key from its parts with an independent implementation of
// the checksum (hash/crc32 and a base62 encoder written here).
func tokMake(tb testing.TB, env, body string) string {
	tb.Helper()
	head := "mem_" + env + "_" + body
	return head + tokChecksum(crc32.ChecksumIEEE([]byte(head)))
}

func tokChecksum(v uint32) string {
	var digits []byte
	for v > 0 {
		digits = append([]byte{tokAlphabet[v%62]}, digits...)
		v /= 62
	}
	return strings.Repeat("0", 6-len(digits)) + string(digits)
}

// tokBody returns a deterministic base62 body of length n.
func tokBody(n int) string {
	var b strings.Builder
	for i := range n {
		b.WriteByte(tokAlphabet[(i*7+3)%62])
	}
	return b.String()
}

// tokReasons lists every error message Parse may return. None depends on
// the input.
var tokReasons = map[string]bool{
	"keys: malformed key: too long":              true,
	"keys: malformed key: too short":             true,
	`keys: malformed key: missing "mem_" prefix`: true,
	"keys: malformed key: bad env":               true,
	"keys: malformed key: body too short":        true,
	"keys: malformed key: non-base62 character":  true,
	"keys: malformed key: bad checksum":          true,
}

func TestParse(t *testing.T) {
	good := tokMake(t, "live", tokBody(32))
	flip := func(s string, i int) string { // change one character, keeping it base62
		c := byte('A')
		if s[i] == 'A' {
			c = 'B'
		}
		return s[:i] + string(c) + s[i+1:]
	}
	tests := []struct {
		name    string
		in      string
		env     string // want on success
		wantErr string // "" means success
	}{
		{name: "live", in: good, env: "live"},
		{name: "test", in: tokMake(t, "test", tokBody(32)), env: "test"},
		{name: "dev", in: tokMake(t, "dev", tokBody(32)), env: "dev"},
		{name: "prod", in: tokMake(t, "prod", tokBody(32)), env: "prod"},
		{name: "one-letter env", in: tokMake(t, "x", tokBody(32)), env: "x"},
		{name: "eight-letter env", in: tokMake(t, "abcdefgh", tokBody(32)), env: "abcdefgh"},
		{name: "body of 30", in: tokMake(t, "live", tokBody(30)), env: "live"},
		{name: "shortest", in: tokMake(t, "x", tokBody(30)), env: "x"},
		{name: "128 bytes", in: tokMake(t, "live", tokBody(128-9-6)), env: "live"},
		{name: "checksum with leading zero", in: tokLeadingZero(t), env: "live"},

		{name: "empty", in: "", wantErr: "too short"},
		{name: "just the lead", in: "mem_live_", wantErr: "too short"},
		{name: "129 bytes", in: tokMake(t, "live", tokBody(129-9-6)), wantErr: "too long"},
		{name: "huge", in: strings.Repeat("a", 1<<20), wantErr: "too long"},
		{name: "41 bytes", in: tokMake(t, "x", tokBody(29)), wantErr: "too short"},
		{name: "wrong prefix", in: "key" + good[3:], wantErr: `missing "mem_" prefix`},
		{name: "uppercase prefix", in: "MEM_" + good[4:], wantErr: `missing "mem_" prefix`},
		{name: "dash instead of underscore", in: "mem-" + good[4:], wantErr: `missing "mem_" prefix`},
		{name: "leading space", in: " " + good, wantErr: `missing "mem_" prefix`},
		{name: "Bearer included", in: "Bearer " + good, wantErr: `missing "mem_" prefix`},
		{name: "uppercase env", in: tokMake(t, "Live", tokBody(32)), wantErr: "bad env"},
		{name: "digit in env", in: tokMake(t, "l1ve", tokBody(32)), wantErr: "bad env"},
		{name: "empty env", in: tokMake(t, "", tokBody(32)), wantErr: "bad env"},
		{name: "nine-letter env", in: tokMake(t, "abcdefghi", tokBody(32)), wantErr: "bad env"},
		{name: "no env separator", in: "mem_live" + tokBody(32) + "000000", wantErr: "bad env"},
		{name: "no env at all", in: "mem_" + tokBody(32) + "000000", wantErr: "bad env"},
		{name: "body of 29", in: tokMake(t, "abcdefgh", tokBody(29)), wantErr: "body too short"},
		{name: "underscore in body", in: tokMake(t, "live", tokBody(16)+"_"+tokBody(15)), wantErr: "non-base62 character"},
		{name: "dash in body", in: tokMake(t, "live", tokBody(16)+"-"+tokBody(15)), wantErr: "non-base62 character"},
		{name: "NUL in body", in: tokMake(t, "live", tokBody(16)+"\x00"+tokBody(15)), wantErr: "non-base62 character"},
		{name: "non-ASCII in body", in: tokMake(t, "live", tokBody(16)+"é"+tokBody(14)), wantErr: "non-base62 character"},
		{name: "trailing newline", in: good + "\n", wantErr: "non-base62 character"},
		{name: "trailing space", in: good + " ", wantErr: "non-base62 character"},
		{name: "non-base62 in checksum", in: good[:len(good)-1] + "+", wantErr: "non-base62 character"},
		{name: "body char flipped", in: flip(good, 20), wantErr: "bad checksum"},
		{name: "checksum char flipped", in: flip(good, len(good)-1), wantErr: "bad checksum"},
		{name: "env changed", in: "mem_test_" + good[9:], wantErr: "bad checksum"},
		{name: "truncated", in: good[:len(good)-1], wantErr: "bad checksum"},
		{name: "extra char", in: good + "0", wantErr: "bad checksum"},
		{name: "no checksum", in: "mem_live_" + tokBody(36), wantErr: "bad checksum"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := keys.Parse(tt.in)
			if tt.wantErr != "" {
				if err == nil {
					t.Fatalf("Parse accepted %q", tt.in)
				}
				if !errors.Is(err, keys.ErrMalformed) {
					t.Errorf("error %v does not wrap ErrMalformed", err)
				}
				if want := "keys: malformed key: " + tt.wantErr; err.Error() != want {
					t.Errorf("error = %q, want %q", err, want)
				}
				if !tok.IsZero() {
					t.Errorf("Parse returned %v with an error", tok)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.in, err)
			}
			tokCheckAccessors(t, tok, tt.in, tt.env)
		})
	}
}

// tokLeadingZero finds a body whose checksum starts with '0', to check the
// padding.
func tokLeadingZero(tb testing.TB) string {
	tb.Helper()
	for i := range 1 << 16 {
		body := fmt.Sprintf("%032d", i)
		if k := tokMake(tb, "live", body); k[len(k)-6] == '0' {
			return k
		}
	}
	tb.Fatal("no checksum with a leading zero")
	return ""
}

func tokCheckAccessors(tb testing.TB, tok keys.Token, raw, env string) {
	tb.Helper()
	if tok.Reveal() != raw {
		tb.Errorf("Reveal() = %q, want %q", tok.Reveal(), raw)
	}
	if tok.Env() != env {
		tb.Errorf("Env() = %q, want %q", tok.Env(), env)
	}
	if tok.Prefix() != raw[:12] {
		tb.Errorf("Prefix() = %q, want %q", tok.Prefix(), raw[:12])
	}
	if want := sha256.Sum256([]byte(raw)); tok.Hash() != want || keys.HashString(raw) != want {
		tb.Errorf("Hash() = %x, HashString = %x, want %x", tok.Hash(), keys.HashString(raw), want)
	}
	if tok.IsZero() {
		tb.Error("IsZero() = true for a parsed token")
	}
	if want := raw[:12] + "…"; tok.String() != want {
		tb.Errorf("String() = %q, want %q", tok.String(), want)
	}
}

// TestParseDetectsEverySubstitution replaces each character of one key,
// body and checksum included, by each other byte value: Parse rejects
// every one. (A CRC-32 detects every burst error of up to 32 bits.)
func TestParseDetectsEverySubstitution(t *testing.T) {
	for _, env := range []string{"live", "x"} {
		good := tokMake(t, env, tokBody(32))
		checked := 0
		for i := range len(good) {
			for c := range 256 {
				if byte(c) == good[i] {
					continue
				}
				typo := good[:i] + string([]byte{byte(c)}) + good[i+1:]
				if _, err := keys.Parse(typo); !errors.Is(err, keys.ErrMalformed) {
					t.Fatalf("Parse accepted %q (position %d changed to %q): %v", typo, i, byte(c), err)
				}
				checked++
			}
		}
		t.Logf("env %q: %d typos rejected", env, checked)
	}
}

// TestParseDetectsAdjacentSwaps swaps each pair of adjacent differing
// characters of a key.
func TestParseDetectsAdjacentSwaps(t *testing.T) {
	good := tokMake(t, "live", tokBody(32))
	for i := 0; i+1 < len(good); i++ {
		if good[i] == good[i+1] {
			continue
		}
		b := []byte(good)
		b[i], b[i+1] = b[i+1], b[i]
		if _, err := keys.Parse(string(b)); err == nil {
			t.Errorf("Parse accepted %q (positions %d and %d swapped)", b, i, i+1)
		}
	}
}

func TestParseErrorsOmitInput(t *testing.T) {
	good := tokMake(t, "live", tokBody(32))
	inputs := []string{
		good[:len(good)-1] + "x",
		"mem_live_" + strings.Repeat("secretsecret", 3) + "-",
		"mem_Live_" + tokBody(38),
		strings.Repeat("s3cr3t", 30),
		"xyz_" + good[4:],
	}
	for _, in := range inputs {
		_, err := keys.Parse(in)
		if err == nil {
			t.Fatalf("Parse accepted %q", in)
		}
		if !tokReasons[err.Error()] {
			t.Errorf("Parse(%q) error %q is not one of the fixed messages", in, err)
		}
	}
}

func TestParseAllocs(t *testing.T) {
	good := tokMake(t, "live", tokBody(32))
	bad := good[:len(good)-1] + "x"
	for name, in := range map[string]string{"valid": good, "bad checksum": bad, "too long": strings.Repeat("m", 200)} {
		n := testing.AllocsPerRun(100, func() { _, _ = keys.Parse(in) })
		if n != 0 {
			t.Errorf("Parse (%s) allocates %v times per call, want 0", name, n)
		}
	}
}

func TestZeroToken(t *testing.T) {
	var tok keys.Token
	if !tok.IsZero() || tok.Reveal() != "" || tok.Env() != "" || tok.Prefix() != "" || tok.String() != "" {
		t.Errorf("zero Token: IsZero=%v Reveal=%q Env=%q Prefix=%q String=%q",
			tok.IsZero(), tok.Reveal(), tok.Env(), tok.Prefix(), tok.String())
	}
	if got := fmt.Sprintf("%v|%q", tok, tok); got != `|""` {
		t.Errorf("zero Token formats as %q", got)
	}
}

func TestGenerate(t *testing.T) {
	for _, env := range []string{"live", "test", "dev", "prod", "x", "abcdefgh"} {
		t.Run(env, func(t *testing.T) {
			tok, err := keys.Generate(env)
			if err != nil {
				t.Fatal(err)
			}
			raw := tok.Reveal()
			if want := len("mem_") + len(env) + 1 + 32 + 6; len(raw) != want {
				t.Errorf("len(%q) = %d, want %d", raw, len(raw), want)
			}
			if !strings.HasPrefix(raw, "mem_"+env+"_") {
				t.Errorf("%q does not start with mem_%s_", raw, env)
			}
			if want := tokMake(t, env, raw[len(env)+5:len(raw)-6]); raw != want {
				t.Errorf("checksum: got %q, want %q", raw, want)
			}
			parsed, err := keys.Parse(raw)
			if err != nil {
				t.Fatalf("Parse(Generate()) = %v", err)
			}
			if parsed != tok {
				t.Errorf("Parse(%q) = %#v, differs from the generated token", raw, parsed)
			}
			tokCheckAccessors(t, parsed, raw, env)
		})
	}
}

func TestGenerateBadEnv(t *testing.T) {
	for _, env := range []string{"", "Live", "l1ve", "li_ve", "liv e", "abcdefghi", "é"} {
		tok, err := keys.Generate(env)
		if err == nil {
			t.Errorf("Generate(%q) = %v, want error", env, tok)
		}
	}
}

func TestGenerateUnique(t *testing.T) {
	const n = 1000
	seen := make(map[string]bool, n)
	bodies := make(map[string]bool, n)
	for range n {
		tok, err := keys.Generate("live")
		if err != nil {
			t.Fatal(err)
		}
		raw := tok.Reveal()
		if seen[raw] || bodies[raw[9:41]] {
			t.Fatalf("duplicate key %q", raw)
		}
		seen[raw], bodies[raw[9:41]] = true, true
	}
}

func TestGenerateConcurrent(t *testing.T) {
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			for range 100 {
				tok, err := keys.Generate("test")
				if err == nil {
					_, err = keys.Parse(tok.Reveal())
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestGenerateFrom(t *testing.T) {
	tests := []struct {
		name   string
		random []byte
		body   string
	}{
		{
			name:   "low six bits index the alphabet",
			random: bytes.Repeat([]byte{0, 1, 2, 3}, 8),
			body:   strings.Repeat("0123", 8),
		},
		{
			name:   "high bits are ignored",
			random: bytes.Repeat([]byte{0x40 | 10, 0x80 | 36, 0xC0 | 61, 35}, 8),
			body:   strings.Repeat("AazZ", 8),
		},
		{
			name:   "62 and 63 are rejected",
			random: append([]byte{62, 63, 0xFE, 0xFF, 0x7E}, bytes.Repeat([]byte{5}, 32)...),
			body:   strings.Repeat("5", 32),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := keys.GenerateFrom(bytes.NewReader(tt.random), "dev")
			if err != nil {
				t.Fatal(err)
			}
			if want := tokMake(t, "dev", tt.body); tok.Reveal() != want {
				t.Errorf("got %q, want %q", tok.Reveal(), want)
			}
		})
	}
}

// tokCycle is an endless reader of the bytes 0, 1, …, 255, 0, 1, …
type tokCycle struct{ next byte }

func (c *tokCycle) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = c.next
		c.next++
	}
	return len(p), nil
}

// TestGenerateFromUnbiased feeds a perfectly uniform byte stream: 31 keys
// use exactly four cycles of 256 bytes (4×248 usable bytes = 31×32), and
// each of the 62 characters must appear exactly 16 times. A mapping with
// modulo bias (byte % 62) would not be uniform.
func TestGenerateFromUnbiased(t *testing.T) {
	src := &tokCycle{}
	var counts [256]int
	for range 31 {
		tok, err := keys.GenerateFrom(src, "live")
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []byte(tok.Reveal()[9:41]) {
			counts[c]++
		}
	}
	for i := range len(tokAlphabet) {
		if c := tokAlphabet[i]; counts[c] != 16 {
			t.Errorf("character %q appears %d times, want 16", c, counts[c])
		}
	}
	// The last usable byte is 253 (61|0xC0); GenerateFrom reads no further.
	if src.next != 254 {
		t.Errorf("source left before byte %d, want 254", src.next)
	}
}

// TestGenerateDistribution runs a chi-squared test on the body characters
// of keys made from a seeded (deterministic) ChaCha8 stream, and checks
// that every position uses the whole alphabet.
func TestGenerateDistribution(t *testing.T) {
	src := rand.NewChaCha8([32]byte{'m', 'e', 'm'})
	const n = 4000
	var counts [256]int
	var perPos [32][256]bool
	for range n {
		tok, err := keys.GenerateFrom(src, "live")
		if err != nil {
			t.Fatal(err)
		}
		for i, c := range []byte(tok.Reveal()[9:41]) {
			counts[c]++
			perPos[i][c] = true
		}
	}
	expected := float64(n*32) / 62
	chi2 := 0.0
	for i := range len(tokAlphabet) {
		d := float64(counts[tokAlphabet[i]]) - expected
		chi2 += d * d / expected
	}
	// 61 degrees of freedom: mean 61, and P(chi2 > 130) < 1e-6.
	t.Logf("chi-squared = %.1f (61 degrees of freedom)", chi2)
	if chi2 > 130 {
		t.Errorf("chi-squared = %.1f, body characters are not uniform", chi2)
	}
	for i := range perPos {
		for j := range len(tokAlphabet) {
			if !perPos[i][tokAlphabet[j]] {
				t.Errorf("position %d never holds %q", i, tokAlphabet[j])
			}
		}
	}
}

type tokErrReader struct{ err error }

func (r tokErrReader) Read([]byte) (int, error) { return 0, r.err }

func TestGenerateFromErrors(t *testing.T) {
	boom := errors.New("boom")
	tests := []struct {
		name string
		r    io.Reader
		is   error // nil: just an error
	}{
		{"read error", tokErrReader{boom}, boom},
		{"empty source", bytes.NewReader(nil), io.EOF},
		{"short source", bytes.NewReader([]byte{1, 2, 3}), io.ErrUnexpectedEOF},
		{"only unusable bytes", bytes.NewReader(bytes.Repeat([]byte{0xFF}, 1<<20)), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := keys.GenerateFrom(tt.r, "live")
			if err == nil {
				t.Fatalf("GenerateFrom = %v, want error", tok)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %v does not wrap %v", err, tt.is)
			}
			if !tok.IsZero() {
				t.Errorf("GenerateFrom returned %v with an error", tok)
			}
		})
	}
}

// tokLeaks reports whether out contains any part of the key's secret: the
// characters after the 12-character prefix, or any 6 of them in a row, in
// clear or in hex.
func tokLeaks(raw, out string) bool {
	secret := raw[12:]
	for i := 0; i+6 <= len(secret); i++ {
		w := secret[i : i+6]
		if strings.Contains(out, w) || strings.Contains(strings.ToLower(out), hex.EncodeToString([]byte(w))) {
			return true
		}
	}
	return false
}

func TestRedactionFmt(t *testing.T) {
	tok, err := keys.Generate("live")
	if err != nil {
		t.Fatal(err)
	}
	raw := tok.Reveal()
	red := raw[:12] + "…"
	type wrapper struct {
		Name string
		Key  keys.Token
		Ptr  *keys.Token
	}
	w := wrapper{Name: "n", Key: tok, Ptr: &tok}
	tests := []struct {
		format string
		arg    any
		want   string // exact output; "" means only check for leaks
	}{
		{"%v", tok, red},
		{"%s", tok, red},
		{"%+v", tok, red},
		{"%#v", tok, red},
		{"%q", tok, `"` + red + `"`},
		{"%20s|", tok, strings.Repeat(" ", 20-len([]rune(red))) + red + "|"},
		{"%-20v|", tok, red + strings.Repeat(" ", 20-len([]rune(red))) + "|"},
		{"%x", tok, hex.EncodeToString([]byte(red))},
		{"%X", tok, ""},
		{"%d", tok, ""},
		{"%T", tok, "keys.Token"},
		{"%v", &tok, red},
		{"%#v", &tok, red},
		{"%v", w, ""},
		{"%+v", w, ""},
		{"%#v", w, ""},
		{"%v", []keys.Token{tok, tok}, "[" + red + " " + red + "]"},
		{"%v", map[string]keys.Token{"k": tok}, "map[k:" + red + "]"},
		{"%v", any(tok), red},
	}
	for _, tt := range tests {
		t.Run(tt.format+" "+fmt.Sprintf("%T", tt.arg), func(t *testing.T) {
			got := fmt.Sprintf(tt.format, tt.arg)
			if tokLeaks(raw, got) {
				t.Fatalf("Sprintf(%q) leaks the secret: %s", tt.format, got)
			}
			if tt.want != "" && got != tt.want {
				t.Errorf("Sprintf(%q) = %q, want %q", tt.format, got, tt.want)
			}
		})
	}
	for _, s := range []string{tok.String(), tok.GoString(), fmt.Sprint(tok), fmt.Sprintln(tok),
		fmt.Errorf("verify %v: %w", tok, errors.New("x")).Error()} {
		if tokLeaks(raw, s) {
			t.Errorf("leak: %q", s)
		}
	}
	if b, err := json.Marshal(w); err != nil || tokLeaks(raw, string(b)) {
		t.Errorf("json.Marshal = %s, %v", b, err)
	}
}

func TestRedactionSlog(t *testing.T) {
	tok, err := keys.Generate("prod")
	if err != nil {
		t.Fatal(err)
	}
	raw := tok.Reveal()
	red := raw[:12] + "…"
	handlers := []struct {
		name string
		new  func(io.Writer) slog.Handler
	}{
		{"json", func(w io.Writer) slog.Handler { return slog.NewJSONHandler(w, nil) }},
		{"text", func(w io.Writer) slog.Handler { return slog.NewTextHandler(w, nil) }},
	}
	for _, h := range handlers {
		t.Run(h.name, func(t *testing.T) {
			var buf bytes.Buffer
			log := slog.New(h.new(&buf))
			log.Info("key created", "key", tok, "ptr", &tok, slog.Any("any", tok))
			log.With("key", tok).WithGroup("g").Info("grouped", slog.Group("sub", "key", tok))
			log.Info("struct", "s", struct{ K keys.Token }{tok})
			out := buf.String()
			if tokLeaks(raw, out) {
				t.Fatalf("log leaks the secret:\n%s", out)
			}
			if strings.Count(out, red) < 5 {
				t.Errorf("log does not show the redacted key %q:\n%s", red, out)
			}
		})
	}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("m", "key", tok)
	var rec map[string]any
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
		t.Fatal(err)
	}
	if rec["key"] != red {
		t.Errorf(`JSON log "key" = %v, want %q`, rec["key"], red)
	}
}

func FuzzParse(f *testing.F) {
	good := tokMake(f, "live", tokBody(32))
	for _, s := range []string{
		good,
		tokMake(f, "x", tokBody(30)),
		tokMake(f, "abcdefgh", tokBody(40)),
		tokMake(f, "live", tokBody(113)),
		good[:len(good)-1] + "x",
		"mem_live_" + tokBody(38),
		"mem__" + tokBody(38),
		"mem_abcdefghi_" + tokBody(38),
		"", "mem_", "mem_live_", "Bearer " + good, good + "\n", "mem_live_é" + tokBody(36),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tok, err := keys.Parse(s)
		if err != nil {
			if !errors.Is(err, keys.ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			if !tokReasons[err.Error()] {
				t.Fatalf("error %q is not one of the fixed messages", err)
			}
			if !tok.IsZero() {
				t.Fatalf("Parse returned %v with an error", tok)
			}
			return
		}
		if tok.Reveal() != s {
			t.Fatalf("Parse(%q).Reveal() = %q", s, tok.Reveal())
		}
		again, err := keys.Parse(tok.Reveal())
		if err != nil || again != tok {
			t.Fatalf("re-parse of %q = %v, %v", s, again, err)
		}
		env := tok.Env()
		if env == "" || !strings.HasPrefix(s, "mem_"+env+"_") {
			t.Fatalf("Env() = %q for %q", env, s)
		}
		body := s[len(env)+5 : len(s)-6]
		if len(body) < 30 || tokMake(t, env, body) != s {
			t.Fatalf("Parse accepted %q, whose checksum or body is wrong", s)
		}
		if tok.Prefix() != s[:12] || tok.Hash() != sha256.Sum256([]byte(s)) {
			t.Fatalf("Prefix/Hash wrong for %q", s)
		}
		if out := fmt.Sprintf("%v %s %+v %#v %q", tok, tok, tok, tok, tok); tokLeaks(s, out) {
			t.Fatalf("formatting leaks %q: %s", s, out)
		}
	})
}

func BenchmarkParse(b *testing.B) {
	good := tokMake(b, "live", tokBody(32))
	bad := good[:len(good)-1] + "x"
	for _, bc := range []struct{ name, in string }{
		{"valid", good},
		{"bad checksum", bad},
		{"not a key", "hello"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_, _ = keys.Parse(bc.in)
			}
		})
	}
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := keys.Parse(good); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
}

func BenchmarkGenerate(b *testing.B) {
	b.Run("crypto/rand", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := keys.Generate("live"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := keys.Generate("live"); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
}

func BenchmarkHash(b *testing.B) {
	tok, err := keys.Generate("live")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		_ = tok.Hash()
	}
}

func ExampleGenerate() {
	tok, err := keys.Generate("live")
	if err != nil {
		panic(err)
	}
	// Show tok.Reveal() once to the key's owner; store only these two.
	hash, prefix := tok.Hash(), tok.Prefix()

	fmt.Println(len(tok.Reveal()), len(hash), len(prefix))
	fmt.Println(strings.HasPrefix(prefix, "mem_live_"))
	// Output:
	// 47 32 12
	// true
}

func ExampleParse() {
	tok, err := keys.Parse("mem_test_MMYwbY7JulADVZPAnm9ubNDpz8Finbl44954sS")
	fmt.Println(err)
	fmt.Println(tok.Env(), tok.Prefix())
	fmt.Println(tok) // redacted
	fmt.Printf("%x\n", tok.Hash())

	// One character mistyped: rejected without a database lookup.
	_, err = keys.Parse("mem_test_MMYwbY7JulADVZPAnm9ubNDpz8Finbl44954sT")
	fmt.Println(err, errors.Is(err, keys.ErrMalformed))
	// Output:
	// <nil>
	// test mem_test_MMY
	// mem_test_MMY…
	// b6e5c57f722842f767ec4ae7e11a22bc023d636a96fd412b5fe39951f7e46298
	// keys: malformed key: bad checksum true
}

func ExampleToken_LogValue() {
	tok, _ := keys.Parse("mem_test_MMYwbY7JulADVZPAnm9ubNDpz8Finbl44954sS")
	log := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{} // drop the time, for a stable output
			}
			return a
		},
	}))
	log.Info("key used", "key", tok)
	fmt.Printf("%v %+v %#v %q\n", tok, tok, tok, tok)
	// Output:
	// level=INFO msg="key used" key=mem_test_MMY…
	// mem_test_MMY… mem_test_MMY… mem_test_MMY… "mem_test_MMY…"
}
