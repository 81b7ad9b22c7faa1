module github.com/memoryrelay/memoryrelay

go 1.26.8

require (
	github.com/asg017/sqlite-vec-go-bindings v0.1.6
	github.com/mattn/go-sqlite3 v1.14.53
	golang.org/x/time v0.16.0
)
