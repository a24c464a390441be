//! Where a report comes from: the command that produced it, the commit it measured (and whether
//! the work tree had changes), when, and on what processor — so that every published figure can
//! be traced to the one command that regenerates it.

use std::process::Command;

/// Output of a command, trimmed, if it ran and succeeded.
fn output(program: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(program).args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// One paragraph: the command (`typed`, as `bench/run.sh` passes it, else this process's own
/// command line), commit, date and kernel.
pub(crate) fn describe(typed: Option<&str>) -> String {
    let command = typed.map_or_else(
        || std::env::args().collect::<Vec<_>>().join(" "),
        str::to_owned,
    );
    let commit = output("git", &["rev-parse", "HEAD"]).unwrap_or_else(|| "unknown".to_owned());
    let dirty = output("git", &["status", "--porcelain", "--untracked-files=no"])
        .is_some_and(|s| !s.is_empty());
    let date = output("date", &["-u", "+%Y-%m-%d %H:%M UTC"]).unwrap_or_default();
    let kernel = output("uname", &["-sr"]).unwrap_or_default();
    format!(
        "Command: `{command}`. Commit: `{commit}`{}. Started {date}; {kernel}.",
        if dirty {
            " with uncommitted changes"
        } else {
            ""
        },
    )
}

/// The processor's model name, from `/proc/cpuinfo`.
pub(crate) fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find_map(|l| l.strip_prefix("model name")?.split_once(':'))
                .map(|(_, name)| name.trim().to_owned())
        })
        .unwrap_or_else(|| "processor unknown".to_owned())
}
