package extract_test

import (
	"context"
	"fmt"

	"github.com/memoryrelay/memoryrelay/extract"
)

func ExampleBuiltin() {
	x, err := extract.NewBuiltin()
	if err != nil {
		panic(err)
	}
	r, _ := x.Extract(context.Background(),
		"Sarah Chen from Stripe wants the billing service on PostgreSQL by March 3; mail sarah@example.com.")
	for _, e := range r.Entities {
		fmt.Printf("%s: %s\n", e.Type, e.Name)
	}
	fmt.Println(r.Method, r.Model)
	// Output:
	// person: Sarah Chen
	// organization: Stripe
	// technology: PostgreSQL
	// date: March 3
	// email: sarah@example.com
	// builtin memoryrelay-builtin-v1
}

func ExampleCanonicalType() {
	for _, t := range []string{"Place", "person", "Recipe"} {
		c, _ := extract.CanonicalType(t)
		fmt.Println(c)
	}
	// Output:
	// location
	// person
	// Recipe
}
