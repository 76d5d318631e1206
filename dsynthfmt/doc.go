// Package dsynthfmt holds dsynth's text formats for its logs and its
// screen: the results-log lines (START, SUCCESS, FAILURE, ignored, skipped,
// IGNORD, SKIPPD, meta-node, Already-Built, worker-limit and free-form
// lines), the texts the builder logs (watchdog, phase failure, lost ports),
// the "##" alignment rule, the slot tag, HH:MM:SS and the end-of-run block.
//
// They are pure functions with no I/O, shared by the log writer (package
// report), the terminal display (package display) and the builder, so that
// a line reads the same in 00_last_results.log, on the screen and on
// stdout.
//
// # Formats
//
// dsynth formats a log entry and then applies its "##" rule to the whole
// text: the first "##" is removed and the rest pushed right so that the line
// ends in column 79 (column 80 counting the newline); see Align. A slot is
// printed as [NNN] (%03d) and a line without a slot as [XXX]. A port whose
// outcome makes others unbuildable carries " N", the number of transitive
// dependents it skips, right after its origin; it is omitted when zero (see
// SkipSuffix). Durations are HH:MM:SS, the hours growing past 99 (see HMS).
package dsynthfmt
