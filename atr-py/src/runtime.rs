//! One tokio runtime per process, built on first use, and the bridge from its futures to
//! Python's awaitables.
//!
//! An operation is spawned on the runtime and runs without the GIL; when it ends, the GIL is
//! taken once to hand the result (or the exception) to a Python callable, which settles an
//! asyncio future through `loop.call_soon_threadsafe` (or wakes a blocked script). Cancelling an
//! operation aborts its tokio task, which drops the Rust future where it stands.
//!
//! Shutdown: `atr` registers [`shutdown`] with `atexit`. It marks the runtime stopped (new
//! operations are refused with `Unavailable`, finished ones no longer call into Python), aborts
//! every running operation and shuts the runtime down with a bound on the wait, with the GIL
//! released so that an operation just handing its result over can finish. After it no runtime
//! thread is left to touch an interpreter that is being finalized.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use pyo3::prelude::*;
use tokio::runtime::Runtime;
use tokio::task::AbortHandle;

use crate::errors::Failure;

/// Builds a Python object once the GIL is held.
pub(crate) type MakeObject = Box<dyn FnOnce(Python<'_>) -> PyResult<Py<PyAny>> + Send>;

/// What an operation hands to Python on success.
pub(crate) enum Reply {
    /// `None`.
    Nothing,
    /// Text in JSON, which Python decodes into its data classes.
    Json(String),
    /// A Python object built with the GIL held.
    Object(MakeObject),
}

impl std::fmt::Debug for Reply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Reply::Nothing => f.write_str("Nothing"),
            Reply::Json(text) => f.debug_tuple("Json").field(text).finish(),
            Reply::Object(_) => f.write_str("Object"),
        }
    }
}

/// An operation's outcome.
pub(crate) type Answer = Result<Reply, Failure>;

static RUNTIME: Mutex<Option<Arc<Runtime>>> = Mutex::new(None);
static STOPPED: AtomicBool = AtomicBool::new(false);
/// Operations whose Rust future is alive (not yet finished or dropped).
static LIVE: AtomicUsize = AtomicUsize::new(0);
static NEXT_ID: AtomicU64 = AtomicU64::new(0);
static RUNNING: Mutex<Option<HashMap<u64, AbortHandle>>> = Mutex::new(None);

/// How long shutdown waits for operations that cannot be aborted at once (a blocking file read).
const SHUTDOWN_WAIT: Duration = Duration::from_secs(5);

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

fn runtime() -> Result<Arc<Runtime>, Failure> {
    if STOPPED.load(Ordering::SeqCst) {
        return Err(Failure::unavailable("the atr runtime has shut down: the interpreter is exiting"));
    }
    let mut slot = lock(&RUNTIME);
    if let Some(runtime) = slot.as_ref() {
        return Ok(runtime.clone());
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .thread_name("atr-runtime")
        .enable_all()
        .build()
        .map_err(|e| Failure::unavailable(format!("cannot start the atr runtime: {e}")))?;
    let runtime = Arc::new(runtime);
    *slot = Some(runtime.clone());
    Ok(runtime)
}

/// Counts an operation's Rust future while it is alive; dropped with the future.
struct Alive {
    id: u64,
}

impl Alive {
    fn new() -> Self {
        LIVE.fetch_add(1, Ordering::SeqCst);
        Self { id: NEXT_ID.fetch_add(1, Ordering::SeqCst) }
    }
}

impl Drop for Alive {
    fn drop(&mut self) {
        if let Some(running) = lock(&RUNNING).as_mut() {
            running.remove(&self.id);
        }
        LIVE.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A running operation, as Python holds it: `cancel()` drops its Rust future.
#[pyclass(module = "atr._atr", frozen)]
#[derive(Debug)]
pub(crate) struct Operation {
    abort: AbortHandle,
}

#[pymethods]
impl Operation {
    /// Drops the operation's Rust future if it is still running; its callback is never called.
    fn cancel(&self) {
        self.abort.abort();
    }

    /// True once the operation finished or was cancelled.
    fn done(&self) -> bool {
        self.abort.is_finished()
    }
}

/// Runs `work` on the runtime; when it ends, calls `done(ok, value)` with the GIL held: `ok`
/// true with the answer's JSON text (or `None`), false with the exception.
pub(crate) fn spawn<F>(work: F, done: Py<PyAny>) -> Result<Operation, Failure>
where
    F: Future<Output = Answer> + Send + 'static,
{
    let runtime = runtime()?;
    let alive = Alive::new();
    let id = alive.id;
    let mut running = lock(&RUNNING);
    let task = runtime.spawn(async move {
        let alive = alive;
        let answer = work.await;
        if STOPPED.load(Ordering::SeqCst) {
            return;
        }
        Python::attach(|py| {
            let called = match answer {
                Ok(Reply::Nothing) => done.call1(py, (true, py.None())),
                Ok(Reply::Json(text)) => done.call1(py, (true, text)),
                Ok(Reply::Object(make)) => match make(py) {
                    Ok(object) => done.call1(py, (true, object)),
                    Err(error) => done.call1(py, (false, error.into_value(py))),
                },
                Err(failure) => done.call1(py, (false, failure.into_pyerr(py).into_value(py))),
            };
            if let Err(error) = called {
                error.write_unraisable(py, None);
            }
        });
        drop(alive);
    });
    let abort = task.abort_handle();
    running.get_or_insert_with(HashMap::new).insert(id, abort.clone());
    Ok(Operation { abort })
}

/// How many operations' Rust futures are alive: a running operation counts, a finished or
/// cancelled one does not.
#[pyfunction]
pub(crate) fn _live_operations() -> usize {
    LIVE.load(Ordering::SeqCst)
}

/// Stops the runtime: refuses new operations, aborts the running ones and waits (a bounded
/// time, without the GIL) for the runtime's threads to end. Called at interpreter exit.
#[pyfunction]
pub(crate) fn shutdown(py: Python<'_>) {
    STOPPED.store(true, Ordering::SeqCst);
    let running: Vec<AbortHandle> =
        lock(&RUNNING).as_mut().map(|r| r.drain().map(|(_, a)| a).collect()).unwrap_or_default();
    for abort in running {
        abort.abort();
    }
    let Some(runtime) = lock(&RUNTIME).take() else {
        return;
    };
    py.detach(move || match Arc::try_unwrap(runtime) {
        Ok(runtime) => runtime.shutdown_timeout(SHUTDOWN_WAIT),
        // A handle is being used on another thread right now: its threads end with the process.
        Err(shared) => drop(shared),
    });
}
