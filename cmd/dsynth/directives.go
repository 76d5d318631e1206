package main

import (
	"context"
	"fmt"
	"io"
	"sort"

	"github.com/go-dsynth/go-dsynth/run"
)

// directive is one dsynth directive: its one-line help and what runs it.
type directive struct {
	args string // argument synopsis for the usage text
	help string
	run  func(ctx context.Context, r *runner, args []string) error
}

// directiveTable lists every directive. Each area of go-dsynth wires its
// directives in a file of its own in this package.
func directiveTable() map[string]directive {
	t := map[string]directive{
		"help":    {help: "print this usage text", run: runHelp},
		"version": {help: "print the version", run: runVersion},
		"init":    {help: "write a working default configuration", run: runInit},
		"graph":   {args: "[--format list|dot|json] ports…", help: "print the build closure of ports", run: runGraph},

		"status":             {args: "[ports…]", help: "dry run: what a build would build and why (no ports: the installed set)", run: runDirective("status")},
		"status-everything":  {help: "dry run over the whole tree", run: runDirective("status-everything")},
		"build":              {args: "[ports…]", help: "build ports (none: ports-mgmt/pkg), then offer to rebuild the repository", run: runDirective("build")},
		"just-build":         {args: "[ports…]", help: "build ports only", run: runDirective("just-build")},
		"install":            {args: "[ports…]", help: "build, then rebuild the repository", run: runDirective("install")},
		"force":              {args: "[ports…]", help: "delete the ports' packages, then build", run: runDirective("force")},
		"test":               {args: "[ports…]", help: "build with DEVELOPER, check-plist, install and deinstall", run: runDirective("test")},
		"debug":              {args: "[ports…]", help: "build, keeping each listed port's slot frozen", run: runDirective("debug")},
		"everything":         {help: "build the whole ports tree", run: runDirective("everything")},
		"upgrade-system":     {help: "build the installed set, rebuild the repository, exit 1 with dsynth's NOTE", run: runDirective("upgrade-system")},
		"prepare-system":     {help: "as upgrade-system, deleting obsolete packages", run: runDirective("prepare-system")},
		"rebuild-repository": {help: "rebuild the package repository", run: runRebuildRepository},
		"purge-distfiles":    {help: "delete distfiles no port references", run: runPurgeDistfiles},
		"reset-db":           {help: "forget every port's rebuild inputs", run: runResetDB},
		"fetch-only":         {args: "[ports…|everything]", help: "fetch and checksum distfiles only", run: runDirective("fetch-only")},
		"list-system":        {help: "write the installed set's build list to ./build.txt", run: runListSystem},
		"add":                {args: "ports…", help: "queue ports into a running build", run: runAdd},
		"monitor":            {args: "[file]", help: "show a running build's screen", run: runMonitor},
		"cleanup":            {help: "remove every slot left behind", run: runCleanup},
		"configure":          {help: "interactive configuration (not implemented in dsynth either)", run: runConfigure},
		"logs":               {args: "port", help: "print a port's build log", run: runLogs},
		"db":                 {args: "stats|show BUILD [--json]|export [--all]|import FILE|clean|compact|import-legacy FILE|recover", help: "build database operations", run: runDB},
		"compare":            {args: "[--json] [--pkgdir DIR]… BUILD BUILD | PORT RUN RUN", help: "what differs between two builds: their recorded inputs and their packages", run: runCompare},
		"reproduce":          {args: "[--json] [--force] [--keep] [--pkgdir DIR]… BUILD", help: "rebuild a build from its recorded inputs and compare the package bit for bit", run: runReproduce},
		"repo":               {args: "list|rollback [GEN]|prune --keep N|verify [GEN] [--pubkey FILE]|keygen PATH", help: "the repository's generations (Repository_publish=atomic)", run: runRepo},
		"exec":               {args: "[--] command…", help: "run a command in a fresh build slot", run: runExec},
		"shell":              {help: "open a shell in a fresh build slot", run: runShell},
		"serve":              {help: "serve the REST API (Api_listen) until interrupted", run: runServe},
		"api-key":            {args: "NAME read|user|builder|admin [--expires WHEN] | revoke NAME", help: "make an API key (its hash goes to Api_keys, the key to stdout), or revoke a name's keys", run: runAPIKey},
		"worker":             {args: "--controller URL --creds FILE [--slots N] [--ca FILE]", help: "build a cluster controller's ports on this host", run: runWorker},
		"worker-key":         {args: "NAME [--out FILE] | revoke NAME", help: "admit a cluster worker (Cluster_workers) and write its credentials", run: runWorkerKey},
		"token":              {args: "NAME read|user|builder|admin [--ttl DURATION] [--kid KID]", help: "mint a JWT bearer token with a key of Api_token_keys", run: runToken},
	}
	return t
}

// runDirective runs a directive of the run library's table.
func runDirective(name string) func(context.Context, *runner, []string) error {
	d, ok := run.Lookup(name)
	if !ok {
		panic("dsynth: the run library has no directive " + name)
	}
	if d.DryRun {
		return statusDirective(d)
	}
	return buildDirective(d)
}

// runHelp is `dsynth help`: the usage text on stderr, as dsynth's
// usage(0).
func runHelp(_ context.Context, r *runner, _ []string) error {
	printUsage(r.stderr)
	return nil
}

func runVersion(_ context.Context, r *runner, _ []string) error {
	fmt.Fprintln(r.stdout, version)
	return nil
}

// printUsage writes the usage text: flags, then every directive.
func printUsage(w io.Writer) {
	fmt.Fprint(w, `usage: dsynth [-dhvxyDPNS] [-C dir] [-R url] [-m GB] [-M scale] [-p profile] [-s N] directive [ports… | file]

flags:
  -d          debug trace (dependency links) in 07_debug.log; -dd prints
              it instead and turns the screen off, as dsynth
  -h          this help          -v   version
  -m GB       memory target for installed dependencies
  -M f        scale the dynamic worker limits (0.01-99)
  -p profile  select a profile (overrides DSYNTH_PROFILE and profile_selected)
  -s N        initial worker limit (slow start; 0 = all)
  -x          keep packages deleted "due to dependencies"; -xx also on port changes
  -y          answer yes to every question
  -D          DEVELOPER mode        -P   add the check-plist phase
  -N          do not nice builds    -S   no curses display (-SS: no colour)
  -C dir      configuration directory (default /etc/dsynth, then /usr/local/etc/dsynth)
  -R url      submit build, just-build, force and test to the build service at url
              and follow them (or DSYNTH_REMOTE; the key from DSYNTH_API_KEY)

directives:
`)
	t := directiveTable()
	names := make([]string, 0, len(t))
	for n := range t {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		d := t[n]
		fmt.Fprintf(w, "  %-20s %-22s %s\n", n, d.args, d.help)
	}
}
