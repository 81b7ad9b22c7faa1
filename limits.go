package memoryrelay

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/memoryrelay/memoryrelay/memory"
)

// Limits on the work of one request, whatever is stored. They are not
// errors: past them a read returns less, as documented on each.
const (
	// MaxSharedPatterns is how many patterns shared-patterns returns at
	// most (the most adopted).
	MaxSharedPatterns = 100
	// MaxProjectLinks is how many edges the dependencies, dependents and
	// related endpoints return at most (the newest).
	MaxProjectLinks = 100
	// MaxImpactProjects is how many dependent projects impact analysis
	// examines at most (the nearest, by depth then slug); each costs a
	// decision ranking and a memory search.
	MaxImpactProjects = 20
	// MaxImpactCandidates is how many of each affected project's active
	// decisions impact analysis ranks (the nearest the change), so that
	// the whole analysis ranks at most 20 × 50 decisions.
	MaxImpactCandidates = 50
)

// textField requires s to be valid UTF-8 of 1–max characters, not blank.
// field is the Go field (or parameter) that holds s.
func textField(field, s string, max int) error {
	n := utf8.RuneCountInString(s)
	if !utf8.ValidString(s) || n == 0 || n > max || strings.TrimFunc(s, unicode.IsSpace) == "" {
		return invalid(field, "%s must be 1-%d characters and not blank", field, max)
	}
	return nil
}

// optTextField is textField for an optional field of at most max
// characters that may be empty.
func optTextField(field string, s *string, max int) error {
	if s != nil && (!utf8.ValidString(*s) || utf8.RuneCountInString(*s) > max) {
		return invalid(field, "%s must be at most %d characters", field, max)
	}
	return nil
}

// checkTags accepts at most memory.MaxTags tags of valid UTF-8, each at most
// memory.MaxTagChars characters.
func checkTags(tags []string) error {
	if len(tags) > memory.MaxTags {
		return invalid("Tags", "Tags must have at most %d items", memory.MaxTags)
	}
	for _, t := range tags {
		if !utf8.ValidString(t) || utf8.RuneCountInString(t) > memory.MaxTagChars {
			return invalid("Tags", "Tags must be strings of valid UTF-8, each at most %d characters", memory.MaxTagChars)
		}
	}
	return nil
}
