//! `bedrock-twin`: a faithful Amazon Bedrock emulator on loopback, for tests, benchmarks and the
//! offline demo. It depends on no Pincer crate, so any AWS client can use it.
