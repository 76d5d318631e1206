// Package cluster spreads one bulk build over several hosts on NATS
// JetStream: the controller (the process that runs the build) embeds a
// NATS server (StartServer) or joins an external one, admits workers
// (`dsynth worker`) whose credentials it issued (IssueWorkerKey) and
// whose system and ports tree match its own (Identity, Mismatch), follows
// their heartbeats, and hands their slots to the builder as environments
// (Controller.Env): the controller keeps the scheduler, the phases, the
// watchdogs and every log, and a worker only runs the commands of a lease
// in a fresh local slot, streaming their output back. Each lease is a job
// of the JetStream stream JobsStream (work-queue retention, one durable
// consumer per worker, its acknowledgement wait the lease timeout): the
// worker takes it, reports it in progress with every heartbeat and
// acknowledges it when the lease ends; the controller deletes the job of a
// lease it gave up, and a worker refuses a job delivered again after its
// lease was lost. The commands of a lease are core NATS calls; the job
// also carries the port's script (environment.RemotePort), which the
// worker runs ahead, each Execute then taking its step's output and end
// from the script's replies (scriptRun) instead of a call. Dependency packages
// travel to workers through a JetStream object store named by SHA-256 and
// cached in the worker's repository; built packages come back through the
// worker's own bucket and are verified before the builder renames them
// into the repository. A worker silent for longer than the lease timeout
// is lost: its calls fail with ErrWorkerLost (environment.ErrLost), the
// builder puts the port back in the queue, and any late answer of the
// lost lease is discarded by its call and lease ids.
//
// Each worker's NATS user may publish and subscribe only its own
// subjects (workerPermissions): its calls, its inbox, its replies and
// heartbeats, its own job consumer (pulls and acknowledgements), reads of
// the packages bucket and writes to its own upload bucket.
package cluster
