package extract

import (
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// span is a candidate entity: a byte range of the text, a type and a
// confidence; prio orders overlapping candidates (higher wins, then
// longer, then earlier).
type span struct {
	start, end int
	typ        string
	conf       float64
	prio       int
	name       string // "" : text[start:end]
}

// Priorities of candidates.
const (
	prioPattern   = 100 // email, URL
	prioDate      = 90
	prioLexLong   = 80 // a lexicon name of several words
	prioPerson    = 75 // a known given name and a surname
	prioLexicon   = 70
	prioSuffix    = 60 // "… Inc", "University of …", "… Street"
	prioCue       = 50 // a word before or after ("works at", "said")
	prioShape     = 40 // the shape of a word alone (CamelCase, .js)
	confPattern   = 0.95
	confDate      = 0.9
	confLexicon   = 0.85
	confPerson    = 0.8
	confSuffix    = 0.7
	confCue       = 0.55
	confShape     = 0.45
	maxURLLength  = 2048
	maxNameTokens = 6
)

// The patterns are anchored: each runs only where a candidate starts (an
// '@', a "://" or "www.", a run with a dot, a digit, a month's or a
// weekday's name, a "Q"), on a bounded window, so the cost is linear in
// the text and small.
var (
	emailRe = regexp.MustCompile(`^[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,24}`)
	urlRe   = regexp.MustCompile(`^(?i:https?://|www\.)[^\s<>"'` + "`" + `]+`)
	// A bare domain: lower-case labels and a common top-level domain.
	domainRe = regexp.MustCompile(`^(?:[a-z0-9](?:[a-z0-9\-]*[a-z0-9])?\.)+(?:com|org|net|io|dev|ai|app|co|me|info|biz|us|uk|de|fr|eu|nl|se|ch|jp|in|xyz|tech|cloud|sh|so|gg|ly|tv|edu|gov)\b(?:/[^\s<>"']*)?`)

	month   = `(?:January|February|March|April|May|June|July|August|September|October|November|December|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec)`
	weekday = `(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)`
	ordinal = `(?:st|nd|rd|th)`
	// Every date form, the longest match from the candidate.
	dateRe = longest(`^(?:` + strings.Join([]string{
		`\d{4}-\d{2}-\d{2}\b`,
		`\d{4}/\d{1,2}/\d{1,2}\b`,
		`\d{1,2}/\d{1,2}/(?:\d{4}|\d{2})\b`,
		`\d{1,2}[.\-]\d{1,2}[.\-]\d{4}\b`,
		// March 15, March 15th 2025, Mar. 15, 2025
		month + `\.? \d{1,2}` + ordinal + `?\b(?:,? \d{4}\b)?`,
		// 15 March, 15th of March 2025
		`\d{1,2}` + ordinal + `? (?:of )?` + month + `\b\.?(?:,? \d{4}\b)?`,
		// March 2025
		month + `\.? \d{4}\b`,
		weekday + `s?\b`,
		`Q[1-4](?: \d{4}\b|'\d{2}\b)?\b`,
		// A month's name alone (see monthAlone).
		`(?:January|February|March|April|June|July|August|September|October|November|December)\b`,
	}, "|") + `)`)
	timeCueRe = regexp.MustCompile(`(?i)\b(?:in|by|since|until|till|before|after|from|during|through|throughout|early|late|mid|next|last|this|of|end|start|beginning|every|each)[\s\-]*$`)
	// holidayRe ends a text before a weekday that names an event.
	holidayRe = regexp.MustCompile(`\b(?:Black|Cyber|Good|Easter|Super|Ash|Boxing|Holy)\s+$`)
)

func longest(expr string) *regexp.Regexp {
	re := regexp.MustCompile(expr)
	re.Longest()
	return re
}

// monthAlone are the months that are a date by their name alone only after
// a word that asks for a time ("in March", not "a long march").
var monthAlone = map[string]bool{"March": true, "April": true, "June": true, "August": true}

// dateStarts are the words a named date form starts with.
var dateStarts = setOf(`January February March April May June July August September October November December
Jan Feb Mar Apr Jun Jul Aug Sept Sep Oct Nov Dec Monday Tuesday Wednesday Thursday Friday Saturday Sunday
Mondays Tuesdays Wednesdays Thursdays Fridays Saturdays Sundays Q1 Q2 Q3 Q4`)

// window bounds how far an anchored pattern may read.
const window = 64

func win(text string, i, n int) string { return text[i:min(len(text), i+n)] }

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// patternSpans finds emails, URLs and dates.
func patternSpans(text string) []span {
	var out []span
	// Emails: back from each '@' to the start of its local part.
	for off := 0; ; {
		k := strings.IndexByte(text[off:], '@')
		if k < 0 {
			break
		}
		at := off + k
		i := at
		for i > 0 && (isAlnum(text[i-1]) || strings.IndexByte("._%+-", text[i-1]) >= 0) && at-i < 256 {
			i--
		}
		if m := emailRe.FindStringIndex(win(text, i, at-i+256)); m != nil && i < at {
			out = append(out, span{start: i, end: trimEnd(text, i, i+m[1], ".-"), typ: TypeEmail, conf: confPattern, prio: prioPattern})
		}
		off = at + 1
	}
	// URLs: from each "http" or "www." at a word's start.
	lower := strings.ToLower(text)
	for _, lead := range []string{"http", "www."} {
		for off := 0; ; {
			k := strings.Index(lower[off:], lead)
			if k < 0 {
				break
			}
			i := off + k
			off = i + len(lead)
			if i > 0 && isAlnum(text[i-1]) {
				continue
			}
			if m := urlRe.FindStringIndex(win(text, i, maxURLLength+1)); m != nil {
				end := trimURL(text, i, i+m[1])
				if end-i > len("www.") && end-i <= maxURLLength {
					out = append(out, span{start: i, end: end, typ: TypeURL, conf: confPattern, prio: prioPattern})
				}
			}
		}
	}
	// Bare domains: a run of characters holding a dot, not inside an
	// email or a URL.
	for i := 0; i < len(text); {
		j := i
		for j < len(text) && strings.IndexByte(" \t\n\r()<>\"'[],;@/", text[j]) < 0 {
			j++
		}
		if j > i && strings.IndexByte(text[i:j], '.') > 0 && (i == 0 || strings.IndexByte("@/.", text[i-1]) < 0) &&
			(j == len(text) || text[j] != '@') {
			if m := domainRe.FindStringIndex(win(text, i, maxURLLength)); m != nil {
				out = append(out, span{start: i, end: trimURL(text, i, i+m[1]), typ: TypeURL, conf: confPattern - 0.1, prio: prioPattern - 1})
			}
		}
		if j == i {
			j++
		}
		i = j
	}
	// Dates: from each digit run's start and each named start.
	for i := 0; i < len(text); {
		c := text[i]
		if !isAlnum(c) {
			i++
			continue
		}
		j := i
		for j < len(text) && (isAlnum(text[j]) || text[j] >= 0x80) {
			j++
		}
		word := text[i:j]
		if (c >= '0' && c <= '9') || dateStarts[word] {
			if m := dateRe.FindStringIndex(win(text, i, window)); m != nil {
				d := text[i : i+m[1]]
				switch {
				case holidayRe.MatchString(tail(text[:i], 16)):
					// "Black Friday": an event, not a date
				case monthAlone[d] && !timeCueRe.MatchString(tail(text[:i], 24)):
				case !validDate(d):
				default:
					prio, conf := prioDate, confDate
					if !strings.ContainsAny(d, "0123456789") && !strings.Contains(weekday, strings.TrimSuffix(d, "s")) {
						prio, conf = prioDate-1, confDate-0.15 // a month alone
					}
					out = append(out, span{start: i, end: i + m[1], typ: TypeDate, conf: conf, prio: prio})
				}
			}
		}
		i = j
	}
	return out
}

// tail is the last n bytes of s (fewer at a rune boundary), where a cue
// word before a match is looked for.
func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := len(s) - n
	for i < len(s) && !utf8.RuneStart(s[i]) {
		i++
	}
	return s[i:]
}

// trimEnd drops trailing characters of cut from text[start:end].
func trimEnd(text string, start, end int, cut string) int {
	for end > start && strings.ContainsRune(cut, rune(text[end-1])) {
		end--
	}
	return end
}

// trimURL drops the punctuation that ends the sentence around a URL, and
// a closing bracket that has no opening one inside it.
func trimURL(text string, start, end int) int {
	for end > start {
		c := text[end-1]
		switch {
		case strings.IndexByte(".,;:!?'\"", c) >= 0:
			end--
			continue
		case c == ')' && strings.Count(text[start:end], "(") < strings.Count(text[start:end], ")"):
			end--
			continue
		case c == ']' && strings.Count(text[start:end], "[") < strings.Count(text[start:end], "]"):
			end--
			continue
		}
		break
	}
	return end
}

// validDate rejects numeric forms that are no calendar date (month 13,
// day 32) and days outside 1–31 in named forms.
func validDate(s string) bool {
	var nums []int
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r < '0' || r > '9' }) {
		n, err := strconv.Atoi(f)
		if err != nil {
			return false
		}
		nums = append(nums, n)
	}
	switch {
	case len(nums) == 3 && nums[0] > 31: // yyyy-mm-dd, yyyy/m/d
		return nums[1] >= 1 && nums[1] <= 12 && nums[2] >= 1 && nums[2] <= 31
	case len(nums) == 3: // d/m/y or m/d/y: one of the first two is a month
		a, b := nums[0], nums[1]
		return a >= 1 && b >= 1 && a <= 31 && b <= 31 && (a <= 12 || b <= 12)
	}
	for _, n := range nums {
		if n == 0 || (n > 31 && n < 1000) {
			return false
		}
	}
	return true
}
