//! Inference settings: output limit, sampling, and reasoning by the model's style.
//!
//! Limits are made valid before sending, never left for Bedrock to reject: `maxTokens` is clamped
//! to the model's limit, a thinking budget is kept below `maxTokens` (raising `maxTokens` within
//! the model's limit when there is room, lowering the budget when not, and turning thinking off
//! when even the minimum budget does not fit), and sampling parameters that extended thinking
//! forbids are dropped while it is on.

use pincer_core::{Model, ReasoningLevel, ReasoningStyle, RequestOptions, ToolChoice};
use serde_json::{Value, json};

/// The smallest thinking budget Bedrock accepts.
pub const MIN_THINKING_BUDGET: u32 = 1024;

/// What the reasoning settings resolved to.
#[derive(Debug, Clone, PartialEq)]
pub struct Inference {
    /// `inferenceConfig.maxTokens`.
    pub max_tokens: u32,
    /// `inferenceConfig.temperature`.
    pub temperature: Option<f32>,
    /// `inferenceConfig.topP`.
    pub top_p: Option<f32>,
    /// `additionalModelRequestFields`, if any.
    pub additional_fields: Option<Value>,
    /// Whether thinking was turned on.
    pub thinking: bool,
}

/// The budget in tokens for a level.
pub fn budget_for(level: ReasoningLevel) -> u32 {
    match level {
        ReasoningLevel::Off => 0,
        ReasoningLevel::Minimal => 1024,
        ReasoningLevel::Low => 4096,
        ReasoningLevel::Medium => 10_240,
        ReasoningLevel::High => 24_576,
        ReasoningLevel::Xhigh => 32_000,
    }
}

fn effort(level: ReasoningLevel, max: &'static str) -> &'static str {
    match level {
        ReasoningLevel::Off | ReasoningLevel::Minimal | ReasoningLevel::Low => "low",
        ReasoningLevel::Medium => "medium",
        ReasoningLevel::High => "high",
        ReasoningLevel::Xhigh => max,
    }
}

/// Resolves limits, sampling and reasoning for one request to `model`.
pub fn resolve(model: &Model, options: &RequestOptions) -> Inference {
    let model_max = model.max_tokens.max(1);
    let mut max_tokens = options.max_tokens.unwrap_or(model_max).clamp(1, model_max);
    let forced_tool = matches!(
        options.tool_choice,
        ToolChoice::Required | ToolChoice::Named(_)
    );
    let level = if forced_tool {
        ReasoningLevel::Off
    } else {
        options.reasoning
    };
    let mut inference = Inference {
        max_tokens,
        temperature: options.temperature,
        top_p: options.top_p,
        additional_fields: None,
        thinking: false,
    };
    if level == ReasoningLevel::Off {
        return inference;
    }
    match model.reasoning {
        None | Some(ReasoningStyle::Always) => {}
        Some(ReasoningStyle::BudgetTokens) => {
            let wanted = budget_for(level);
            // Leave room for the answer: raise maxTokens if the model allows, else shrink the budget.
            if max_tokens <= wanted {
                max_tokens = (wanted + MIN_THINKING_BUDGET).min(model_max);
            }
            let budget = wanted.min(max_tokens.saturating_sub(1));
            if budget >= MIN_THINKING_BUDGET {
                inference.max_tokens = max_tokens;
                inference.additional_fields =
                    Some(json!({"thinking": {"type": "enabled", "budget_tokens": budget}}));
                inference.thinking = true;
            }
        }
        Some(ReasoningStyle::AdaptiveEffort) => {
            inference.additional_fields = Some(json!({
                "thinking": {"type": "adaptive"},
                "output_config": {"effort": effort(level, "max")},
            }));
            inference.thinking = true;
        }
        Some(ReasoningStyle::EffortLevel) => {
            inference.additional_fields = Some(
                json!({"reasoningConfig": {"type": "enabled", "maxReasoningEffort": effort(level, "high")}}),
            );
            inference.thinking = true;
        }
    }
    if inference.thinking
        && matches!(
            model.reasoning,
            Some(ReasoningStyle::BudgetTokens | ReasoningStyle::AdaptiveEffort)
        )
    {
        // Extended thinking accepts neither a custom temperature nor top_p.
        inference.temperature = None;
        inference.top_p = None;
    }
    inference
}

#[cfg(test)]
mod tests {
    use super::*;
    use pincer_core::Prices;

    fn model(style: Option<ReasoningStyle>, max_tokens: u32) -> Model {
        Model {
            provider: "amazon-bedrock".into(),
            id: "m".into(),
            name: "m".into(),
            reasoning: style,
            input: vec![],
            prices: Prices::default(),
            context_window: 200_000,
            max_tokens,
            prompt_cache: false,
        }
    }

    fn options(max: Option<u32>, level: ReasoningLevel) -> RequestOptions {
        RequestOptions {
            max_tokens: max,
            reasoning: level,
            temperature: Some(0.2),
            ..RequestOptions::default()
        }
    }

    #[test]
    fn max_tokens_is_clamped_to_the_model() {
        let inference = resolve(
            &model(None, 8192),
            &options(Some(1_000_000), ReasoningLevel::Off),
        );
        assert_eq!(inference.max_tokens, 8192);
        assert_eq!(inference.temperature, Some(0.2));
        assert_eq!(
            resolve(&model(None, 8192), &options(Some(0), ReasoningLevel::Off)).max_tokens,
            1
        );
    }

    #[test]
    fn thinking_budget_stays_below_max_tokens() {
        // Room to raise maxTokens.
        let i = resolve(
            &model(Some(ReasoningStyle::BudgetTokens), 64_000),
            &options(Some(1000), ReasoningLevel::Medium),
        );
        assert_eq!(
            i.additional_fields.unwrap()["thinking"]["budget_tokens"],
            10_240
        );
        assert_eq!(i.max_tokens, 10_240 + 1024);
        assert_eq!(i.temperature, None);
        // No room: the budget shrinks below the model's limit.
        let i = resolve(
            &model(Some(ReasoningStyle::BudgetTokens), 8192),
            &options(None, ReasoningLevel::Xhigh),
        );
        assert_eq!(i.max_tokens, 8192);
        assert_eq!(
            i.additional_fields.unwrap()["thinking"]["budget_tokens"],
            8191
        );
        // Not even the minimum budget fits: thinking is off.
        let i = resolve(
            &model(Some(ReasoningStyle::BudgetTokens), 1000),
            &options(None, ReasoningLevel::Low),
        );
        assert!(!i.thinking && i.additional_fields.is_none());
    }

    #[test]
    fn styles_send_their_own_fields() {
        let nova = resolve(
            &model(Some(ReasoningStyle::EffortLevel), 10_000),
            &options(None, ReasoningLevel::Low),
        );
        assert_eq!(
            nova.additional_fields.unwrap(),
            json!({"reasoningConfig": {"type": "enabled", "maxReasoningEffort": "low"}})
        );
        let adaptive = resolve(
            &model(Some(ReasoningStyle::AdaptiveEffort), 10_000),
            &options(None, ReasoningLevel::High),
        );
        assert_eq!(
            adaptive.additional_fields.unwrap()["thinking"]["type"],
            "adaptive"
        );
        let none = resolve(&model(None, 10_000), &options(None, ReasoningLevel::High));
        assert!(none.additional_fields.is_none());
        let always = resolve(
            &model(Some(ReasoningStyle::Always), 10_000),
            &options(None, ReasoningLevel::High),
        );
        assert!(always.additional_fields.is_none());
    }

    #[test]
    fn forced_tool_use_turns_thinking_off() {
        let mut opts = options(None, ReasoningLevel::High);
        opts.tool_choice = ToolChoice::Required;
        let i = resolve(&model(Some(ReasoningStyle::BudgetTokens), 64_000), &opts);
        assert!(!i.thinking);
    }
}
