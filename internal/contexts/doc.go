// Package contexts builds prompt context from an account's memories and
// implements memory.Contexts: it searches them (package memories), then
// joins the best matches' text into a character budget ([Text]) or packs
// whole memories into a token budget without near-duplicates ([Build]),
// by the rules of package contextpack (API contract §5.2 #10, §5.3 #13).
//
// The HTTP handler of context building is httpapi/context.go.
package contexts
