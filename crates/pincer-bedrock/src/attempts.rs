//! How many calls the SDK's retries made for one request, so a failure can say it was already
//! retried (and the gateway can tell its client not to pile retries on top: `x-should-retry`,
//! `retry-after`).
//!
//! The SDK's standard retries wait a random time up to `initial_backoff × 2^(attempts − 1)`,
//! capped at 20 s, before each new attempt; [`next_backoff`] is that ceiling for the attempt
//! that was not made.
//!
//! The counting itself is [`crate::call`]'s.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use pincer_core::{ProviderError, Retried};

/// The SDK's longest wait between two attempts.
pub const MAX_BACKOFF: Duration = Duration::from_secs(20);

/// The attempts of one call (counted within a [`crate::call::Call`]).
#[derive(Debug, Clone, Default)]
pub struct Attempts(Arc<AtomicU32>);

impl Attempts {
    /// One more attempt.
    pub(crate) fn count(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }

    /// Attempts made so far.
    pub fn made(&self) -> u32 {
        self.0.load(Ordering::Relaxed)
    }

    /// `error`, noting the retries spent when there were any.
    pub fn note(&self, error: ProviderError, initial_backoff: Duration) -> ProviderError {
        let attempts = self.made();
        if attempts > 1 {
            error.with_retried(Some(Retried {
                attempts,
                next_backoff: next_backoff(initial_backoff, attempts),
            }))
        } else {
            error
        }
    }
}

/// The longest wait before attempt `attempts + 1`.
pub fn next_backoff(initial: Duration, attempts: u32) -> Duration {
    let factor = 2u32
        .checked_pow(attempts.saturating_sub(1))
        .unwrap_or(u32::MAX);
    initial
        .checked_mul(factor)
        .unwrap_or(MAX_BACKOFF)
        .min(MAX_BACKOFF)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_sdk_cap() {
        let initial = Duration::from_millis(250);
        assert_eq!(next_backoff(initial, 1), initial);
        assert_eq!(next_backoff(initial, 4), Duration::from_secs(2));
        assert_eq!(next_backoff(initial, 10), MAX_BACKOFF);
        assert_eq!(next_backoff(initial, 200), MAX_BACKOFF);
    }
}
