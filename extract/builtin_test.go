package extract_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/memoryrelay/memoryrelay/extract"
)

func builtin(t testing.TB) *extract.Builtin {
	t.Helper()
	x, err := extract.NewBuiltin()
	if err != nil {
		t.Fatal(err)
	}
	return x
}

func names(es []extract.Entity) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.Type+":"+e.Name)
	}
	return out
}

// TestBuiltinCases: the rules the extractor follows, one case each, and
// the traps it must not fall into.
func TestBuiltinCases(t *testing.T) {
	x := builtin(t)
	cases := []struct {
		text string
		want []string // every entity, in order
	}{
		{"Go to the store and buy milk.", nil},
		{"We rewrote it in Go last year.", []string{"technology:Go"}},
		{"May I ask a question about it?", nil},
		{"The deadline is May 3, 2025.", []string{"date:May 3, 2025"}},
		{"She had apple pie and went on a march.", nil},
		{"Apple shipped the update; the march starts in March.", []string{"organization:Apple", "date:March"}},
		{"Priya's laptop runs Ubuntu.", []string{"person:Priya", "technology:Ubuntu"}},
		{"Write it in C++ or C#, not in Python.", []string{"technology:C++", "technology:C#", "technology:Python"}},
		{"uses postgres and redis in prod", []string{"technology:postgres", "technology:redis"}},
		{"Mail me at a.b+c@example.co.uk.", []string{"email:a.b+c@example.co.uk"}},
		{"See (https://example.com/a_(b)) and https://x.dev/y.", []string{"url:https://example.com/a_(b)", "url:https://x.dev/y"}},
		{"Dates: 2024-02-30, 2024-13-01, 31/12/2024, 12/31/2024.", []string{"date:2024-02-30", "date:31/12/2024", "date:12/31/2024"}},
		{"Ship in Q3 2025, review on Fridays.", []string{"date:Q3 2025", "date:Fridays"}},
		{"Ask Dr. Okafor and Prof. Ada Lovelace.", []string{"person:Dr. Okafor", "person:Prof. Ada Lovelace"}},
		{"Will Smith will call on Monday.", []string{"person:Will Smith", "date:Monday"}},
		{"Austin prefers the office in Austin.", []string{"person:Austin", "location:Austin"}},
		{"The Austin office moved.", []string{"location:Austin"}},
		{"Sofia said the Sofia office is closed.", []string{"person:Sofia", "location:Sofia"}},
		{"She works at Quillfeather and lives on Baker Street.", []string{"organization:Quillfeather", "location:Baker Street"}},
		{"Xiomara said the build is green.", []string{"person:Xiomara"}},
		{"The CI said nothing.", nil},
		{"Globex Corporation and Umbrella Corporation merged.", []string{"organization:Globex Corporation", "organization:Umbrella Corporation"}},
		{"The prototype uses DuckDB and Three.js on an iPad.", []string{"technology:DuckDB", "technology:Three.js", "product:iPad"}},
		{"Black Friday traffic doubled.", nil},
		{"", nil},
	}
	for _, c := range cases {
		got := names(x.Find(c.text))
		if !slices.Equal(got, c.want) {
			t.Errorf("Find(%q) = %q, want %q", c.text, got, c.want)
		}
	}
}

func TestBuiltinExtract(t *testing.T) {
	x := builtin(t)
	r, err := x.Extract(context.Background(), "Kenji moved to Tokyo.")
	if err != nil || r.Method != "builtin" || r.Model != extract.BuiltinModel || len(r.Entities) != 2 {
		t.Fatalf("Extract = %+v, %v", r, err)
	}
	for _, e := range r.Entities {
		if e.Confidence <= 0 || e.Confidence > 1 {
			t.Errorf("confidence %v", e.Confidence)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := x.Extract(ctx, "x"); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
}

// TestBuiltinLimits: a text with more names than MaxEntities gives
// MaxEntities, a repeated name once, and text that is not UTF-8 no panic.
func TestBuiltinLimits(t *testing.T) {
	x := builtin(t)
	var b strings.Builder
	for i := range 200 {
		b.WriteString("Contact user")
		b.WriteString(fmt.Sprint(i))
		b.WriteString("@example.com. ")
	}
	if n := len(x.Find(b.String())); n != extract.MaxEntities {
		t.Errorf("%d entities, want %d", n, extract.MaxEntities)
	}
	if got := names(x.Find("Redis, redis, REDIS and Redis again.")); !slices.Equal(got, []string{"technology:Redis"}) {
		t.Errorf("duplicates: %q", got)
	}
	for _, e := range x.Find("Kenji \xff\xfe moved to Tokyo \xc3") {
		if !utf8.ValidString(e.Name) {
			t.Errorf("invalid UTF-8 name %q", e.Name)
		}
	}
}

func TestCanonicalType(t *testing.T) {
	for _, c := range []struct {
		in, want string
		ok       bool
	}{
		{"person", "person", true},
		{"Person", "person", true},
		{" ORGANIZATION ", "organization", true},
		{"place", "location", true},
		{"Place", "location", true},
		{"location", "location", true},
		{"date", "date", true},
		{"Recipe", "Recipe", true},
		{strings.Repeat("t", 50), strings.Repeat("t", 50), true},
		{strings.Repeat("t", 51), "", false},
		{"", "", false},
		{"   ", "", false},
		{"\xff", "", false},
	} {
		got, ok := extract.CanonicalType(c.in)
		if got != c.want || ok != c.ok {
			t.Errorf("CanonicalType(%q) = %q, %v; want %q, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

func TestCheck(t *testing.T) {
	in := []extract.Entity{
		{Type: "place", Name: " Berlin ", Confidence: 2},
		{Type: "location", Name: "berlin", Confidence: 0.5}, // a duplicate once canonical
		{Type: "person", Name: "", Confidence: 0.5},
		{Type: "", Name: "x", Confidence: 0.5},
		{Type: "person", Name: strings.Repeat("n", 256)},
		{Type: "person", Name: strings.Repeat("n", 255), Confidence: math.NaN()},
		{Type: "person", Name: "\xff"},
		{Type: "technology", Name: "Go", Confidence: -1},
	}
	got := extract.Check(in)
	want := []extract.Entity{
		{Type: "location", Name: "Berlin", Confidence: 1},
		{Type: "person", Name: strings.Repeat("n", 255), Confidence: 0},
		{Type: "technology", Name: "Go", Confidence: 0},
	}
	if !slices.Equal(got, want) {
		t.Fatalf("Check = %+v, want %+v", got, want)
	}
}

// FuzzBuiltin: any text gives entities that follow Check's rules and are
// found in the text as written.
func FuzzBuiltin(f *testing.F) {
	x := builtin(f)
	for _, s := range []string{"Sarah Chen from Stripe uses Go.", "Dr. X. 2024-01-01 a@b.co https://x.io/(", "\xff[", "Mar 32, St. .js iA CamelCase Inc"} {
		f.Add(s)
	}
	if b, err := os.ReadFile("testdata/dev.txt"); err == nil {
		for _, l := range strings.Split(string(b), "\n")[:20] {
			f.Add(l)
		}
	}
	f.Fuzz(func(t *testing.T, text string) {
		es := x.Find(text)
		if len(es) > extract.MaxEntities {
			t.Fatalf("%d entities", len(es))
		}
		valid := strings.ToValidUTF8(text, "\uFFFD")
		if !slices.Equal(extract.Check(es), es) {
			t.Fatalf("Find's entities change under Check: %+v", es)
		}
		for _, e := range es {
			if !strings.Contains(valid, e.Name) {
				t.Fatalf("name %q not in the text %q", e.Name, text)
			}
		}
	})
}

func BenchmarkBuiltin(b *testing.B) {
	x := builtin(b)
	data, err := os.ReadFile("testdata/dev.txt")
	if err != nil {
		b.Fatal(err)
	}
	text := string(data)
	for len(text) < 50_000 {
		text += text
	}
	for _, size := range []int{200, 5_000, 50_000} {
		in := text[:size]
		b.Run(fmt.Sprintf("%dB", size), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(size))
			for b.Loop() {
				x.Find(in)
			}
		})
	}
}
