//! One module per command; [`run`] resolves what every command needs and dispatches.

pub mod chat;
pub mod completions;
pub mod config;
pub(crate) mod database;
pub mod gateway;
pub mod keys;
pub mod man;
pub mod models;
pub mod usage;

use anyhow::Result;
use pincer_config::ConfigLocation;

use crate::cli::{Cli, Command, ConfigCommand, KeysCommand, ModelsCommand};
use crate::exit::{ExitStatus, UsageError};
use crate::printer::Printer;

/// Runs the parsed command line.
pub fn run(cli: Cli, printer: &Printer) -> Result<ExitStatus> {
    let config = cli.global.config;
    // Resolved only for the commands that read or write the config.
    let location = move || {
        ConfigLocation::resolve(config).ok_or_else(|| {
            UsageError(
                "cannot find a home folder for ~/.pincer; set PINCER_HOME or PINCER_CONFIG"
                    .to_owned(),
            )
        })
    };
    match cli.command {
        Command::Config(command) => {
            let location = location()?;
            match command {
                ConfigCommand::Path => config::path::run(&location, printer),
                ConfigCommand::Get(args) => config::get::run(&location, &args, printer),
                ConfigCommand::Set(args) => config::set::run(&location, &args, printer),
                ConfigCommand::Unset(args) => config::unset::run(&location, &args, printer),
                ConfigCommand::Validate => config::validate::run(&location, printer),
                ConfigCommand::Schema => config::schema::run(printer),
            }
        }
        Command::Chat(args) => chat::run(&location()?, args, printer),
        Command::Gateway(args) => gateway::run(&location()?, &args, printer),
        Command::Models(command) => {
            let location = location()?;
            match command {
                ModelsCommand::List(args) => models::list::run(&location, &args, printer),
                ModelsCommand::Status(args) => models::status::run(&location, &args, printer),
            }
        }
        Command::Keys(command) => {
            let location = location()?;
            match command {
                KeysCommand::Create(args) => keys::create::run(&location, &args, printer),
                KeysCommand::List(args) => keys::list::run(&location, &args, printer),
                KeysCommand::Revoke(args) => keys::revoke::run(&location, &args, printer),
                KeysCommand::Rotate(args) => keys::rotate::run(&location, &args, printer),
            }
        }
        Command::Usage(args) => usage::run(&location()?, &args, printer),
        Command::Completions(args) => completions::run(&args, printer),
        Command::Man => man::run(printer),
    }
}
