//! OpenAI chat-completions wire types and their conversion to and from Pincer's provider-neutral
//! types. The gateway serves this API in front of Bedrock; the `openai-completions` provider
//! (client side) builds on the same types.

pub mod provider;
pub mod request;
pub mod response;
pub mod types;
