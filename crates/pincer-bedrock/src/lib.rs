//! Amazon Bedrock provider for Pincer: credential-source detection, region resolution, the
//! ConverseStream request/response mapping, error classification, and the streaming provider.

pub mod attempts;
pub mod aws;
pub mod cache;
pub mod call;
pub mod credentials;
pub mod discovery;
pub mod document;
pub mod embed;
pub mod errors;
pub mod exact;
pub mod facts;
pub mod known;
pub mod profiles;
pub mod provider;
pub mod reasoning;
pub mod region;
pub mod request;
pub mod stream;
pub mod structured;
pub mod tools;
pub mod trace;
