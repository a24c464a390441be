//! Inference settings: output limit, sampling, and reasoning by the model's style.
//!
//! Limits are made valid before sending, never left for Bedrock to reject: `maxTokens` is clamped
//! to the model's limit, a thinking budget is kept below `maxTokens` (raising `maxTokens` within
//! the model's limit when there is room, lowering the budget when not, and turning thinking off
//! when even the minimum budget does not fit, and within the budget range Bedrock lists for the
//! model), and sampling parameters the model refuses are left out: those extended thinking
//! forbids while it is on, `top_p` beside `temperature` for a model that takes only one of them,
//! and both for a model that takes neither (the known-model table's `sampling` rule). What is
//! left out is logged at debug level.

use pincer_core::{Model, ReasoningLevel, ReasoningStyle, RequestOptions, Sampling, ToolChoice};
use serde_json::{Value, json};

/// The smallest thinking budget Bedrock accepts.
pub const MIN_THINKING_BUDGET: u32 = 1024;

/// What the reasoning settings resolved to.
#[derive(Debug, Clone, PartialEq)]
pub struct Inference {
    /// `inferenceConfig.maxTokens`.
    pub max_tokens: u32,
    /// `inferenceConfig.temperature`.
    pub temperature: Option<f64>,
    /// `inferenceConfig.topP`.
    pub top_p: Option<f64>,
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

/// The adaptive-thinking effort for `level` among the model's `efforts` (lowest first): the
/// level's own name when the model has it, `xhigh` falling back to `max`, else the highest the
/// model has below the level.
fn adaptive_effort(level: ReasoningLevel, efforts: &[String]) -> String {
    const ORDER: [&str; 5] = ["low", "medium", "high", "xhigh", "max"];
    let wanted = match level {
        ReasoningLevel::Off | ReasoningLevel::Minimal | ReasoningLevel::Low => "low",
        ReasoningLevel::Medium => "medium",
        ReasoningLevel::High => "high",
        ReasoningLevel::Xhigh => "xhigh",
    };
    if efforts.is_empty() {
        return effort(level, "max").to_owned();
    }
    if efforts.iter().any(|e| e == wanted) {
        return wanted.to_owned();
    }
    if wanted == "xhigh" && efforts.iter().any(|e| e == "max") {
        return "max".to_owned();
    }
    let rank = |name: &str| ORDER.iter().position(|o| *o == name).unwrap_or(0);
    efforts
        .iter()
        .filter(|e| rank(e) <= rank(wanted))
        .max_by_key(|e| rank(e))
        .or(efforts.first())
        .cloned()
        .unwrap_or_else(|| "low".to_owned())
}

/// Resolves limits, sampling and reasoning for one request to `model`.
pub fn resolve(model: &Model, options: &RequestOptions) -> Inference {
    let model_max = model.max_tokens.max(1);
    let unspecified = model.capabilities.default_max_tokens.unwrap_or(model_max);
    let mut max_tokens = options
        .max_tokens
        .unwrap_or(unspecified)
        .clamp(1, model_max);
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
        apply_sampling_rule(model, &mut inference);
        return inference;
    }
    match model.reasoning {
        None | Some(ReasoningStyle::Always) => {}
        Some(ReasoningStyle::BudgetTokens) => {
            let range = model.capabilities.reasoning_budget;
            let floor = range.map_or(MIN_THINKING_BUDGET, |r| r.min.max(MIN_THINKING_BUDGET));
            let mut wanted = options
                .reasoning_budget
                .unwrap_or_else(|| budget_for(level))
                .max(floor);
            if let Some(range) = range {
                wanted = wanted.min(range.max);
            }
            // Leave room for the answer: raise maxTokens if the model allows, else shrink the budget.
            if max_tokens <= wanted {
                max_tokens = (wanted + floor).min(model_max);
            }
            let budget = wanted.min(max_tokens.saturating_sub(1));
            if budget >= floor {
                inference.max_tokens = max_tokens;
                inference.additional_fields =
                    Some(json!({"thinking": {"type": "enabled", "budget_tokens": budget}}));
                inference.thinking = true;
            }
        }
        Some(ReasoningStyle::AdaptiveEffort) => {
            inference.additional_fields = Some(json!({
                "thinking": {"type": "adaptive"},
                "output_config": {"effort": adaptive_effort(level, &model.capabilities.efforts)},
            }));
            inference.thinking = true;
        }
        Some(ReasoningStyle::ReasoningEffort) => {
            inference.additional_fields = Some(json!({"reasoning_effort": effort(level, "high")}));
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
        if inference.temperature.is_some() || inference.top_p.is_some() {
            tracing::debug!(model = %model.id, "temperature and top_p left out: extended thinking is on");
        }
        inference.temperature = None;
        inference.top_p = None;
    }
    apply_sampling_rule(model, &mut inference);
    inference
}

/// Leaves out the sampling parameters `model` refuses.
fn apply_sampling_rule(model: &Model, inference: &mut Inference) {
    match model.capabilities.sampling {
        Sampling::All => {}
        Sampling::TemperatureOrTopP => {
            if inference.temperature.is_some() && inference.top_p.take().is_some() {
                tracing::debug!(model = %model.id, "top_p left out: the model takes temperature or top_p, not both");
            }
        }
        Sampling::None => {
            if inference.temperature.take().is_some() | inference.top_p.take().is_some() {
                tracing::debug!(model = %model.id, "temperature and top_p left out: the model takes neither");
            }
        }
    }
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
            capabilities: Default::default(),
            defaults: Default::default(),
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

    #[test]
    fn an_unspecified_limit_sends_the_models_default() {
        let mut m = model(None, 128_000);
        m.capabilities.default_max_tokens = Some(4096);
        assert_eq!(
            resolve(&m, &options(None, ReasoningLevel::Off)).max_tokens,
            4096
        );
        assert_eq!(
            resolve(&m, &options(Some(50_000), ReasoningLevel::Off)).max_tokens,
            50_000
        );
    }

    #[test]
    fn budgets_stay_within_the_listed_range() {
        let mut m = model(Some(ReasoningStyle::BudgetTokens), 64_000);
        m.capabilities.reasoning_budget = Some(pincer_core::BudgetRange {
            min: 2048,
            max: 16_000,
        });
        let budget = |level| {
            resolve(&m, &options(Some(60_000), level))
                .additional_fields
                .unwrap()["thinking"]["budget_tokens"]
                .as_u64()
                .unwrap()
        };
        assert_eq!(
            budget(ReasoningLevel::Minimal),
            2048,
            "raised to the minimum"
        );
        assert_eq!(
            budget(ReasoningLevel::High),
            16_000,
            "lowered to the maximum"
        );
    }

    #[test]
    fn efforts_follow_the_models_list() {
        let mut m = model(Some(ReasoningStyle::AdaptiveEffort), 128_000);
        let effort = |m: &Model, level| {
            resolve(m, &options(None, level)).additional_fields.unwrap()["output_config"]["effort"]
                .as_str()
                .unwrap()
                .to_owned()
        };
        m.capabilities.efforts = ["low", "medium", "high", "max"].map(String::from).to_vec();
        assert_eq!(effort(&m, ReasoningLevel::Xhigh), "max");
        m.capabilities.efforts = ["low", "medium", "high", "xhigh", "max"]
            .map(String::from)
            .to_vec();
        assert_eq!(effort(&m, ReasoningLevel::Xhigh), "xhigh");
        m.capabilities.efforts = ["low", "medium", "high"].map(String::from).to_vec();
        assert_eq!(effort(&m, ReasoningLevel::Xhigh), "high");
    }

    #[test]
    fn gpt_oss_takes_a_reasoning_effort() {
        let m = model(Some(ReasoningStyle::ReasoningEffort), 128_000);
        let inference = resolve(&m, &options(None, ReasoningLevel::Medium));
        assert_eq!(
            inference.additional_fields,
            Some(json!({"reasoning_effort": "medium"}))
        );
        assert!(inference.thinking);
        assert_eq!(inference.temperature, Some(0.2), "sampling is unaffected");
    }

    #[test]
    fn sampling_rules_leave_out_what_the_model_refuses() {
        let mut m = model(None, 8192);
        let mut both = options(None, ReasoningLevel::Off);
        both.top_p = Some(0.9);
        m.capabilities.sampling = Sampling::TemperatureOrTopP;
        let one = resolve(&m, &both);
        assert_eq!((one.temperature, one.top_p), (Some(0.2), None));
        m.capabilities.sampling = Sampling::None;
        let none = resolve(&m, &both);
        assert_eq!((none.temperature, none.top_p), (None, None));
        m.capabilities.sampling = Sampling::All;
        let all = resolve(&m, &both);
        assert_eq!((all.temperature, all.top_p), (Some(0.2), Some(0.9)));
    }
}
