//! The bounded pool trigger presses run in.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// How many trigger presses run at once.
pub const MAX_TRIGGER_PRESSES: usize = 8;
/// How many more may wait for a slot; beyond that a press is refused.
pub const MAX_TRIGGER_WAITING: usize = 64;

/// At most `running` presses at once, `waiting` more in line.
#[derive(Debug, Clone)]
pub struct TriggerPool {
    slots: Arc<Semaphore>,
    admitted: Arc<AtomicUsize>,
    running: usize,
    capacity: usize,
}

impl Default for TriggerPool {
    fn default() -> Self {
        Self::new(MAX_TRIGGER_PRESSES, MAX_TRIGGER_WAITING)
    }
}

impl TriggerPool {
    /// A pool of `running` slots and `waiting` places in line.
    pub fn new(running: usize, waiting: usize) -> Self {
        Self {
            slots: Arc::new(Semaphore::new(running)),
            admitted: Arc::new(AtomicUsize::new(0)),
            running,
            capacity: running + waiting,
        }
    }

    /// A place in line, or `None` when the line is full.
    pub fn try_admit(&self) -> Option<Admission> {
        let mut current = self.admitted.load(Ordering::Acquire);
        loop {
            if current >= self.capacity {
                return None;
            }
            match self.admitted.compare_exchange(
                current,
                current + 1,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => {
                    return Some(Admission { pool: self.clone() });
                }
                Err(now) => current = now,
            }
        }
    }

    /// Presses admitted (running or waiting).
    pub fn admitted(&self) -> usize {
        self.admitted.load(Ordering::Acquire)
    }

    /// Waits until nothing is admitted, at most `within`; `true` when idle.
    pub async fn wait_idle(&self, within: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + within;
        while self.admitted() > 0 {
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        true
    }

    /// The number of slots.
    pub fn slots(&self) -> usize {
        self.running
    }
}

/// A place in a [`TriggerPool`]'s line; dropping it gives the place back.
#[derive(Debug)]
pub struct Admission {
    pool: TriggerPool,
}

impl Admission {
    /// Waits for a slot.
    pub async fn start(self) -> TriggerSlot {
        let permit = Arc::clone(&self.pool.slots)
            .acquire_owned()
            .await
            .expect("the pool's semaphore is never closed");
        TriggerSlot {
            _permit: permit,
            _admission: self,
        }
    }
}

impl Drop for Admission {
    fn drop(&mut self) {
        self.pool.admitted.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A running press's slot; dropping it frees the slot.
#[derive(Debug)]
pub struct TriggerSlot {
    _permit: OwnedSemaphorePermit,
    _admission: Admission,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn at_most_running_plus_waiting_are_admitted() {
        let pool = TriggerPool::new(2, 1);
        let a = pool.try_admit().unwrap().start().await;
        let _b = pool.try_admit().unwrap().start().await;
        let waiting = pool.try_admit().unwrap();
        assert!(pool.try_admit().is_none(), "the line is full");
        let third = tokio::spawn(waiting.start());
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!third.is_finished(), "no slot is free yet");
        drop(a);
        let _c = tokio::time::timeout(Duration::from_secs(5), third)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(pool.admitted(), 2);
        assert!(pool.try_admit().is_some());
        assert!(!pool.wait_idle(Duration::from_millis(50)).await);
    }
}
