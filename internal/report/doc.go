// Package report turns results logs into reports: it streams the log
// through results.Reader, keeps one float64 per trial and metric, and
// computes the success rate with its Wilson interval and the exact
// (Clopper–Pearson) bound on the loss rate, zero-loss bounds, duration
// summaries (type-7 percentiles, given only where there are enough values),
// a Kaplan–Meier median recovery that counts censored trials, breakdowns by
// scenario, anchor and delay, partition, victim restart and election rounds,
// term changes and the Spearman correlation of delay and recovery. It
// checks every recorded outcome against results.Outcome, keeps the
// positive control (fault wipe-all) out of the failover statistics, and
// lists the final read's lost writes. It renders text, markdown, JSON, CSV
// (one row per trial) or one self-contained HTML file with gonum/plot SVG
// charts. METHODOLOGY.md ("Statistics") states the definitions.
package report
