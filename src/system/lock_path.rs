//! Row locks on the request path: a request of the counter's kind increments it — under the
//! row's lock (waiting FIFO, giving up after the wait timeout), without a lock (racing
//! read-modify-writes), or into its node's batch — before going on to the database.

use super::locks::{Acquire, Holder};
use super::request::{Attempt, FailReason, Handle};
use super::{Event, Simulation};
use crate::engine::SimTime;

/// An attempt that holds or waits for no lock.
pub const NO_ROW: u32 = u32::MAX;

impl Simulation {
    /// Increments the counter for requests of its kind; true when the lock step has taken
    /// the attempt over (it continues through `database` once its write is done).
    #[inline]
    pub(super) fn lock_step(
        &mut self,
        now: SimTime,
        node: u32,
        attempt: Handle,
        a: Attempt,
    ) -> bool {
        let Some(locks) = &mut self.locks else {
            return false;
        };
        if Some(a.kind) != self.lock_kind || a.lock_done {
            return false;
        }
        if let Some(at) = self.attempts.get_mut(attempt) {
            at.lock_done = true;
        }
        if locks.batch_every().is_some() {
            // Added up in the node's memory; written with the next batch.
            locks.add_to_batch(node);
            return false;
        }
        let row = locks.pick_row();
        if let Some(t) = &mut self.tracer {
            t.phase(
                now,
                attempt,
                if locks.locking {
                    "lock wait"
                } else {
                    "counter write"
                },
            );
        }
        if !locks.locking {
            let version = locks.read_version(row);
            let write = locks.sample_write();
            self.queue.schedule_in(
                write,
                Event::UnlockedWriteDone {
                    attempt,
                    row,
                    version,
                },
            );
            return true;
        }
        if let Some(at) = self.attempts.get_mut(attempt) {
            at.lock_row = row;
        }
        match locks.acquire(row, Holder::Attempt(attempt), now) {
            Acquire::Granted { write, serial } => self.lock_granted(row, write, serial),
            Acquire::Waiting => {
                // Every wait has the same timeout: the queue's FIFO lane keeps these in order.
                let t = locks.wait_timeout;
                self.queue
                    .schedule_in_order(t, Event::LockWaitTimeout { row, attempt });
            }
        }
        true
    }

    /// A holder got `row`'s lock: its write ends after `write`; its lease may run out first.
    fn lock_granted(&mut self, row: u32, write: SimTime, serial: u32) {
        self.queue
            .schedule_in(write, Event::LockWriteDone { row, serial });
        if let Some(lease) = self.locks.as_ref().and_then(|l| l.lease) {
            self.queue
                .schedule_in(lease, Event::LeaseExpiry { row, serial });
        }
    }

    /// The write under a lock finished: the lock passes on, the request goes on.
    pub(super) fn lock_write_done(&mut self, now: SimTime, row: u32, serial: u32) {
        let locks = self.locks.as_mut().expect("locks");
        let (holder, _held, next) = locks.write_done(row, serial, now);
        if let Some((_, write, serial)) = next {
            self.lock_granted(row, write, serial);
        }
        if let Some(Holder::Attempt(h)) = holder {
            if let Some(a) = self.attempts.get_mut(h) {
                a.lock_row = NO_ROW;
                let a = *a;
                self.database(now, a.node, h, a);
            }
        }
    }

    /// A lease ran out while its holder still had the lock: the next waiter gets it.
    pub(super) fn lease_expiry(&mut self, now: SimTime, row: u32, serial: u32) {
        let locks = self.locks.as_mut().expect("locks");
        if let Some((_, write, serial)) = locks.lease_expired(row, serial, now) {
            self.lock_granted(row, write, serial);
        }
    }

    /// A request waited too long for a lock: it fails and frees its node's worker.
    pub(super) fn lock_wait_timeout(&mut self, now: SimTime, row: u32, attempt: Handle) {
        let locks = self.locks.as_mut().expect("locks");
        if locks.give_up(row, Holder::Attempt(attempt)) {
            if let Some(a) = self.attempts.get_mut(attempt) {
                a.lock_row = NO_ROW;
                let node = a.node;
                self.free_worker(now, node);
                self.attempt_failed(now, attempt, FailReason::LockTimeout);
            }
        }
    }

    /// An unlocked read-modify-write landed (lost if another landed since it read).
    pub(super) fn unlocked_write_done(
        &mut self,
        now: SimTime,
        attempt: Handle,
        row: u32,
        version: u32,
    ) {
        self.locks
            .as_mut()
            .expect("locks")
            .unlocked_write(row, version);
        if let Some(a) = self.attempts.get(attempt).copied() {
            self.database(now, a.node, attempt, a);
        }
    }

    /// A failed or crashed attempt gives up the lock it held or waited for.
    pub(super) fn abandon_lock(&mut self, now: SimTime, attempt: Handle, row: u32) {
        if row == NO_ROW {
            return;
        }
        let locks = self.locks.as_mut().expect("locks");
        if let Some((_, write, serial)) = locks.abandon(row, Holder::Attempt(attempt), now) {
            self.lock_granted(row, write, serial);
        }
    }

    /// Every node with a batch writes it under the lock of the counter's row.
    pub(super) fn flush_batches(&mut self, now: SimTime) {
        let Some(every) = self.locks.as_ref().and_then(|l| l.batch_every()) else {
            return;
        };
        for node in 0..self.nodes.len() as u32 {
            let locks = self.locks.as_mut().expect("locks");
            if locks.take_batch(node) == 0 {
                continue;
            }
            if let Acquire::Granted { write, serial } =
                locks.acquire(0, Holder::Flush { node }, now)
            {
                self.lock_granted(0, write, serial);
            }
        }
        self.queue.schedule_in(every, Event::LockFlush);
    }
}
