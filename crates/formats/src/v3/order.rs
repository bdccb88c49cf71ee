//! `order:` numbers for siblings: 1000, 2000, … as Postman's migrate writes
//! them, or, given the numbers written last time, as few changes as possible.

/// The step between consecutive order numbers.
pub(crate) const STEP: i64 = 1000;

/// Order numbers for siblings listed in their order; `hints[i]` is the
/// number item `i` had last time, if any.
///
/// The hinted items that still ascend (the longest run of them that does)
/// keep their numbers; every other item gets a number between its kept
/// neighbours. Only when some gap has no room left is the whole list
/// renumbered 1000, 2000, ….
pub(crate) fn assign(hints: &[Option<i64>]) -> Vec<i64> {
    let keep = longest_ascending(hints);
    let mut out: Vec<Option<i64>> = (0..hints.len()).map(|i| keep.contains(&i).then(|| hints[i]).flatten()).collect();
    let mut i = 0;
    while i < out.len() {
        if out[i].is_some() {
            i += 1;
            continue;
        }
        let run_end = (i..out.len()).find(|&j| out[j].is_some()).unwrap_or(out.len());
        let low = if i == 0 { 0 } else { out[i - 1].unwrap_or(0) };
        let count = (run_end - i) as i64;
        match out.get(run_end).copied().flatten() {
            None => {
                for (n, slot) in out[i..run_end].iter_mut().enumerate() {
                    *slot = Some(low + STEP * (n as i64 + 1));
                }
            }
            Some(high) if high - low > count => {
                for (n, slot) in out[i..run_end].iter_mut().enumerate() {
                    *slot = Some(low + (high - low) * (n as i64 + 1) / (count + 1));
                }
            }
            Some(_) => return (1..=hints.len() as i64).map(|n| n * STEP).collect(),
        }
        i = run_end;
    }
    out.into_iter().map(|o| o.unwrap_or(0)).collect()
}

/// Indices of the longest strictly ascending run of positive hints (O(n log n)).
fn longest_ascending(hints: &[Option<i64>]) -> Vec<usize> {
    let items: Vec<(usize, i64)> = hints.iter().enumerate().filter_map(|(i, h)| h.filter(|&v| v > 0).map(|v| (i, v))).collect();
    // tails[k]: index into `items` of the smallest tail of an ascending run of length k + 1.
    let mut tails: Vec<usize> = Vec::new();
    let mut prev: Vec<Option<usize>> = vec![None; items.len()];
    for (n, &(_, v)) in items.iter().enumerate() {
        let pos = tails.partition_point(|&t| items[t].1 < v);
        prev[n] = pos.checked_sub(1).map(|p| tails[p]);
        if pos == tails.len() {
            tails.push(n);
        } else {
            tails[pos] = n;
        }
    }
    let mut out = Vec::new();
    let mut cur = tails.last().copied();
    while let Some(n) = cur {
        out.push(items[n].0);
        cur = prev[n];
    }
    out.reverse();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fresh_lists_count_in_thousands() {
        assert_eq!(assign(&[None, None, None]), [1000, 2000, 3000]);
        assert_eq!(assign(&[]), Vec::<i64>::new());
    }

    #[test]
    fn an_insert_or_a_move_changes_one_number() {
        // Inserted between the first two.
        assert_eq!(assign(&[Some(1000), None, Some(2000), Some(3000)]), [1000, 1500, 2000, 3000]);
        // The last moved to the front: the rest keep theirs.
        assert_eq!(assign(&[Some(3000), Some(1000), Some(2000)]), [500, 1000, 2000]);
        // Appended.
        assert_eq!(assign(&[Some(1000), Some(2000), None]), [1000, 2000, 3000]);
        // No room: renumbered.
        assert_eq!(assign(&[Some(1), None, Some(2)]), [1000, 2000, 3000]);
    }
}
