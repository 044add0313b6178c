//! One partition of a topic: an ordered log of messages, the consumer's position in it
//! and its last committed offset.
//!
//! Offsets count messages from 0. The partition keeps the publish times of the messages
//! from its committed offset on (`published − committed` of them): committed messages are
//! gone for good, the others may still be delivered (again).

use std::collections::VecDeque;

use crate::engine::SimTime;

/// What became of a message whose handler succeeded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Handled {
    /// Its first success: the message is consumed.
    First,
    /// It had succeeded before (and was redelivered after a rewind): a duplicate.
    Again,
}

/// A message sent to the consumer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Delivery {
    /// The partition's count of deliveries (wrapping): tells this delivery's answer from
    /// a late one of an earlier delivery that was given up.
    pub number: u32,
    /// Its offset.
    pub offset: u64,
    /// It had been delivered before (a redelivery after a rewind).
    pub again: bool,
}

/// One partition's log and its consumer's place in it.
#[derive(Clone, Debug, Default)]
pub struct Partition {
    /// Messages appended: the next message's offset.
    published: u64,
    /// The committed offset: every message below is consumed for good.
    committed: u64,
    /// The next offset to deliver; messages in `committed..position` were handled
    /// since the last commit.
    position: u64,
    /// The message at `position` is out at the consumer, in the delivery of this number.
    out: Option<u32>,
    /// Deliveries so far (wrapping).
    deliveries: u32,
    /// A failed delivery's backoff is running: nothing is delivered until it is over.
    backing_off: bool,
    /// Every message below this offset has succeeded at least once.
    succeeded_end: u64,
    /// Every message below this offset has been delivered at least once.
    delivered_end: u64,
    /// Publish times of the messages from `committed` on (index 0 is `committed`).
    times: VecDeque<SimTime>,
}

impl Partition {
    /// Appends a message published at `now`.
    pub fn append(&mut self, now: SimTime) {
        self.times.push_back(now);
        self.published += 1;
    }

    /// The next message to send to the consumer, if one is waiting and none is out (it
    /// is then out until [`Partition::succeeded`] or [`Partition::failed`]).
    pub fn next_delivery(&mut self) -> Option<Delivery> {
        if self.out.is_some() || self.backing_off || self.position >= self.published {
            return None;
        }
        let number = self.deliveries;
        self.deliveries = self.deliveries.wrapping_add(1);
        self.out = Some(number);
        let offset = self.position;
        let again = offset < self.delivered_end;
        self.delivered_end = self.delivered_end.max(offset + 1);
        Some(Delivery {
            number,
            offset,
            again,
        })
    }

    /// Whether delivery `number` is the one out at the consumer (an answer to any other
    /// is late, for a delivery given up, and is ignored).
    pub fn is_out(&self, number: u32) -> bool {
        self.out == Some(number)
    }

    /// The message out at the consumer was handled: the position moves past it.
    pub fn succeeded(&mut self) -> Handled {
        debug_assert!(self.out.is_some(), "a success with nothing out");
        self.out = None;
        let offset = self.position;
        self.position += 1;
        if offset < self.succeeded_end {
            Handled::Again
        } else {
            self.succeeded_end = offset + 1;
            Handled::First
        }
    }

    /// The message out at the consumer failed: the position goes back to the committed
    /// offset, and nothing is delivered until [`Partition::backoff_over`].
    pub fn failed(&mut self) {
        debug_assert!(self.out.is_some(), "a failure with nothing out");
        self.out = None;
        self.position = self.committed;
        self.backing_off = true;
    }

    /// A failed delivery's backoff is over: delivery resumes from the position.
    pub fn backoff_over(&mut self) {
        self.backing_off = false;
    }

    /// Commits the position (not the message out, if any); returns how many messages
    /// were committed.
    pub fn commit(&mut self) -> u64 {
        let n = self.position - self.committed;
        self.times.drain(..n as usize);
        self.committed = self.position;
        n
    }

    /// Messages not consumed for good yet (published, not committed).
    pub fn backlog(&self) -> u64 {
        self.published - self.committed
    }

    /// The publish time of the oldest message not committed yet.
    pub fn oldest(&self) -> Option<SimTime> {
        self.times.front().copied()
    }

    /// Panics on a broken invariant (`topic`, `index`: which partition, for the message).
    pub fn check(&self, topic: &str, index: usize) {
        let delivered = self.position + u64::from(self.out.is_some());
        assert!(
            self.committed <= delivered && delivered <= self.published,
            "topic {topic} partition {index}: committed {} ≤ delivered {delivered} ≤ published {} broken",
            self.committed,
            self.published
        );
        assert_eq!(
            self.times.len() as u64,
            self.published - self.committed,
            "topic {topic} partition {index}: publish times kept for exactly the uncommitted messages"
        );
        assert!(
            self.committed <= self.succeeded_end && self.succeeded_end <= self.delivered_end,
            "topic {topic} partition {index}: committed {} ≤ succeeded {} ≤ ever delivered {} broken",
            self.committed,
            self.succeeded_end,
            self.delivered_end
        );
        assert!(
            !(self.out.is_some() && self.backing_off),
            "topic {topic} partition {index}: a message out while backing off"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(ms: u64) -> SimTime {
        SimTime::from_millis(ms)
    }

    #[test]
    fn in_order_one_at_a_time() {
        let mut p = Partition::default();
        p.append(t(1));
        p.append(t(2));
        let d = p.next_delivery().unwrap();
        assert_eq!((d.offset, d.again), (0, false));
        assert!(p.is_out(d.number));
        assert_eq!(p.next_delivery(), None, "one message out at a time");
        assert_eq!(p.succeeded(), Handled::First);
        assert_eq!(p.next_delivery().unwrap().offset, 1);
        p.check("t", 0);
    }

    #[test]
    fn a_failure_rewinds_to_the_committed_offset() {
        let mut p = Partition::default();
        for ms in 0..4 {
            p.append(t(ms));
        }
        p.next_delivery();
        p.succeeded();
        assert_eq!(p.commit(), 1);
        assert_eq!(p.oldest(), Some(t(1)));
        p.next_delivery();
        p.succeeded(); // offset 1, not committed
        let given_up = p.next_delivery().unwrap(); // offset 2 out
        p.failed();
        assert!(!p.is_out(given_up.number));
        assert_eq!(p.next_delivery(), None, "backing off");
        p.backoff_over();
        let d = p.next_delivery().unwrap();
        assert_eq!((d.offset, d.again), (1, true));
        assert!(!p.is_out(given_up.number), "a late answer is told apart");
        assert_eq!(p.succeeded(), Handled::Again, "offset 1 was handled before");
        let d = p.next_delivery().unwrap();
        assert_eq!((d.offset, d.again), (2, true));
        let first = p.succeeded();
        assert_eq!(first, Handled::First, "offset 2 failed the first time");
        assert_eq!(p.backlog(), 3);
        assert_eq!(p.commit(), 2);
        assert_eq!(p.backlog(), 1);
        p.check("t", 0);
    }
}
