//! Reading and writing the config file safely.
//!
//! Writers take an exclusive advisory lock on a sibling lock file (`.config.json5.lock`) for the
//! whole read–edit–validate–write cycle, so concurrent `config set` runs never lose an update.
//! The new text goes to a temporary file in the same folder, is flushed to disk, and is renamed
//! over the old file: a reader, or a crash at any point, sees the old file or the new one, never
//! a torn one. A file Pincer creates gets mode 0600 inside a 0700 folder; an existing file keeps
//! its mode, except that writing a secret into a file others can read tightens it to 0600 (the
//! caller says so). A config path that is a symlink is written through (the link survives).
//!
//! Text is UTF-8. A leading byte-order mark is accepted: readers get the text without it (so
//! line:column positions are those an editor shows), and a write puts it back.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::error::ConfigError;

/// The UTF-8 byte-order mark.
const BOM: &str = "\u{feff}";

/// Reads the config text (without a byte-order mark); a missing file is `None`.
pub fn read(path: &Path) -> Result<Option<String>, ConfigError> {
    Ok(read_marked(path)?.map(|(text, _)| text))
}

/// Reads the config text and whether it began with a byte-order mark.
fn read_marked(path: &Path) -> Result<Option<(String, bool)>, ConfigError> {
    let bytes = match fs::read(path) {
        Ok(bytes) => bytes,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(ConfigError::Read {
                path: path.to_owned(),
                source,
            });
        }
    };
    let text = String::from_utf8(bytes).map_err(|err| {
        let offset = err.utf8_error().valid_up_to();
        let valid = std::str::from_utf8(&err.as_bytes()[..offset]).unwrap_or_default();
        let line = valid.matches('\n').count() + 1;
        let column = valid
            .rsplit('\n')
            .next()
            .unwrap_or_default()
            .chars()
            .count()
            + 1;
        ConfigError::NotUtf8 {
            path: path.to_owned(),
            offset,
            line,
            column,
        }
    })?;
    Ok(Some(match text.strip_prefix(BOM) {
        Some(rest) => (rest.to_owned(), true),
        None => (text, false),
    }))
}

/// What [`update`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Update {
    /// The file was written with this new text.
    Written(String),
    /// The edit produced the same text; nothing was written.
    Unchanged,
    /// The edit declined to write (e.g. nothing to unset).
    Skipped,
}

/// Runs `edit` on the current text (empty for a missing file) under the writers' lock, and
/// writes its result atomically. `edit` returns `Ok(None)` to write nothing.
pub fn update<F>(path: &Path, edit: F) -> Result<Update, ConfigError>
where
    F: FnOnce(&str) -> Result<Option<String>, ConfigError>,
{
    update_with(path, false, edit).map(|(update, _)| update)
}

/// [`update`] for an edit that writes a secret when `secret`: a file that group or others can
/// read is then rewritten with mode 0600. The second value says whether that happened (the
/// mode it had before).
pub fn update_with<F>(
    path: &Path,
    secret: bool,
    edit: F,
) -> Result<(Update, Option<u32>), ConfigError>
where
    F: FnOnce(&str) -> Result<Option<String>, ConfigError>,
{
    let target = resolve_symlink(path);
    let dir = parent_dir(&target);
    create_private_dir(&dir).map_err(|source| ConfigError::Write {
        path: target.clone(),
        source,
    })?;
    let _lock = lock(&target, &dir)?;
    remove_stale_temp_files(&target, &dir);
    let (current, marked) = match read_marked(&target)? {
        Some((text, marked)) => (Some(text), marked),
        None => (None, false),
    };
    let Some(new) = edit(current.as_deref().unwrap_or(""))? else {
        return Ok((Update::Skipped, None));
    };
    if current.as_deref() == Some(new.as_str()) {
        return Ok((Update::Unchanged, None));
    }
    let loose = if secret {
        readable_by_others(&target)
    } else {
        None
    };
    let written = if marked {
        format!("{BOM}{new}")
    } else {
        new.clone()
    };
    write_atomic_mode(&target, &dir, &written, loose.map(|_| 0o600)).map_err(|source| {
        ConfigError::Write {
            path: target.clone(),
            source,
        }
    })?;
    Ok((Update::Written(new), loose))
}

/// The mode of `path` when group or others may read it.
fn readable_by_others(path: &Path) -> Option<u32> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(path).ok()?.permissions().mode() & 0o7777;
        (mode & 0o077 != 0).then_some(mode)
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        None
    }
}

fn resolve_symlink(path: &Path) -> PathBuf {
    match fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => {
            fs::canonicalize(path).unwrap_or_else(|_| path.to_owned())
        }
        _ => path.to_owned(),
    }
}

fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_owned(),
        _ => PathBuf::from("."),
    }
}

/// Creates `dir` (and its parents) with mode 0700 if it does not exist.
pub fn create_private_dir(dir: &Path) -> io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_else(|| "config".to_owned())
}

/// Holds the writers' lock until dropped.
struct LockGuard(File);

impl Drop for LockGuard {
    fn drop(&mut self) {
        let _ = self.0.unlock();
    }
}

fn lock(target: &Path, dir: &Path) -> Result<LockGuard, ConfigError> {
    let lock_path = dir.join(format!(".{}.lock", file_name(target)));
    let mut options = OpenOptions::new();
    options.create(true).truncate(false).write(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let file = options
        .open(&lock_path)
        .map_err(|source| ConfigError::Lock {
            path: lock_path.clone(),
            source,
        })?;
    file.lock().map_err(|source| ConfigError::Lock {
        path: lock_path,
        source,
    })?;
    Ok(LockGuard(file))
}

/// Removes temporary files left by a writer that was killed mid-write. Only a lock holder writes
/// temporary files, so under the lock any that exist are stale.
fn remove_stale_temp_files(target: &Path, dir: &Path) {
    let prefix = format!(".{}.", file_name(target));
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with(&prefix) && name.ends_with(".tmp") {
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// Writes `text` to `target` atomically: a temporary file in `dir` (mode 0600, or `target`'s
/// mode when it exists), flushed to disk, renamed over `target`, and the rename made durable.
pub fn write_atomic(target: &Path, dir: &Path, text: &str) -> io::Result<()> {
    write_atomic_mode(target, dir, text, None)
}

/// [`write_atomic`] with the new file's mode given (`None`: `target`'s, or 0600).
fn write_atomic_mode(target: &Path, dir: &Path, text: &str, mode: Option<u32>) -> io::Result<()> {
    let mut builder = tempfile::Builder::new();
    let prefix = format!(".{}.", file_name(target));
    builder.prefix(&prefix).suffix(".tmp");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = mode.unwrap_or_else(|| {
            fs::metadata(target)
                .map(|m| m.permissions().mode() & 0o7777)
                .unwrap_or(0o600)
        });
        builder.permissions(fs::Permissions::from_mode(mode));
    }
    #[cfg(not(unix))]
    let _ = mode;
    let mut temp = builder.tempfile_in(dir)?;
    temp.write_all(text.as_bytes())?;
    temp.as_file().sync_all()?;
    temp.persist(target).map_err(|err| err.error)?;
    // Make the rename itself durable.
    if let Ok(dir) = File::open(dir) {
        let _ = dir.sync_all();
    }
    Ok(())
}
