// Package builddb is go-dsynth's build database: a transactional history of
// every build attempt, kept in a single bbolt file (by default
// <BuildBase>/dsynth.db).
//
// # Model
//
// dsynth remembers one CRC per port and nothing else. builddb remembers every
// attempt. A [BuildRecord] describes one attempt of one port: its identity
// ([BuildID]: a time-ordered UUID, origin, version, flavor, the port's
// fingerprint and dsynth CRC, the ports tree commit, the system version, the
// worker and the options hash), its outcome (status, last phase, error), its
// timing, the package it produced and the exact dependency versions it was
// built against. A [Run] describes one dsynth invocation: when it started and
// ended, whether it was aborted and how many ports ended in each state. Every
// record names the run it belongs to. A record reconstructed after the fact
// (a package that a run which died never recorded) is marked
// [BuildRecord.Recovered].
//
// [DB.Commit] stores a [Batch] of runs, records and inputs in one
// transaction, with one fsync: a build run's recorder groups whatever
// finished meanwhile into each commit.
//
// Beside the records the database keeps, per origin, the [Inputs] a port was
// last successfully built from (fingerprint, CRC, options, dependency
// versions). The pure function [Decide] compares them with the current state
// of the tree and answers whether the package must be rebuilt and why,
// honouring dsynth's -x and -xx.
//
// # Layout
//
// The file holds these top-level buckets:
//
//	meta      schema version, creation time, statistics aggregate
//	builds    build UUID              → record (binary, checksummed)
//	packages  origin                  → start ‖ UUID of the origin's newest
//	                                    record (its chain head) and, when it
//	                                    has successes, of the latest of them,
//	                                    with their number and summed duration
//	inputs    origin                  → rebuild inputs (the CRC/fingerprint index),
//	                                    or a marker standing for the inputs
//	                                    of the last good build
//	history   start time ‖ UUID       → link, summary (origin, status,
//	                                    worker, times)
//	workers   worker ‖ start ‖ UUID   → status
//	runs      run UUID                → run record
//	runbuilds run UUID ‖ start ‖ UUID → nothing (a run's records)
//	intents   run UUID ‖ origin       → a port the run plans to build: the
//	                                    templates of its success record and
//	                                    rebuild inputs (JSON, checksummed),
//	                                    deleted when the run ends
//
// Every secondary index is updated in the same bbolt transaction as the
// record it points to, so a reader never sees one without the other.
//
// A port's history is a chain, not an index of its own: each history value
// starts with the history key of the same origin's next older record, and
// the packages entry holds the newest. Reading a port's history walks the
// chain from there; writing a record newer than its origin's others, the
// usual case, appends to the history bucket and rewrites one small
// packages entry per origin. (Schema 3 kept an index keyed by origin and
// start time; its random inserts into a bucket that grows with the history
// cost more than a third of the pages a batched write dirtied.)
// When a success becomes its origin's last good build, its rebuild inputs
// are recorded as the marker, so that later successes of the origin do not
// write the inputs bucket again; removing the last good build first stores
// its inputs in full, and [DB.PutInputs] always does. The
// history index carries a small summary of each record so that statistics
// over a time range and filtered listings never decode full records.
// Statistics over the whole history read maintained aggregates instead:
// meta/stats (record, success and failure counts, summed build time, latest
// end, records per worker) and the per-origin counts in the packages index,
// both updated in the record's transaction. [DB.Verify] checks that every
// index and aggregate agrees with the builds bucket.
//
// Records are stored in a compact binary encoding (hex digests as bytes,
// times relative to the start, derived fields omitted) that starts with a
// tag and a format version and ends with a CRC-32C of its bytes; records
// written in the first format are still read, and not rewritten; a record that fails the check is
// reported as damage, never returned. The same envelope lets [Recover] find
// records in a damaged file by scanning its pages directly.
//
// # Schema versions
//
// The meta bucket holds the schema version. Opening a file written by an
// older go-dsynth for writing runs the forward migrations in one
// transaction; a file with a newer, unknown version is refused
// ([ErrUnknownSchema]) and never written to. A bucket that older versions
// can safely ignore is added without a new version: a writer creates it in
// a file of the current schema that lacks it, and readers cope with its
// absence (the intents bucket, added to schema 5).
//
// # Concurrency
//
// One dsynth run at a time may write to a build base: [LockBuildBase] takes
// dsynth's <BuildBase>/.lock with a non-blocking flock and reports the
// holder's pid when it is taken ([ErrLocked]). bbolt itself allows one
// process at a time to have the file open for writing and blocks readers
// meanwhile, so a long-running writer opens the database with
// [Options.Transient]: the file is opened for each transaction only, and
// readers in other processes (status, the API) open it read-only with a
// timeout in between. Nothing ever waits without a bound: every open uses
// [Options.Timeout].
//
// # Dumps and compaction
//
// [DB.Dump] and [Dumper] write the complete content as versioned JSON lines
// (a header, the records, runs, rebuild inputs, intents and an end line
// counting them; dump.go), a page per read transaction; [ImportDump]
// restores one into an empty database, all or nothing, by building a new
// file beside it and renaming it in. [DB.CompactOpen] compacts the file of
// an open handle in place: transactions on a handle that stays open hold
// the handle's lock shared, and the compaction holds it exclusively while
// it copies the file and swaps the handle to the copy, so that no reader
// ever uses a closed handle.
//
// # Legacy data
//
// [ReadLegacyCRC] reads dsynth's ports_crc.db (a Berkeley DB 1.85 hash file
// written through ndbm) without cgo, and [DB.ImportLegacy] stores its CRCs
// as rebuild inputs in one transaction. [WriteLegacyCRC] writes such a
// file, atomically and without cgo, in a layout the library itself reads
// and goes on updating; [LegacyCRC] keeps one up to date during a build.
package builddb
