package dashboard

import (
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/memoryrelay/memoryrelay/keys"
	"github.com/memoryrelay/memoryrelay/memory"
)

func TestParseExpiresDays(t *testing.T) {
	now := time.Date(2026, 12, 2, 10, 30, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want string // RFC 3339, "" for none, "error"
	}{
		{"", ""},
		{"  ", ""},
		{"1", "2026-12-03T10:30:00Z"},
		{" 30 ", "2027-01-01T10:30:00Z"},
		{"365", "2027-12-02T10:30:00Z"},
		{"366", "error"},
		{"0", "error"},
		{"-1", "error"},
		{"1.5", "error"},
		{"2026-12-31", "error"},
		{"tomorrow", "error"},
	}
	for _, tt := range tests {
		got, err := parseExpiresDays(tt.in, now)
		switch {
		case tt.want == "error":
			var fe *formError
			if !errors.As(err, &fe) {
				t.Errorf("parseExpiresDays(%q) = %v, %v; want a form error", tt.in, got, err)
			}
		case err != nil:
			t.Errorf("parseExpiresDays(%q): %v", tt.in, err)
		case tt.want == "" && got != nil, tt.want != "" && (got == nil || got.Format(time.RFC3339) != tt.want):
			t.Errorf("parseExpiresDays(%q) = %v, want %s", tt.in, got, tt.want)
		}
	}
}

func TestNumbersAtTheirLimits(t *testing.T) {
	tests := []struct {
		name  string
		parse func(string) (int, error)
		ok    []string
		bad   []string
	}{
		{"rate limit", parseRateLimit, []string{"", "0", "1000000"}, []string{"-1", "1000001", "1.5", "x"}},
		{"grace", parseGrace, []string{"", "0", "1440"}, []string{"-1", "1441", "60m", "9999999999999999999"}},
		{"offset", parseOffset, []string{"", "0", "1000000000"}, []string{"-1", "1000000001", "ten"}},
		{"limit", func(s string) (int, error) { return parseLimit(s, 20) }, []string{"", "1", "100"}, []string{"0", "101", "x"}},
	}
	for _, tt := range tests {
		for _, s := range tt.ok {
			if _, err := tt.parse(s); err != nil {
				t.Errorf("%s %q: %v", tt.name, s, err)
			}
		}
		for _, s := range tt.bad {
			if _, err := tt.parse(s); err == nil {
				t.Errorf("%s %q accepted", tt.name, s)
			}
		}
	}
}

func TestPreviewAndNumber(t *testing.T) {
	if got := preview(strings.Repeat("é", PreviewChars)); got != strings.Repeat("é", PreviewChars) {
		t.Error("a text of exactly PreviewChars characters was cut")
	}
	if got := preview(strings.Repeat("é", PreviewChars+1)); got != strings.Repeat("é", PreviewChars)+"…" {
		t.Errorf("preview cut wrongly: %d runes", utf8.RuneCountInString(got))
	}
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 144000: "144,000", -1234567: "-1,234,567"} {
		if got := number(n); got != want {
			t.Errorf("number(%d) = %q, want %q", n, got, want)
		}
	}
}

// FuzzFormValues: the parsers of form and query values never panic, and
// what they accept is within the documented ranges.
func FuzzFormValues(f *testing.F) {
	for _, s := range []string{"", "0", "60", "-1", "2026-12-31T23:59", "2026-12-31", "1e9", "9223372036854775808", " 5 ", "٣"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		now := time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)
		if tm, err := parseExpiresDays(s, now); err == nil && tm != nil && (tm.Before(now.AddDate(0, 0, keys.MinExpiresDays)) || tm.After(now.AddDate(0, 0, keys.MaxExpiresDays))) {
			t.Errorf("parseExpiresDays(%q) = %v, out of range", s, tm)
		}
		if n, err := parseRateLimit(s); err == nil && (n < 0 || n > keys.MaxRateLimit) {
			t.Errorf("parseRateLimit(%q) = %d", s, n)
		}
		if n, err := parseGrace(s); err == nil && (n < 0 || n > MaxGraceMinutes) {
			t.Errorf("parseGrace(%q) = %d", s, n)
		}
		if n, err := parseOffset(s); err == nil && (n < 0 || n > memory.MaxOffset) {
			t.Errorf("parseOffset(%q) = %d", s, n)
		}
		if n, err := parseLimit(s, 20); err == nil && (n < 1 || n > memory.MaxPageLimit) {
			t.Errorf("parseLimit(%q) = %d", s, n)
		}
		if p := preview(s); utf8.RuneCountInString(p) > PreviewChars+1 || (utf8.ValidString(s) && !utf8.ValidString(p)) {
			t.Errorf("preview(%q) = %q", s, p)
		}
	})
}
