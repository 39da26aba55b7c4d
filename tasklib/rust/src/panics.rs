//! Panics in task functions: caught by the executor, reported as the task's error with
//! their message and location.

use std::cell::RefCell;
use std::panic;

thread_local! {
    /// Where the last panic of this thread happened (`file:line:column`).
    static PANIC_LOCATION: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Keeps the default panic message (to stderr, so the governor's log has it) and remembers
/// the location for the task's error.
pub(crate) fn record_panic_locations() {
    let default_hook = panic::take_hook();
    panic::set_hook(Box::new(move |info| {
        let location = info.location().map(|l| format!("{}:{}:{}", l.file(), l.line(), l.column()));
        PANIC_LOCATION.with(|cell| *cell.borrow_mut() = location);
        default_hook(info);
    }));
}

pub(crate) fn describe_panic(payload: Box<dyn std::any::Any + Send>) -> String {
    let message = if let Some(s) = payload.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "(a panic without a message)".to_string()
    };
    match PANIC_LOCATION.with(|cell| cell.borrow_mut().take()) {
        Some(location) => format!("the task panicked at {}: {}", location, message),
        None => format!("the task panicked: {}", message),
    }
}
