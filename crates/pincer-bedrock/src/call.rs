//! What one SDK call learns while it runs: how many attempts it made, and the input tokens
//! Bedrock reported in its `X-Amzn-Bedrock-Input-Token-Count` response header (the SDK's
//! InvokeModel output does not carry it). One interceptor, [`Counters`], is part of the client's
//! configuration and counts into the [`Call`] the request runs in ([`Call::scope`], a task
//! local: the SDK makes every attempt of a call within the future that awaits it). Installing
//! per-call interceptors instead would make the SDK rebuild its runtime components for every
//! request.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use aws_sdk_bedrockruntime::config::interceptors::{
    BeforeDeserializationInterceptorContextRef, BeforeTransmitInterceptorContextRef,
};
use aws_sdk_bedrockruntime::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_bedrockruntime::error::BoxError;

use crate::attempts::Attempts;

tokio::task_local! {
    /// The call being made by the future being polled.
    static CURRENT: Call;
}

/// The counters of one call (or of several calls that add up, such as one embedding request's
/// batches).
#[derive(Debug, Clone, Default)]
pub struct Call {
    /// Attempts made.
    pub attempts: Attempts,
    /// Input tokens from Bedrock's response header, summed over the calls.
    input_tokens: Arc<AtomicU64>,
}

impl Call {
    /// Runs `call` with these counters as the ones [`Counters`] counts into.
    pub async fn scope<F: Future>(&self, call: F) -> F::Output {
        CURRENT.scope(self.clone(), call).await
    }

    /// Counters for another call whose input tokens add up with this one's (the next batch of
    /// one embedding request); its attempts are its own.
    pub fn another(&self) -> Self {
        Self {
            attempts: Attempts::default(),
            input_tokens: self.input_tokens.clone(),
        }
    }

    /// Input tokens Bedrock's response headers reported so far.
    pub fn input_tokens(&self) -> u64 {
        self.input_tokens.load(Ordering::Relaxed)
    }
}

/// The client-wide interceptor behind [`Call`] (outside a scope it counts nothing).
#[derive(Debug, Clone, Copy, Default)]
pub struct Counters;

impl Intercept for Counters {
    fn name(&self) -> &'static str {
        "pincer::Counters"
    }

    fn read_before_attempt(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let _ = CURRENT.try_with(|call| call.attempts.count());
        Ok(())
    }

    fn read_before_deserialization(
        &self,
        context: &BeforeDeserializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(count) = context
            .response()
            .headers()
            .get("x-amzn-bedrock-input-token-count")
            .and_then(|v| v.parse::<u64>().ok())
        {
            let _ = CURRENT.try_with(|call| call.input_tokens.fetch_add(count, Ordering::Relaxed));
        }
        Ok(())
    }
}
