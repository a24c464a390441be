//! The `pincer` binary: everything lives in the `pincer_cli` library.

fn main() -> std::process::ExitCode {
    pincer_cli::main()
}
