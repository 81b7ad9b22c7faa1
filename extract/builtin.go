package extract

import (
	"context"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The built-in extractor's method and model (a memory's
// extraction_method and extraction_model).
const (
	MethodBuiltin = "builtin"
	BuiltinModel  = "memoryrelay-builtin-v1"
)

// Builtin is the offline extractor: patterns for emails, URLs and dates;
// small embedded lexicons of technologies, products, organisations,
// places and given names; and heuristics on capitalisation and the words
// around a name (titles, "said", "works at", "Inc", "Street"). It needs no
// network and no download. Its measured precision and recall are in the
// package doc.
//
// A Builtin is immutable and safe for concurrent use.
type Builtin struct {
	lx *lexicon
}

// NewBuiltin returns the built-in extractor, its lexicons parsed.
func NewBuiltin() (*Builtin, error) {
	lx, err := loadLexicon()
	if err != nil {
		return nil, err
	}
	return &Builtin{lx: lx}, nil
}

// Extract implements [Extractor]: Find, with Method "builtin" and Model
// BuiltinModel. Its only error is ctx's.
func (b *Builtin) Extract(ctx context.Context, text string) (Result, error) {
	if err := ctx.Err(); err != nil {
		return Result{}, err
	}
	return Result{Entities: b.Find(text), Method: MethodBuiltin, Model: BuiltinModel}, nil
}

// Find returns the entities of text, in the order they appear, checked
// by [Check].
func (b *Builtin) Find(text string) []Entity {
	if !utf8.ValidString(text) {
		text = strings.ToValidUTF8(text, "\uFFFD")
	}
	spans := patternSpans(text)
	var mask [][2]int
	for _, s := range spans {
		if s.typ == TypeEmail || s.typ == TypeURL {
			mask = append(mask, [2]int{s.start, s.end})
		}
	}
	mask = merge(mask)
	toks := tokenize(text, mask)
	spans = append(spans, b.lexiconSpans(toks)...)
	spans = append(spans, b.personSpans(toks)...)
	spans = append(spans, suffixSpans(toks)...)
	spans = append(spans, b.cueSpans(toks)...)
	spans = append(spans, shapeSpans(toks, b.lx)...)
	kept := resolve(spans, len(text))
	es := make([]Entity, 0, len(kept))
	for _, s := range kept {
		name := s.name
		if name == "" {
			name = text[s.start:s.end]
		}
		es = append(es, Entity{Type: s.typ, Name: strings.TrimSpace(name), Confidence: s.conf})
	}
	return Check(es)
}

// merge sorts ranges and joins overlapping ones.
func merge(rs [][2]int) [][2]int {
	slices.SortFunc(rs, func(a, b [2]int) int { return a[0] - b[0] })
	var out [][2]int
	for _, r := range rs {
		if n := len(out); n > 0 && r[0] < out[n-1][1] {
			out[n-1][1] = max(out[n-1][1], r[1])
			continue
		}
		out = append(out, r)
	}
	return out
}

// resolve keeps the best of overlapping candidates (priority, then
// length, then position) and returns the kept ones in text order. taken
// marks the bytes of kept candidates: the cost is linear in their length.
func resolve(spans []span, textLen int) []span {
	slices.SortStableFunc(spans, func(a, b span) int {
		if a.prio != b.prio {
			return b.prio - a.prio
		}
		if la, lb := a.end-a.start, b.end-b.start; la != lb {
			return lb - la
		}
		return a.start - b.start
	})
	taken := make([]bool, textLen)
	var kept []span
	for _, s := range spans {
		if s.end <= s.start || s.start < 0 || s.end > textLen || slices.Contains(taken[s.start:s.end], true) {
			continue
		}
		for i := s.start; i < s.end; i++ {
			taken[i] = true
		}
		kept = append(kept, s)
	}
	slices.SortFunc(kept, func(a, b span) int { return a.start - b.start })
	return kept
}

// end is the byte offset where a name ending at toks[i] ends: without a
// possessive.
func endOf(t token) int { return t.start + len(t.base) }

func (b *Builtin) lexiconSpans(toks []token) []span {
	var out []span
	for i := range toks {
		if !toks[i].word {
			continue
		}
		typ, n := b.lx.match(toks, i)
		if n == 0 {
			continue
		}
		prio := prioLexicon
		words := 0
		for _, t := range toks[i : i+n] {
			if t.word {
				words++
			}
		}
		if words > 1 {
			prio = prioLexLong
		}
		out = append(out, span{start: toks[i].start, end: endOf(toks[i+n-1]), typ: typ, conf: confLexicon, prio: prio})
	}
	return out
}

// stopCap are capitalised words that never begin or continue a name.
var stopCap = setOf(`The A An This That These Those Our My Your Their His Her Its We I You He She They It Me Us Them
User Users Customer Customers Team Everyone Everybody Someone Somebody Nobody Anyone Anybody Please Remember Note
Also But And Or If When While After Before Since Until For From To In On At By With Without Of As Use Do Don't Never
Always All Every Each No Not Yes Send Ask Call Email Move Grant Contact Today Tomorrow Yesterday Tonight Meeting So
Then Here There Where What Why How Who Which Is Are Was Were Be Been Has Have Had Can Could Should Would Must Let
Our Prod Production Staging Dev Daily Weekly Monthly Quarterly Annual New Old Next Last First Avoid Keep Make Set
Switched Decided Migrated Moved Replaced Renewal Training Shipping Standup Sprint Backlog Error Errors Alerts Logs
Invoices Tickets Contracts Feature Release Documentation Backups Metrics Support Sales Marketing Finance Legal
Security Engineering Design Product Data Ops Admin Demo Design Flights Cron Cron Terraform Dependabot Everyone
Mr Mrs Ms Dr Prof Sir Dame`)

func setOf(s string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(s) {
		m[w] = true
	}
	return m
}

var (
	titles    = setOf(`Mr Mrs Ms Mx Dr Prof Professor Sir Dame Lord Lady`)
	particles = setOf(`van von de der den da di del della dos du le la bin ibn al el ben ter`)
	// Words right after a name that say it is a person's.
	personAfter = setOf(`said says asked asks mentioned mentions thinks thought suggested suggests reported reports
prefers preferred wants wanted confirmed confirms approved approves fixed fixes told tells wrote writes agreed agrees
noted notes joined leads led runs owns needs needed signed shared sent replied recommended promised complained
decided explained insists insisted prefer`)
	// Words right before a name that say it is a person's.
	personBefore = setOf(`with ask asked call called tell told ping pinged thank thanks cc email emailed message remind
manager partner colleague wife husband son daughter mother father brother sister friend mentor boss`)
	// Words before "at" that make what follows an employer.
	workBefore = setOf(`works work working worked job jobs engineer developer designer manager director intern
interned employed contact consultant analyst scientist researcher lead head`)
	placeBefore = setOf(`in from to near around at visit visits visited visiting via across outside inside
towards toward moved moving live lives living based born`)
	placeAfter = setOf(`office offices area team campus headquarters HQ airport`)
)

// surname reports whether t can continue a name: a capitalised word that
// is not a stop word and does not start a sentence.
func surname(t token) bool {
	return t.word && t.cap && !t.sentStart && !stopCap[t.base] && !isWeekdayOrMonth(t.base)
}

func isWeekdayOrMonth(w string) bool {
	switch w {
	case "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday",
		"January", "February", "March", "April", "May", "June", "July", "August", "September",
		"October", "November", "December":
		return true
	}
	return false
}

// prevWord is the word before toks[i] (lower case), skipping a comma.
func prevWord(toks []token, i int) string {
	for j := i - 1; j >= 0; j-- {
		if toks[j].word {
			return toks[j].lower
		}
		if toks[j].text != "," {
			return ""
		}
	}
	return ""
}

func nextWord(toks []token, i int) string {
	if i+1 < len(toks) && toks[i+1].word {
		return toks[i+1].lower
	}
	return ""
}

// nameRun returns how many tokens from toks[i] continue a name (surnames
// and the particles between them), at most max.
func nameRun(toks []token, i, max int) int {
	n := 0
	for j := i; j < len(toks) && n < max; {
		t := toks[j]
		if particles[t.text] && j+1 < len(toks) && surname(toks[j+1]) {
			j += 2
			n += 2
			continue
		}
		if !surname(t) {
			break
		}
		j++
		n++
		if t.base != t.text {
			break // a possessive ends the name
		}
	}
	return n
}

func (b *Builtin) personSpans(toks []token) []span {
	var out []span
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		if !t.word || !t.cap {
			continue
		}
		// A title: "Dr. Okafor", "Ms Rivera".
		if titles[t.base] {
			j := i + 1
			if j < len(toks) && toks[j].text == "." {
				j++
			}
			if j < len(toks) && toks[j].word && toks[j].cap && !stopCap[toks[j].base] {
				toks[j].sentStart = false // after "Dr." the name does not start a sentence
				if n := nameRun(toks, j, 3); n > 0 {
					out = append(out, span{start: t.start, end: endOf(toks[j+n-1]), typ: TypePerson, conf: confPerson, prio: prioPerson + 1})
					i = j + n - 1
				}
			}
			continue
		}
		amb, known := b.lx.names[t.base]
		if !known {
			// An unknown word a person's word follows: "Xiomara said".
			if !stopCap[t.base] && personAfter[nextWord(toks, i)] && b.lx.types[t.lower] == nil && !isWeekdayOrMonth(t.base) && hasLower(t.base) {
				out = append(out, span{start: t.start, end: endOf(t), typ: TypePerson, conf: confCue, prio: prioCue})
			}
			continue
		}
		if t.base == t.text {
			if n := nameRun(toks, i+1, 3); n > 0 {
				out = append(out, span{start: t.start, end: endOf(toks[i+n]), typ: TypePerson, conf: confPerson, prio: prioPerson})
				i += n
				continue
			}
		}
		cue := personAfter[nextWord(toks, i)] || personBefore[prevWord(toks, i)] ||
			(nextWord(toks, i) == "from" && !t.sentStart) || nextWord(toks, i) == "and" && i+2 < len(toks) && b.isName(toks[i+2])
		other := b.lx.types[t.lower]
		switch {
		case other[TypeLocation]:
			// Austin, Sofia, Florence: a place after "in" or before
			// "office", else a person only with a cue.
			if placeBefore[prevWord(toks, i)] || placeAfter[nextWord(toks, i)] || !cue {
				continue
			}
		case other != nil || amb:
			if !cue {
				continue
			}
		}
		conf := confPerson - 0.05
		if amb || other != nil {
			conf = confCue
		}
		out = append(out, span{start: t.start, end: endOf(t), typ: TypePerson, conf: conf, prio: prioLexicon + 2})
	}
	return out
}

// hasLower reports whether w has a lower-case letter: a name, not an
// acronym ("CI", "QA").
func hasLower(w string) bool { return strings.IndexFunc(w, unicode.IsLower) >= 0 }

// isName reports whether t is a given name that needs no cue.
func (b *Builtin) isName(t token) bool {
	amb, ok := b.lx.names[t.base]
	return ok && !amb && t.cap
}

var (
	orgSuffix = setOf(`Inc Corp Corporation Co LLC Ltd Limited GmbH AG SA SAS PLC LLP Group Holdings Labs Lab
Technologies Technology Systems Software Solutions Capital Ventures Partners Bank Bancorp University College Institute
Foundation Hospital Clinic Agency Studios Studio Media Motors Airlines Airways Insurance Pharmaceuticals Pharma
Consulting Associates Council Ministry Commission Society Association Club Academy Industries Enterprises Networks
Analytics Robotics Logistics Energy Telecom Communications Trust Fund`)
	orgPrefix = setOf(`University Bank Institute College Department Ministry Museum School Church Federation`)
	locSuffix = setOf(`Street Road Avenue Lane Boulevard Square Drive Parkway Highway River Valley Bay Island Islands
Beach County Province Mountains Mountain Desert Coast Peninsula Heights Hills`)
	locPrefix = setOf(`Lake Mount Mt Cape Fort Port`)
)

// suffixSpans: names ending in a word of their kind ("Globex
// Corporation", "Baker Street") or of the form "University of …".
func suffixSpans(toks []token) []span {
	var out []span
	for i, t := range toks {
		if !t.word || !t.cap {
			continue
		}
		typ := ""
		switch {
		case orgSuffix[t.base]:
			typ = TypeOrganization
		case locSuffix[t.base]:
			typ = TypeLocation
		}
		if typ != "" {
			// Back over capitalised words (and "&", "St.") to the name's start.
			j := i
			for j > 0 {
				p := toks[j-1]
				if p.word && p.cap && !stopCap[p.base] && p.base == p.text || p.word && p.cap && j == i && !stopCap[p.base] {
					j--
					if p.sentStart {
						break
					}
					continue
				}
				if p.text == "&" || p.text == "." && j >= 2 && toks[j-2].word && abbrevs[toks[j-2].text] {
					j--
					continue
				}
				break
			}
			for j < i && !toks[j].word {
				j++
			}
			if j < i {
				// Longer than a lexicon name it holds ("Globex" in
				// "Globex Corporation"), so it wins over it.
				out = append(out, span{start: toks[j].start, end: endOf(t), typ: typ, conf: confSuffix, prio: prioLexLong - 2})
			}
		}
		if (orgPrefix[t.base] || locPrefix[t.base]) && i+1 < len(toks) {
			typ, j := TypeOrganization, i+1
			if locPrefix[t.base] {
				typ = TypeLocation
			} else if toks[j].lower == "of" {
				j++
			} else {
				continue
			}
			if j < len(toks) && toks[j].word && toks[j].cap {
				toks[j].sentStart = false
				if n := nameRun(toks, j, 3); n > 0 {
					out = append(out, span{start: t.start, end: endOf(toks[j+n-1]), typ: typ, conf: confSuffix, prio: prioSuffix})
				}
			}
		}
	}
	return out
}

// cueSpans: an unknown name after "works at" and the like.
func (b *Builtin) cueSpans(toks []token) []span {
	var out []span
	for i := 1; i+1 < len(toks); i++ {
		if toks[i].lower != "at" && toks[i].lower != "for" && toks[i].lower != "by" {
			continue
		}
		cue := false
		for k, seen := i-1, 0; k >= 0 && seen < 3; k-- {
			if toks[k].word {
				seen++
				if workBefore[toks[k].lower] {
					cue = true
				}
			}
		}
		if !cue {
			continue
		}
		j := i + 1
		if j < len(toks) && toks[j].lower == "the" {
			j++
		}
		if j >= len(toks) || !toks[j].word || !toks[j].cap || stopCap[toks[j].base] {
			continue
		}
		toks[j].sentStart = false
		n := 1 + nameRun(toks, j+1, 3)
		if toks[j].base != toks[j].text {
			n = 1
		}
		out = append(out, span{start: toks[j].start, end: endOf(toks[j+n-1]), typ: TypeOrganization, conf: confCue, prio: prioCue})
	}
	return out
}

// shapeSpans: words whose shape names their kind: "Three.js" (a
// technology), "iPhone" (a product), "DuckDB" (CamelCase: a technology).
func shapeSpans(toks []token, lx *lexicon) []span {
	var out []span
	for _, t := range toks {
		if !t.word || lx.types[t.lower] != nil || len(t.base) < 3 {
			continue
		}
		w := t.base
		typ := ""
		switch {
		case strings.HasSuffix(t.lower, ".js") && len(w) > 3:
			typ = TypeTechnology
		case w[0] == 'i' && len(w) > 2 && unicode.IsUpper(rune(w[1])) && unicode.IsLower(rune(w[2])):
			typ = TypeProduct
		case camel(w):
			typ = TypeTechnology
		}
		if typ != "" {
			out = append(out, span{start: t.start, end: endOf(t), typ: typ, conf: confShape, prio: prioShape})
		}
	}
	return out
}

// camel reports a word with an upper-case letter after a lower-case one
// ("DuckDB", "OpenSearch"), letters only, not a Scottish or Irish surname
// ("McDonald", "MacLeod", "DeSantis").
func camel(w string) bool {
	if strings.HasPrefix(w, "Mc") || strings.HasPrefix(w, "Mac") || strings.HasPrefix(w, "De") || strings.HasPrefix(w, "La") || strings.HasPrefix(w, "Le") {
		return false
	}
	prevLower := false
	found := false
	for _, r := range w {
		if !unicode.IsLetter(r) {
			return false
		}
		if unicode.IsUpper(r) && prevLower {
			found = true
		}
		prevLower = unicode.IsLower(r)
	}
	return found
}
