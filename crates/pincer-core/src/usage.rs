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

    /// The cost of this usage at `prices`, or `None` when a kind of token this usage has
    /// (`input`, `output`, cache reads or writes) has no known price: an unknown price makes
    /// the cost unknown, never zero. Cache writes with a one-hour retention are costed at the
    /// one-hour price where it is known, else at the cache-write price.
    pub fn cost(&self, prices: &Prices) -> Option<Cost> {
        let per_token = |tokens: u64, per_million: Option<f64>| match (tokens, per_million) {
            (0, _) => Some(0.0),
            (tokens, Some(price)) => Some(tokens as f64 * price / 1_000_000.0),
            (_, None) => None,
        };
        let long = self.cache_write_long.min(self.cache_write);
        let long_price = prices.cache_write_long.or(prices.cache_write);
        let cost = Cost {
            input: per_token(self.input, prices.input)?,
            output: per_token(self.output, prices.output)?,
            cache_read: per_token(self.cache_read, prices.cache_read)?,
            cache_write: per_token(self.cache_write - long, prices.cache_write)?
                + per_token(long, long_price)?,
            total: 0.0,
        };
        Some(Cost {
            total: cost.input + cost.output + cost.cache_read + cost.cache_write,
            ..cost
        })
    }
}

/// Prices in USD per 1M tokens; `None` is a price nobody published for this model (unknown,
/// which is not zero).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Prices {
    /// Input tokens.
    pub input: Option<f64>,
    /// Output tokens.
    pub output: Option<f64>,
    /// Tokens read from the prompt cache.
    pub cache_read: Option<f64>,
    /// Tokens written to the prompt cache (five-minute retention).
    pub cache_write: Option<f64>,
    /// Tokens written to the prompt cache with a one-hour retention.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_write_long: Option<f64>,
}

impl Prices {
    /// Whether any price is known.
    pub fn is_known(&self) -> bool {
        self.input.is_some() || self.output.is_some()
    }
}

/// A model's prices in each service tier it is sold in.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct TierPrices {
    /// The standard (`default`) tier.
    pub standard: Prices,
    /// The `priority` tier, where published.
    pub priority: Option<Prices>,
    /// The `flex` tier, where published.
    pub flex: Option<Prices>,
}

impl TierPrices {
    /// The prices of an answer served in `tier` (what the provider reported): the standard
    /// prices for the default tier or none reported, unknown where the tier's are unpublished.
    pub fn serving(&self, tier: Option<&str>) -> Prices {
        match tier {
            Some("priority") => self.priority.unwrap_or_default(),
            Some("flex") => self.flex.unwrap_or_default(),
            _ => self.standard,
        }
    }
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
            input: Some(3.0),
            output: Some(15.0),
            cache_read: Some(0.3),
            cache_write: Some(3.75),
            cache_write_long: None,
        };
        let cost = usage.cost(&prices).unwrap();
        assert!((cost.input - 0.003).abs() < 1e-12);
        assert!((cost.output - 0.03).abs() < 1e-12);
        assert!((cost.cache_read - 0.003).abs() < 1e-12);
        assert!((cost.cache_write - 0.001875).abs() < 1e-12);
        assert!((cost.total - 0.037875).abs() < 1e-12);
        assert_eq!(usage.total(), 13_500);
    }

    #[test]
    fn an_unknown_price_makes_the_cost_unknown_not_zero() {
        let usage = Usage {
            input: 10,
            output: 5,
            ..Usage::default()
        };
        assert_eq!(usage.cost(&Prices::default()), None);
        let input_only = Prices {
            input: Some(1.0),
            ..Prices::default()
        };
        assert_eq!(usage.cost(&input_only), None, "output tokens have no price");
        // Tokens of a kind that is not used need no price.
        let priced = Prices {
            input: Some(1.0),
            output: Some(2.0),
            ..Prices::default()
        };
        assert!(usage.cost(&priced).is_some());
        let long = Usage {
            cache_write: 1_000_000,
            cache_write_long: 1_000_000,
            ..Usage::default()
        };
        let with_long = Prices {
            cache_write: Some(3.75),
            cache_write_long: Some(6.0),
            ..Prices::default()
        };
        assert_eq!(long.cost(&with_long).unwrap().total, 6.0);
    }
}
