//! Slabs: id-indexed `Vec`s with free lists, addressed by generation-checked handles, so
//! the hot path allocates nothing per request, call or task once they have grown, and
//! iteration order is deterministic.

/// A handle to a slot that may be reused: the generation tells a stale handle from a live one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Handle {
    /// Slot index in the slab.
    pub idx: u32,
    /// Generation of the slot when the handle was made.
    pub gen: u32,
}

/// A slab of `T` addressed by generation-checked handles.
pub struct Slab<T> {
    items: Vec<(u32, Option<T>)>,
    free: Vec<u32>,
    live: usize,
}

impl<T: Copy> Default for Slab<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Copy> Slab<T> {
    /// An empty slab.
    pub fn new() -> Self {
        Slab {
            items: Vec::with_capacity(1024),
            free: Vec::new(),
            live: 0,
        }
    }

    /// Stores `value`, reusing a free slot when there is one.
    #[inline]
    pub fn insert(&mut self, value: T) -> Handle {
        self.live += 1;
        if let Some(idx) = self.free.pop() {
            let slot = &mut self.items[idx as usize];
            slot.0 = slot.0.wrapping_add(1);
            slot.1 = Some(value);
            Handle { idx, gen: slot.0 }
        } else {
            let idx = self.items.len() as u32;
            self.items.push((0, Some(value)));
            Handle { idx, gen: 0 }
        }
    }

    /// The value behind `h`, if `h` is still live.
    #[inline]
    pub fn get(&self, h: Handle) -> Option<&T> {
        match self.items.get(h.idx as usize) {
            Some((gen, Some(v))) if *gen == h.gen => Some(v),
            _ => None,
        }
    }

    /// Mutable access to the value behind `h`, if live.
    #[inline]
    pub fn get_mut(&mut self, h: Handle) -> Option<&mut T> {
        match self.items.get_mut(h.idx as usize) {
            Some((gen, Some(v))) if *gen == h.gen => Some(v),
            _ => None,
        }
    }

    /// Removes and returns the value behind `h`, if live.
    #[inline]
    pub fn remove(&mut self, h: Handle) -> Option<T> {
        match self.items.get_mut(h.idx as usize) {
            Some((gen, slot @ Some(_))) if *gen == h.gen => {
                let v = slot.take();
                self.free.push(h.idx);
                self.live -= 1;
                v
            }
            _ => None,
        }
    }

    /// Values currently stored.
    pub fn len(&self) -> usize {
        self.live
    }

    /// True when nothing is stored.
    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    /// Live entries in slot order (deterministic).
    pub fn iter(&self) -> impl Iterator<Item = (Handle, &T)> {
        self.items.iter().enumerate().filter_map(|(i, (gen, v))| {
            v.as_ref().map(|v| {
                (
                    Handle {
                        idx: i as u32,
                        gen: *gen,
                    },
                    v,
                )
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_handles_are_refused_after_reuse() {
        let mut s: Slab<u32> = Slab::new();
        let a = s.insert(1);
        assert_eq!(s.remove(a), Some(1));
        let b = s.insert(2);
        assert_eq!(a.idx, b.idx);
        assert_eq!(s.get(a), None);
        assert_eq!(s.get(b), Some(&2));
        assert_eq!(s.remove(a), None);
        assert_eq!(s.len(), 1);
    }
}
