//! Raw samples, kept whole: every latency a run measured, in microseconds (fractional, and
//! signed where a figure is a deviation). Percentiles are read from the sorted samples (nearest
//! rank), so they have the clock's resolution instead of a histogram bucket's, and a percentile
//! is only given when the run holds enough samples beyond it to support it: at least
//! [`TAIL_SAMPLES`] above the quantile, so p50 needs 20 samples, p90 100 and p99 1,000. Below
//! that a cell says so instead of passing the maximum off as a p99.

use std::time::Duration;

/// Samples that must lie beyond a quantile for it to be reported.
pub(crate) const TAIL_SAMPLES: f64 = 10.0;

/// A set of measurements, in microseconds.
#[derive(Debug, Clone, Default)]
pub(crate) struct Samples {
    values: Vec<f64>,
    sorted: bool,
}

impl Samples {
    /// Adds a duration.
    pub(crate) fn record(&mut self, duration: Duration) {
        self.push(duration.as_secs_f64() * 1e6);
    }

    /// Adds a value in microseconds.
    pub(crate) fn push(&mut self, micros: f64) {
        self.values.push(micros);
        self.sorted = false;
    }

    /// How many samples there are.
    pub(crate) fn len(&self) -> usize {
        self.values.len()
    }

    fn sort(&mut self) {
        if !self.sorted {
            self.values.sort_by(f64::total_cmp);
            self.sorted = true;
        }
    }

    /// Whether `q` is supported by enough samples (see the module's doc).
    pub(crate) fn supports(&self, q: f64) -> bool {
        self.len() as f64 * (1.0 - q) >= TAIL_SAMPLES - 1e-9
    }

    /// The `q` quantile (nearest rank), when the samples support it.
    pub(crate) fn quantile(&mut self, q: f64) -> Option<f64> {
        if !self.supports(q) {
            return None;
        }
        self.sort();
        let rank = (q * self.len() as f64).ceil() as usize;
        self.values.get(rank.saturating_sub(1)).copied()
    }

    /// The smallest sample.
    pub(crate) fn min(&mut self) -> Option<f64> {
        self.sort();
        self.values.first().copied()
    }

    /// The largest sample.
    pub(crate) fn max(&mut self) -> Option<f64> {
        self.sort();
        self.values.last().copied()
    }
}

/// A cell: the `q` quantile in ms with three decimals (microseconds), or why there is none.
pub(crate) fn cell(samples: &mut Samples, q: f64) -> String {
    quantile_cell(samples.quantile(q), q)
}

/// A cell: the difference of the `q` quantiles of `a` and `b`, in ms, when both are supported.
pub(crate) fn added_cell(a: &mut Samples, b: &mut Samples, q: f64) -> String {
    quantile_cell(a.quantile(q).zip(b.quantile(q)).map(|(a, b)| a - b), q)
}

/// A cell for the `q` quantile `value` (µs), or, when there is none, how many samples it needs.
pub(crate) fn quantile_cell(value: Option<f64>, q: f64) -> String {
    value.map_or_else(|| format!("– (n<{:.0})", TAIL_SAMPLES / (1.0 - q)), ms)
}

/// The largest sample in ms, or `–`.
pub(crate) fn max_cell(samples: &mut Samples) -> String {
    samples.max().map_or("–".to_owned(), ms)
}

/// Microseconds as milliseconds with three decimals.
pub(crate) fn ms(micros: f64) -> String {
    format!("{:.3}", micros / 1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(values: impl IntoIterator<Item = f64>) -> Samples {
        let mut s = Samples::default();
        for v in values {
            s.push(v);
        }
        s
    }

    #[test]
    fn a_p99_needs_a_thousand_samples() {
        let mut few = of((1..=999).map(f64::from));
        assert_eq!(few.quantile(0.99), None);
        assert_eq!(few.quantile(0.9), Some(900.0));
        assert_eq!(cell(&mut few, 0.99), "– (n<1000)");
        let mut enough = of((1..=1000).rev().map(f64::from));
        assert_eq!(enough.quantile(0.99), Some(990.0));
        assert_eq!(enough.quantile(0.5), Some(500.0));
        assert_eq!(enough.max(), Some(1000.0));
    }

    #[test]
    fn values_keep_microsecond_resolution_and_sign() {
        let mut s = of((0..40).map(|i| f64::from(i) * 2.0 - 20.0));
        assert_eq!(s.quantile(0.5), Some(18.0));
        assert_eq!(cell(&mut s, 0.5), "0.018");
        let mut lag = of((0..40).map(|_| -1.0));
        assert_eq!(cell(&mut lag, 0.5), "-0.001");
        assert_eq!(of([]).quantile(0.5), None);
    }
}
