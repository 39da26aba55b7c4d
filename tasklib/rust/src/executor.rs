//! The executor: the registered task functions and the loop serving the governor's calls.

use std::collections::HashMap;
use std::env;
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::process;
use std::thread;
use std::time::Duration;

use crate::arity::{ArgKind, Arity};
use crate::context::Context;
use crate::data_instance::{DataInstance, InputSource};
use crate::error::TaskResult;
use crate::framing::{Connection, Frame};
use crate::messages::{Answer, CallOutput, FromGovernor, InfoOut, Register};
use crate::output::{Finished, Output};
use crate::panics::{describe_panic, record_panic_locations};
use crate::task_output::OutputRedirect;
use crate::{work_dir, MSG_PROTOCOL};

/// A task function with any number of inputs and outputs (what `register_task!` wraps).
pub type TaskFn =
    dyn Fn(&mut Context, &[DataInstance], &mut [Output]) -> TaskResult<()> + Send + Sync;

struct Registered {
    function: Box<TaskFn>,
    arity: Option<Arity>,
}

/// The executor event loop and the set of registered tasks.
pub struct Executor {
    executor_type: String,
    pub(crate) executor_id: Option<String>,
    pub(crate) socket_path: Option<PathBuf>,
    pub(crate) work_dir: Option<PathBuf>,
    tasks: HashMap<String, Registered>,
    was_run: bool,
}

impl Executor {
    /// An executor; `run` takes the governor's socket, the executor id and the working
    /// directory from the environment the governor starts it with (`RAIN_EXECUTOR_*`). The
    /// task types are `<type>/<task name>`, where `<type>` is the name of the executor's
    /// `[executors.<type>]` table in the governor config (`executor_type` is used in messages
    /// when the environment does not say).
    pub fn new(executor_type: &str) -> Self {
        Executor {
            executor_type: executor_type.to_string(),
            executor_id: None,
            socket_path: None,
            work_dir: None,
            tasks: HashMap::new(),
            was_run: false,
        }
    }

    /// An executor with explicit parameters instead of the environment.
    pub fn with_params(
        executor_type: &str,
        executor_id: &str,
        socket_path: &Path,
        working_dir: &Path,
    ) -> Self {
        let mut executor = Executor::new(executor_type);
        executor.executor_id = Some(executor_id.to_string());
        executor.socket_path = Some(socket_path.to_path_buf());
        executor.work_dir = Some(working_dir.to_path_buf());
        executor
    }

    /// Registers a task function taking the lists of inputs and outputs (see `register_task!`
    /// for functions taking individual inputs and outputs). Panics if the name is taken.
    pub fn register_task<S, F>(&mut self, task_name: S, task_fun: F)
    where
        S: Into<String>,
        F: 'static
            + Fn(&mut Context, &[DataInstance], &mut [Output]) -> TaskResult<()>
            + Send
            + Sync,
    {
        self.insert(task_name.into(), Box::new(task_fun), None);
    }

    /// Used by `register_task!`: the counts of inputs and outputs given by `kinds` are checked
    /// before `task_fun` is called.
    #[doc(hidden)]
    pub fn register_task_with_kinds<S, F>(&mut self, task_name: S, kinds: &[ArgKind], task_fun: F)
    where
        S: Into<String>,
        F: 'static
            + Fn(&mut Context, &[DataInstance], &mut [Output]) -> TaskResult<()>
            + Send
            + Sync,
    {
        let name = task_name.into();
        let arity = Arity::of(kinds)
            .unwrap_or_else(|e| panic!("register_task!(…, {:?}, {:?}, …): {}", name, kinds, e));
        self.insert(name, Box::new(task_fun), Some(arity));
    }

    fn insert(&mut self, name: String, function: Box<TaskFn>, arity: Option<Arity>) {
        if self.tasks.contains_key(&name) {
            panic!("task '{}' is registered twice", name);
        }
        self.tasks.insert(name, Registered { function, arity });
    }

    /// The names of the registered tasks, sorted.
    pub fn task_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.tasks.keys().map(|s| s.as_str()).collect();
        names.sort_unstable();
        names
    }

    /// Connects to the governor, registers, and serves calls one at a time until the governor
    /// closes the connection; exits the process if the governor dies. May be called once.
    /// Exits with a message (status 1) when not started by a governor or on protocol errors.
    pub fn run(&mut self) {
        assert!(!self.was_run, "Executor::run may be called only once");
        self.was_run = true;
        let socket = self
            .socket_path
            .clone()
            .unwrap_or_else(|| PathBuf::from(required_env("RAIN_EXECUTOR_SOCKET")));
        let id = self.executor_id.clone().unwrap_or_else(|| required_env("RAIN_EXECUTOR_ID"));
        let work_dir = self
            .work_dir
            .clone()
            .or_else(|| env::var_os("RAIN_EXECUTOR_WORK_DIR").map(PathBuf::from));
        let work_dir = work_dir.unwrap_or_else(|| {
            env::current_dir().unwrap_or_else(|e| exit_with(format!("no working directory: {}", e)))
        });
        let work_dir = if work_dir.is_absolute() {
            work_dir
        } else {
            env::current_dir().unwrap_or_default().join(work_dir)
        };
        if let Ok(t) = env::var("RAIN_EXECUTOR_TYPE") {
            self.executor_type = t;
        }
        let governor_id = env::var("RAIN_GOVERNOR_ID").unwrap_or_default();
        let mut conn = Connection::connect(&socket).unwrap_or_else(|e| {
            exit_with(format!("cannot connect to {}: {}", socket.display(), e))
        });
        let register = Register {
            kind: "register",
            protocol_version: MSG_PROTOCOL,
            executor_id: &id,
            executor_type: &self.executor_type,
            pid: process::id(),
            library: format!("rain_task-rust {}", env!("CARGO_PKG_VERSION")),
        };
        conn.send(&register, &[]).unwrap_or_else(|e| exit_with(format!("cannot register: {}", e)));
        watch_parent();
        record_panic_locations();
        loop {
            let frame = match conn.read() {
                Ok(Some(frame)) => frame,
                Ok(None) => return,
                Err(e) => exit_with(format!("reading from the governor: {}", e)),
            };
            let message: FromGovernor = serde_json::from_slice(frame.header())
                .unwrap_or_else(|e| exit_with(format!("invalid message from the governor: {}", e)));
            match message.kind.as_str() {
                "call" => {
                    if let Err(e) =
                        self.serve_call(&mut conn, frame, message, &work_dir, &governor_id)
                    {
                        exit_with(format!("answering the governor: {}", e));
                    }
                }
                // Nothing is kept across calls (no `keep`), so there is nothing to drop.
                "drop_session" => {}
                other => eprintln!("rain_task: ignoring unknown message '{}'", other),
            }
        }
    }

    fn serve_call(
        &self,
        conn: &mut Connection,
        frame: Frame,
        call: FromGovernor,
        work_dir: &Path,
        governor_id: &str,
    ) -> std::io::Result<()> {
        let task = call.spec.id;
        let num_inputs = call.inputs.len();
        let num_outputs = call.outputs.len();
        let redirect = OutputRedirect::new(call.output.as_ref());
        let mut ctx = Context::new(call.spec, num_inputs, num_outputs, work_dir, governor_id);
        let result = self.run_task(
            &mut ctx,
            frame,
            &call.method,
            call.inputs,
            call.outputs,
            &call.parts,
            work_dir,
        );
        drop(redirect);
        let info = InfoOut { debug: &ctx.debug, user: &ctx.user };
        let info = if info.is_empty() { None } else { Some(info) };
        let error = match (&result, &ctx.failure) {
            (Err(e), _) => Some(e.as_str()),
            (Ok(_), Some(failure)) => Some(failure.as_str()),
            _ => None,
        };
        if let Some(error) = error {
            let answer = Answer {
                kind: "failed",
                task,
                outputs: None,
                error: Some(error),
                info,
                parts: Vec::new(),
            };
            return conn.send(&answer, &[]);
        }
        let finished = result.unwrap_or_default();
        let mut parts: Vec<&[u8]> = Vec::new();
        let mut outputs = Vec::with_capacity(finished.len());
        for (data, content_type, user) in &finished {
            let (part, path, input) = match data {
                Finished::Bytes(bytes) => {
                    parts.push(bytes);
                    (Some(parts.len() - 1), None, None)
                }
                Finished::Path(path) => (None, Some(path.as_str()), None),
                Finished::Input(order) => (None, None, Some(*order)),
            };
            let info = if user.is_empty() { None } else { Some(InfoOut { debug: "", user }) };
            outputs.push(CallOutput {
                part,
                path,
                input,
                content_type: content_type.as_deref(),
                info,
            });
        }
        let lengths = parts.iter().map(|p| p.len()).collect();
        let answer = Answer {
            kind: "result",
            task,
            outputs: Some(outputs),
            error: None,
            info,
            parts: lengths,
        };
        conn.send(&answer, &parts)
    }

    /// Runs the task function of one call; the outputs as they are to be reported, or the
    /// error message of the failure.
    #[allow(clippy::too_many_arguments, clippy::type_complexity)]
    fn run_task(
        &self,
        ctx: &mut Context,
        frame: Frame,
        method: &str,
        call_inputs: Vec<crate::messages::CallInput>,
        call_outputs: Vec<crate::spec::ObjectSpec>,
        part_lengths: &[usize],
        work_dir: &Path,
    ) -> Result<Vec<(Finished, Option<String>, HashMap<String, crate::UserValue>)>, String> {
        work_dir::clean(work_dir).map_err(|e| {
            format!("cannot empty the working directory {}: {}", work_dir.display(), e)
        })?;
        let ranges = frame.part_ranges(part_lengths).map_err(|e| e.to_string())?;
        let body = std::sync::Arc::new(frame.body);
        let mut inputs = Vec::with_capacity(call_inputs.len());
        let mut input_paths = Vec::new();
        for (order, input) in call_inputs.into_iter().enumerate() {
            let source = if let Some(k) = input.part {
                let range = ranges
                    .get(k)
                    .ok_or_else(|| format!("input {}: no binary part {}", order, k))?;
                InputSource::Memory(body.clone(), range.clone())
            } else if let Some(path) = input.path {
                input_paths.push((order, PathBuf::from(&path)));
                InputSource::Path(PathBuf::from(path))
            } else if input.cached {
                InputSource::Cached
            } else {
                return Err(format!(
                    "input {}: the governor sent no data (part, path or cached)",
                    order
                ));
            };
            inputs.push(DataInstance::new(
                input.spec, input.info, input.size, order, work_dir, source,
            ));
        }
        let input_paths = std::sync::Arc::new(input_paths);
        let mut outputs: Vec<Output> = call_outputs
            .into_iter()
            .enumerate()
            .map(|(order, spec)| Output::new(spec, order, work_dir, input_paths.clone()))
            .collect();
        let registered = self.tasks.get(method).ok_or_else(|| {
            let names: Vec<String> = self.task_names().iter().map(|n| format!("'{}'", n)).collect();
            format!(
                "executor '{}' has no method '{}' (it has: {})",
                self.executor_type,
                method,
                if names.is_empty() { "none".to_string() } else { names.join(", ") }
            )
        })?;
        if let Some(arity) = &registered.arity {
            arity.check(&ctx.spec.task_type, inputs.len(), outputs.len())?;
        }
        let function = &registered.function;
        match panic::catch_unwind(AssertUnwindSafe(|| function(ctx, &inputs, &mut outputs))) {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(e.message().to_string()),
            Err(payload) => return Err(describe_panic(payload)),
        }
        if ctx.failure.is_some() {
            return Ok(Vec::new()); // reported by the caller
        }
        outputs.into_iter().map(|o| o.finish().map_err(|e| e.message().to_string())).collect()
    }
}

fn required_env(name: &str) -> String {
    env::var(name).unwrap_or_else(|_| {
        exit_with(format!(
            "{} is not set: executors are started by a Rain governor from its config \
             ([executors.<name>] command = …; see docs/executors.md)",
            name
        ))
    })
}

fn exit_with(message: String) -> ! {
    eprintln!("rain_task: {}", message);
    process::exit(1)
}

/// The governor may die without closing our socket while a long task runs: exit then.
fn watch_parent() {
    let parent = std::os::unix::process::parent_id();
    thread::spawn(move || loop {
        thread::sleep(Duration::from_secs(1));
        if std::os::unix::process::parent_id() != parent {
            process::exit(1);
        }
    });
}
