//! The error of task functions: a message that becomes the task's `info.error`.

use std::fmt;

/// A string error for the task functions.
///
/// Made from `&str` and `String` (`Err("bad input")?`, `Err(format!(…))?`) and from the
/// common errors a task meets (I/O, UTF-8, JSON, number parsing), so `?` works on them.
#[derive(Clone, PartialEq, Eq)]
pub struct TaskError {
    message: String,
}

/// The result of a task function (and of the fallible methods of this crate).
pub type TaskResult<T> = Result<T, TaskError>;

impl TaskError {
    pub fn new(message: impl Into<String>) -> Self {
        TaskError { message: message.into() }
    }

    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for TaskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl fmt::Debug for TaskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TaskError({:?})", self.message)
    }
}

impl std::error::Error for TaskError {}

impl From<&str> for TaskError {
    fn from(message: &str) -> Self {
        TaskError::new(message)
    }
}

impl From<String> for TaskError {
    fn from(message: String) -> Self {
        TaskError::new(message)
    }
}

impl From<&String> for TaskError {
    fn from(message: &String) -> Self {
        TaskError::new(message.as_str())
    }
}

impl From<Box<dyn std::error::Error + Send + Sync>> for TaskError {
    fn from(e: Box<dyn std::error::Error + Send + Sync>) -> Self {
        TaskError::new(e.to_string())
    }
}

/// `From` for error types whose message says it all (prefixed by what kind of error it is).
macro_rules! task_error_from {
    ($($kind:literal: $t:ty),* $(,)?) => {
        $(impl From<$t> for TaskError {
            fn from(e: $t) -> Self {
                TaskError::new(format!(concat!($kind, ": {}"), e))
            }
        })*
    };
}

task_error_from!(
    "I/O error": std::io::Error,
    "invalid UTF-8": std::str::Utf8Error,
    "invalid UTF-8": std::string::FromUtf8Error,
    "JSON error": serde_json::Error,
    "formatting error": std::fmt::Error,
    "invalid integer": std::num::ParseIntError,
    "invalid number": std::num::ParseFloatError,
);
