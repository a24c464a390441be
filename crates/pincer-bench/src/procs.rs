//! The processes a benchmark runs: the twin and the gateways, each started from its binary,
//! waited for until it prints its address, measured through `/proc` (resident memory, peak
//! resident memory, CPU time), and killed when dropped so that no run leaves one behind.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use anyhow::{Context, Result, bail};

/// Clock ticks per second of `/proc/<pid>/stat` times (`getconf CLK_TCK`, 100 on Linux).
const TICKS_PER_SEC: f64 = 100.0;

/// A running server process.
#[derive(Debug)]
pub(crate) struct Server {
    child: Child,
    /// The base URL it printed.
    pub(crate) url: String,
}

impl Server {
    /// Starts `command` and waits (up to a minute) for a stdout line that starts with `ready`
    /// followed by the URL. Its stderr goes to `log` if given, else nowhere.
    pub(crate) fn start(
        name: &str,
        mut command: Command,
        ready: &str,
        log: Option<&Path>,
    ) -> Result<Self> {
        let stderr = match log {
            Some(path) => Stdio::from(std::fs::File::create(path)?),
            None => Stdio::null(),
        };
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .with_context(|| format!("starting {name}"))?;
        let stdout = child.stdout.take().context("no stdout")?;
        let (lines, received) = mpsc::channel();
        // Keep reading so that the pipe never fills; lines after the first few are dropped.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = lines.send(line);
            }
        });
        let mut server = Self {
            child,
            url: String::new(),
        };
        loop {
            let line = received
                .recv_timeout(Duration::from_secs(60))
                .with_context(|| format!("{name} printed no address within 60 s"))?;
            if let Some(rest) = line.strip_prefix(ready) {
                server.url = rest.trim().to_owned();
                return Ok(server);
            }
            if let Ok(Some(status)) = server.child.try_wait() {
                bail!("{name} exited with {status} before it was ready");
            }
        }
    }

    /// The process id.
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Starts `command` and waits (up to two minutes) until `GET health_url` answers 200. Its
    /// stdout and stderr go to `log`.
    pub(crate) fn start_polling(
        name: &str,
        mut command: Command,
        url: &str,
        health_path: &str,
        log: &Path,
    ) -> Result<Self> {
        let out = std::fs::File::create(log)?;
        let child = command
            .stdin(Stdio::null())
            .stdout(Stdio::from(out.try_clone()?))
            .stderr(Stdio::from(out))
            .spawn()
            .with_context(|| format!("starting {name}"))?;
        let mut server = Self {
            child,
            url: url.to_owned(),
        };
        let started = std::time::Instant::now();
        while started.elapsed() < Duration::from_secs(120) {
            if let Ok(Some(status)) = server.child.try_wait() {
                bail!("{name} exited with {status}; see {}", log.display());
            }
            if http_ok(url, health_path) {
                return Ok(server);
            }
            std::thread::sleep(Duration::from_millis(250));
        }
        bail!("{name} was not healthy within 120 s; see {}", log.display())
    }

    /// This process and its descendants.
    fn tree(&self) -> Vec<u32> {
        let mut all = vec![self.pid()];
        let mut i = 0;
        while i < all.len() {
            let pid = all[i];
            if let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) {
                for task in tasks.flatten() {
                    let children =
                        std::fs::read_to_string(task.path().join("children")).unwrap_or_default();
                    all.extend(
                        children
                            .split_whitespace()
                            .filter_map(|c| c.parse::<u32>().ok()),
                    );
                }
            }
            i += 1;
        }
        all
    }

    fn status_kib(&self, field: &str) -> u64 {
        self.tree()
            .into_iter()
            .filter_map(|pid| std::fs::read_to_string(format!("/proc/{pid}/status")).ok())
            .filter_map(|status| {
                status.lines().find_map(|line| {
                    line.strip_prefix(field).and_then(|rest| {
                        rest.trim()
                            .trim_end_matches("kB")
                            .trim()
                            .parse::<u64>()
                            .ok()
                    })
                })
            })
            .sum()
    }

    /// Resident memory now, in MiB.
    pub(crate) fn rss_mib(&self) -> f64 {
        self.status_kib("VmRSS:") as f64 / 1024.0
    }

    /// Resets the peak resident memory of the process tree to its current value (Linux:
    /// `5` written to `/proc/<pid>/clear_refs`); false where that is not allowed.
    pub(crate) fn reset_peak_rss(&self) -> bool {
        self.tree()
            .into_iter()
            .all(|pid| std::fs::write(format!("/proc/{pid}/clear_refs"), "5").is_ok())
    }

    /// Peak resident memory since start (or the last reset), in MiB.
    pub(crate) fn peak_rss_mib(&self) -> f64 {
        self.status_kib("VmHWM:") as f64 / 1024.0
    }

    /// User + system CPU time so far of the process tree, in seconds.
    pub(crate) fn cpu_secs(&self) -> f64 {
        self.tree().into_iter().map(cpu_of).sum()
    }
}

fn cpu_of(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| {
            // Fields after the command name, which is in parentheses and may hold spaces.
            let rest = stat.rsplit_once(')')?.1;
            let fields: Vec<&str> = rest.split_whitespace().collect();
            let utime: f64 = fields.get(11)?.parse().ok()?;
            let stime: f64 = fields.get(12)?.parse().ok()?;
            Some((utime + stime) / TICKS_PER_SEC)
        })
        .unwrap_or(0.0)
}

/// Whether `GET path` on the `http://host:port` base URL answers 200.
fn http_ok(url: &str, path: &str) -> bool {
    use std::io::{Read, Write};
    let Some(addr) = url.strip_prefix("http://") else {
        return false;
    };
    let Ok(mut stream) = std::net::TcpStream::connect(addr) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    if write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .is_err()
    {
        return false;
    }
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).is_ok() && head.ends_with(b"200")
}

impl Drop for Server {
    fn drop(&mut self) {
        // Children first (worker processes), then the process itself.
        let others: Vec<String> = self.tree().iter().skip(1).map(u32::to_string).collect();
        if !others.is_empty() {
            let _ = Command::new("kill").arg("-KILL").args(&others).status();
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// CPU use of a server over a measured interval.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CpuMeter {
    start: f64,
    at: std::time::Instant,
}

impl CpuMeter {
    /// Starts measuring `server`.
    pub(crate) fn start(server: &Server) -> Self {
        Self {
            start: server.cpu_secs(),
            at: std::time::Instant::now(),
        }
    }

    /// Starts measuring this process (the load generator).
    pub(crate) fn own() -> Self {
        Self {
            start: cpu_of(std::process::id()),
            at: std::time::Instant::now(),
        }
    }

    /// CPU used since the start, as a percentage of one core.
    pub(crate) fn percent(&self, server: &Server) -> f64 {
        self.since(server.cpu_secs())
    }

    /// CPU this process used since [`CpuMeter::own`], as a percentage of one core.
    pub(crate) fn own_percent(&self) -> f64 {
        self.since(cpu_of(std::process::id()))
    }

    fn since(&self, now: f64) -> f64 {
        let wall = self.at.elapsed().as_secs_f64();
        if wall <= 0.0 {
            return 0.0;
        }
        (now - self.start) / wall * 100.0
    }
}
