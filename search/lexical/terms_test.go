package lexical_test

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/memoryrelay/memoryrelay/search/lexical"
)

func TestTerms(t *testing.T) {
	tests := []struct {
		name string
		text string
		want []string
	}{
		{"empty", "", nil},
		{"only punctuation", `?!... "" -- ()`, nil},
		{"only stopwords", "What is it, and is that it?", nil},
		{"sentence", "The user prefers TypeScript over JavaScript for new projects.",
			[]string{"user", "prefer", "typescript", "javascript", "new", "project"}},
		{"question", "What programming language does the user prefer?",
			[]string{"program", "languag", "user", "prefer"}},
		{"case and punctuation", "USER--Prefers,TypeScript!!", []string{"user", "prefer", "typescript"}},
		{"apostrophes", "The user's daughter doesn't like it", []string{"user", "daughter", "lik"}},
		{"hyphen splits", "e-mail follow-up", []string{"e", "mail", "follow"}},
		{"digits kept, not stemmed", "Deploys at 5pm on 2024-03-15, v2 runs", []string{"deploy", "5pm", "2024", "03", "15", "v2", "run"}},
		{"FTS operators are plain terms", `NEAR OR AND NOT "x" * (y) -z ^w`, []string{"near", "x", "y", "z", "w"}},
		{"accents folded", "Café crème brûlée, Ærø Łódź naïve", []string{"caf", "crem", "brulee", "æro", "lodz", "naiv"}},
		{"combining marks dropped, not split", "cafe\u0301 nai\u0308ve", []string{"caf", "naiv"}},
		{"non-Latin lowercased", "ΣΟΦΊΑ Москва", []string{"σοφία", "москва"}},
		{"Han bigrams", "我喜欢机器学习", []string{"我喜", "喜欢", "欢机", "机器", "器学", "学习"}},
		{"lone Han character", "猫 is here", []string{"猫"}},
		{"Japanese mixed with Latin", "iPhoneのカメラ", []string{"iphon", "のカ", "カメ", "メラ"}},
		{"CJK symbols separate", "0㍑1⺀2々〇", []string{"0", "1", "2", "々〇"}},
		{"katakana prolonged sound mark", "コーヒー", []string{"コー", "ーヒ", "ヒー"}},
		{"Hangul words", "나는 커피를 좋아한다", []string{"나는", "커피를", "좋아한다"}},
		{"long token dropped", "ok " + strings.Repeat("a", 65) + " fine", []string{"ok", "fin"}},
		{"64-byte token kept", strings.Repeat("7", 64), []string{strings.Repeat("7", 64)}},
		{"invalid UTF-8 separates", "abc\xffdef", []string{"abc", "def"}},
		{"symbols separate", "c++ & c#: 100% ✓ done😀ok", []string{"c", "c", "100", "don", "ok"}},
		{"whitespace kinds", "tab\tnew\nline\u00a0nbsp\u3000ideographic", []string{"tab", "new", "lin", "nbsp", "ideographic"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := lexical.Terms(tt.text)
			if !slices.Equal(got, tt.want) {
				t.Errorf("Terms(%q) = %q, want %q", tt.text, got, tt.want)
			}
		})
	}
}

// TestTermsStemming checks that each group of word forms shares one stem,
// and shows what that stem is.
func TestTermsStemming(t *testing.T) {
	tests := []struct {
		stem  string
		forms []string
	}{
		{"prefer", []string{"prefer", "prefers", "preferred", "preferring"}},
		{"user", []string{"user", "users", "USERS"}},
		{"memori", []string{"memory", "memories"}},
		{"studi", []string{"study", "studies", "studied", "studying"}},
		{"tri", []string{"try", "tries", "tried", "trying"}},
		{"match", []string{"match", "matches", "matched", "matching"}},
		{"box", []string{"box", "boxes"}},
		{"wish", []string{"wish", "wishes", "wished"}},
		{"class", []string{"class", "classes"}},
		{"process", []string{"process", "processes", "processed", "processing"}},
		{"cach", []string{"cache", "caches", "cached", "caching"}},
		{"us", []string{"use", "uses", "used", "using"}},
		{"databas", []string{"database", "databases"}},
		{"fil", []string{"file", "files", "filed", "filing"}},
		{"run", []string{"run", "runs", "running"}},
		{"stop", []string{"stop", "stops", "stopped", "stopping"}},
		{"emb", []string{"embed", "embeds", "embedded", "embedding"}},
		{"shred", []string{"shred", "shreds", "shredded", "shredding"}},
		{"need", []string{"need", "needs", "needed", "needing"}},
		{"program", []string{"program", "programs", "programmed", "programming"}},
		{"deploy", []string{"deploy", "deploys", "deployed", "deploying"}},
		{"day", []string{"day", "days"}},
		{"quick", []string{"quick", "quickly"}},
		{"easi", []string{"easy", "easily"}},
		{"repeat", []string{"repeat", "repeated", "repeatedly"}},
		{"go", []string{"go", "goes", "going"}},
		{"movi", []string{"movie", "movies"}},
		{"call", []string{"call", "calls", "called", "calling"}},
		{"add", []string{"add", "adds", "added", "adding"}},
		{"agree", []string{"agree", "agrees", "agreeing"}},
		// Words that must be left alone.
		{"status", []string{"status"}},
		{"analysis", []string{"analysis"}},
		{"string", []string{"string"}},
		{"thing", []string{"thing"}},
		{"red", []string{"red"}},
		{"bus", []string{"bus"}},
		{"appli", []string{"apply", "applies", "applied"}},
	}
	for _, tt := range tests {
		t.Run(tt.stem, func(t *testing.T) {
			for _, form := range tt.forms {
				got := lexical.Terms(form)
				if len(got) != 1 || got[0] != tt.stem {
					t.Errorf("Terms(%q) = %q, want [%q]", form, got, tt.stem)
				}
			}
		})
	}
}

func TestAppendTerms(t *testing.T) {
	dst := []string{"keep"}
	got := lexical.AppendTerms(dst, "Users preferred Go")
	if want := []string{"keep", "user", "prefer", "go"}; !slices.Equal(got, want) {
		t.Errorf("AppendTerms = %q, want %q", got, want)
	}
	if got := lexical.AppendTerms(dst[:1], "the a of"); !slices.Equal(got, dst[:1]) {
		t.Errorf("AppendTerms of stopwords = %q, want dst unchanged", got)
	}
}

func TestAppendTermsAllocs(t *testing.T) {
	text := "The user prefers TypeScript over JavaScript for all new frontend projects at work."
	dst := make([]string, 0, 32)
	allocs := testing.AllocsPerRun(100, func() {
		dst = lexical.AppendTerms(dst[:0], text)
	})
	// The scratch buffers and the one string holding every term.
	if allocs > 3 {
		t.Errorf("AppendTerms allocates %v times per call, want <= 3", allocs)
	}
}

// termRE is the shape of every term: letters and numbers only.
var termRE = regexp.MustCompile(`^[\p{L}\p{N}]+$`)

func checkTerms(t *testing.T, text string, terms []string) {
	t.Helper()
	for _, term := range terms {
		if term == "" || len(term) > lexical.MaxTermBytes || !utf8.ValidString(term) || !termRE.MatchString(term) {
			t.Fatalf("Terms(%q) has bad term %q", text, term)
		}
		for _, r := range term {
			if unicode.IsUpper(r) && unicode.ToLower(r) != r {
				t.Fatalf("Terms(%q) has term %q with uppercase %q", text, term, r)
			}
		}
	}
}

func FuzzTerms(f *testing.F) {
	for _, s := range []string{
		"", "The user prefers TypeScript.", `"quoted" OR NEAR/3 (x* -y)`, "cafe\u0301",
		"我喜欢机器学习", "iPhoneのカメラ", "\xff\xfe", "İstanbul ǅ ﬁ Ⅻ ½ ²", strings.Repeat("z", 70),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		terms := lexical.Terms(text)
		checkTerms(t, text, terms)
		if again := lexical.Terms(text); !slices.Equal(terms, again) {
			t.Fatalf("Terms(%q) not deterministic: %q then %q", text, terms, again)
		}
		if appended := lexical.AppendTerms([]string{"x"}, text); !slices.Equal(appended[1:], terms) {
			t.Fatalf("AppendTerms(%q) = %q, Terms = %q", text, appended[1:], terms)
		}
		// Stored space-joined in FTS, the terms must come back the same.
		if back := strings.Fields(strings.Join(terms, " ")); len(terms) > 0 && !slices.Equal(back, terms) {
			t.Fatalf("Terms(%q) = %q do not survive joining", text, terms)
		}
	})
}

func ExampleTerms() {
	fmt.Println(lexical.Terms("The user PREFERS TypeScript; she's preferred it since 2019."))
	fmt.Println(lexical.Terms("Crème brûlée recipes"))
	// Output:
	// [user prefer typescript prefer sinc 2019]
	// [crem brulee recip]
}

func BenchmarkTerms(b *testing.B) {
	for _, bc := range benchTexts {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(bc.text)))
			dst := make([]string, 0, 128)
			for b.Loop() {
				dst = lexical.AppendTerms(dst[:0], bc.text)
			}
		})
	}
}

// benchTexts are a short memory and a ~500-character one.
var benchTexts = []struct{ name, text string }{
	{"short", "The user prefers TypeScript over JavaScript for new projects."},
	{"500B", "Meeting notes from the quarterly planning session: the platform team " +
		"agreed to migrate the billing service from the legacy monolith to Go by " +
		"the end of June. Alice will own the database schema changes and Bob will " +
		"write the data backfill scripts. Deployments stay frozen on Fridays unless " +
		"a critical security fix is needed. The user asked to be reminded two days " +
		"before each milestone and prefers summaries in bullet points rather than " +
		"long paragraphs. Open question: whether to keep PostgreSQL for analytics."},
}

// TestBuffer checks that a Buffer gives the terms of Terms, keeps
// stopwords with TokenizeAll, and tokenizes without allocating once grown.
func TestBuffer(t *testing.T) {
	var tb lexical.Buffer
	for _, text := range []string{
		"The user PREFERS TypeScript; she's preferred it since 2019.",
		"", "the a of", "我喜欢机器学习 and iPhoneのカメラ", "Crème brûlée recipes",
	} {
		tb.Tokenize(text)
		var got []string
		for i := range tb.Len() {
			got = append(got, string(tb.Term(i)))
		}
		if want := lexical.Terms(text); !slices.Equal(got, want) {
			t.Errorf("Tokenize(%q) = %q, Terms = %q", text, got, want)
		}
	}
	tb.TokenizeAll("What is it, and where was that?")
	var got []string
	for i := range tb.Len() {
		got = append(got, string(tb.Term(i)))
	}
	if want := []string{"what", "is", "it", "and", "wher", "was", "that"}; !slices.Equal(got, want) {
		t.Errorf("TokenizeAll = %q, want %q", got, want)
	}
	text := benchTexts[1].text
	tb.Tokenize(text)
	if allocs := testing.AllocsPerRun(100, func() { tb.Tokenize(text) }); allocs != 0 {
		t.Errorf("Tokenize allocates %v times once grown, want 0", allocs)
	}
}
