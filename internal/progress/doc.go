// Package progress reports how far a long operation is: on a terminal, one
// line redrawn in place with a bar, the rate and the time left; elsewhere
// (a file, a pipe, a log collector), a plain line now and then.
//
// A Meter draws only when it is told of progress (Set, Add, Done): it starts
// no goroutine, so there is nothing to stop. It is safe for concurrent use.
package progress
