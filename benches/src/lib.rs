//! Shared helpers for the Buttons benchmarks: timing loops and medians.
//!
//! ```
//! let samples = [3.0, 1.0, 2.0];
//! assert_eq!(buttons_benches::median(&samples), 2.0);
//! ```
#![warn(missing_docs)]

use std::time::{Duration, Instant};

/// The median of `samples` (the mean of the middle two for an even count).
///
/// # Panics
///
/// If `samples` is empty.
pub fn median(samples: &[f64]) -> f64 {
    assert!(!samples.is_empty(), "median of no samples");
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mid = sorted.len() / 2;
    if sorted.len().is_multiple_of(2) {
        (sorted[mid - 1] + sorted[mid]) / 2.0
    } else {
        sorted[mid]
    }
}

/// Runs each closure in turn, `rounds` times, alternating them so that machine
/// noise hits all alike, and returns each one's samples in milliseconds.
pub fn alternate(rounds: usize, cases: &mut [&mut dyn FnMut()]) -> Vec<Vec<f64>> {
    let mut samples = vec![Vec::with_capacity(rounds); cases.len()];
    for _ in 0..rounds {
        for (case, out) in cases.iter_mut().zip(samples.iter_mut()) {
            let start = Instant::now();
            case();
            out.push(ms(start.elapsed()));
        }
    }
    samples
}

/// A duration in fractional milliseconds.
pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}
