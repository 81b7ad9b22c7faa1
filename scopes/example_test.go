package scopes_test

import (
	"errors"
	"fmt"

	"github.com/memoryrelay/memoryrelay/scopes"
)

func ExampleSet_Check() {
	key := scopes.NewSet(scopes.Read, scopes.Write)

	fmt.Println(key.Check(scopes.Write))

	err := key.Check(scopes.Delete)
	var missing *scopes.MissingError
	if errors.As(err, &missing) {
		fmt.Println(missing.Scope, "is missing:", err)
	}
	// Output:
	// <nil>
	// delete is missing: Insufficient scope. Required: delete
}

func ExampleSet_Has() {
	admin := scopes.NewSet(scopes.Admin)
	fmt.Println(admin.Has(scopes.Delete)) // admin implies read, write and delete
	fmt.Println(admin.Strings())          // but lists only what it holds

	rw := scopes.NewSet(scopes.Read, scopes.Write)
	fmt.Println(rw.Has(scopes.Delete))
	// Output:
	// true
	// [admin]
	// false
}

func ExampleSet_Contains() {
	creator := scopes.NewSet(scopes.Read, scopes.Write)
	for _, want := range []string{"read", "read,delete", "admin"} {
		requested, _ := scopes.ParseList(want)
		fmt.Printf("%s: %v\n", want, creator.Contains(requested))
	}
	// Output:
	// read: true
	// read,delete: false
	// admin: false
}

func ExampleParseList() {
	set, err := scopes.ParseList("write, read delete")
	fmt.Println(set, err)

	_, err = scopes.ParseList("read,owner")
	fmt.Println(err, errors.Is(err, scopes.ErrUnknown))
	// Output:
	// read,write,delete <nil>
	// scopes: unknown scope "owner" true
}

func ExampleParseSet() {
	set, err := scopes.ParseSet([]string{"admin", "read"})
	fmt.Println(set.Strings(), err)

	empty, err := scopes.ParseSet(nil)
	fmt.Println(empty.IsEmpty(), err)
	// Output:
	// [read admin] <nil>
	// true <nil>
}

func ExampleParse() {
	sc, err := scopes.Parse(" Write ")
	fmt.Println(sc, err)
	// Output:
	// write <nil>
}
