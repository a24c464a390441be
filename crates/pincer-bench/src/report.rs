//! The report: markdown sections printed as they complete, and gathered for `--out`.

use std::fmt::Write as _;

/// The report being written.
#[derive(Debug, Default)]
pub(crate) struct Report {
    text: String,
    /// A scenario's own check failed (the soak run's verdict); the program then exits non-zero.
    pub(crate) failed: bool,
    /// The performance goals met or missed, as the scenarios measured them.
    goals: Vec<Vec<String>>,
}

impl Report {
    /// Records a goal: what is measured, the goal, the figure (none when the run could not
    /// measure it), and whether it is met.
    pub(crate) fn goal(
        &mut self,
        what: &str,
        goal: &str,
        measured: Option<String>,
        met: Option<bool>,
    ) {
        self.goals.push(vec![
            what.to_owned(),
            goal.to_owned(),
            measured.unwrap_or_else(|| "not measured".to_owned()),
            match met {
                Some(true) => "met".to_owned(),
                Some(false) => "**missed**".to_owned(),
                None => "–".to_owned(),
            },
        ]);
    }

    /// Writes the goals table, when any scenario recorded a goal.
    pub(crate) fn goals(&mut self) {
        if self.goals.is_empty() {
            return;
        }
        let goals = std::mem::take(&mut self.goals);
        self.heading("Against the targets");
        self.note("Each figure below is one of the tables' above, from this run.");
        self.table(&["figure", "goal", "measured", "verdict"], &goals);
    }

    /// Adds a heading.
    pub(crate) fn heading(&mut self, title: &str) {
        self.emit(&format!("\n## {title}\n"));
    }

    /// Adds a paragraph.
    pub(crate) fn note(&mut self, text: &str) {
        self.emit(&format!("{text}\n"));
    }

    /// Adds a table.
    pub(crate) fn table(&mut self, header: &[&str], rows: &[Vec<String>]) {
        let mut out = String::new();
        let _ = writeln!(out, "| {} |", header.join(" | "));
        let _ = writeln!(
            out,
            "|{}|",
            header.iter().map(|_| "---").collect::<Vec<_>>().join("|")
        );
        for row in rows {
            let _ = writeln!(out, "| {} |", row.join(" | "));
        }
        self.emit(&out);
    }

    fn emit(&mut self, text: &str) {
        // The report is the program's output.
        #[allow(clippy::print_stdout)]
        {
            println!("{text}");
        }
        self.text.push_str(text);
        self.text.push('\n');
    }

    /// Everything written so far.
    pub(crate) fn text(&self) -> &str {
        &self.text
    }
}

/// Prints one line on stdout (outside the report).
pub(crate) fn announce(line: &str) {
    #[allow(clippy::print_stdout)]
    {
        println!("{line}");
    }
}

/// MiB with one decimal.
pub(crate) fn mib(value: f64) -> String {
    format!("{value:.1}")
}
