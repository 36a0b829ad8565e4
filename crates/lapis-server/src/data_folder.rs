//! The data folder is checked before the store opens it, so that a folder Lapis cannot use is
//! named with the reason ("permission denied", "not a directory") instead of SQLite's "unable to
//! open database file" or the file system's "File exists", and so that a start that fails leaves
//! nothing behind.

use std::fs::OpenOptions;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

/// Makes sure `dir` can hold Lapis's data: a directory (created if missing, with its parents)
/// in which Lapis may create files, and whose files Lapis already made are writable.
pub fn prepare(dir: &Path) -> Result<(), String> {
    match std::fs::metadata(dir) {
        Ok(meta) if meta.is_dir() => {}
        Ok(_) => {
            return Err(format!(
                "data folder {}: not a directory (--location names a file)",
                dir.display()
            ))
        }
        Err(e) if e.kind() == ErrorKind::NotFound => std::fs::create_dir_all(dir).map_err(|e| {
            format!(
                "cannot create data folder {}: {}",
                dir.display(),
                why(dir, &e)
            )
        })?,
        Err(e) => {
            return Err(format!(
                "cannot use data folder {}: {}",
                dir.display(),
                why(dir, &e)
            ))
        }
    }
    writable_folder(dir)?;
    let extents = dir.join("extents");
    if extents.is_dir() {
        writable_folder(&extents)?;
    }
    for file in ["lapis.sqlite", "lapis.sqlite-wal"] {
        let path = dir.join(file);
        if path.exists() {
            // Opening for writing changes nothing, and is refused as writing would be.
            OpenOptions::new()
                .read(true)
                .write(true)
                .open(&path)
                .map_err(|e| format!("cannot write {}: {}", path.display(), why(&path, &e)))?;
        }
    }
    Ok(())
}

/// Whether files can be created in `dir`: by creating and removing one (permission bits do not
/// tell, for root, for an immutable folder, or on a read-only file system).
fn writable_folder(dir: &Path) -> Result<(), String> {
    let probe = dir.join(format!(".lapis-write-check-{}", std::process::id()));
    match OpenOptions::new().write(true).create_new(true).open(&probe) {
        Ok(file) => {
            drop(file);
            let _ = std::fs::remove_file(&probe);
            Ok(())
        }
        Err(e) => Err(format!(
            "data folder {} is not writable: {}",
            dir.display(),
            why(dir, &e)
        )),
    }
}

/// The reason of an I/O error on `path`, in words that say what to fix.
fn why(path: &Path, e: &std::io::Error) -> String {
    match e.kind() {
        // EACCES, and EPERM (an immutable folder, for root too).
        ErrorKind::PermissionDenied => format!("permission denied ({e})"),
        ErrorKind::ReadOnlyFilesystem => format!("read-only file system ({e})"),
        ErrorKind::NotADirectory => match file_on_the_way(path) {
            Some(file) => format!("{} is a file, not a directory", file.display()),
            None => format!("not a directory ({e})"),
        },
        _ => e.to_string(),
    }
}

/// The first ancestor of `path` (or `path` itself) that exists and is not a directory.
fn file_on_the_way(path: &Path) -> Option<PathBuf> {
    let mut ancestors: Vec<&Path> = path.ancestors().collect();
    ancestors.reverse();
    ancestors
        .into_iter()
        .filter(|p| !p.as_os_str().is_empty())
        .find(|p| p.metadata().is_ok_and(|m| !m.is_dir()))
        .map(Path::to_path_buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_folder_is_created_and_an_existing_one_kept_clean() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("a/b");
        prepare(&dir).unwrap();
        assert!(dir.is_dir());
        prepare(&dir).unwrap();
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0, "no probe left");
    }

    #[test]
    fn a_file_is_not_a_directory() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("f");
        std::fs::write(&file, "x").unwrap();
        let e = prepare(&file).unwrap_err();
        assert!(e.contains("not a directory"), "{e}");
        let e = prepare(&file.join("sub")).unwrap_err();
        assert!(
            e.contains(&format!("{} is a file, not a directory", file.display())),
            "{e}"
        );
    }
}
