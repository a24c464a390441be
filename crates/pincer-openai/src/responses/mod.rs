//! OpenAI's Responses API (`POST /v1/responses`), stateless: the request ([`types`]) becomes
//! Pincer's conversation and options ([`request`]); the provider's events become the Response
//! object and its streamed events ([`encode`]).
//!
//! Nothing is stored: `store: true`, `previous_response_id` and `conversation` are refused, and a
//! client sends the whole conversation each turn (the gateway resolves an `item_reference` to an
//! output item it gave recently, from a bounded memory, before conversion). Reasoning survives
//! tool turns anyway: every reasoning item carries, in `encrypted_content`, the model's reasoning
//! and Bedrock's signature, which the client sends back unchanged.

pub mod encode;
pub mod request;
pub mod types;
