//! A delivery's token: which delivery of which partition a consumer's answer is about. It
//! travels with the dispatched work (`Notice::Dispatch`) and comes back with its outcome
//! (`Component::answered`). The partition knows which message its delivery carries; the
//! delivery's number (not the offset, which is delivered again after a rewind) tells a
//! late answer to a delivery given up from the answer to the one out now.

/// The token of delivery `number` of partition `partition`.
pub fn token(partition: u32, number: u32) -> u64 {
    (u64::from(partition) << 32) | u64::from(number)
}

/// The (partition, delivery number) a token names.
pub fn delivery(token: u64) -> (u32, u32) {
    ((token >> 32) as u32, token as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        for (p, n) in [(0, 0), (7, 12_345), (4095, u32::MAX)] {
            assert_eq!(delivery(token(p, n)), (p, n));
        }
    }
}
