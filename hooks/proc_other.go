//go:build !unix

package hooks

import "os/exec"

// killGroupOnCancel leaves cmd alone: without process groups, the end of
// its context kills the hook process only.
func killGroupOnCancel(*exec.Cmd) {}
