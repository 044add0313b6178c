//! The LRU order of a cache's keys.

const NIL: u32 = u32::MAX;

/// A least-recently-used set of key ids with O(1) touch, insert and remove: an intrusive
/// doubly-linked list threaded through key-indexed `Vec`s (head = most recent).
#[derive(Clone, Debug)]
pub struct Lru {
    prev: Vec<u32>,
    next: Vec<u32>,
    present: Vec<bool>,
    head: u32,
    tail: u32,
    len: u32,
    capacity: u32,
}

impl Lru {
    /// An empty set of at most `capacity` of the keys `0..keys`.
    pub fn new(keys: u32, capacity: u32) -> Lru {
        Lru {
            prev: vec![NIL; keys as usize],
            next: vec![NIL; keys as usize],
            present: vec![false; keys as usize],
            head: NIL,
            tail: NIL,
            len: 0,
            capacity: capacity.max(1),
        }
    }

    /// Whether `key` is held.
    #[inline]
    pub fn contains(&self, key: u32) -> bool {
        self.present[key as usize]
    }

    /// Keys held.
    pub fn len(&self) -> u32 {
        self.len
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn unlink(&mut self, key: u32) {
        let (p, n) = (self.prev[key as usize], self.next[key as usize]);
        if p == NIL {
            self.head = n;
        } else {
            self.next[p as usize] = n;
        }
        if n == NIL {
            self.tail = p;
        } else {
            self.prev[n as usize] = p;
        }
    }

    fn push_front(&mut self, key: u32) {
        self.prev[key as usize] = NIL;
        self.next[key as usize] = self.head;
        if self.head != NIL {
            self.prev[self.head as usize] = key;
        }
        self.head = key;
        if self.tail == NIL {
            self.tail = key;
        }
    }

    /// Marks `key` (held) as the most recently used.
    #[inline]
    pub fn touch(&mut self, key: u32) {
        if self.present[key as usize] && self.head != key {
            self.unlink(key);
            self.push_front(key);
        }
    }

    /// Adds `key` (or touches it if held); returns the key evicted to make room, if any.
    pub fn insert(&mut self, key: u32) -> Option<u32> {
        if self.present[key as usize] {
            self.touch(key);
            return None;
        }
        let mut evicted = None;
        if self.len >= self.capacity {
            let victim = self.tail;
            self.remove(victim);
            evicted = Some(victim);
        }
        self.present[key as usize] = true;
        self.len += 1;
        self.push_front(key);
        evicted
    }

    /// Drops `key` if held.
    pub fn remove(&mut self, key: u32) {
        if key == NIL || !self.present[key as usize] {
            return;
        }
        self.unlink(key);
        self.present[key as usize] = false;
        self.len -= 1;
    }

    /// Drops every key.
    pub fn clear(&mut self) {
        let mut k = self.head;
        while k != NIL {
            let n = self.next[k as usize];
            self.present[k as usize] = false;
            k = n;
        }
        self.head = NIL;
        self.tail = NIL;
        self.len = 0;
    }

    /// The least recently used key, if any.
    pub fn oldest(&self) -> Option<u32> {
        (self.tail != NIL).then_some(self.tail)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lru_evicts_the_least_recently_used() {
        let mut l = Lru::new(10, 3);
        assert_eq!(l.insert(1), None);
        assert_eq!(l.insert(2), None);
        assert_eq!(l.insert(3), None);
        l.touch(1); // order now 1, 3, 2
        assert_eq!(l.insert(4), Some(2));
        assert_eq!(l.oldest(), Some(3));
        assert_eq!(l.insert(5), Some(3));
        assert!(l.contains(1) && l.contains(4) && l.contains(5));
        assert!(!l.contains(2) && !l.contains(3));
        l.remove(4);
        assert_eq!(l.len(), 2);
        assert_eq!(l.insert(6), None);
        assert_eq!(l.insert(7), Some(1));
        l.clear();
        assert!(l.is_empty() && !l.contains(5));
        assert_eq!(l.oldest(), None);
        assert_eq!(l.insert(9), None);
        assert_eq!(l.oldest(), Some(9));
    }

    #[test]
    fn lru_reinsert_touches_and_capacity_one_works() {
        let mut l = Lru::new(4, 1);
        assert_eq!(l.insert(0), None);
        assert_eq!(l.insert(0), None);
        assert_eq!(l.insert(3), Some(0));
        assert_eq!(l.len(), 1);
    }
}
