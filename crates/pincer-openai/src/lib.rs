//! OpenAI's wire formats and their conversion to and from Pincer's provider-neutral types: chat
//! completions ([`types`], [`request`], [`response`]) and the Responses API ([`responses`]), with
//! the parameters both share in [`params`]. The gateway serves both in front of Bedrock; the
//! `openai-completions` provider (client side) builds on the chat-completions types.

pub mod embeddings;
pub mod params;
pub mod provider;
pub mod request;
pub mod response;
pub mod responses;
pub mod types;
