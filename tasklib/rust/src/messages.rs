//! Messages of the executor protocol (common/executor_protocol.ts), as JSON headers of frames.

use std::collections::HashMap;

use crate::spec::{ObjectInfo, ObjectSpec, TaskId, TaskSpec};
use crate::task_output::OutputFiles;
use crate::UserValue;

/// A message from the governor: `call` or `drop_session`, flat so that parsing needs no
/// buffering (the fields of the other kind are absent).
#[derive(Deserialize, Debug, Default)]
#[serde(default)]
pub(crate) struct FromGovernor {
    #[serde(rename = "type")]
    pub kind: String,
    // call
    pub method: String,
    pub spec: TaskSpec,
    pub inputs: Vec<CallInput>,
    pub outputs: Vec<ObjectSpec>,
    pub parts: Vec<usize>,
    pub output: Option<OutputFiles>,
    // drop_session
    pub session: i64,
}

/// One input of a call: the data is in exactly one of `part`, `path`, `cached`.
#[derive(Deserialize, Debug, Default)]
#[serde(default)]
pub(crate) struct CallInput {
    pub spec: ObjectSpec,
    pub info: Option<ObjectInfo>,
    pub size: u64,
    pub part: Option<usize>,
    pub path: Option<String>,
    pub cached: bool,
}

#[derive(Serialize)]
pub(crate) struct Register<'a> {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub protocol_version: u32,
    pub executor_id: &'a str,
    pub executor_type: &'a str,
    pub pid: u32,
    pub library: String,
}

/// `info` of an answer and of its outputs.
#[derive(Serialize)]
pub(crate) struct InfoOut<'a> {
    #[serde(skip_serializing_if = "str::is_empty")]
    pub debug: &'a str,
    #[serde(skip_serializing_if = "HashMap::is_empty")]
    pub user: &'a HashMap<String, UserValue>,
}

impl InfoOut<'_> {
    pub fn is_empty(&self) -> bool {
        self.debug.is_empty() && self.user.is_empty()
    }
}

/// One output of a `result`: exactly one of `part`, `path`, `input`.
#[derive(Serialize)]
pub(crate) struct CallOutput<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub part: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_type: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub info: Option<InfoOut<'a>>,
}

/// `result` (outputs set) or `failed` (error set).
#[derive(Serialize)]
pub(crate) struct Answer<'a> {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub task: TaskId,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outputs: Option<Vec<CallOutput<'a>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub info: Option<InfoOut<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub parts: Vec<usize>,
}
