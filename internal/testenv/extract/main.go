// Command extract unpacks the shared test archives into the test cache and
// prints where; `make bench` and developers use it to warm the cache.
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/go-dsynth/go-dsynth/internal/testenv"
)

func main() {
	d, err := testenv.SharedDir()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	names := os.Args[1:]
	if len(names) == 0 {
		names = []string{testenv.SliceTree, testenv.LeanTree}
	}
	for _, a := range names {
		p, err := testenv.ExtractArchive(filepath.Join(d, a))
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Println(p)
	}
}
