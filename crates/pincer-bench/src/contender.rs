//! A gateway under test: its process and how to reach it.

use crate::load::Target;
use crate::procs::Server;

/// A gateway in front of the twin.
#[derive(Debug)]
pub(crate) struct Contender {
    /// Its name in the tables (`pincer`, `litellm`).
    pub(crate) name: String,
    /// Its process, for CPU and memory.
    pub(crate) server: Server,
    /// How to call it.
    pub(crate) target: Target,
    /// Whether it is a gateway Pincer is compared with (measured after Pincer's own runs).
    pub(crate) compared: bool,
}
