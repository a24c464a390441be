//! The `pincer` binary: everything lives in the `pincer_cli` library.
//!
//! The allocator is jemalloc, with its background thread returning freed memory to the system
//! within seconds: after a burst of large requests (30 MB bodies and their parsed copies) a
//! gateway goes back close to its resting memory, where the system allocator keeps the peak.
//! (Not on Windows with MSVC, where jemalloc does not build.)

#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> std::process::ExitCode {
    // Best effort: without the background thread, memory is still returned, only later.
    #[cfg(not(target_env = "msvc"))]
    let _ = tikv_jemalloc_ctl::background_thread::write(true);
    pincer_cli::main()
}
