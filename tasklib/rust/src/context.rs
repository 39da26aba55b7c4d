//! The state of one task call: its spec and the task info it reports.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::spec::TaskSpec;
use crate::UserValue;

/// State of the processed task instance and its specification.
#[derive(Debug)]
pub struct Context {
    /// The task spec as the client submitted it (`config`, `user`, `name`, `resources`, …).
    pub spec: TaskSpec,
    pub(crate) user: HashMap<String, UserValue>,
    pub(crate) debug: String,
    pub(crate) failure: Option<String>,
    pub(crate) num_inputs: usize,
    pub(crate) num_outputs: usize,
    work_dir: PathBuf,
    governor_id: String,
}

impl Context {
    pub(crate) fn new(
        spec: TaskSpec,
        num_inputs: usize,
        num_outputs: usize,
        work_dir: &Path,
        governor_id: &str,
    ) -> Self {
        Context {
            spec,
            user: HashMap::new(),
            debug: String::new(),
            failure: None,
            num_inputs,
            num_outputs,
            work_dir: work_dir.to_path_buf(),
            governor_id: governor_id.to_string(),
        }
    }

    /// Sets `info.user[key]` of the task (overwriting an older value).
    pub fn set_user_info(&mut self, key: impl Into<String>, value: UserValue) {
        self.user.insert(key.into(), value);
    }

    /// The task's `info.user` so far.
    pub fn user_info(&self) -> &HashMap<String, UserValue> {
        &self.user
    }

    /// Adds a line to the task's `info.debug` (reported when it fails too).
    pub fn debug(&mut self, line: impl AsRef<str>) {
        if !self.debug.is_empty() {
            self.debug.push('\n');
        }
        self.debug.push_str(line.as_ref());
    }

    /// The debug text so far.
    pub fn debug_text(&self) -> &str {
        &self.debug
    }

    /// Makes the task fail with `message` even if its function returns `Ok`.
    pub fn fail(&mut self, message: impl Into<String>) {
        self.failure = Some(message.into());
    }

    /// The number of inputs of the call.
    pub fn num_inputs(&self) -> usize {
        self.num_inputs
    }

    /// The number of outputs of the call.
    pub fn num_outputs(&self) -> usize {
        self.num_outputs
    }

    /// The task's working directory: empty when the task starts, and its current directory.
    pub fn work_dir(&self) -> &Path {
        &self.work_dir
    }

    /// The id (`ip:port`) of the governor running the task.
    pub fn governor_id(&self) -> &str {
        &self.governor_id
    }
}
