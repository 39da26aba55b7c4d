//! Unit tests: an executor served by a fake governor over a real Unix socket.

use std::io::Write;
use std::os::unix::net::UnixListener;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::{json, Value};

use crate::framing::Connection;
use crate::work_dir::is_content_subtype;
use crate::*;

struct FakeGovernor {
    conn: Connection,
    dir: PathBuf,
    next_id: i64,
}

fn temp_dir(name: &str) -> PathBuf {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "rain-task-test-{}-{}-{}",
        std::process::id(),
        name,
        COUNTER.fetch_add(1, Ordering::SeqCst)
    ));
    std::fs::create_dir_all(dir.join("work")).unwrap();
    dir
}

impl FakeGovernor {
    /// Starts `executor` on a thread and accepts its registration.
    fn start(mut executor: Executor, name: &str) -> (FakeGovernor, Value) {
        let dir = temp_dir(name);
        let socket = dir.join("socket");
        let listener = UnixListener::bind(&socket).unwrap();
        let work = dir.join("work");
        executor.socket_path = Some(socket);
        executor.executor_id = Some("test-1".into());
        executor.work_dir = Some(work);
        std::thread::spawn(move || executor.run());
        let (stream, _) = listener.accept().unwrap();
        let mut conn = Connection::from_stream(stream).unwrap();
        let (register, _) = read(&mut conn);
        (FakeGovernor { conn, dir, next_id: 10 }, register)
    }

    /// Calls `method` with blob inputs (bytes in the frame) and `outputs` output specs.
    fn call(&mut self, method: &str, inputs: &[&[u8]], outputs: Value) -> (Value, Vec<Vec<u8>>) {
        self.next_id += 1;
        let specs: Vec<Value> = (0..inputs.len())
            .map(|i| {
                json!({"spec": {"id": [1, i], "data_type": "blob", "label": format!("in{}", i)},
                            "size": inputs[i].len(), "part": i})
            })
            .collect();
        let call = json!({
            "type": "call", "method": method,
            "spec": {"id": [1, self.next_id], "task_type": format!("test/{}", method),
                     "inputs": [], "outputs": [], "resources": {"cpus": 1}, "user": {"k": 1}},
            "inputs": specs, "outputs": outputs,
            "parts": inputs.iter().map(|p| p.len()).collect::<Vec<_>>(),
        });
        self.conn.send(&call, inputs).unwrap();
        read(&mut self.conn)
    }
}

impl Drop for FakeGovernor {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn read(conn: &mut Connection) -> (Value, Vec<Vec<u8>>) {
    let frame = conn.read().unwrap().expect("a frame");
    let header: Value = serde_json::from_slice(frame.header()).unwrap();
    let lengths: Vec<usize> =
        serde_json::from_value(header.get("parts").cloned().unwrap_or(json!([]))).unwrap();
    let parts =
        frame.part_ranges(&lengths).unwrap().into_iter().map(|r| frame.body[r].to_vec()).collect();
    (header, parts)
}

fn blob_outputs(n: usize) -> Value {
    Value::Array((0..n).map(|i| json!({"id": [1, 100 + i], "data_type": "blob"})).collect())
}

fn hello(ctx: &mut Context, input: &DataInstance, output: &mut Output) -> TaskResult<()> {
    ctx.debug("saying hello");
    ctx.set_user_info("task_user", ctx.spec.user["k"].clone());
    output.set_content_type("text")?;
    output.set_user_info("greeted", json!(input.get_str()?));
    write!(output, "Hello {}!", input.get_str()?)?;
    Ok(())
}

fn test_executor() -> Executor {
    let mut executor = Executor::new("test");
    register_task!(executor, "hello", [I O], hello);
    register_task!(executor, "concat", [I Is O], |_ctx: &mut Context, sep: &DataInstance, ins: &[DataInstance], out: &mut Output| {
        let texts = ins.iter().map(|i| i.get_str()).collect::<TaskResult<Vec<_>>>()?;
        Ok(out.write_all(texts.join(sep.get_str()?).as_bytes())?)
    });
    register_task!(executor, "fanout", [I Os], |_ctx: &mut Context, input: &DataInstance, outs: &mut [Output]| {
        for out in outs.iter_mut() {
            out.write_all(input.get_bytes()?)?;
        }
        Ok(())
    });
    register_task!(executor, "swap", [O I O], |_ctx: &mut Context, a: &mut Output, input: &DataInstance, b: &mut Output| {
        a.write_all(b"first")?;
        b.write_all(input.get_bytes()?)?;
        Ok(())
    });
    register_task!(executor, "panic", [], |_ctx: &mut Context| -> TaskResult<()> {
        panic!("on purpose {}", 42)
    });
    register_task!(executor, "fail", [I], |_ctx: &mut Context, input: &DataInstance| Err(input
        .get_str()?
        .into()));
    register_task!(executor, "big", [O], |_ctx: &mut Context, out: &mut Output| {
        Ok(out.write_all(&vec![7u8; MEM_BACKED_LIMIT + 10])?)
    });
    register_task!(executor, "stage", [O], |ctx: &mut Context, out: &mut Output| {
        let outside = ctx.work_dir().parent().unwrap().join("outside.txt");
        std::fs::write(&outside, b"staged")?;
        out.stage_file(&outside)
    });
    register_task!(executor, "soft_fail", [], |ctx: &mut Context| {
        ctx.fail("failed softly");
        Ok(())
    });
    executor.register_task("raw", |_ctx, ins, outs| {
        outs[0].write_all(format!("{} in", ins.len()).as_bytes())?;
        Ok(())
    });
    executor
}

#[test]
fn serves_calls_with_every_parameter_shape() {
    let (mut gov, register) = FakeGovernor::start(test_executor(), "shapes");
    assert_eq!(register["type"], "register");
    assert_eq!(register["protocol_version"], 1);
    assert_eq!(register["executor_id"], "test-1");

    let (answer, parts) = gov.call("hello", &[b"world"], blob_outputs(1));
    assert_eq!(answer["type"], "result", "{}", answer);
    assert_eq!(parts, vec![b"Hello world!".to_vec()]);
    assert_eq!(answer["outputs"][0]["content_type"], "text");
    assert_eq!(answer["outputs"][0]["info"]["user"], json!({"greeted": "world"}));
    assert_eq!(answer["info"], json!({"debug": "saying hello", "user": {"task_user": 1}}));

    let (_, parts) = gov.call("concat", &[b", ", b"a", b"b", b"c"], blob_outputs(1));
    assert_eq!(parts, vec![b"a, b, c".to_vec()]);
    let (_, parts) = gov.call("fanout", &[b"x"], blob_outputs(3));
    assert_eq!(parts, vec![b"x".to_vec(), b"x".to_vec(), b"x".to_vec()]);
    let (_, parts) = gov.call("swap", &[b"second"], blob_outputs(2));
    assert_eq!(parts, vec![b"first".to_vec(), b"second".to_vec()]);
    let (_, parts) = gov.call("raw", &[b"1", b"2"], blob_outputs(1));
    assert_eq!(parts, vec![b"2 in".to_vec()]);
}

#[test]
fn failures_name_counts_methods_and_panics() {
    let (mut gov, _) = FakeGovernor::start(test_executor(), "failures");
    let expect_failure =
        |gov: &mut FakeGovernor, method: &str, inputs: &[&[u8]], outputs: usize, text: &str| {
            let (answer, _) = gov.call(method, inputs, blob_outputs(outputs));
            assert_eq!(answer["type"], "failed", "{}", answer);
            let error = answer["error"].as_str().unwrap();
            assert!(error.contains(text), "{:?} does not contain {:?}", error, text);
        };
    expect_failure(
        &mut gov,
        "hello",
        &[b"a", b"b"],
        1,
        "task 'test/hello' takes 1 input, but it was called with 2 inputs",
    );
    expect_failure(
        &mut gov,
        "hello",
        &[b"a"],
        0,
        "task 'test/hello' takes 1 output, but it was called with 0 outputs",
    );
    expect_failure(
        &mut gov,
        "concat",
        &[],
        1,
        "takes at least 1 input, but it was called with 0 inputs",
    );
    expect_failure(
        &mut gov,
        "nope",
        &[],
        0,
        "executor 'test' has no method 'nope' (it has: 'big', 'concat'",
    );
    expect_failure(&mut gov, "fail", &[b"bad input"], 0, "bad input");
    expect_failure(&mut gov, "soft_fail", &[], 0, "failed softly");
    expect_failure(&mut gov, "panic", &[], 0, "the task panicked at ");
    expect_failure(&mut gov, "panic", &[], 0, "src/tests.rs");
    expect_failure(&mut gov, "panic", &[], 0, ": on purpose 42");
    // The executor goes on after a panic.
    let (_, parts) = gov.call("hello", &[b"again"], blob_outputs(1));
    assert_eq!(parts, vec![b"Hello again!".to_vec()]);
}

#[test]
fn large_and_staged_outputs_are_paths_in_the_work_dir() {
    let (mut gov, _) = FakeGovernor::start(test_executor(), "paths");
    let work = gov.dir.join("work");
    let (answer, parts) = gov.call("big", &[], blob_outputs(1));
    assert!(parts.is_empty(), "{}", answer);
    let path = answer["outputs"][0]["path"].as_str().unwrap().to_string();
    assert_eq!(std::fs::metadata(work.join(&path)).unwrap().len() as usize, MEM_BACKED_LIMIT + 10);
    let (answer, _) = gov.call("stage", &[], blob_outputs(1));
    let path = answer["outputs"][0]["path"].as_str().unwrap().to_string();
    assert_eq!(std::fs::read(work.join(&path)).unwrap(), b"staged");
    assert!(!gov.dir.join("outside.txt").exists());
    // The next call starts in an empty working directory.
    gov.call("hello", &[b"x"], blob_outputs(1));
    assert_eq!(std::fs::read_dir(&work).unwrap().count(), 0);
}

#[test]
#[should_panic(expected = "nothing of its kind may follow it")]
fn an_input_after_all_inputs_is_refused() {
    let mut executor = Executor::new("test");
    register_task!(executor, "bad", [Is I], |_c: &mut Context, _a: &[DataInstance], _b: &DataInstance| Ok(()));
}

#[test]
fn inputs_and_outputs_can_be_used_from_threads() {
    fn sync<T: Sync>() {}
    fn send<T: Send>() {}
    sync::<DataInstance>();
    send::<Output>();
}

#[test]
fn content_type_rules() {
    assert!(is_content_subtype("text", ""));
    assert!(is_content_subtype("text-latin2", "text"));
    assert!(is_content_subtype("cloudpickle", "pickle"));
    assert!(is_content_subtype("protobuf/msg", "protobuf"));
    assert!(!is_content_subtype("textual", "text"));
    assert!(!is_content_subtype("json", "text"));
    assert!(!is_content_subtype("", "text"));
    assert!(crate::data_instance::content_type_is_text("json"));
    assert!(crate::data_instance::content_type_is_text("text-utf8"));
    assert!(!crate::data_instance::content_type_is_text("text-latin2"));
    assert!(!crate::data_instance::content_type_is_text("cbor"));
}

#[test]
fn ids_and_errors() {
    let id: Id = serde_json::from_value(json!([3, 14])).unwrap();
    assert_eq!(id, Id::new(3, 14));
    assert_eq!(id.to_string(), "3/14");
    assert_eq!(serde_json::to_value(id).unwrap(), json!([3, 14]));
    let spec: TaskSpec = serde_json::from_value(
        json!({"id": [1, 2], "task_type": "a/b", "config": {"n": 3}, "name": null}),
    )
    .unwrap();
    #[derive(Deserialize)]
    struct Config {
        n: u32,
    }
    assert_eq!(spec.parse_config::<Config>().unwrap().n, 3);
    assert_eq!(spec.resources.cpus, 1);
    let from_io: TaskError = std::io::Error::new(std::io::ErrorKind::NotFound, "gone").into();
    assert_eq!(from_io.message(), "I/O error: gone");
    let from_str: TaskError = "plain".into();
    assert_eq!(from_str.to_string(), "plain");
}
