//! Outputs of a task: bytes written through `std::io::Write`, or a file or directory staged
//! for the governor to move into its storage.

use std::collections::HashMap;
use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::error::TaskResult;
use crate::spec::{DataType, ObjectSpec};
use crate::work_dir::{is_content_subtype, stage_path, Staged};
use crate::{UserValue, MEM_BACKED_LIMIT};

enum State {
    Empty,
    Memory(Vec<u8>),
    /// Written beyond `MEM_BACKED_LIMIT`: the rest goes to this file in the working directory.
    Spilled(BufWriter<File>, PathBuf),
    /// A file or directory given by the task, inside the working directory.
    Staged(PathBuf),
    /// The task staged the path of this input: the output is that data.
    Input(usize),
}

/// One output of a task: empty at first, then written to (it is a `std::io::Write`) or set
/// to a staged file (`stage_file`) or directory (`stage_directory`); these are exclusive.
/// A blob nobody wrote to is empty; a directory must be staged.
pub struct Output {
    /// The output's spec: label, declared content type, data type.
    pub spec: ObjectSpec,
    state: State,
    content_type: Option<String>,
    user: HashMap<String, UserValue>,
    order: usize,
    work_dir: PathBuf,
    /// The inputs that are files or directories of the governor (never moved).
    input_paths: Arc<Vec<(usize, PathBuf)>>,
}

/// An output as the answer reports it.
pub(crate) enum Finished {
    Bytes(Vec<u8>),
    /// Relative to the working directory.
    Path(String),
    Input(usize),
}

impl Output {
    pub(crate) fn new(
        spec: ObjectSpec,
        order: usize,
        work_dir: &Path,
        input_paths: Arc<Vec<(usize, PathBuf)>>,
    ) -> Self {
        Output {
            spec,
            state: State::Empty,
            content_type: None,
            user: HashMap::new(),
            order,
            work_dir: work_dir.to_path_buf(),
            input_paths,
        }
    }

    /// "output 0 ('label')", for messages.
    pub(crate) fn describe(&self) -> String {
        if self.spec.label.is_empty() {
            format!("output {}", self.order)
        } else {
            format!("output {} ('{}')", self.order, self.spec.label)
        }
    }

    /// The position of this output in the task's outputs.
    pub fn order(&self) -> usize {
        self.order
    }

    pub fn data_type(&self) -> DataType {
        self.spec.data_type
    }

    pub fn is_blob(&self) -> bool {
        self.spec.data_type == DataType::Blob
    }

    pub fn is_directory(&self) -> bool {
        self.spec.data_type == DataType::Directory
    }

    /// Sets the content type of a blob output. It must be the declared one or refine it
    /// (`text` → `text-latin2`, `pickle` → `cloudpickle`); any is fine if none was declared.
    pub fn set_content_type(&mut self, content_type: &str) -> TaskResult<()> {
        if self.is_directory() {
            return Err(
                format!("{} is a directory: it has no content type", self.describe()).into()
            );
        }
        if !is_content_subtype(content_type, &self.spec.content_type) {
            return Err(format!(
                "{}: content type '{}' does not match the declared '{}'",
                self.describe(),
                content_type,
                self.spec.content_type
            )
            .into());
        }
        self.content_type = if content_type.is_empty() { None } else { Some(content_type.into()) };
        Ok(())
    }

    /// The content type set by the task, else the declared one ("" if none).
    pub fn get_content_type(&self) -> &str {
        self.content_type.as_deref().unwrap_or(&self.spec.content_type)
    }

    /// Sets `info.user[key]` of the output object (overwriting an older value).
    pub fn set_user_info(&mut self, key: impl Into<String>, value: UserValue) {
        self.user.insert(key.into(), value);
    }

    /// Submits a file as the output's content (a blob output that was not written to). A file
    /// outside the working directory is moved into it; do not touch it afterwards. The path of
    /// an input (`get_path()`) makes the output that input's data (nothing is moved or copied);
    /// a file inside an input directory is copied.
    pub fn stage_file<P: AsRef<Path>>(&mut self, path: P) -> TaskResult<()> {
        self.stage(path.as_ref(), DataType::Blob)
    }

    /// Submits a directory as the output's content (a directory output). A directory
    /// outside the working directory is moved into it; close the files in it first. Input
    /// paths are treated as by `stage_file`.
    pub fn stage_directory<P: AsRef<Path>>(&mut self, path: P) -> TaskResult<()> {
        self.stage(path.as_ref(), DataType::Directory)
    }

    fn stage(&mut self, path: &Path, kind: DataType) -> TaskResult<()> {
        if self.spec.data_type != kind {
            return Err(format!(
                "{} is a {}, cannot stage a {} as it",
                self.describe(),
                self.spec.data_type,
                kind
            )
            .into());
        }
        if !matches!(self.state, State::Empty) {
            return Err(format!("{} was already written or staged", self.describe()).into());
        }
        let metadata = fs::metadata(path)
            .map_err(|e| format!("{}: cannot stage {}: {}", self.describe(), path.display(), e))?;
        if metadata.is_dir() != (kind == DataType::Directory) {
            return Err(format!("{}: {} is not a {}", self.describe(), path.display(), kind).into());
        }
        let target = self.work_dir.join(format!("rain-output-{}", self.order));
        let staged = stage_path(path, &self.work_dir, &target, &self.input_paths)
            .map_err(|e| format!("{}: cannot stage {}: {}", self.describe(), path.display(), e))?;
        self.state = match staged {
            Staged::Path(path) => State::Staged(path),
            Staged::Input(order) => State::Input(order),
        };
        Ok(())
    }

    /// What the answer reports: the bytes, or the staged path relative to the working dir.
    pub(crate) fn finish(
        self,
    ) -> TaskResult<(Finished, Option<String>, HashMap<String, UserValue>)> {
        let describe = self.describe();
        let data = match self.state {
            State::Empty if self.spec.data_type == DataType::Directory => {
                return Err(
                    format!("{} is a directory and nothing was staged as it", describe).into()
                )
            }
            State::Empty => Finished::Bytes(Vec::new()),
            State::Memory(bytes) => Finished::Bytes(bytes),
            State::Spilled(mut file, path) => {
                file.flush()
                    .map_err(|e| format!("{}: cannot write {}: {}", describe, path.display(), e))?;
                Finished::Path(relative(&path, &self.work_dir))
            }
            State::Staged(path) => Finished::Path(relative(&path, &self.work_dir)),
            State::Input(order) => Finished::Input(order),
        };
        Ok((data, self.content_type, self.user))
    }

    fn write_error(&self, what: &str) -> io::Error {
        io::Error::new(io::ErrorKind::InvalidInput, format!("{} {}", self.describe(), what))
    }
}

fn relative(path: &Path, work_dir: &Path) -> String {
    path.strip_prefix(work_dir).unwrap_or(path).to_string_lossy().into_owned()
}

impl Write for Output {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.is_directory() {
            return Err(self.write_error("is a directory: use stage_directory()"));
        }
        match &mut self.state {
            State::Empty => {
                self.state = State::Memory(buf.to_vec());
            }
            State::Memory(bytes) => {
                bytes.extend_from_slice(buf);
            }
            State::Spilled(file, _) => return file.write(buf),
            State::Staged(_) | State::Input(_) => {
                return Err(self.write_error("was staged: it cannot be written"))
            }
        }
        if let State::Memory(bytes) = &self.state {
            if bytes.len() > MEM_BACKED_LIMIT {
                let path = self.work_dir.join(format!("rain-output-{}", self.order));
                let mut file = BufWriter::with_capacity(256 * 1024, File::create(&path)?);
                file.write_all(bytes)?;
                self.state = State::Spilled(file, path);
            }
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        match &mut self.state {
            State::Spilled(file, _) => file.flush(),
            _ => Ok(()),
        }
    }
}

impl std::fmt::Debug for Output {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = match &self.state {
            State::Empty => "empty".to_string(),
            State::Memory(b) => format!("{} bytes in memory", b.len()),
            State::Spilled(_, p) => format!("written to {}", p.display()),
            State::Staged(p) => format!("staged {}", p.display()),
            State::Input(i) => format!("input {}", i),
        };
        f.debug_struct("Output")
            .field("order", &self.order)
            .field("spec", &self.spec)
            .field("state", &state)
            .field("content_type", &self.content_type)
            .field("user", &self.user)
            .finish()
    }
}
