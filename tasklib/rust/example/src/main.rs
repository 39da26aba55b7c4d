//! An example executor written with rain_task. Register it in a governor config
//!
//! ```toml
//! [executors.rust_example]
//! command = "/path/to/tasklib/rust/target/release/rain_task_example"
//! ```
//!
//! and run its tasks as `rust_example/<task>` (e.g. `Task(inputs=[blob("world")], outputs=1,
//! task_type="rust_example/hello")` in Python).

use std::collections::BTreeMap;
use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;

use rain_task::*;
use serde_json::json;

/// "Hello <input>!"
fn hello(_ctx: &mut Context, input: &DataInstance, output: &mut Output) -> TaskResult<()> {
    write!(output, "Hello {}!", input.get_str()?)?;
    Ok(())
}

/// Fails with the input's text as the error.
fn fail(_ctx: &mut Context, input: &DataInstance) -> TaskResult<()> {
    Err(input.get_str()?.into())
}

/// Panics with the input's text: the task fails, the executor goes on.
fn panic_task(_ctx: &mut Context, input: &DataInstance) -> TaskResult<()> {
    panic!("{}", input.get_str()?)
}

/// Kills its own process: the task fails with the tail of stderr, the governor starts a new
/// executor for the next task.
fn abort(_ctx: &mut Context) -> TaskResult<()> {
    eprintln!("rain_task_example: aborting on purpose");
    std::process::abort()
}

/// The process id, to tell executors apart.
fn pid(_ctx: &mut Context, output: &mut Output) -> TaskResult<()> {
    write!(output, "{}", std::process::id())?;
    Ok(())
}

/// A trivial task (for benchmarks): "x".
fn trivial(_ctx: &mut Context, output: &mut Output) -> TaskResult<()> {
    output.write_all(b"x")?;
    Ok(())
}

/// Copies the data, the content type and the user attributes (the client's `spec.user`, then
/// those its producer set in `info.user`) of the input to the output; reports the input's
/// content type, size and the task's own `spec.user` in the task's info.
fn meta(ctx: &mut Context, input: &DataInstance, output: &mut Output) -> TaskResult<()> {
    output.write_all(input.get_bytes()?)?;
    let content_type = input.get_content_type();
    if !content_type.is_empty() {
        output.set_content_type(content_type)?;
    }
    for (key, value) in input.spec.user.iter().chain(input.info.user.iter()) {
        output.set_user_info(key.clone(), value.clone());
    }
    ctx.set_user_info("input_content_type", json!(content_type));
    ctx.set_user_info("input_size", json!(input.get_size()));
    let task_user: Vec<(String, UserValue)> =
        ctx.spec.user.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    for (key, value) in task_user {
        ctx.set_user_info(format!("spec_{}", key), value);
    }
    ctx.debug(format!("copied {} bytes", input.get_size()));
    Ok(())
}

/// A file input: counts the lines of the file at `get_path()` (the governor's file for a large
/// blob, a file written on demand for a small one).
fn lines(ctx: &mut Context, input: &DataInstance, output: &mut Output) -> TaskResult<()> {
    let path = input.get_path();
    ctx.debug(format!("reading {}", path.display()));
    let count = BufReader::new(fs::File::open(&path)?).lines().count();
    write!(output, "{}", count)?;
    Ok(())
}

/// A directory input: one line "<relative path> <size>" per file, sorted.
fn listdir(_ctx: &mut Context, input: &DataInstance, output: &mut Output) -> TaskResult<()> {
    input.check_directory()?;
    let root = input.get_path();
    let mut files = BTreeMap::new();
    walk(&root, &root, &mut files)?;
    for (path, size) in files {
        writeln!(output, "{} {}", path, size)?;
    }
    Ok(())
}

fn walk(root: &Path, dir: &Path, files: &mut BTreeMap<String, u64>) -> TaskResult<()> {
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        if entry.file_type()?.is_dir() {
            walk(root, &path, files)?;
        } else {
            let relative = path.strip_prefix(root).map_err(|e| e.to_string())?;
            files.insert(relative.to_string_lossy().into_owned(), entry.metadata()?.len());
        }
    }
    Ok(())
}

/// A directory output: one file per word of the input, `<n>.txt` holding the n-th word.
fn split_words(_ctx: &mut Context, input: &DataInstance, output: &mut Output) -> TaskResult<()> {
    fs::create_dir("words")?;
    for (n, word) in input.get_str()?.split_whitespace().enumerate() {
        fs::write(format!("words/{}.txt", n), word)?;
    }
    output.stage_directory("words")
}

/// A file output: the input upper-cased, written to a file and staged.
fn upper_file(_ctx: &mut Context, input: &DataInstance, output: &mut Output) -> TaskResult<()> {
    fs::write("upper.txt", input.get_str()?.to_uppercase())?;
    output.stage_file("upper.txt")
}

/// The input as the output, unchanged: staging an input's path passes its data on (no copy).
fn passthrough(_ctx: &mut Context, input: &DataInstance, output: &mut Output) -> TaskResult<()> {
    if input.is_directory() {
        output.stage_directory(input.get_path())
    } else {
        output.stage_file(input.get_path())
    }
}

/// The file at the config's "path" inside a directory input (a copy: inputs are read-only).
fn pick(ctx: &mut Context, input: &DataInstance, output: &mut Output) -> TaskResult<()> {
    input.check_directory()?;
    let path: String = ctx.spec.parse_config::<serde_json::Value>()?["path"]
        .as_str()
        .ok_or("config needs a \"path\"")?
        .to_string();
    output.stage_file(input.get_path().join(path))
}

/// All inputs joined by the config's "separator" (default "").
fn concat(ctx: &mut Context, inputs: &[DataInstance], output: &mut Output) -> TaskResult<()> {
    let config: Option<serde_json::Map<String, UserValue>> = ctx.spec.parse_config()?;
    let separator = config
        .as_ref()
        .and_then(|c| c.get("separator"))
        .and_then(|s| s.as_str())
        .unwrap_or("")
        .to_string();
    for (i, input) in inputs.iter().enumerate() {
        if i > 0 {
            output.write_all(separator.as_bytes())?;
        }
        output.write_all(input.get_bytes()?)?;
    }
    Ok(())
}

/// The input to every output, each with its position as content.
fn fanout(_ctx: &mut Context, input: &DataInstance, outputs: &mut [Output]) -> TaskResult<()> {
    for output in outputs.iter_mut() {
        let order = output.order();
        write!(output, "{}:{}", order, input.get_str()?)?;
    }
    Ok(())
}

fn main() {
    let mut executor = Executor::new("rust_example");
    register_task!(executor, "hello", [I O], hello);
    register_task!(executor, "fail", [I], fail);
    register_task!(executor, "panic", [I], panic_task);
    register_task!(executor, "abort", [], abort);
    register_task!(executor, "pid", [O], pid);
    register_task!(executor, "trivial", [O], trivial);
    register_task!(executor, "meta", [I O], meta);
    register_task!(executor, "lines", [I O], lines);
    register_task!(executor, "listdir", [I O], listdir);
    register_task!(executor, "split_words", [I O], split_words);
    register_task!(executor, "upper_file", [I O], upper_file);
    register_task!(executor, "passthrough", [I O], passthrough);
    register_task!(executor, "pick", [I O], pick);
    register_task!(executor, "concat", [Is O], concat);
    register_task!(executor, "fanout", [I Os], fanout);
    executor.run();
}
