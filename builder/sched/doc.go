// Package sched decides which port to build next. It is pure: no I/O, no
// goroutines, no clock of its own. The builder owns the processes and the
// clock and tells the scheduler what happened; the scheduler answers what
// to start, what became ready and what must be skipped. The same code is
// driven by a discrete-event simulation (package sched/sim) in tests and
// benchmarks, and can serve a dry run.
//
// # Model
//
// A [Graph] is an abstract DAG of dense node IDs 0..N-1, each with the IDs
// it depends on and an estimated build duration. [NewGraph] validates it
// (range, self-dependencies, cycles) and precomputes reverse edges.
//
// A [Scheduler] walks one run over a Graph:
//
//   - every node starts waiting, with a pending count of unfinished
//     dependencies; nodes with none are ready at once;
//   - [Scheduler.Next] hands out the best ready node for a free slot;
//   - [Scheduler.Done] reports a finished node. On success each dependent's
//     pending count drops by one (O(1) per edge, no rescans) and the nodes
//     that reach zero join the ready queue and are returned. On failure every
//     transitive dependent not yet finished is skipped at once and returned
//     with the chain of dependencies that explains why.
//
// The ready queue's order is a [Policy], a plain value. [CriticalPath] (the
// default) orders by bottom level: the longest remaining path, weighted by
// estimated durations, from the node to any sink. [DsynthTwoHalf] is
// dsynth's heuristic (half the slots by depi_count×depi_depth, the other
// half by idep_count), either as a global event-driven queue or, with
// Batch, as dsynth's C code dispatches: each ready batch whole before newly
// ready ports are considered. [FIFO] is a plain topological FIFO.
//
// # Durations and limits
//
// [Estimate] guesses a build duration from scan facts for a port without
// history. [Limiter] reproduces dsynth's dynamic worker limit (load, swap
// and installed-dependency memory caps, -M scale, slow start) as a pure
// function of a [LimitSample], the previous [LimitState] and the clock.
//
// # Caveats
//
// A Scheduler is not safe for concurrent use; the builder serialises calls
// (one mutex around Next and Done, as cmd/go does around its ready heap).
// Estimates only order the queue: a wrong estimate never blocks a node.
package sched
