package main

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/go-dsynth/go-dsynth/auth"
	"github.com/go-dsynth/go-dsynth/internal/fileperm"
	"github.com/go-dsynth/go-dsynth/run"
	"github.com/go-dsynth/go-dsynth/service"
)

// runServe is `dsynth serve`: the build service — the API on Api_listen
// and the owner's socket, and the queue of builds it runs — until SIGINT
// or SIGTERM.
func runServe(ctx context.Context, r *runner, args []string) error {
	if len(args) > 0 {
		return &usageError{"serve takes no arguments"}
	}
	cfg, err := r.config()
	if err != nil {
		return err
	}
	newEnv, layout := run.HostEnvironment()
	if newEnv == nil {
		return fmt.Errorf("serve: no build environment backend for this host")
	}
	ro := run.Options{NoNice: r.opts.noNice, SlowStart: r.opts.slowStart, Scale: r.opts.scale, MemTargetGB: r.opts.memTargetGB,
		Stderr: r.stderr, NewEnv: newEnv, Layout: layout, CleanSlots: run.HostCleanup()}
	return service.Serve(ctx, cfg, r.stderr, ro)
}

// runAPIKey is `dsynth api-key NAME ROLE [--expires WHEN]`: a fresh key,
// whose hash line is appended to the Api_keys file; the key itself goes to
// stdout, once. A name that already has keys of that role gets one more
// (a rotation). `dsynth api-key revoke NAME` removes every key of NAME; a
// running service follows the file, so the keys stop working at once.
func runAPIKey(_ context.Context, r *runner, args []string) error {
	const usage = "api-key needs NAME and ROLE (read, user, builder or admin), optionally --expires WHEN (a duration such as 720h, or an RFC 3339 time), or: api-key revoke NAME"
	if len(args) == 2 && args[0] == "revoke" {
		cfg, err := r.config()
		if err != nil {
			return err
		}
		if cfg.Profile.APIKeys == "" {
			return fmt.Errorf("%s: the [%s] profile has no Api_keys file", cfg.File, cfg.ProfileName)
		}
		n, err := auth.RevokeKeys(cfg.Profile.APIKeys, args[1])
		if err != nil {
			return err
		}
		fmt.Fprintf(r.stderr, "Revoked %d key(s) of %q in %s.\n", n, args[1], cfg.Profile.APIKeys)
		return nil
	}
	flags, err := trailingFlags(args[min(2, len(args)):], "--expires")
	if len(args) < 2 || err != nil {
		return &usageError{usage}
	}
	role, err := auth.ParseRole(args[1])
	if err != nil {
		return &usageError{err.Error()}
	}
	var expires time.Time
	if v, ok := flags["--expires"]; ok {
		if expires, err = parseExpiry(v, time.Now()); err != nil {
			return &usageError{err.Error()}
		}
	}
	cfg, err := r.config()
	if err != nil {
		return err
	}
	if cfg.Profile.APIKeys == "" {
		return fmt.Errorf("%s: set Api_keys to the keys file's path in the [%s] profile first", cfg.File, cfg.ProfileName)
	}
	key, err := auth.AppendKey(cfg.Profile.APIKeys, args[0], role, expires)
	if err != nil {
		return err
	}
	if g := cfg.Profile.APIFileGroup; g != "" {
		if err := fileperm.Restrict(cfg.Profile.APIKeys, g); err != nil {
			return fmt.Errorf("%s: %w", cfg.File, err)
		}
	}
	fmt.Fprintln(r.stdout, key)
	until := ""
	if !expires.IsZero() {
		until = ", valid until " + expires.UTC().Format(time.RFC3339)
	}
	fmt.Fprintf(r.stderr, "Added key %q (role %s%s) to %s. Keep the key above: it is stored nowhere.\n", args[0], role, until, cfg.Profile.APIKeys)
	return nil
}

// runToken is `dsynth token NAME ROLE [--ttl DURATION] [--kid KID]`: a
// JWT for NAME with ROLE, signed with a key of Api_token_keys (the last
// one with private material unless --kid names one), to stdout.
func runToken(_ context.Context, r *runner, args []string) error {
	const usage = "token needs NAME and ROLE (read, user, builder or admin), optionally --ttl DURATION (default 12h) and --kid KID"
	flags, err := trailingFlags(args[min(2, len(args)):], "--ttl", "--kid")
	if len(args) < 2 || err != nil {
		return &usageError{usage}
	}
	role, err := auth.ParseRole(args[1])
	if err != nil {
		return &usageError{err.Error()}
	}
	var ttl time.Duration
	if v, ok := flags["--ttl"]; ok {
		if ttl, err = time.ParseDuration(v); err != nil || ttl <= 0 {
			return &usageError{fmt.Sprintf("--ttl %q: want a positive duration such as 30m or 24h", v)}
		}
	}
	cfg, err := r.config()
	if err != nil {
		return err
	}
	p := &cfg.Profile
	if p.APITokenKeys == "" {
		return fmt.Errorf("%s: set Api_token_keys to the token keys file's path in the [%s] profile first (see docs/API.md)", cfg.File, cfg.ProfileName)
	}
	tk, err := auth.LoadTokenKeys(p.APITokenKeys, p.APITokenIssuer, p.APITokenAudience)
	if err != nil {
		return fmt.Errorf("%s: Api_token_keys: %w", cfg.File, err)
	}
	tok, err := tk.Mint(args[0], role, ttl, flags["--kid"], time.Now())
	if err != nil {
		return err
	}
	fmt.Fprintln(r.stdout, tok)
	return nil
}

// trailingFlags reads "--name value" pairs of the names allowed.
func trailingFlags(args []string, allowed ...string) (map[string]string, error) {
	out := map[string]string{}
	for i := 0; i < len(args); i += 2 {
		if !slices.Contains(allowed, args[i]) || i+1 >= len(args) {
			return nil, fmt.Errorf("unexpected %q", args[i])
		}
		if _, dup := out[args[i]]; dup {
			return nil, fmt.Errorf("%s given twice", args[i])
		}
		out[args[i]] = args[i+1]
	}
	return out, nil
}

// parseExpiry reads --expires: a duration from now, or an RFC 3339 time
// in the future.
func parseExpiry(v string, now time.Time) (time.Time, error) {
	if d, err := time.ParseDuration(v); err == nil {
		if d <= 0 {
			return time.Time{}, fmt.Errorf("--expires %q: the duration must be positive", v)
		}
		return now.Add(d).Truncate(time.Second), nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, fmt.Errorf("--expires %q: want a duration such as 720h or an RFC 3339 time such as 2027-01-31T00:00:00Z", v)
	}
	if !t.After(now) {
		return time.Time{}, fmt.Errorf("--expires %q is not in the future", v)
	}
	return t, nil
}
