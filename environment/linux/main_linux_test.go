//go:build linux

package linux

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/go-dsynth/go-dsynth/environment"
)

// sharedTemplate is built once per test binary (from the host's /etc).
var sharedTemplate string

func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == environment.InitArg {
		os.Exit(Init())
	}
	if len(os.Args) > 1 && os.Args[1] == helperArg {
		os.Exit(helperMain(os.Args[2:]))
	}
	dir, err := os.MkdirTemp("", "dsynth-envtest-template-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	sharedTemplate = filepath.Join(dir, "Template")
	if os.Geteuid() == 0 {
		if err := environment.EnsureTemplate(sharedTemplate, "/"); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}
