//! Anthropic's Messages API (`POST /v1/messages`, `POST /v1/messages/count_tokens`): the request
//! ([`types`]) becomes Pincer's conversation and options ([`request`]), and the provider's events
//! become a Message or its server-sent events ([`encode`]). [`betas`] says which `anthropic-beta`
//! flags go on to Bedrock.

pub mod betas;
pub mod encode;
pub mod request;
pub mod types;
