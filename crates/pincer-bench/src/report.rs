//! The report: markdown sections printed as they complete, and gathered for `--out`.

use std::fmt::Write as _;

use hdrhistogram::Histogram;

/// The report being written.
#[derive(Debug, Default)]
pub(crate) struct Report {
    text: String,
    /// A scenario's own check failed (the soak run's verdict); the program then exits non-zero.
    pub(crate) failed: bool,
}

impl Report {
    /// Adds a heading.
    pub(crate) fn heading(&mut self, title: &str) {
        self.emit(&format!("\n## {title}\n"));
    }

    /// Adds a paragraph.
    pub(crate) fn note(&mut self, text: &str) {
        self.emit(&format!("{text}\n"));
    }

    /// Adds a table.
    pub(crate) fn table(&mut self, header: &[&str], rows: &[Vec<String>]) {
        let mut out = String::new();
        let _ = writeln!(out, "| {} |", header.join(" | "));
        let _ = writeln!(
            out,
            "|{}|",
            header.iter().map(|_| "---").collect::<Vec<_>>().join("|")
        );
        for row in rows {
            let _ = writeln!(out, "| {} |", row.join(" | "));
        }
        self.emit(&out);
    }

    fn emit(&mut self, text: &str) {
        // The report is the program's output.
        #[allow(clippy::print_stdout)]
        {
            println!("{text}");
        }
        self.text.push_str(text);
        self.text.push('\n');
    }

    /// Everything written so far.
    pub(crate) fn text(&self) -> &str {
        &self.text
    }
}

/// Prints one line on stdout (outside the report).
pub(crate) fn announce(line: &str) {
    #[allow(clippy::print_stdout)]
    {
        println!("{line}");
    }
}

/// Milliseconds with two decimals.
pub(crate) fn ms(micros: f64) -> String {
    format!("{:.2}", micros / 1000.0)
}

/// A percentile of a histogram of microseconds, in microseconds.
pub(crate) fn pct(histogram: &Histogram<u64>, q: f64) -> f64 {
    histogram.value_at_quantile(q) as f64
}

/// MiB with one decimal.
pub(crate) fn mib(value: f64) -> String {
    format!("{value:.1}")
}
