package redislimit_test

import (
	"context"
	"fmt"
	"log"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/memoryrelay/memoryrelay/limiter/redislimit"
)

// Several servers share one Redis, so that each key has one allowance
// across all of them. (This example needs a Redis on localhost.)
func ExampleNew() {
	client := redis.NewClient(&redis.Options{
		Addr:                  "127.0.0.1:6379",
		ContextTimeoutEnabled: true, // required: Options.Timeout bounds each call
	})
	defer client.Close()
	lim, err := redislimit.New(client, redislimit.Options{
		Limit:         100, // per minute, the default
		OnUnavailable: redislimit.FailClosed,
		Timeout:       200 * time.Millisecond,
		Logger:        slog.Default(),
	})
	if err != nil {
		log.Fatal(err)
	}
	d, err := lim.Allow(context.Background(), "key_1", 0)
	if err != nil {
		log.Fatal(err) // Redis unreachable: matches limiter.ErrUnavailable
	}
	fmt.Println(d.Allowed, d.Limit, d.Remaining, d.ResetUnix())
}
