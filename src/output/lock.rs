//! One writer per output folder: `run`, `sweep` and `merge` hold an exclusive advisory lock
//! on `DIR/.scalesim.lock` while they write into `DIR`, so two commands aimed at the same
//! folder cannot interleave their files (a second one refuses at once, naming the folder
//! and the holder's pid).
//!
//! The lock is the operating system's (`flock` on Unix, `LockFileEx` on Windows, through
//! `std::fs::File::try_lock`): it belongs to the open file, so it is released when the
//! process ends in any way, SIGKILL included, and a folder left by a killed sweep can be
//! resumed at once. The file itself is never deleted: deleting it would let a process that
//! opened the old file and one that creates a new one both hold "the" lock.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// The lock file's name in an output folder.
pub const FILE: &str = ".scalesim.lock";

/// Why a folder could not be locked.
#[derive(Debug)]
pub enum LockError {
    /// Another process holds the lock (its pid, if it recorded one).
    Busy {
        /// The folder.
        dir: PathBuf,
        /// The holder's process id, as it wrote it into the lock file.
        pid: Option<u32>,
    },
    /// The lock file could not be opened or locked.
    Io {
        /// The lock file.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
}

impl std::fmt::Display for LockError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LockError::Busy { dir, pid } => {
                let holder = match pid {
                    Some(p) => format!("another scalesim (pid {p})"),
                    None => "another scalesim".to_string(),
                };
                write!(
                    f,
                    "{} is in use by {holder} writing into it; wait for it to finish, or choose another --out",
                    dir.display()
                )
            }
            LockError::Io { path, source } => {
                write!(f, "{}: cannot lock: {source}", path.display())
            }
        }
    }
}

impl std::error::Error for LockError {}

/// An exclusive lock on an output folder, held until dropped (or the process ends).
#[derive(Debug)]
pub struct FolderLock {
    _file: File,
}

impl FolderLock {
    /// Locks `dir` (which must exist), or refuses at once if another process holds it.
    /// The holder's pid is written into the lock file for the message others get.
    pub fn acquire(dir: &Path) -> Result<FolderLock, LockError> {
        let path = dir.join(FILE);
        let io = |source| LockError::Io {
            path: path.clone(),
            source,
        };
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut text = String::new();
                let _ = file.read_to_string(&mut text);
                return Err(LockError::Busy {
                    dir: dir.to_path_buf(),
                    pid: text.trim().parse().ok(),
                });
            }
            Err(TryLockError::Error(e)) => return Err(io(e)),
        }
        // Only the holder writes, so the pid is never a torn mix of two.
        let record = (|| {
            file.set_len(0)?;
            file.seek(SeekFrom::Start(0))?;
            writeln!(file, "{}", std::process::id())
        })();
        record.map_err(io)?;
        Ok(FolderLock { _file: file })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_on_the_same_folder_is_refused_until_the_first_is_dropped() {
        let dir = std::env::temp_dir().join(format!("scalesim-lock-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let first = FolderLock::acquire(&dir).unwrap();
        match FolderLock::acquire(&dir) {
            Err(LockError::Busy { pid, .. }) => assert_eq!(pid, Some(std::process::id())),
            other => panic!("expected Busy, got {other:?}"),
        }
        drop(first);
        FolderLock::acquire(&dir).expect("free again once dropped");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
