// Package report turns results logs into reports: it streams the log
// through results.Reader, keeps one float64 per trial and metric, and
// computes the success rate with its Wilson interval, zero-loss bounds,
// duration summaries (type-7 percentiles), breakdowns by scenario, delay
// and partition, term changes and the Spearman correlation of delay and
// recovery. It renders them as text, markdown, JSON, CSV (one row per
// trial) or one self-contained HTML file with gonum/plot SVG charts.
// METHODOLOGY.md ("Statistics") states the definitions.
package report
