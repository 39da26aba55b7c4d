//! Write Rain executors (custom task types) in Rust.
//!
//! This is the API of the `rain_task` 0.4 crate on the executor protocol of Rain on Deno
//! (docs/executors.md). An executor is a program a governor starts to run the tasks of type
//! `<executor>/<method>`; register it in the governor's TOML config:
//!
//! ```toml
//! [executors.greeter]
//! command = "/path/to/target/release/greeter"
//! ```
//!
//! ```no_run
//! use rain_task::*; // also brings the register_task! macro
//! // (code written for rain_task 0.4 with `#[macro_use] extern crate rain_task;` compiles too)
//! use std::io::Write;
//!
//! // A task with a single input and a single output
//! fn task_hello(_ctx: &mut Context, input: &DataInstance, output: &mut Output) -> TaskResult<()> {
//!     write!(output, "Hello {}!", input.get_str()?)?;
//!     Ok(())
//! }
//!
//! fn main() {
//!     let mut executor = Executor::new("greeter");
//!     // [I O]: the task function takes one input, then one output.
//!     register_task!(executor, "hello", [I O], task_hello);
//!     executor.run(); // serves the governor until it closes the connection
//! }
//! ```
//!
//! A task function gets the [`Context`] (the task's spec, its info to report), its inputs
//! ([`DataInstance`]: bytes, text or a read-only path) and its outputs ([`Output`]: written
//! through `std::io::Write`, or a staged file or directory). It returns [`TaskResult`]`<()>`:
//! an error fails the task with its message; so does a panic (the executor goes on).

#[macro_use]
extern crate serde_derive;

mod arity;
mod context;
mod data_instance;
mod error;
mod executor;
mod framing;
mod macros;
mod messages;
mod output;
mod panics;
mod spec;
mod task_output;
mod work_dir;

pub use arity::ArgKind;
pub use context::Context;
pub use data_instance::DataInstance;
pub use error::{TaskError, TaskResult};
pub use executor::{Executor, TaskFn};
pub use output::Output;
pub use spec::{
    DataObjectId, DataType, ExecutorId, Id, ObjectInfo, ObjectSpec, Resources, TaskId, TaskInfo,
    TaskSpec, TaskSpecInput,
};

/// Values of user attributes (`spec.user`, `info.user`): any JSON.
pub type UserValue = serde_json::Value;

/// Version of the executor protocol this crate speaks (`register.protocol_version`).
pub const MSG_PROTOCOL: u32 = 1;

/// Largest frame this crate reads from the governor (4 GiB - 1, the protocol's limit).
pub const MAX_MSG_SIZE: usize = 0xffff_ffff;

/// Blob outputs written through `Write` stay in memory up to this size and are then spilled
/// to a file in the working directory (the governor keeps blobs up to this size in memory).
pub const MEM_BACKED_LIMIT: usize = 256 * 1024;

#[cfg(test)]
mod tests;
