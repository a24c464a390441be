//! `pincer man`: the man page, rendered by clap_mangen from the clap definitions (the `--help`
//! text), with every subcommand in it.

use anyhow::Result;
use clap::CommandFactory;

use crate::cli::Cli;
use crate::exit::ExitStatus;
use crate::printer::Printer;

/// Prints `pincer.1`.
pub fn run(printer: &Printer) -> Result<ExitStatus> {
    let mut command = Cli::command();
    command.build();
    let man = clap_mangen::Man::new(command.clone());
    let mut page = Vec::new();
    man.render_title(&mut page)?;
    man.render_name_section(&mut page)?;
    man.render_synopsis_section(&mut page)?;
    man.render_description_section(&mut page)?;
    man.render_options_section(&mut page)?;
    // One page holds every command (there are no pincer-config(1) pages to refer to).
    for sub in shown(&command) {
        render_subcommand(sub, "pincer", &mut page)?;
    }
    page.extend_from_slice(SECTIONS.as_bytes());
    man.render_extra_section(&mut page)?;
    man.render_version_section(&mut page)?;
    printer.out(&String::from_utf8_lossy(&page))?;
    Ok(ExitStatus::Success)
}

/// What clap does not describe: the chat session's commands, the environment, the files.
const SECTIONS: &str = r#".SH "CHAT SESSION COMMANDS"
In an interactive \fBpincer chat\fR, a line starting with / is a command, never sent (// sends a /):
.TP
\fB/model\fR [\fINAME\fR]
show the model, or switch to \fINAME\fR (Tab completes names)
.TP
\fB/usage\fR, \fB/cost\fR
tokens and cost of the session's answers so far
.TP
\fB/clear\fR
forget the conversation (the system prompt stays)
.TP
\fB/save\fR [\fIFILE\fR]
save the conversation as JSON; \fBpincer chat \-\-resume\fR \fIFILE\fR goes on with it
.TP
\fB/help\fR, \fB/exit\fR, \fB/quit\fR
list the commands; leave (also Ctrl\-D). Ctrl\-C cancels an answer or clears the line.
.SH ENVIRONMENT
.TP
\fBPINCER_HOME\fR
Pincer's folder (default ~/.pincer): the config, the discovery cache, the chat history.
.TP
\fBPINCER_CONFIG\fR
the config file, instead of $PINCER_HOME/config.json5
.TP
\fBPINCER_GATEWAY_TOKEN\fR
the token gateway clients must send (overrides gateway.auth.token)
.TP
\fBPINCER_DATABASE_URL\fR
the key and spend database, sqlite://PATH or postgres://... (overrides gateway.database.url; default $PINCER_HOME/pincer.db)
.TP
\fBPINCER_LOG\fR, \fBRUST_LOG\fR
the log filter (tracing syntax; the gateway logs requests at info)
.TP
\fBPINCER_LOG_FORMAT\fR
text or json
.TP
\fBAWS_REGION\fR, \fBAWS_DEFAULT_REGION\fR, \fBAWS_PROFILE\fR, \fBAWS_ACCESS_KEY_ID\fR, \fBAWS_SECRET_ACCESS_KEY\fR, \fBAWS_SESSION_TOKEN\fR, \fBAWS_BEARER_TOKEN_BEDROCK\fR
the AWS SDK's region and credentials (its whole default chain applies)
.TP
\fBOTEL_EXPORTER_OTLP_ENDPOINT\fR, \fBOTEL_EXPORTER_OTLP_TRACES_ENDPOINT\fR, \fBOTEL_SERVICE_NAME\fR
where the gateway exports traces (OTLP/HTTP), and as which service
.SH FILES
.TP
\fI$PINCER_HOME/config.json5\fR
the config (JSON5; \fBpincer config schema\fR prints its JSON Schema)
.TP
\fI$PINCER_HOME/cache/\fR
the discovery cache
.TP
\fI$PINCER_HOME/chat_history\fR
the chat session's input history (mode 0600)
.TP
\fI$PINCER_HOME/pincer.db\fR
managed keys (hashes only), their limits and the spend of every gateway request (SQLite), unless gateway.database.url names another database
"#;

/// The subcommands worth a section (not hidden ones, not clap's own `help`).
fn shown(command: &clap::Command) -> impl Iterator<Item = &clap::Command> {
    command
        .get_subcommands()
        .filter(|s| !s.is_hide_set() && s.get_name() != "help")
}

fn render_subcommand(sub: &clap::Command, parent: &str, page: &mut Vec<u8>) -> Result<()> {
    let name = format!("{parent} {}", sub.get_name());
    let man = clap_mangen::Man::new(
        sub.clone()
            .display_name(name.clone())
            .bin_name(name.clone()),
    );
    page.extend_from_slice(format!(".SH \"{}\"\n", name.to_uppercase()).as_bytes());
    let mut sections = Vec::new();
    man.render_synopsis_section(&mut sections)?;
    man.render_description_section(&mut sections)?;
    man.render_options_section(&mut sections)?;
    // Inside a command's section its parts are subsections.
    for line in String::from_utf8_lossy(&sections).lines() {
        match line.strip_prefix(".SH ") {
            Some(title) => page.extend_from_slice(format!(".SS {title}\n").as_bytes()),
            None => {
                page.extend_from_slice(line.as_bytes());
                page.push(b'\n');
            }
        }
    }
    for child in shown(sub) {
        render_subcommand(child, &name, page)?;
    }
    Ok(())
}
