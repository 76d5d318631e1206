// Package recorder writes a build run into the build database (package
// builddb) durably and cheaply, and puts the database right after a run
// that died.
//
// A [Recorder] is the run's events.Subscriber. Handle only queues the
// events that matter; one writer goroutine turns them into the run record,
// one build record per port built, failed, ignored or skipped, and the
// rebuild inputs of the ports built (or found up to date without stored
// inputs), hashing the packages on the way. The writer takes everything
// queued when it starts a transaction and stores it with one
// builddb.DB.Commit: one transaction and one fsync however many ports
// finished meanwhile (group commit), so a run of many quick ports is not
// paced by the disk. A write that fails is never a warning: the recorder
// closes [Recorder.Failed], which the caller watches to stop the run, and
// [Recorder.Close] and [Recorder.Err] return the error. The writes of the
// failed transaction are held and tried once more by Close, so a passing
// failure (another process holding the file) loses nothing. A built
// port's package that cannot be read for its digest is not a database
// failure: the record is stored without size and checksum and the problem
// is kept for [Recorder.Warnings].
//
// A process killed in the middle of a run leaves a run without an end and,
// possibly, packages in the repository that no record describes (the
// package is renamed into the repository before its record is committed).
// So that they can be found whatever the next command scans, the recorder
// stores with the run record, when the run starts, the intent of every
// port the run builds (builddb.Intent: the templates of its success record
// and rebuild inputs), and drops them with the final run record.
// [Reconcile], called before the next scan, closes the runs without an end
// as aborted and writes, from their intents, a success record, marked
// recovered, for every package they made without recording it.
package recorder
