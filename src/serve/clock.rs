//! The service's clock: the system's, or a test clock that starts at a
//! given instant and moves only when told (`--test-clock`), so that a test
//! sees a watch stream's change at its instant without waiting for it.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use tokio::sync::watch;

/// How long before its instant a stream's next decision is made, at the
/// least, on the system clock; [`Clock::ahead`] spreads the streams over
/// the second before that.
pub const AHEAD_MICROS: i64 = 1_000_000;

/// Where `now` comes from.
#[derive(Debug)]
pub enum Clock {
    /// The system clock.
    System,
    /// A clock set by the test, in microseconds since the epoch; each move
    /// wakes the timers waiting on it.
    Test {
        /// The current instant.
        now: AtomicI64,
        /// Tells the timers of each move.
        moved: watch::Sender<i64>,
    },
}

impl Clock {
    /// A test clock at `start`.
    pub fn test(start: i64) -> Clock {
        Clock::Test {
            now: AtomicI64::new(start),
            moved: watch::Sender::new(start),
        }
    }

    /// The current instant, microseconds since the epoch.
    pub fn now(&self) -> i64 {
        match self {
            Clock::System => jiff::Timestamp::now().as_microsecond(),
            Clock::Test { now, .. } => now.load(Ordering::SeqCst),
        }
    }

    /// Whether it is a test clock.
    pub fn is_test(&self) -> bool {
        matches!(self, Clock::Test { .. })
    }

    /// Sets a test clock to `to` (never backwards); the system clock is
    /// not set. The instant it then shows.
    pub fn set(&self, to: i64) -> i64 {
        match self {
            Clock::System => self.now(),
            Clock::Test { now, moved } => {
                let at = now.fetch_max(to, Ordering::SeqCst).max(to);
                moved.send_replace(at);
                at
            }
        }
    }

    /// When stream number `seq` makes the decision it sends at `at`: on the
    /// system clock, one to two seconds ahead (spread by `seq`, so that
    /// thousands of streams changing at one instant do not all decide at
    /// one moment and delay the pushes due meanwhile); on a test clock at
    /// once, since the clock jumps.
    pub fn ahead(&self, at: i64, seq: u64) -> i64 {
        match self {
            Clock::System => {
                let spread = i64::try_from(seq % 1000).unwrap_or(0) * 1000;
                at.saturating_sub(AHEAD_MICROS + spread)
            }
            Clock::Test { .. } => i64::MIN,
        }
    }

    /// Waits until the clock shows `at` or later: a timer on the system
    /// clock, a wait for the test to move its clock past `at` on a test
    /// clock. Never returns for `None`.
    pub async fn sleep_until(&self, at: Option<i64>) {
        let Some(at) = at else {
            return std::future::pending().await;
        };
        match self {
            Clock::System => {
                let wait = at.saturating_sub(self.now()).max(0);
                tokio::time::sleep(Duration::from_micros(wait.unsigned_abs())).await;
                // A timer may wake a little early; it waits the rest.
                let rest = at.saturating_sub(self.now());
                if rest > 0 {
                    tokio::time::sleep(Duration::from_micros(rest.unsigned_abs())).await;
                }
            }
            Clock::Test { moved, .. } => {
                let mut moves = moved.subscribe();
                // The sender lives as long as the clock: `wait_for` only
                // fails once it is gone, and then there is nothing to wait for.
                let _ = moves.wait_for(|now| *now >= at).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_test_clock_wakes_its_timers_when_moved_past_them() {
        let clock = std::sync::Arc::new(Clock::test(100));
        let waiting = tokio::spawn({
            let clock = clock.clone();
            async move { clock.sleep_until(Some(200)).await }
        });
        tokio::task::yield_now().await;
        assert_eq!(clock.set(150), 150);
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished());
        assert_eq!(clock.set(50), 150, "the clock never goes back");
        clock.set(200);
        assert!(
            tokio::time::timeout(Duration::from_secs(5), waiting)
                .await
                .is_ok()
        );
        assert_eq!(clock.now(), 200);
    }
}
