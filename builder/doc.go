// Package builder is go-dsynth's engine: given the dependency graph of a
// build set, the build database and a build environment backend, it decides
// what must be (re)built and why (plan.go, a pure function of graph and
// database state with dsynth's -x / -xx rules), schedules the ports over the
// slots with package sched (event-driven ready set, critical-path priorities,
// dsynth's dynamic worker limit), builds each port in a fresh slot through
// its phases with dsynth's watchdogs and logs, copies packages into the
// repository atomically and publishes everything that happens on one
// events.Bus. The build database recorder (recorder.go) is the first
// subscriber; logs, report, display, API and hooks are others.
package builder
