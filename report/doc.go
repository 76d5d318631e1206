// Package report writes dsynth's logs and web report, byte for byte in
// dsynth's formats, from the engine's event stream (builder/events).
//
// Three writers make up the package:
//
//   - Logs subscribes to the event bus and writes the eight numbered logs in
//     Directory_logs (00_last_results.log … 07_debug.log): START, SUCCESS,
//     FAILURE, ignored and skipped lines, meta-node completions, worker-limit
//     adjustments, free-form Log lines and the final summary block.
//   - PortLog is the per-port build log (<category>___<port>[@flavor].log).
//     The builder writes it directly, because it carries the raw, high-volume
//     output of every phase; the package only supplies dsynth's banners,
//     phase results, total time and watchdog notices around it.
//   - Web subscribes to the bus and maintains Directory_logs/Report: the
//     page (index.html, progress.css, progress.js, favicon.png, dsynth.png, written by
//     this project), summary.json (replaced atomically, at most every 10 s
//     while a run is active, plus a final write) and the NN_history.json
//     files (one entry per completion, appended in place, rotating past
//     50,000 bytes).
//
// Every line and JSON document is produced by a pure function so formats
// are tested byte for byte without files; the writers only add file I/O.
// The results-log lines (START, SUCCESS, FAILURE, …, the final block) come
// from package dsynthfmt, which the display and the builder share; the
// per-port log's texts (PhaseBanner, PhaseResultText, WatchdogNotice) and
// the web report's (SummaryJSON, HistoryEntry, …) are this package's.
//
// # Formats
//
// The log line formats ("##" alignment, [NNN]/[XXX] slot tags, the " N"
// skip suffix) are described in package dsynthfmt.
//
// Known dsynth quirks reproduced on purpose: a port that a worker reports as
// ignored goes to 04_skipped_list.log ("IGNORD"), not 03; the history "info"
// of a failure is "<phase>:" followed by the skip suffix as it appears in
// the log (" N", or nothing), while an ignored port's is
// "<reason>:|:<N or 0>"; history IDs of completions without a slot are "-1".
package report
