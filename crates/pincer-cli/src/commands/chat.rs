//! `pincer chat`: stream a conversation with a model.
//!
//! One turn with `-m TEXT` (or text piped on stdin); an interactive session on a terminal
//! otherwise, with a line editor and history (`editor`), session commands such as `/model`,
//! `/usage` and `/save` (`commands`), and `--resume` of a saved conversation (`saved`). The answer streams to stdout as it arrives; reasoning
//! streams dimmed to stderr; a closing line on stderr gives tokens, cache tokens, cost and
//! latency. `--json` prints one JSON object per event instead. Models are looked up and fall back
//! exactly as in the gateway (`pincer-runtime`): when the default model (no `--model`, or the
//! primary named) fails before answering with an error another model may not have (throttling,
//! no access, on-demand not supported, …), the configured fallbacks are tried in order. Ctrl-C cancels the answer:
//! in a session the partial answer is kept and the session goes on; otherwise exit code 130.

mod commands;
mod editor;
mod saved;

use std::cell::RefCell;
use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use futures_util::StreamExt;
use pincer_bedrock::aws::ProcessEnvironment;
use pincer_config::{Config, ConfigLocation};
use pincer_core::{
    AssistantMessage, Conversation, Document, ErrorKind, Image, Message, MessageBuilder, ModelRef,
    ProviderError, RequestOptions, ServiceTier, StopReason, StreamEvent, UserContent,
};
use pincer_runtime::catalog::Catalog;
use pincer_runtime::providers::Providers;
use pincer_runtime::resolve::Resolved;
use pincer_runtime::{LookupError, Progress, Runtime};
use serde_json::json;

use self::commands::Typed;
use self::editor::{Input, LineSource};
use self::saved::Saved;

use crate::cli::{ChatArgs, ServiceTierArg};
use crate::exit::{ExitStatus, UsageError};
use crate::printer::Printer;

/// Exit status after Ctrl-C (128 + SIGINT).
const INTERRUPTED: u8 = 130;

/// Runs `pincer chat`.
pub fn run(location: &ConfigLocation, args: ChatArgs, printer: &Printer) -> Result<ExitStatus> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(chat(location, args, printer))
}

async fn chat(location: &ConfigLocation, args: ChatArgs, printer: &Printer) -> Result<ExitStatus> {
    let config = Config::load(&location.path)?;
    // A resumed conversation brings its model, unless --model names another.
    let resumed = args.resume.as_deref().map(Saved::load).transpose()?;
    let model_arg = args
        .model
        .clone()
        .or_else(|| resumed.as_ref().map(|saved| saved.model.clone()));
    // The catalog the gateway and `models list` use, as the last discovery left it (never a
    // discovery call: a chat does not wait on the control plane), so a model is described alike
    // on every path.
    let region = pincer_bedrock::region::region_from_env(
        config.options.discovery().region.as_deref(),
        &ProcessEnvironment,
    )
    .map_or_else(
        || pincer_bedrock::region::DEFAULT_REGION.to_owned(),
        |(region, _)| region,
    );
    let mut catalog = Catalog::from_cache(
        &config.options,
        &crate::commands::models::home_of(&location.path),
        &region,
        &ProcessEnvironment,
    );
    // An application profile named by ARN is described as its base model, which Bedrock is
    // asked about once (then remembered); every other chat makes no control-plane call.
    if catalog.has_unknown_profiles(&config.options, model_arg.as_deref()) {
        let setup = pincer_bedrock::aws::load(config.options.discovery().region.as_deref()).await;
        let arn = model_arg
            .as_deref()
            .and_then(|m| m.split_once('/'))
            .map(|(_, id)| id);
        catalog
            .learn_profiles(
                &config.options,
                &setup,
                arn,
                crate::commands::models::AWS_DEADLINE,
            )
            .await;
        for warning in &catalog.discovery.warnings {
            printer.warn(warning);
        }
    }
    let images = args
        .image
        .iter()
        .map(|p| read_image(p))
        .collect::<Result<Vec<_>>>()?;
    let documents = args
        .file
        .iter()
        .map(|p| read_document(p))
        .collect::<Result<Vec<_>>>()?;
    let options = RequestOptions {
        max_tokens: args.max_tokens,
        temperature: args.temperature,
        reasoning: args.thinking,
        service_tier: args.service_tier.map(|tier| match tier {
            ServiceTierArg::Priority => ServiceTier::Priority,
            ServiceTierArg::Default => ServiceTier::Default,
            ServiceTierArg::Flex => ServiceTier::Flex,
        }),
        ..RequestOptions::default()
    };
    let bedrock = pincer_bedrock::provider::BedrockOptions {
        max_attempts: args.max_attempts.max(1),
        stall_timeout: Duration::from_secs(args.stall_timeout.max(1)),
        ..Default::default()
    };
    let providers = Providers::new(config.options.discovery().region, bedrock);
    let runtime = Runtime::new(config.options.clone(), catalog, providers);
    let candidates = candidates_for(&runtime, model_arg.as_deref())?;
    for (fallback, reason) in &candidates.skipped {
        printer.warn(&format!("skipping fallback {fallback}: {reason}"));
    }
    let history = std::io::stdin()
        .is_terminal()
        .then(|| crate::commands::models::home_of(&location.path).join("chat_history"));
    let mut session = Session {
        config: &config,
        config_path: &location.path,
        candidates: candidates.models,
        runtime,
        options,
        json: args.json,
        printer,
        totals: RefCell::new(Totals::default()),
        saved_path: args.resume.clone(),
        history,
    };
    let conversation = match resumed {
        Some(saved) => {
            let mut conversation = saved.conversation;
            if args.system.is_some() {
                conversation.system.clone_from(&args.system);
            }
            printer.status(&format!(
                "resumed {} messages from {}",
                conversation.messages.len(),
                args.resume
                    .as_deref()
                    .map(Path::display)
                    .map(|d| d.to_string())
                    .unwrap_or_default()
            ));
            conversation
        }
        None => Conversation {
            system: args.system.clone(),
            messages: Vec::new(),
            tools: Vec::new(),
        },
    };
    let one_shot = match args.message {
        Some(text) => Some(text),
        None if !args.interactive && !std::io::stdin().is_terminal() => {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .context("reading the message from stdin")?;
            Some(text)
        }
        None => None,
    };
    match one_shot {
        Some(text) => {
            let mut conversation = conversation;
            conversation
                .messages
                .push(user_message(&text, images, documents));
            Ok(match session.turn(&conversation).await? {
                Outcome::Answered(_) => ExitStatus::Success,
                Outcome::Failed(_) => ExitStatus::Failure,
                Outcome::Cancelled(_) => return Err(Interrupted.into()),
            })
        }
        None => session.interactive(conversation, images, documents).await,
    }
}

/// The models to try for `model` (the default one when `None`), or a usage error naming the
/// closest ones for a typo.
fn candidates_for(
    runtime: &Runtime,
    model: Option<&str>,
) -> Result<pincer_runtime::Candidates, UsageError> {
    runtime.candidates(model).map_err(|error| match error {
        LookupError::NoDefault => UsageError(
            "no model to use: pass --model provider/model-id or set agents.defaults.model.primary"
                .to_owned(),
        ),
        LookupError::NotFound(message) => {
            // The catalog's closest names, for a typo.
            let catalog = runtime.catalog();
            let near: Vec<String> = catalog
                .closest(model.unwrap_or_default(), 2)
                .iter()
                .map(|e| format!("`{}`", e.key))
                .collect();
            if near.is_empty() {
                UsageError(message)
            } else {
                UsageError(format!("{message}; did you mean {}?", near.join(" or ")))
            }
        }
        other => UsageError(other.to_string()),
    })
}

/// Ctrl-C: the process exits 130.
#[derive(Debug, thiserror::Error)]
#[error("cancelled")]
pub struct Interrupted;

/// The exit code for an interrupted command.
pub fn interrupted_code() -> u8 {
    INTERRUPTED
}

fn read_image(path: &Path) -> Result<Image> {
    let data = std::fs::read(path).with_context(|| format!("reading image {}", path.display()))?;
    let Some(media_type) = Image::sniff(&data) else {
        return Err(UsageError(format!(
            "{} is not a png, jpeg, gif or webp image",
            path.display()
        ))
        .into());
    };
    Ok(Image {
        media_type: media_type.to_owned(),
        data,
    })
}

fn user_message(text: &str, images: Vec<Image>, documents: Vec<Document>) -> Message {
    let mut content = vec![UserContent::Text {
        text: text.to_owned(),
    }];
    content.extend(images.into_iter().map(UserContent::Image));
    content.extend(documents.into_iter().map(UserContent::Document));
    Message::User { content }
}

/// A document to attach: its format from the file name (checked against its bytes), its name
/// the file's stem as Bedrock allows it.
fn read_document(path: &Path) -> Result<Document> {
    let data =
        std::fs::read(path).with_context(|| format!("reading document {}", path.display()))?;
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let Some(format) = Document::format_of(None, Some(&file_name)) else {
        return Err(UsageError(format!(
            "{}: not a document Bedrock reads; attach pdf, csv, doc, docx, xls, xlsx, html, txt or md",
            path.display()
        ))
        .into());
    };
    if !Document::bytes_fit(format, &data) {
        return Err(UsageError(format!(
            "{} is named .{format} but is not a {format} document",
            path.display()
        ))
        .into());
    }
    Ok(Document {
        format: format.to_owned(),
        name: file_name,
        data,
    })
}

enum Outcome {
    Answered(AssistantMessage),
    Failed(AssistantMessage),
    Cancelled(AssistantMessage),
}

struct Session<'a> {
    config: &'a Config,
    config_path: &'a Path,
    candidates: Vec<Resolved>,
    runtime: Runtime,
    options: RequestOptions,
    json: bool,
    printer: &'a Printer,
    /// What the conversation's answers used so far.
    totals: RefCell<Totals>,
    /// The file `/save` writes without an argument (the one resumed).
    saved_path: Option<PathBuf>,
    /// The editor's history file, on a terminal.
    history: Option<PathBuf>,
}

/// Tokens and cost of the answers of a session.
#[derive(Debug, Default, Clone, Copy)]
struct Totals {
    answers: u32,
    input: u64,
    output: u64,
    cache_read: u64,
    cache_write: u64,
    /// The cost of the priced answers.
    cost: f64,
    /// Answers whose price is unknown (their cost is not in `cost`).
    unpriced: u32,
}

impl Totals {
    fn add(&mut self, usage: &pincer_core::Usage, cost: Option<f64>) {
        self.answers += 1;
        self.input += usage.input;
        self.output += usage.output;
        self.cache_read += usage.cache_read;
        self.cache_write += usage.cache_write;
        match cost {
            Some(cost) => self.cost += cost,
            None => self.unpriced += 1,
        }
    }

    fn describe(&self) -> String {
        let cost = match (self.unpriced, self.answers) {
            (0, _) => format!("${:.6}", self.cost),
            (n, all) if n == all => "cost unknown (no published price)".to_owned(),
            (n, _) => format!(
                "${:.6} for the priced answers, {n} with no published price",
                self.cost
            ),
        };
        let answers = match self.answers {
            1 => "1 answer".to_owned(),
            n => format!("{n} answers"),
        };
        format!(
            "{answers} · {} in · {} out · cache {} read / {} write · {cost}",
            self.input, self.output, self.cache_read, self.cache_write
        )
    }
}

impl Session<'_> {
    async fn interactive(
        &mut self,
        mut conversation: Conversation,
        mut images: Vec<Image>,
        mut documents: Vec<Document>,
    ) -> Result<ExitStatus> {
        let terminal = std::io::stdin().is_terminal();
        let mut input = if terminal {
            let models: Vec<String> = self
                .runtime
                .catalog()
                .served()
                .filter(|e| e.kind == "chat")
                .map(|e| e.key.clone())
                .collect();
            LineSource::terminal(self.history.clone(), models)?
        } else {
            LineSource::plain()
        };
        self.printer.status(&format!(
            "chatting with {}; /help lists commands, Ctrl-D leaves, Ctrl-C cancels an answer",
            self.candidates[0].reference
        ));
        loop {
            let line = match input.next("> ").await? {
                Input::Line(line) => line,
                Input::Interrupted => {
                    self.printer.err_dim("(Ctrl-D or /exit leaves)\n");
                    continue;
                }
                Input::End => break,
            };
            let text = match commands::parse(&line) {
                Typed::Empty => continue,
                Typed::Exit => break,
                Typed::Message(text) => text,
                Typed::Help => {
                    self.printer.status(commands::HELP);
                    continue;
                }
                Typed::Usage => {
                    self.printer.status(&self.totals.borrow().describe());
                    continue;
                }
                Typed::Clear => {
                    // What was spent stays spent: /usage still counts it.
                    conversation.messages.clear();
                    self.printer.status("conversation cleared");
                    continue;
                }
                Typed::Model(None) => {
                    self.printer
                        .status(&format!("model: {}", self.candidates[0].reference));
                    continue;
                }
                Typed::Model(Some(name)) => {
                    match candidates_for(&self.runtime, Some(&name)) {
                        Ok(candidates) => {
                            self.candidates = candidates.models;
                            self.printer.status(&format!(
                                "now chatting with {}",
                                self.candidates[0].reference
                            ));
                        }
                        Err(error) => self.printer.warn_error(&error.to_string()),
                    }
                    continue;
                }
                Typed::Save(file) => {
                    let Some(path) = file.or_else(|| self.saved_path.clone()) else {
                        self.printer.warn_error("/save needs a file: /save FILE");
                        continue;
                    };
                    if let Some(folder) = path.parent().filter(|p| !p.as_os_str().is_empty())
                        && !folder.is_dir()
                    {
                        self.printer.warn_error(&format!(
                            "cannot save to {}: there is no folder {}",
                            path.display(),
                            folder.display()
                        ));
                        continue;
                    }
                    let saved = Saved::new(
                        self.candidates[0].reference.to_string(),
                        conversation.clone(),
                    );
                    match saved.store(&path) {
                        Ok(()) => {
                            self.printer.status(&format!(
                                "saved {} messages to {} (pincer chat --resume {} goes on)",
                                conversation.messages.len(),
                                path.display(),
                                path.display()
                            ));
                            self.saved_path = Some(path);
                        }
                        Err(error) => self.printer.warn_error(&format!("{error:#}")),
                    }
                    continue;
                }
                Typed::Unknown(name) => {
                    self.printer.warn_error(&format!(
                        "{name} is not a command; /help lists them (// sends a message starting with /)"
                    ));
                    continue;
                }
            };
            conversation.messages.push(user_message(
                &text,
                std::mem::take(&mut images),
                std::mem::take(&mut documents),
            ));
            let message = match self.turn(&conversation).await? {
                Outcome::Answered(message) | Outcome::Cancelled(message) => message,
                Outcome::Failed(message) => message,
            };
            if message.content.is_empty() {
                // Nothing came back: drop the user message so the history stays valid.
                conversation.messages.pop();
            } else {
                conversation.messages.push(Message::Assistant(message));
            }
        }
        Ok(ExitStatus::Success)
    }

    /// One answer, trying fallbacks (the runtime's policy) while no output has been shown.
    async fn turn(&self, conversation: &Conversation) -> Result<Outcome> {
        let started = Instant::now();
        // One listener for the whole answer, so that no Ctrl-C between two events is lost.
        let interrupt = tokio::signal::ctrl_c();
        tokio::pin!(interrupt);
        let mut notes = Vec::new();
        let mut tried = String::new();
        let mut observe = |progress: Progress<'_>| match progress {
            Progress::Trying { key, .. } => key.clone_into(&mut tried),
            Progress::FallingBack { key, error, next } => {
                notes.push(format!("{key} failed: {error}; trying fallback {next}"));
            }
            Progress::FirstOutput => {}
        };
        let begun = tokio::select! {
            begun = self.runtime.begin(
                self.candidates.clone(),
                conversation.clone(),
                self.options.clone(),
                &mut observe,
            ) => begun,
            _ = &mut interrupt => {
                self.printer.err_dim("\n(cancelled)\n");
                return Ok(Outcome::Cancelled(AssistantMessage::default()));
            }
        };
        for note in notes {
            self.printer.warn(&note);
        }
        let begun = match begun {
            Ok(begun) => begun,
            Err(error) => {
                self.report_failure(&error, &tried).await?;
                return Ok(Outcome::Failed(AssistantMessage::default()));
            }
        };
        let candidate = begun.resolved.clone();
        let mut stream = std::pin::pin!(begun.events());
        let mut builder = MessageBuilder::new(&candidate.model.provider, &candidate.model.id);
        let mut first_output: Option<Duration> = None;
        let mut printed_text = false;
        loop {
            let event = tokio::select! {
                event = stream.next() => event,
                _ = &mut interrupt => {
                    let error = ProviderError::new(ErrorKind::Aborted, "cancelled");
                    self.printer.err_dim("\n(cancelled)\n");
                    return Ok(Outcome::Cancelled(builder.fail(&error, Default::default())));
                }
            };
            let Some(event) = event else { break };
            builder.apply(&event);
            match &event {
                StreamEvent::Error { error, partial } => {
                    self.finish_output(printed_text)?;
                    self.report_failure(error, &candidate.reference.to_string())
                        .await?;
                    return Ok(Outcome::Failed(partial.clone()));
                }
                StreamEvent::Done { message } => {
                    self.finish_output(printed_text)?;
                    let elapsed = started.elapsed();
                    self.report_done(&candidate, message, first_output, elapsed)?;
                    return Ok(Outcome::Answered(message.clone()));
                }
                StreamEvent::TextDelta { .. }
                | StreamEvent::ThinkingDelta { .. }
                | StreamEvent::ToolCallStart { .. } => {
                    first_output.get_or_insert_with(|| started.elapsed());
                    printed_text |= matches!(event, StreamEvent::TextDelta { .. });
                }
                _ => {}
            }
            self.render(&event)?;
        }
        let error = ProviderError::new(
            ErrorKind::StreamInterrupted,
            "the stream ended without an answer",
        );
        self.report_failure(&error, &candidate.reference.to_string())
            .await?;
        Ok(Outcome::Failed(builder.fail(&error, Default::default())))
    }

    /// A failed answer: a JSON line, or the error and, for an invalid model, the closest ones.
    async fn report_failure(&self, error: &ProviderError, model: &str) -> Result<()> {
        if self.json {
            self.json_line(&json!({"type": "error", "kind": error.kind.as_str(), "message": error.message, "hint": error.hint}))?;
            return Ok(());
        }
        self.report_error(error);
        if error.kind == ErrorKind::InvalidModel
            && let Ok(reference) = model.parse::<ModelRef>()
        {
            self.suggest(&reference).await;
        }
        Ok(())
    }

    fn json_line(&self, value: &serde_json::Value) -> std::io::Result<()> {
        self.printer.outln(&value.to_string())
    }

    fn render(&self, event: &StreamEvent) -> Result<()> {
        if self.json {
            let value = match event {
                StreamEvent::Start => json!({"type": "start"}),
                StreamEvent::TextDelta { index, delta } => {
                    json!({"type": "text", "index": index, "text": delta})
                }
                StreamEvent::ThinkingDelta { index, delta } => {
                    json!({"type": "thinking", "index": index, "text": delta})
                }
                StreamEvent::ThinkingEnd { index, signature } => {
                    json!({"type": "thinking_end", "index": index, "signed": signature.is_some()})
                }
                StreamEvent::RedactedThinking { index, .. } => {
                    json!({"type": "redacted_thinking", "index": index})
                }
                StreamEvent::ToolCallEnd { index, call } => {
                    json!({"type": "tool_call", "index": index, "id": call.id, "name": call.name, "arguments": call.arguments})
                }
                _ => return Ok(()),
            };
            self.json_line(&value)?;
            return Ok(());
        }
        match event {
            StreamEvent::TextDelta { delta, .. } => self.printer.out(delta)?,
            StreamEvent::ThinkingDelta { delta, .. } => self.printer.err_dim(delta),
            StreamEvent::ThinkingEnd { .. } => self.printer.err_dim("\n"),
            StreamEvent::RedactedThinking { .. } => self.printer.err_dim("[redacted reasoning]\n"),
            StreamEvent::ToolCallEnd { call, .. } => {
                self.printer
                    .err_dim(&format!("[tool call {} {}]\n", call.name, call.arguments));
            }
            _ => {}
        }
        Ok(())
    }

    /// Ends the streamed answer with a newline, if any text was printed.
    fn finish_output(&self, printed_text: bool) -> Result<()> {
        if !self.json && printed_text {
            self.printer.out("\n")?;
        }
        Ok(())
    }

    /// After "invalid model": the catalog's closest models (from the discovery cache when fresh).
    async fn suggest(&self, reference: &ModelRef) {
        let quiet = Printer::new(true, crate::printer::ColorMode::Never);
        let Ok((_, catalog)) =
            crate::commands::models::load_catalog(self.config, self.config_path, false, &quiet)
                .await
        else {
            return;
        };
        if catalog.get(reference).is_some() {
            return;
        }
        let near: Vec<String> = catalog
            .closest(&reference.to_string(), 2)
            .iter()
            .map(|e| format!("`{}`", e.key))
            .collect();
        if !near.is_empty() {
            self.printer
                .status(&format!("did you mean {}?", near.join(" or ")));
        }
    }

    fn report_error(&self, error: &ProviderError) {
        let hint = error
            .hint
            .as_deref()
            .map(|h| format!(" — {h}"))
            .unwrap_or_default();
        let attempts = error
            .retried
            .map(|r| format!(" after {} attempts", r.attempts))
            .unwrap_or_default();
        self.printer.warn_error(&format!(
            "{}{attempts}: {}{hint}",
            error.kind.as_str(),
            error.message
        ));
    }

    fn report_done(
        &self,
        candidate: &Resolved,
        message: &AssistantMessage,
        first: Option<Duration>,
        elapsed: Duration,
    ) -> Result<()> {
        let usage = message.usage;
        // Priced in the tier that served the answer.
        let cost = usage.cost(
            &candidate
                .model
                .tier_prices()
                .serving(message.service_tier.as_deref()),
        );
        self.totals
            .borrow_mut()
            .add(&usage, cost.as_ref().map(|c| c.total));
        if self.json {
            let mut done = json!({
                "type": "done",
                "model": candidate.reference.to_string(),
                "stopReason": message.stop_reason,
                "usage": {"input": usage.input, "output": usage.output, "cacheRead": usage.cache_read, "cacheWrite": usage.cache_write, "total": usage.total()},
                // Rounded to a billionth of a dollar: no `2.0000000000000003e-6`.
                "costUsd": cost.map(|c| (c.total * 1e9).round() / 1e9),
                "firstTokenMs": first.map(|d| d.as_millis()),
                "elapsedMs": elapsed.as_millis(),
            });
            for (key, value) in [
                (
                    "stopDetail",
                    message.stop_detail.clone().map(serde_json::Value::from),
                ),
                (
                    "serviceTier",
                    message.service_tier.clone().map(serde_json::Value::from),
                ),
                ("guardrailTrace", message.guardrail_trace.clone()),
                (
                    "citations",
                    (!message.citations.is_empty())
                        .then(|| serde_json::to_value(&message.citations).unwrap_or_default()),
                ),
            ] {
                if let Some(value) = value {
                    done[key] = value;
                }
            }
            self.json_line(&done)?;
            return Ok(());
        }
        match message.stop_reason {
            StopReason::Guardrail => self.printer.warn(
                "a guardrail stopped the answer: what is shown is the guardrail's message, not the model's (`--json` prints its trace)",
            ),
            StopReason::ContentFiltered => self
                .printer
                .warn("Bedrock's content filter stopped the answer"),
            StopReason::Length => self.printer.warn(&format!(
                "the answer was cut at the output limit ({}); raise --max-tokens for more",
                message.stop_detail.as_deref().unwrap_or("max_tokens")
            )),
            _ => {}
        }
        let tier = message
            .service_tier
            .as_deref()
            .filter(|t| *t != "default")
            .map(|t| format!("{t} tier · "))
            .unwrap_or_default();
        let first = first
            .map(|d| format!("first token {} ms · ", d.as_millis()))
            .unwrap_or_default();
        // An unknown price gives no cost, rather than $0.
        let cost = cost
            .map(|c| format!("${:.6} · ", c.total))
            .unwrap_or_default();
        self.printer.status(&format!(
            "[{}] {} in · {} out · cache {} read / {} write · {tier}{cost}{first}{:.2} s",
            candidate.reference,
            usage.input,
            usage.output,
            usage.cache_read,
            usage.cache_write,
            elapsed.as_secs_f64()
        ));
        Ok(())
    }
}
