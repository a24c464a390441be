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
    man.render_extra_section(&mut page)?;
    man.render_version_section(&mut page)?;
    printer.out(&String::from_utf8_lossy(&page))?;
    Ok(ExitStatus::Success)
}

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
