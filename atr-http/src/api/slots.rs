//! A bound on the uploads one person runs at once: each upload holds a slot until its body is
//! stored or refused, so one account (or its tokens) cannot tie up the service's disk and
//! connections with many slow uploads.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

/// The upload slots of every person.
#[derive(Debug)]
pub(crate) struct UploadSlots {
    per_person: usize,
    held: Mutex<HashMap<String, usize>>,
}

/// A slot, given back when dropped.
#[derive(Debug)]
pub(crate) struct Slot {
    slots: Arc<UploadSlots>,
    who: String,
}

impl UploadSlots {
    pub(crate) fn new(per_person: usize) -> Arc<Self> {
        Arc::new(Self { per_person: per_person.max(1), held: Mutex::new(HashMap::new()) })
    }

    /// A slot for `who`, or `None` when they already run as many uploads as allowed.
    pub(crate) fn take(self: &Arc<Self>, who: &str) -> Option<Slot> {
        let mut held = self.held.lock().unwrap_or_else(PoisonError::into_inner);
        let count = held.entry(who.to_owned()).or_insert(0);
        if *count >= self.per_person {
            return None;
        }
        *count += 1;
        Some(Slot { slots: Arc::clone(self), who: who.to_owned() })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut held = self.slots.held.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = held.get_mut(&self.who) {
            *count -= 1;
            if *count == 0 {
                held.remove(&self.who);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::UploadSlots;

    #[test]
    fn a_person_holds_at_most_their_slots_and_gets_them_back() {
        let slots = UploadSlots::new(2);
        let first = slots.take("rm").unwrap();
        let _second = slots.take("rm").unwrap();
        assert!(slots.take("rm").is_none(), "a third upload at once");
        assert!(slots.take("dev").is_some(), "another person has their own slots");
        drop(first);
        assert!(slots.take("rm").is_some(), "a finished upload gives its slot back");
    }
}
