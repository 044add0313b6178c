//! A delivery's token: which message of which partition a consumer's answer is about.
//! It travels with the dispatched work (`Notice::Dispatch`) and comes back with its
//! outcome (`Component::answered`).

/// Bits of a token that hold the offset; the partition is in the bits above.
const OFFSET_BITS: u32 = 48;
const OFFSET_MASK: u64 = (1 << OFFSET_BITS) - 1;

/// The token of the delivery of message `offset` of partition `partition`.
pub fn token(partition: u32, offset: u64) -> u64 {
    // 2^48 messages in one partition is ~9 years at a million a second; 2^16 partitions
    // is far above the validated limit.
    debug_assert!(offset <= OFFSET_MASK && partition < (1 << (64 - OFFSET_BITS)));
    (u64::from(partition) << OFFSET_BITS) | offset
}

/// The (partition, offset) a token names.
pub fn message(token: u64) -> (u32, u64) {
    ((token >> OFFSET_BITS) as u32, token & OFFSET_MASK)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        for (p, o) in [(0, 0), (7, 12_345), (4095, OFFSET_MASK)] {
            assert_eq!(message(token(p, o)), (p, o));
        }
    }
}
