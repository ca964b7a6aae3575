//! Objects: key order and duplicate keys, as `JSON.parse` builds an object and
//! `JSON.stringify` walks it.
//!
//! Members are written to the output as they come. Only an object whose keys need it (an array
//! index key out of place, or a duplicate key) is rewritten, once the whole document is through:
//! array-index keys first in ascending numeric order, then the other keys in first-insertion
//! order, each duplicate key holding its last value.

use super::budget::{self, Budget};

/// Objects with at most this many members look for duplicate keys pairwise; larger ones sort.
const PAIRWISE_LIMIT: usize = 16;

/// The largest array index, 2^32 - 2.
const MAX_ARRAY_INDEX: u64 = 4_294_967_294;

/// Where one member of an open object sits in the output.
#[derive(Clone, Copy, Debug)]
pub(super) struct Member {
    /// Position of the key's opening quote.
    pub(super) key_start: usize,
    /// Position just after the key's closing quote (the `:` follows).
    pub(super) key_end: usize,
    /// Position just after the value.
    pub(super) val_end: usize,
    /// The key as an array index, if it is one.
    pub(super) index: Option<u32>,
}

/// An object being transduced.
#[derive(Clone, Copy, Debug)]
pub(super) struct ObjectFrame {
    /// Output position just after the `{`.
    pub(super) body_start: usize,
    /// Where this object's members start in the shared member stack.
    pub(super) members_base: usize,
    reorder: bool,
    seen_plain_key: bool,
    last_index: Option<u32>,
}

impl ObjectFrame {
    pub(super) fn new(body_start: usize, members_base: usize) -> Self {
        Self {
            body_start,
            members_base,
            reorder: false,
            seen_plain_key: false,
            last_index: None,
        }
    }

    /// Notes the next key, flagging the object for reordering when an array index key arrives
    /// after a plain key or not in ascending order.
    pub(super) fn note_key(&mut self, index: Option<u32>) {
        match index {
            None => self.seen_plain_key = true,
            Some(index) => {
                if self.seen_plain_key || self.last_index.is_some_and(|last| index <= last) {
                    self.reorder = true;
                }
                self.last_index = Some(index);
            }
        }
    }
}

/// The key (its content, without quotes, as written to the output) as an array index: a
/// canonical decimal integer from 0 to 2^32 - 2.
pub(super) fn array_index(key: &[u8]) -> Option<u32> {
    if key.is_empty() || key.len() > 10 || (key.len() > 1 && key[0] == b'0') {
        return None;
    }
    let mut value: u64 = 0;
    for &b in key {
        if !b.is_ascii_digit() {
            return None;
        }
        value = value * 10 + u64::from(b - b'0');
    }
    if value > MAX_ARRAY_INDEX {
        return None;
    }
    u32::try_from(value).ok()
}

/// One object whose members must be written in another order (or without duplicates).
#[derive(Clone, Copy, Debug)]
struct Fixup {
    /// Output position just after the object's `{`.
    start: usize,
    /// Output position of the object's `}`.
    end: usize,
    /// Its members in their final order: a range of [`Reorderer::pieces`].
    pieces: (usize, usize),
}

/// A member to write: its key at `key`, its value at `value` (output ranges as transduced).
#[derive(Clone, Copy, Debug)]
struct Piece {
    key: (usize, usize),
    value: (usize, usize),
}

/// Finds the objects whose keys need reordering or de-duplicating, and rewrites them.
///
/// Objects are only recorded while transducing; [`apply`](Self::apply) then rewrites all of
/// them in one pass at the end. Rebuilding each object when it closes would copy a nested
/// object's bytes again at every enclosing level that also needs reordering: quadratic in
/// depth times size, which a forged body could exploit.
#[derive(Debug, Default)]
pub(super) struct Reorderer {
    order: Vec<u32>,
    entries: Vec<(u64, u32, u32)>,
    fixups: Vec<Fixup>,
    pieces: Vec<Piece>,
}

impl Reorderer {
    /// Called when `frame`'s `}` is reached (before it is written): records the object's final
    /// member order if its keys need reordering or de-duplicating. `false` when `budget` cannot
    /// pay for the work (charged before it is done).
    #[must_use]
    pub(super) fn finish(
        &mut self,
        frame: &ObjectFrame,
        members: &[Member],
        out: &[u8],
        budget: &mut Budget,
    ) -> bool {
        let key = |m: u32| {
            members
                .get(m as usize)
                .and_then(|m| out.get(m.key_start..m.key_end))
                .unwrap_or_default()
        };
        let n = members.len();
        let sort_units = budget::sort_comparisons(n).div_ceil(budget::SORT_COMPARISONS_PER_UNIT);
        let mut sorted = false;
        let duplicate = if n <= PAIRWISE_LIMIT {
            let pairs = (n * n.saturating_sub(1) / 2) as u64;
            if !budget.take(pairs.div_ceil(budget::PAIRS_PER_UNIT)) {
                return false;
            }
            (1..n).any(|i| (0..i).any(|j| key(i as u32) == key(j as u32)))
        } else {
            if !budget.take(sort_units) {
                return false;
            }
            self.sort_by_key(n, key);
            sorted = true;
            self.order.windows(2).any(|w| key(w[0]) == key(w[1]))
        };
        if !(frame.reorder || duplicate) {
            return true;
        }
        let rebuild_units = (n as u64).saturating_mul(budget::UNITS_PER_REBUILT_MEMBER);
        if !budget.take(rebuild_units.saturating_add(if sorted { 0 } else { sort_units })) {
            return false;
        }
        if !sorted {
            self.sort_by_key(n, key);
        }

        // One entry per distinct key: its rank (array indices first, by value; then plain
        // keys by first insertion), the member holding the key, the member holding the value
        // (the last duplicate's).
        self.entries.clear();
        for group in self.order.chunk_by(|&a, &b| key(a) == key(b)) {
            let (Some(&first), Some(&last)) = (group.first(), group.last()) else {
                continue;
            };
            let rank = match members.get(first as usize).and_then(|m| m.index) {
                Some(index) => u64::from(index),
                None => (1 << 32) + u64::from(first),
            };
            self.entries.push((rank, first, last));
        }
        self.entries.sort_unstable_by_key(|e| e.0);

        let from = self.pieces.len();
        for &(_, first, last) in &self.entries {
            if let (Some(kept), Some(value)) =
                (members.get(first as usize), members.get(last as usize))
            {
                self.pieces.push(Piece {
                    key: (kept.key_start, kept.key_end),
                    value: (value.key_end + 1, value.val_end),
                });
            }
        }
        self.fixups.push(Fixup {
            start: frame.body_start,
            end: out.len(),
            pieces: (from, self.pieces.len()),
        });
        true
    }

    /// Rewrites `out[base..]` with every recorded object in its final order.
    pub(super) fn apply(&mut self, out: &mut Vec<u8>, base: usize) {
        if self.fixups.is_empty() {
            return;
        }
        // Objects were recorded as they closed (inner first); emission looks them up by start.
        self.fixups.sort_unstable_by_key(|f| f.start);
        let mut rewritten = Vec::with_capacity(out.len() - base);
        self.emit_range(out, base, out.len(), &mut rewritten);
        out.truncate(base);
        out.append(&mut rewritten);
    }

    /// Copies `src[from..to]`, writing each recorded object inside it in its final order.
    /// Recursion alternates with [`emit_object`](Self::emit_object), one level per nesting
    /// level, so it is bounded by [`MAX_DEPTH`](super::MAX_DEPTH).
    fn emit_range(&self, src: &[u8], mut from: usize, to: usize, dst: &mut Vec<u8>) {
        loop {
            let next = self.fixups.partition_point(|f| f.start < from);
            match self.fixups.get(next) {
                Some(fixup) if fixup.start < to => {
                    dst.extend_from_slice(src.get(from..fixup.start).unwrap_or_default());
                    self.emit_object(src, fixup, dst);
                    from = fixup.end;
                }
                _ => {
                    dst.extend_from_slice(src.get(from..to).unwrap_or_default());
                    return;
                }
            }
        }
    }

    fn emit_object(&self, src: &[u8], fixup: &Fixup, dst: &mut Vec<u8>) {
        let pieces = self
            .pieces
            .get(fixup.pieces.0..fixup.pieces.1)
            .unwrap_or_default();
        for (k, piece) in pieces.iter().enumerate() {
            if k > 0 {
                dst.push(b',');
            }
            dst.extend_from_slice(src.get(piece.key.0..piece.key.1).unwrap_or_default());
            dst.push(b':');
            self.emit_range(src, piece.value.0, piece.value.1, dst);
        }
    }

    /// Sorts member numbers by key bytes; stable, so duplicates stay in insertion order.
    fn sort_by_key<'k>(&mut self, n: usize, key: impl Fn(u32) -> &'k [u8]) {
        self.order.clear();
        self.order.extend(0..n as u32);
        self.order.sort_by(|&a, &b| key(a).cmp(key(b)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn array_index_accepts_only_canonical_integers_below_two_to_the_32_minus_one() {
        assert_eq!(array_index(b"0"), Some(0));
        assert_eq!(array_index(b"42"), Some(42));
        assert_eq!(array_index(b"4294967294"), Some(4_294_967_294));
        for key in [
            &b"4294967295"[..],
            b"99999999999",
            b"01",
            b"-1",
            b"",
            b"1.0",
            b"1e3",
            b" 1",
        ] {
            assert_eq!(array_index(key), None, "{key:?}");
        }
    }

    #[test]
    fn note_key_flags_only_out_of_place_indices() {
        let mut frame = ObjectFrame::new(0, 0);
        for index in [Some(0), Some(1), Some(7), None, None] {
            frame.note_key(index);
        }
        assert!(!frame.reorder);
        frame.note_key(Some(8));
        assert!(frame.reorder);

        let mut frame = ObjectFrame::new(0, 0);
        frame.note_key(Some(2));
        frame.note_key(Some(1));
        assert!(frame.reorder);
    }
}
