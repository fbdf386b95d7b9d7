//! The workstation's one concurrency rule, as a type.
//!
//! Each workstation module keeps its state in one [`Owned`]. Its lock is
//! taken only for the length of a closure that reads or changes that state
//! and returns; nothing inside the closure calls another module, a callback
//! or an event listener. So a thread holds at most one workstation lock at a
//! time, no wait-for cycle can form, and the case that froze the app (a
//! reader that takes a read lock twice while a writer queues between the
//! two reads; Rust's RwLock on Linux makes the second read wait behind the
//! writer) cannot arise.
//!
//! Debug builds check the rule: a thread that takes an `Owned` lock while it
//! already holds one panics, naming both, so every test checks it wherever
//! it runs.

use std::cell::Cell;
use std::sync::{Mutex, PoisonError, RwLock};

thread_local! {
    /// The workstation lock this thread holds now, if any.
    static HELD: Cell<Option<&'static str>> = const { Cell::new(None) };
}

/// Marks the thread as holding `name` until dropped.
struct Held;

impl Held {
    fn enter(name: &'static str) -> Held {
        HELD.with(|held| {
            if let Some(other) = held.get()
                && cfg!(debug_assertions)
            {
                panic!(
                    "workstation lock {name:?} taken while {other:?} is held: \
                     no lock may be held while calling into another module (ARCHITECTURE.md)"
                );
            }
            held.set(Some(name));
        });
        Held
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        HELD.with(|held| held.set(None));
    }
}

/// State owned by one module, reachable only through short closures.
#[derive(Debug)]
pub(crate) struct Owned<T> {
    name: &'static str,
    state: RwLock<T>,
}

impl<T> Owned<T> {
    pub(crate) fn new(name: &'static str, state: T) -> Owned<T> {
        Owned {
            name,
            state: RwLock::new(state),
        }
    }

    /// Reads the state. `f` must not call into another module.
    pub(crate) fn read<R>(&self, f: impl FnOnce(&T) -> R) -> R {
        let _held = Held::enter(self.name);
        let state = self.state.read().unwrap_or_else(PoisonError::into_inner);
        f(&state)
    }

    /// Changes the state. `f` must not call into another module.
    pub(crate) fn write<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        let _held = Held::enter(self.name);
        let mut state = self.state.write().unwrap_or_else(PoisonError::into_inner);
        f(&mut state)
    }
}

/// As [`Owned`], for state that one thread at a time may touch (a
/// database connection, which is `Send` but not `Sync`).
#[derive(Debug)]
pub(crate) struct Exclusive<T> {
    name: &'static str,
    state: Mutex<T>,
}

impl<T> Exclusive<T> {
    pub(crate) fn new(name: &'static str, state: T) -> Exclusive<T> {
        Exclusive {
            name,
            state: Mutex::new(state),
        }
    }

    /// Uses the state. `f` must not call into another module.
    pub(crate) fn with<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        let _held = Held::enter(self.name);
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        f(&mut state)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_lock_at_a_time() {
        let a = Owned::new("a", 1);
        let b = Owned::new("b", 2);
        assert_eq!(a.read(|x| *x) + b.read(|x| *x), 3);
        a.write(|x| *x = 5);
        assert_eq!(a.read(|x| *x), 5);
    }

    #[test]
    #[cfg(debug_assertions)]
    fn nesting_is_caught() {
        let a = Owned::new("studies", 1);
        let b = Owned::new("sources", 2);
        let nested = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            a.read(|_| b.read(|x| *x));
        }));
        let message = nested.expect_err("nested lock panics");
        let text = message
            .downcast_ref::<String>()
            .cloned()
            .unwrap_or_default();
        assert!(
            text.contains("\"sources\" taken while \"studies\""),
            "{text}"
        );
        // Re-entering the same lock (the exact freeze) is caught too.
        let again = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            a.read(|_| a.read(|x| *x));
        }));
        assert!(again.is_err());
        // The marker was reset by the unwinding: the thread can lock again.
        assert_eq!(a.read(|x| *x), 1);
    }
}
