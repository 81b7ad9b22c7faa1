// Package rank scores short records — a title and a body, such as a
// decision or a pattern — against a query, and keeps the best of a
// stream of candidates in a bounded, ordered list: the ranking of
// decision check, pattern search and impact analysis.
package rank
