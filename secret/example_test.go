package secret_test

import (
	"fmt"

	"github.com/memoryrelay/memoryrelay/secret"
)

func Example() {
	// The operator's server secret, from configuration (32 bytes or more).
	serverSecret := []byte("a-32-byte-or-longer-operator-secret!")
	s, err := secret.NewSealer(serverSecret, "extraction-keys")
	if err != nil {
		panic(err)
	}
	key := secret.New("sk-proj-0123456789abcdef")
	sealed, _ := s.SealText(key, []byte("account-1/key-7")) // store sealed
	opened, err := s.OpenText(sealed, []byte("account-1/key-7"))
	fmt.Println(opened == key, err)
	fmt.Println(opened, opened.Mask())
	_, err = s.OpenText(sealed, []byte("account-2/key-7"))
	fmt.Println(err)
	// Output:
	// true <nil>
	// [redacted] sk-…cdef
	// secret: sealed value was altered or belongs elsewhere
}
