//! Token usage and its cost in USD.

use serde::{Deserialize, Serialize};

/// Tokens used by one response.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    /// Input tokens not read from or written to the prompt cache.
    pub input: u64,
    /// Output tokens (including reasoning).
    pub output: u64,
    /// Input tokens read from the prompt cache.
    pub cache_read: u64,
    /// Input tokens written to the prompt cache.
    pub cache_write: u64,
    /// Of `cache_write`, the tokens written with a one-hour retention (priced higher by some
    /// providers; costed here at the `cache_write` price).
    #[serde(default)]
    pub cache_write_long: u64,
}

impl Usage {
    /// All tokens.
    pub fn total(&self) -> u64 {
        self.input + self.output + self.cache_read + self.cache_write
    }

    /// The cost of this usage at `prices`.
    pub fn cost(&self, prices: &Prices) -> Cost {
        let per_token = |tokens: u64, per_million: f64| tokens as f64 * per_million / 1_000_000.0;
        let cost = Cost {
            input: per_token(self.input, prices.input),
            output: per_token(self.output, prices.output),
            cache_read: per_token(self.cache_read, prices.cache_read),
            cache_write: per_token(self.cache_write, prices.cache_write),
            total: 0.0,
        };
        Cost {
            total: cost.input + cost.output + cost.cache_read + cost.cache_write,
            ..cost
        }
    }
}

/// Prices in USD per 1M tokens.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Prices {
    /// Input tokens.
    pub input: f64,
    /// Output tokens.
    pub output: f64,
    /// Tokens read from the prompt cache.
    pub cache_read: f64,
    /// Tokens written to the prompt cache.
    pub cache_write: f64,
}

/// A cost in USD, split like [`Usage`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Cost {
    /// For input tokens.
    pub input: f64,
    /// For output tokens.
    pub output: f64,
    /// For cache reads.
    pub cache_read: f64,
    /// For cache writes.
    pub cache_write: f64,
    /// The sum.
    pub total: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cost_is_per_million_tokens() {
        let usage = Usage {
            input: 1_000,
            output: 2_000,
            cache_read: 10_000,
            cache_write: 500,
            cache_write_long: 0,
        };
        let prices = Prices {
            input: 3.0,
            output: 15.0,
            cache_read: 0.3,
            cache_write: 3.75,
        };
        let cost = usage.cost(&prices);
        assert!((cost.input - 0.003).abs() < 1e-12);
        assert!((cost.output - 0.03).abs() < 1e-12);
        assert!((cost.cache_read - 0.003).abs() < 1e-12);
        assert!((cost.cache_write - 0.001875).abs() < 1e-12);
        assert!((cost.total - 0.037875).abs() < 1e-12);
        assert_eq!(usage.total(), 13_500);
    }
}
