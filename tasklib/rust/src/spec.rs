//! Specs (what the client asked for) and infos (what happened) of tasks and data objects, as
//! the governor sends them (common/attributes.ts). Unknown fields are ignored and missing ones
//! take their defaults, so newer governors keep working.

use std::collections::HashMap;
use std::fmt;

use serde::de::DeserializeOwned;

use crate::error::TaskResult;
use crate::UserValue;

/// Id of a task or data object: the session and the number in it (`[session, id]` on the
/// wire, `session/id` when printed).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize,
)]
#[serde(from = "(i64, i64)", into = "(i64, i64)")]
pub struct Id {
    pub session_id: i64,
    pub id: i64,
}

/// ID type for tasks.
pub type TaskId = Id;
/// ID type for data objects.
pub type DataObjectId = Id;
/// The token an executor registers with (`RAIN_EXECUTOR_ID`).
pub type ExecutorId = String;

impl Id {
    pub fn new(session_id: i64, id: i64) -> Self {
        Id { session_id, id }
    }
}

impl From<(i64, i64)> for Id {
    fn from((session_id, id): (i64, i64)) -> Self {
        Id { session_id, id }
    }
}

impl From<Id> for (i64, i64) {
    fn from(id: Id) -> Self {
        (id.session_id, id.id)
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.session_id, self.id)
    }
}

/// A data object is a blob (bytes, a file) or a directory.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum DataType {
    #[default]
    #[serde(rename = "blob")]
    Blob,
    #[serde(rename = "dir")]
    Directory,
}

impl fmt::Display for DataType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DataType::Blob => "blob",
            DataType::Directory => "directory",
        })
    }
}

/// One input of a task spec.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct TaskSpecInput {
    pub id: DataObjectId,
    /// Empty when the client gave no label.
    #[serde(deserialize_with = "null_as_default")]
    pub label: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct Resources {
    pub cpus: u32,
}

impl Default for Resources {
    fn default() -> Self {
        Resources { cpus: 1 }
    }
}

/// The task spec as the client submitted it.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct TaskSpec {
    pub id: TaskId,
    pub inputs: Vec<TaskSpecInput>,
    pub outputs: Vec<DataObjectId>,
    /// `<executor>/<method>`
    pub task_type: String,
    /// Free JSON from the client (`Task(config=…)`); see [`TaskSpec::parse_config`].
    pub config: Option<UserValue>,
    pub resources: Resources,
    #[serde(deserialize_with = "null_as_default")]
    pub name: String,
    /// The task's user attributes (`task.spec.user` of the client).
    #[serde(deserialize_with = "null_as_default")]
    pub user: HashMap<String, UserValue>,
}

impl TaskSpec {
    /// The config parsed into `D` (a task without config parses `null`).
    pub fn parse_config<D: DeserializeOwned>(&self) -> TaskResult<D> {
        let config = self.config.clone().unwrap_or(UserValue::Null);
        serde_json::from_value(config)
            .map_err(|e| format!("invalid config of task {}: {}", self.id, e).into())
    }
}

/// What happened to a task: the governor fills in `governor`, `start_time` and `duration`;
/// an executor sets `debug` and `user` (through [`crate::Context`]).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct TaskInfo {
    pub error: String,
    pub debug: String,
    pub governor: String,
    pub start_time: String,
    pub duration: Option<f32>,
    pub user: HashMap<String, UserValue>,
}

/// The spec of a data object (an input or an output of a task).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ObjectSpec {
    pub id: DataObjectId,
    #[serde(deserialize_with = "null_as_default")]
    pub label: String,
    /// The declared content type (empty: none).
    #[serde(deserialize_with = "null_as_default")]
    pub content_type: String,
    pub data_type: DataType,
    /// The object's user attributes (`obj.spec.user` of the client).
    #[serde(deserialize_with = "null_as_default")]
    pub user: HashMap<String, UserValue>,
}

/// Run-time info of a data object: what its producer set.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ObjectInfo {
    pub size: Option<usize>,
    /// The content type set at run time (empty: the declared one).
    #[serde(deserialize_with = "null_as_default")]
    pub content_type: String,
    #[serde(deserialize_with = "null_as_default")]
    pub error: String,
    #[serde(deserialize_with = "null_as_default")]
    pub debug: String,
    #[serde(deserialize_with = "null_as_default")]
    pub user: HashMap<String, UserValue>,
}

/// `null` where a string or map is expected reads as empty.
fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Default + serde::Deserialize<'de>,
{
    let value: Option<T> = serde::Deserialize::deserialize(deserializer)?;
    Ok(value.unwrap_or_default())
}
