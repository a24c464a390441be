//! OpenAI chat-completions wire types and the `openai-completions` provider (client side).
//!
//! Filled by the gateway work; it knows nothing of AWS.
