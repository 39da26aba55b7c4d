//! `register_task!`: registering task functions that take individual inputs and outputs.

/// Registers a task function whose parameters after the `&mut Context` are individual inputs
/// and outputs, as listed by the kinds in `[…]`:
///
/// - `I`: one input, `&DataInstance`;
/// - `Is`: all the remaining inputs, `&[DataInstance]`;
/// - `O`: one output, `&mut Output`;
/// - `Os`: all the remaining outputs, `&mut [Output]`.
///
/// Inputs and outputs may be interleaved (`[I O I]`); nothing of a kind may follow its `Is` /
/// `Os`. Before the function runs, the call's counts are checked: a task called with too few
/// or too many inputs or outputs fails with a message naming both counts (e.g. `task
/// 'example/hello' takes 1 input, but it was called with 2 inputs`).
///
/// ```no_run
/// # #[macro_use] extern crate rain_task;
/// # use rain_task::*;
/// # use std::io::Write;
/// fn concat(_ctx: &mut Context, separator: &DataInstance, rest: &[DataInstance], out: &mut Output) -> TaskResult<()> {
///     let parts: Vec<&str> = rest.iter().map(|d| d.get_str()).collect::<TaskResult<_>>()?;
///     out.write_all(parts.join(separator.get_str()?).as_bytes())?;
///     Ok(())
/// }
/// fn noop(_ctx: &mut Context) -> TaskResult<()> { Ok(()) }
/// # fn main() {
/// let mut executor = Executor::new("text");
/// register_task!(executor, "concat", [I Is O], concat);
/// register_task!(executor, "noop", [], noop);
/// register_task!(executor, "first", [Is O], |_ctx: &mut Context, ins: &[DataInstance], out: &mut Output| {
///     Ok(out.write_all(ins.first().ok_or("no inputs")?.get_bytes()?)?)
/// });
/// # }
/// ```
#[macro_export]
macro_rules! register_task {
    ($executor:expr, $name:expr, [$($kind:ident)*], $taskfn:expr) => {{
        let task_fn = $taskfn;
        $executor.register_task_with_kinds(
            $name,
            &[$($crate::ArgKind::$kind),*],
            move |ctx: &mut $crate::Context,
                  inputs: &[$crate::DataInstance],
                  outputs: &mut [$crate::Output]|
                  -> $crate::TaskResult<()> {
                $crate::register_task_make_call!(task_fn, ctx, inputs, outputs, [$($kind)*], [])
            },
        )
    }};
}

/// Internal macro used in `register_task!`: unpacks the inputs and outputs one parameter kind
/// at a time, then calls the function (counts were checked by the executor).
#[doc(hidden)]
#[macro_export]
macro_rules! register_task_make_call {
    ($f:ident, $ctx:ident, $ins:expr, $outs:expr, [], [$($args:expr),*]) => {{
        let _unused = (&$ins, &$outs);
        $f($ctx $(, $args)*)
    }};
    ($f:ident, $ctx:ident, $ins:expr, $outs:expr, [I $($rest:ident)*], [$($args:expr),*]) => {{
        let (input, more_inputs) = $ins.split_first().expect("input count checked before the call");
        $crate::register_task_make_call!($f, $ctx, more_inputs, $outs, [$($rest)*], [$($args,)* input])
    }};
    ($f:ident, $ctx:ident, $ins:expr, $outs:expr, [Is $($rest:ident)*], [$($args:expr),*]) => {{
        let all_inputs: &[$crate::DataInstance] = $ins;
        let no_inputs: &[$crate::DataInstance] = &[];
        $crate::register_task_make_call!($f, $ctx, no_inputs, $outs, [$($rest)*], [$($args,)* all_inputs])
    }};
    ($f:ident, $ctx:ident, $ins:expr, $outs:expr, [O $($rest:ident)*], [$($args:expr),*]) => {{
        let (output, more_outputs) = $outs.split_first_mut().expect("output count checked before the call");
        $crate::register_task_make_call!($f, $ctx, $ins, more_outputs, [$($rest)*], [$($args,)* output])
    }};
    ($f:ident, $ctx:ident, $ins:expr, $outs:expr, [Os $($rest:ident)*], [$($args:expr),*]) => {{
        let all_outputs: &mut [$crate::Output] = $outs;
        let no_outputs: &mut [$crate::Output] = &mut [];
        $crate::register_task_make_call!($f, $ctx, $ins, no_outputs, [$($rest)*], [$($args,)* all_outputs])
    }};
    ($f:ident, $ctx:ident, $ins:expr, $outs:expr, [$other:ident $($rest:ident)*], [$($args:expr),*]) => {
        compile_error!(concat!("register_task!: unknown parameter kind `", stringify!($other), "` (use I, Is, O or Os)"))
    };
}
