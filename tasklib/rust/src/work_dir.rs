//! The executor's working directory (empty at the start of every call, the place staged
//! outputs are moved out of) and the content-type rule outputs must follow.

use std::fs;
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// Empties `work_dir` (what the previous task left; its staged outputs were already moved
/// out by the governor) and makes it the current directory.
pub(crate) fn clean(work_dir: &Path) -> io::Result<()> {
    std::env::set_current_dir(work_dir)?;
    for entry in fs::read_dir(work_dir)? {
        let entry = entry?;
        let path = entry.path();
        if entry.file_type()?.is_dir() {
            remove_tree(&path)?;
        } else {
            fs::remove_file(&path)?;
        }
    }
    Ok(())
}

/// `remove_dir_all` that also removes trees a task made read-only.
fn remove_tree(path: &Path) -> io::Result<()> {
    match fs::remove_dir_all(path) {
        Err(e) if e.kind() == io::ErrorKind::PermissionDenied => {
            make_writable(path)?;
            fs::remove_dir_all(path)
        }
        other => other,
    }
}

fn make_writable(path: &Path) -> io::Result<()> {
    if !fs::symlink_metadata(path)?.is_dir() {
        return Ok(());
    }
    fs::set_permissions(path, fs::Permissions::from_mode(0o700))?;
    for entry in fs::read_dir(path)? {
        make_writable(&entry?.path())?;
    }
    Ok(())
}

/// What a staged path becomes.
pub(crate) enum Staged {
    /// A path below the working directory (for the governor to move into its storage).
    Path(PathBuf),
    /// The data of this input, unchanged (no copy is made).
    Input(usize),
}

/// Stages `path`: itself if it is inside `work_dir` (as a path below `work_dir`, which is how
/// the governor knows the directory); input `i` if it is the path of input `i` (the governor's
/// read-only storage, never moved); a copy at `target` if it is inside an input; else moved
/// to `target` (renamed, or copied and removed across file systems).
pub(crate) fn stage_path(
    path: &Path,
    work_dir: &Path,
    target: &Path,
    input_paths: &[(usize, PathBuf)],
) -> io::Result<Staged> {
    let full = fs::canonicalize(path)?;
    let root = fs::canonicalize(work_dir)?;
    if let Ok(rest) = full.strip_prefix(&root) {
        if rest.as_os_str().is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "the working directory itself cannot be an output",
            ));
        }
        return Ok(Staged::Path(work_dir.join(rest)));
    }
    for (order, input) in input_paths {
        let input = fs::canonicalize(input).unwrap_or_else(|_| input.clone());
        if full == input {
            return Ok(Staged::Input(*order));
        }
        if full.starts_with(&input) {
            copy_tree(&full, target)?;
            return Ok(Staged::Path(target.to_path_buf()));
        }
    }
    if fs::rename(&full, target).is_err() {
        copy_tree(&full, target)?;
        if full.is_dir() {
            fs::remove_dir_all(&full)?;
        } else {
            fs::remove_file(&full)?;
        }
    }
    Ok(Staged::Path(target.to_path_buf()))
}

fn copy_tree(from: &Path, to: &Path) -> io::Result<()> {
    let metadata = fs::symlink_metadata(from)?;
    if metadata.file_type().is_symlink() {
        std::os::unix::fs::symlink(fs::read_link(from)?, to)
    } else if metadata.is_dir() {
        fs::create_dir(to)?;
        for entry in fs::read_dir(from)? {
            let entry = entry?;
            copy_tree(&entry.path(), &to.join(entry.file_name()))?;
        }
        Ok(())
    } else {
        fs::copy(from, to).map(|_| ())
    }
}

/// True if data of content type `actual` may be used where `declared` is expected: nothing
/// declared, the same type, or a member of the declared family (`text` ⊇ `text-latin2`,
/// `protobuf` ⊇ `protobuf/msg`, `pickle` ⊇ `cloudpickle`); as common/content_type.ts.
pub(crate) fn is_content_subtype(actual: &str, declared: &str) -> bool {
    if declared.is_empty() || actual == declared {
        return true;
    }
    if actual.is_empty() {
        return false;
    }
    if declared == "pickle" && actual == "cloudpickle" {
        return true;
    }
    actual.len() > declared.len()
        && actual.starts_with(declared)
        && matches!(actual.as_bytes()[declared.len()], b'-' | b'/')
}
