package store

import (
	"time"
)

// JobQueue is the state of the v2 job queue.
type JobQueue struct {
	Pending       int       // jobs waiting for a worker
	Processing    int       // jobs a worker (of any process) has claimed
	OldestPending time.Time // created_at of the oldest pending job; zero if none
}
