package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/go-dsynth/go-dsynth/run"
)

// runRepo is `dsynth repo list|rollback [GEN]|prune --keep N|verify [GEN]
// [--pubkey FILE]|keygen PATH`: the generations of atomic publishing.
func runRepo(ctx context.Context, r *runner, args []string) error {
	const subs = "list, rollback [GEN], prune --keep N, verify [GEN] [--pubkey FILE], keygen PATH"
	if len(args) == 0 {
		return &usageError{msg: "repo needs a subcommand: " + subs}
	}
	sub, rest := args[0], args[1:]
	if sub == "keygen" {
		if len(rest) != 1 {
			return &usageError{msg: "repo keygen needs one PATH (writes PATH.sec and PATH.pub)"}
		}
		return run.RepoKeygen(rest[0], r.stdout)
	}
	cfg, err := r.config()
	if err != nil {
		return err
	}
	gen := func(what string, a []string) (int, error) {
		if len(a) == 0 {
			return 0, nil
		}
		n, err := strconv.Atoi(a[0])
		if err != nil || n < 1 || len(a) > 1 {
			return 0, &usageError{msg: fmt.Sprintf("repo %s takes at most one generation number, got %q", what, a)}
		}
		return n, nil
	}
	switch sub {
	case "list":
		if len(rest) > 0 {
			return &usageError{msg: "repo list takes no arguments"}
		}
		return run.RepoList(cfg, r.stdout)
	case "rollback":
		n, err := gen("rollback", rest)
		if err != nil {
			return err
		}
		return run.RepoRollback(ctx, cfg, n, r.stdout)
	case "prune":
		if len(rest) != 2 || rest[0] != "--keep" && rest[0] != "-keep" {
			return &usageError{msg: "repo prune needs --keep N"}
		}
		n, err := strconv.Atoi(rest[1])
		if err != nil || n < 1 {
			return &usageError{msg: fmt.Sprintf("repo prune --keep: %q is not a count of at least 1", rest[1])}
		}
		return run.RepoPrune(cfg, n, r.stdout)
	case "verify":
		pub := ""
		var pos []string
		for i := 0; i < len(rest); i++ {
			if rest[i] == "--pubkey" || rest[i] == "-pubkey" {
				if i+1 == len(rest) {
					return &usageError{msg: "repo verify --pubkey needs a FILE"}
				}
				pub = rest[i+1]
				i++
				continue
			}
			pos = append(pos, rest[i])
		}
		n, err := gen("verify", pos)
		if err != nil {
			return err
		}
		err = run.RepoVerify(cfg, n, pub, r.stdout)
		if errors.Is(err, run.ErrVerifyFailed) {
			return &exitError{code: 1}
		}
		return err
	}
	return &usageError{msg: fmt.Sprintf("unknown repo subcommand %q (%s)", sub, subs)}
}
