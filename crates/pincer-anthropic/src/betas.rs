//! `anthropic-beta` flags: the ones Bedrock takes for Claude go on in the request's
//! `anthropic_beta`; any other is dropped with a debug log, never a failed request (Claude Code
//! sends flags for features of Anthropic's own API on every call).

/// The flags Bedrock takes (its user guide's list for the Anthropic Messages API).
pub const BEDROCK_BETAS: [&str; 11] = [
    "computer-use-2024-10-22",
    "computer-use-2025-01-24",
    "token-efficient-tools-2025-02-19",
    "interleaved-thinking-2025-05-14",
    "output-128k-2025-02-19",
    "dev-full-thinking-2025-05-14",
    "context-1m-2025-08-07",
    "context-management-2025-06-27",
    "effort-2025-11-24",
    "tool-search-tool-2025-10-19",
    "tool-examples-2025-10-29",
];

/// The flags of `header` (comma-separated, possibly several headers) that Bedrock takes, in
/// order and once each; the rest are logged at debug level.
pub fn forwarded<'a>(headers: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for flag in headers
        .into_iter()
        .flat_map(|h| h.split(','))
        .map(str::trim)
        .filter(|f| !f.is_empty())
    {
        if BEDROCK_BETAS.contains(&flag) {
            if !out.iter().any(|f| f == flag) {
                out.push(flag.to_owned());
            }
        } else {
            tracing::debug!(
                beta = flag,
                "anthropic-beta flag dropped: Bedrock does not take it"
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_flags_go_on_and_others_are_dropped() {
        // What Claude Code sends.
        let header = "claude-code-20250219, interleaved-thinking-2025-05-14, context-management-2025-06-27, per-turn-control-2026-07-01, effort-2025-11-24";
        assert_eq!(
            forwarded([header, "interleaved-thinking-2025-05-14"]),
            [
                "interleaved-thinking-2025-05-14",
                "context-management-2025-06-27",
                "effort-2025-11-24"
            ]
        );
        assert!(forwarded([""]).is_empty());
    }
}
