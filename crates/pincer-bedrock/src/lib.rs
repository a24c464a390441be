//! Amazon Bedrock provider for Pincer: credential-source detection, region resolution, model
//! discovery with its cache, and the ConverseStream request/response mapping.
//!
//! Filled by the provider and discovery work; it depends on `pincer-core` and `pincer-config` only.
