//! Where an interactive session's input comes from: a line editor on a terminal (rustyline:
//! editing, history saved in `PINCER_HOME/chat_history`, bracketed paste keeps a pasted block
//! as one message, a line ending in `\` continues on the next, Tab completes session commands
//! and model names), or plain lines when stdin is a pipe.

use std::borrow::Cow;
use std::path::PathBuf;

use anyhow::Result;
use rustyline::completion::{Completer, Pair};
use rustyline::error::ReadlineError;
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::history::DefaultHistory;
use rustyline::validate::{ValidationContext, ValidationResult, Validator};
use rustyline::{Config, Context, Editor, Helper};
use tokio::io::AsyncBufReadExt;

use super::commands::NAMES;

/// What the user did at the prompt.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Input {
    /// A message or a command (continuation backslashes removed).
    Line(String),
    /// Ctrl-C at the prompt: the line is dropped, the session goes on.
    Interrupted,
    /// Ctrl-D, or the end of piped input.
    End,
}

/// Completion and continuation for the editor.
pub(super) struct ChatHelper {
    models: Vec<String>,
}

impl Completer for ChatHelper {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        let before = &line[..pos];
        let pair = |s: &str| Pair {
            display: s.to_owned(),
            replacement: s.to_owned(),
        };
        if let Some(partial) = before.strip_prefix("/model ") {
            let start = pos - partial.len();
            return Ok((
                start,
                self.models
                    .iter()
                    .filter(|m| m.starts_with(partial))
                    .map(|m| pair(m))
                    .collect(),
            ));
        }
        if before.starts_with('/') && !before.contains(' ') {
            return Ok((
                0,
                NAMES
                    .iter()
                    .filter(|c| c.starts_with(before))
                    .map(|c| pair(c))
                    .collect(),
            ));
        }
        Ok((pos, Vec::new()))
    }
}

impl Hinter for ChatHelper {
    type Hint = String;
}

impl Highlighter for ChatHelper {
    fn highlight_prompt<'b, 's: 'b, 'p: 'b>(
        &'s self,
        prompt: &'p str,
        _default: bool,
    ) -> Cow<'b, str> {
        Cow::Borrowed(prompt)
    }
}

impl Validator for ChatHelper {
    fn validate(&self, ctx: &mut ValidationContext<'_>) -> rustyline::Result<ValidationResult> {
        Ok(if ctx.input().ends_with('\\') {
            ValidationResult::Incomplete
        } else {
            ValidationResult::Valid(None)
        })
    }
}

impl Helper for ChatHelper {}

/// The input of a session.
pub(super) enum LineSource {
    /// A terminal, with the editor (moved to a blocking thread while it reads).
    Terminal {
        editor: Option<Box<Editor<ChatHelper, DefaultHistory>>>,
        history: Option<PathBuf>,
    },
    /// Piped lines.
    Plain(tokio::io::Lines<tokio::io::BufReader<tokio::io::Stdin>>),
}

impl LineSource {
    /// An editor on the terminal, with the history at `history` (loaded if it exists), and
    /// `models` for completion.
    pub(super) fn terminal(history: Option<PathBuf>, models: Vec<String>) -> Result<Self> {
        let config = Config::builder()
            .auto_add_history(false)
            .max_history_size(1000)?
            .history_ignore_dups(true)?
            .bracketed_paste(true)
            // Prompts and editing go to the terminal even when stdout is redirected, so
            // `pincer chat > answers.txt` keeps only the answers in the file.
            .behavior(rustyline::config::Behavior::PreferTerm)
            .build();
        let mut editor = Editor::with_config(config)?;
        editor.set_helper(Some(ChatHelper { models }));
        if let Some(path) = &history
            && path.exists()
        {
            // A history that cannot be read is not worth failing the session for.
            let _ = editor.load_history(path);
        }
        Ok(Self::Terminal {
            editor: Some(Box::new(editor)),
            history,
        })
    }

    /// Piped lines from stdin.
    pub(super) fn plain() -> Self {
        Self::Plain(tokio::io::BufReader::new(tokio::io::stdin()).lines())
    }

    /// The next input, shown `prompt` on a terminal.
    pub(super) async fn next(&mut self, prompt: &str) -> Result<Input> {
        match self {
            Self::Plain(lines) => {
                // Ctrl-C (a signal, as stdin is no terminal) ends the session; a line ending in
                // `\` goes on with the next one, as on a terminal.
                let mut text = String::new();
                loop {
                    let line = tokio::select! {
                        line = lines.next_line() => line?,
                        _ = tokio::signal::ctrl_c() => return Ok(Input::End),
                    };
                    let Some(line) = line else {
                        return Ok(if text.is_empty() {
                            Input::End
                        } else {
                            Input::Line(text)
                        });
                    };
                    match line.strip_suffix('\\') {
                        Some(start) => {
                            text.push_str(start);
                            text.push('\n');
                        }
                        None => {
                            text.push_str(&line);
                            return Ok(Input::Line(text));
                        }
                    }
                }
            }
            Self::Terminal { editor, history } => {
                let Some(mut taken) = editor.take() else {
                    return Ok(Input::End);
                };
                let prompt = prompt.to_owned();
                let (taken, read) = tokio::task::spawn_blocking(move || {
                    let read = taken.readline(&prompt);
                    (taken, read)
                })
                .await?;
                let mut taken = taken;
                let input = match read {
                    Ok(line) => {
                        if !line.trim().is_empty() {
                            let _ = taken.add_history_entry(line.as_str());
                            if let Some(path) = history.as_deref() {
                                save_history(&mut taken, path);
                            }
                        }
                        Input::Line(line.replace("\\\n", "\n"))
                    }
                    Err(ReadlineError::Interrupted) => Input::Interrupted,
                    Err(ReadlineError::Eof) => Input::End,
                    Err(err) => return Err(err.into()),
                };
                *editor = Some(taken);
                Ok(input)
            }
        }
    }
}

/// Adds the new lines to the history file, readable by its owner only (messages may hold
/// anything).
fn save_history(editor: &mut Editor<ChatHelper, DefaultHistory>, path: &std::path::Path) {
    // PINCER_HOME, when this makes it, is private as the config's folder is.
    if let Some(parent) = path.parent()
        && !parent.exists()
    {
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        let _ = builder.create(parent);
    }
    // Created private, never readable by others even for a moment.
    #[cfg(unix)]
    if !path.exists() {
        use std::os::unix::fs::OpenOptionsExt;
        let _ = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path);
    }
    // Appending, so that two sessions at once both keep their lines.
    let _ = editor.append_history(path);
}
