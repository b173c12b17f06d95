//! Output files, the way every command writes them: all paths a command will write are
//! checked before any work starts ([`Outputs::check`]), and each file is written to a
//! temporary name in its own folder and renamed into place ([`write_atomic`]), so a
//! failed or interrupted run leaves no half-written file and its retry works.
//!
//! The temporary name is fixed (`.NAME.partial`), so a run killed while writing leaves at
//! most that one hidden file, which the retry replaces. Errors name the file the user
//! asked for, never the temporary one.

use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

/// The files one command will write, checked together before any work.
#[derive(Debug, Clone)]
pub struct Outputs {
    files: Vec<PathBuf>,
    /// Set by [`Outputs::folder`]: any file under it may be written.
    folder: Option<PathBuf>,
}

fn io_err(path: &Path, what: impl std::fmt::Display) -> Error {
    Error::Io(format!("{}: {what}", path.display()))
}

/// The folder a file will be written in (`.` for a bare name).
fn parent_of(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Every ancestor of `dir` that exists must be a folder; the first one that is a file is
/// an error (the run could never write there).
fn check_folder(dir: &Path, flag: &str) -> Result<()> {
    let mut d = Some(dir);
    while let Some(p) = d {
        if p.as_os_str().is_empty() {
            break;
        }
        if p.exists() {
            if !p.is_dir() {
                return Err(io_err(
                    p,
                    format!("is a file, but {flag} needs a folder here; give another path"),
                ));
            }
            break;
        }
        d = p.parent();
    }
    Ok(())
}

impl Outputs {
    /// Checks `files` before any work: each one's folder must be (or become) a folder, a
    /// path that is a folder is refused, and existing files are refused unless `force`
    /// (the error lists them all). `flag` names the option the paths came from.
    pub fn check(files: Vec<PathBuf>, force: bool, flag: &str) -> Result<Outputs> {
        let mut existing = Vec::new();
        for f in &files {
            check_folder(parent_of(f), flag)?;
            if f.is_dir() {
                return Err(io_err(
                    f,
                    format!("is a folder; {flag} needs a file name here"),
                ));
            }
            if f.exists() {
                existing.push(f.display().to_string());
            }
        }
        if !existing.is_empty() && !force {
            return Err(Error::Io(format!(
                "{} already exist{}; pass --force to replace {}, or choose another {flag}",
                existing.join(", "),
                if existing.len() == 1 { "s" } else { "" },
                if existing.len() == 1 { "it" } else { "them" },
            )));
        }
        Ok(Outputs {
            files,
            folder: None,
        })
    }

    /// [`Outputs::check`] for the files `names` inside the folder `dir` (`--out DIR`):
    /// `dir` itself must not be a file.
    pub fn in_folder(
        dir: &Path,
        names: &[impl AsRef<Path>],
        force: bool,
        flag: &str,
    ) -> Result<Outputs> {
        check_folder(dir, flag)?;
        Outputs::check(names.iter().map(|n| dir.join(n)).collect(), force, flag)
    }

    /// For outputs whose names depend on the work (a report folder, a dataset folder):
    /// `dir` must not be a file, and a folder that already holds files is refused unless
    /// `force` (then files of the same names are replaced and others kept).
    pub fn folder(dir: &Path, force: bool, flag: &str) -> Result<Outputs> {
        check_folder(dir, flag)?;
        if dir.is_dir() && !force {
            let mut names: Vec<String> = std::fs::read_dir(dir)
                .map_err(|e| io_err(dir, e))?
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| !n.starts_with('.'))
                .collect();
            if !names.is_empty() {
                names.sort();
                let more = if names.len() > 3 {
                    format!(" and {} more", names.len() - 3)
                } else {
                    String::new()
                };
                names.truncate(3);
                return Err(io_err(
                    dir,
                    format!(
                        "already holds files ({}{more}); pass --force to replace them, or choose another {flag}",
                        names.join(", ")
                    ),
                ));
            }
        }
        Ok(Outputs {
            files: Vec::new(),
            folder: Some(dir.to_path_buf()),
        })
    }

    fn planned(&self, path: &Path) -> Result<()> {
        let in_folder = self
            .folder
            .as_ref()
            .is_some_and(|d| path.starts_with(d) && path != d);
        if in_folder || self.files.iter().any(|f| f == path) {
            Ok(())
        } else {
            Err(io_err(
                path,
                "internal error: this output was not checked before the work; please report it",
            ))
        }
    }

    /// Writes one of the checked files atomically.
    pub fn write(&self, path: &Path, bytes: &[u8]) -> Result<()> {
        self.planned(path)?;
        write_atomic(path, bytes)
    }

    /// Writes files (names relative to `dir`, may hold subfolders) that were collected in
    /// memory during the work. A folder that did not exist is built under a temporary
    /// name and renamed into place whole; into an existing folder each file is written
    /// atomically.
    pub fn write_folder(&self, dir: &Path, files: &[(String, Vec<u8>)]) -> Result<()> {
        for (name, _) in files {
            self.planned(&dir.join(name))?;
        }
        if dir.exists() {
            for (name, bytes) in files {
                write_atomic(&dir.join(name), bytes)?;
            }
            return Ok(());
        }
        let staging = partial_name(dir);
        if staging.exists() {
            std::fs::remove_dir_all(&staging).map_err(|e| io_err(dir, e))?;
        }
        let built = files.iter().try_for_each(|(name, bytes)| {
            let p = staging.join(name);
            std::fs::create_dir_all(parent_of(&p))?;
            std::fs::write(&p, bytes)
        });
        let built = built.and_then(|_| std::fs::rename(&staging, dir));
        if let Err(e) = built {
            let _ = std::fs::remove_dir_all(&staging);
            return Err(io_err(dir, e));
        }
        Ok(())
    }
}

/// The temporary name `path` is written under before the rename.
pub fn partial_name(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    parent_of(path).join(format!(".{name}.partial"))
}

/// Writes `bytes` to `path` through a temporary file in the same folder and a rename
/// (creating the folder if needed). On failure the temporary file is removed.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = parent_of(path);
    std::fs::create_dir_all(dir).map_err(|e| io_err(path, e))?;
    let tmp = partial_name(path);
    let written = std::fs::write(&tmp, bytes).and_then(|_| std::fs::rename(&tmp, path));
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(io_err(path, e));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let d =
            std::env::temp_dir().join(format!("lamppost-outputs-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn existing_files_are_listed_and_kept() {
        let d = scratch("existing");
        std::fs::write(d.join("a.png"), b"mine").unwrap();
        let e = Outputs::in_folder(&d, &["a.png", "b.png"], false, "--out").unwrap_err();
        assert!(e.to_string().contains("a.png already exists"), "{e}");
        assert!(!e.to_string().contains("b.png"), "{e}");
        assert_eq!(std::fs::read(d.join("a.png")).unwrap(), b"mine");
        let o = Outputs::in_folder(&d, &["a.png", "b.png"], true, "--out").unwrap();
        o.write(&d.join("a.png"), b"new").unwrap();
        assert_eq!(std::fs::read(d.join("a.png")).unwrap(), b"new");
        assert!(!partial_name(&d.join("a.png")).exists());
    }

    #[test]
    fn a_file_where_a_folder_is_needed_fails_at_once() {
        let d = scratch("file-as-dir");
        std::fs::write(d.join("f"), b"x").unwrap();
        let e = Outputs::in_folder(&d.join("f"), &["a.png"], false, "--out").unwrap_err();
        assert!(e.to_string().contains("is a file"), "{e}");
        let e = Outputs::in_folder(&d.join("f/deeper"), &["a.png"], false, "--out").unwrap_err();
        assert!(e.to_string().contains("is a file"), "{e}");
        let e = Outputs::check(vec![d.clone()], false, "--out").unwrap_err();
        assert!(e.to_string().contains("is a folder"), "{e}");
    }

    #[test]
    fn a_new_folder_appears_whole_and_an_existing_one_keeps_other_files() {
        let d = scratch("folder");
        let files = vec![
            ("a/x.txt".to_string(), b"1".to_vec()),
            ("y.txt".to_string(), b"2".to_vec()),
        ];
        let out = d.join("new");
        Outputs::folder(&out, false, "--out")
            .unwrap()
            .write_folder(&out, &files)
            .unwrap();
        assert_eq!(std::fs::read(out.join("a/x.txt")).unwrap(), b"1");
        assert!(!partial_name(&out).exists());
        // holding files: refused without force; with force, others are kept
        std::fs::write(out.join("mine.txt"), b"keep").unwrap();
        assert!(Outputs::folder(&out, false, "--out").is_err());
        let o = Outputs::folder(&out, true, "--out").unwrap();
        o.write_folder(&out, &files).unwrap();
        assert_eq!(std::fs::read(out.join("mine.txt")).unwrap(), b"keep");
        // a name outside the checked folder is an internal error, not a silent write
        assert!(o.write(&d.join("elsewhere.txt"), b"x").is_err());
    }

    #[test]
    fn failed_write_names_the_users_file_and_leaves_nothing() {
        let d = scratch("failed");
        // the target is an existing folder: the rename fails
        std::fs::create_dir_all(d.join("out.bin/inner")).unwrap();
        let e = write_atomic(&d.join("out.bin"), b"data").unwrap_err();
        assert!(e.to_string().contains("out.bin"), "{e}");
        assert!(!e.to_string().contains(".partial"), "{e}");
        assert!(!partial_name(&d.join("out.bin")).exists());
    }
}
