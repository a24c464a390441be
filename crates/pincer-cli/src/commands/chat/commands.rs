//! The commands of an interactive session, typed at the prompt: anything starting with `/` is
//! one of these (`//` sends a message that starts with `/`), never sent to the model.

use std::path::PathBuf;

/// The names Tab completes.
pub(super) const NAMES: &[&str] = &[
    "/clear", "/cost", "/exit", "/help", "/model", "/quit", "/save", "/usage",
];

/// The help text of `/help`.
pub(super) const HELP: &str = "\
/model [NAME]  show the model, or switch to NAME (Tab completes names)
/usage         tokens and cost of this conversation so far (also /cost)
/clear         forget the conversation (the system prompt stays)
/save [FILE]   save the conversation as JSON (resume it with pincer chat --resume FILE)
/help          this list
/exit, /quit   leave (or Ctrl-D); Ctrl-C cancels an answer
A line ending in \\ continues on the next; // sends a message that starts with /.";

/// A line typed at the prompt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Typed {
    /// A message for the model.
    Message(String),
    /// `/model`, with the model to switch to.
    Model(Option<String>),
    /// `/usage` or `/cost`.
    Usage,
    /// `/clear`.
    Clear,
    /// `/save`, with the file.
    Save(Option<PathBuf>),
    /// `/help`.
    Help,
    /// `/exit` or `/quit`.
    Exit,
    /// A `/word` that is no command.
    Unknown(String),
    /// Nothing but blanks.
    Empty,
}

/// Reads a line.
pub(super) fn parse(line: &str) -> Typed {
    let trimmed = line.trim();
    if trimmed.is_empty() {
        return Typed::Empty;
    }
    if let Some(rest) = trimmed.strip_prefix("//") {
        return Typed::Message(format!("/{rest}"));
    }
    let Some(command) = trimmed.strip_prefix('/') else {
        return Typed::Message(trimmed.to_owned());
    };
    let (name, argument) = match command.split_once(char::is_whitespace) {
        Some((name, argument)) => (name, Some(argument.trim()).filter(|a| !a.is_empty())),
        None => (command, None),
    };
    match name {
        "model" => Typed::Model(argument.map(str::to_owned)),
        "usage" | "cost" => Typed::Usage,
        "clear" => Typed::Clear,
        "save" => Typed::Save(argument.map(PathBuf::from)),
        "help" | "?" => Typed::Help,
        "exit" | "quit" => Typed::Exit,
        other => Typed::Unknown(format!("/{other}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_messages_or_commands() {
        assert_eq!(parse("  hello  "), Typed::Message("hello".to_owned()));
        assert_eq!(
            parse("//etc/hosts?"),
            Typed::Message("/etc/hosts?".to_owned())
        );
        assert_eq!(parse("/model"), Typed::Model(None));
        assert_eq!(
            parse("/model  amazon-bedrock/x "),
            Typed::Model(Some("amazon-bedrock/x".to_owned()))
        );
        assert_eq!(parse("/cost"), Typed::Usage);
        assert_eq!(
            parse("/save a b.json"),
            Typed::Save(Some("a b.json".into()))
        );
        assert_eq!(parse("/save"), Typed::Save(None));
        assert_eq!(parse("/bogus x"), Typed::Unknown("/bogus".to_owned()));
        assert_eq!(parse("   "), Typed::Empty);
        assert_eq!(parse("/quit"), Typed::Exit);
    }
}
