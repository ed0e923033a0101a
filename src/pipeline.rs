//! Ordered parallel rendering in bounded memory: the machinery behind the
//! bulk listings (`get -o json|yaml` of many objects).
//!
//! A slice of items is cut into chunks of a bounded weight (stored bytes);
//! the chunks are rendered by rayon's workers and handed, in the slice's
//! order, to a consumer on the calling thread (which writes them out). At
//! most [`IN_FLIGHT_PER_THREAD`] chunks per worker are rendered ahead of
//! the consumer, so memory stays bounded however long the listing is, and
//! there is no barrier between windows: the workers keep rendering while
//! the caller writes. It knows nothing of what it renders.

use std::collections::BTreeMap;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::sync::mpsc;

/// Chunks rendered ahead of the consumer, per worker thread.
pub const IN_FLIGHT_PER_THREAD: usize = 4;

/// Cuts `items` into consecutive chunks of at most `max_items` items and,
/// past each chunk's first item, at most `max_weight` summed `weight`.
pub fn chunks<I>(
    items: &[I],
    max_items: usize,
    max_weight: usize,
    weight: impl Fn(&I) -> usize,
) -> Vec<&[I]> {
    let mut out = Vec::new();
    let mut rest = items;
    while !rest.is_empty() {
        let mut w = 0usize;
        let mut n = 0;
        while n < rest.len() && n < max_items.max(1) {
            w = w.saturating_add(weight(&rest[n]));
            n += 1;
            if w >= max_weight {
                break;
            }
        }
        let (c, r) = rest.split_at(n);
        out.push(c);
        rest = r;
    }
    out
}

/// Renders every chunk with `render` on rayon's workers and passes the
/// results to `consume` on the calling thread, in chunk order. Stops at the
/// first error `consume` returns (after the chunks already started finish)
/// and returns it. A panic in `render` is resumed on the calling thread.
pub fn render_in_order<I, T, E>(
    chunks: &[&[I]],
    render: impl Fn(&[I]) -> T + Sync,
    mut consume: impl FnMut(T) -> Result<(), E>,
) -> Result<(), E>
where
    I: Sync,
    T: Send,
{
    let ahead = IN_FLIGHT_PER_THREAD * rayon::current_num_threads().max(1);
    let render = &render;
    let (tx, rx) = mpsc::channel::<(usize, std::thread::Result<T>)>();
    rayon::in_place_scope(|scope| {
        let mut spawned = 0;
        let mut pending: BTreeMap<usize, std::thread::Result<T>> = BTreeMap::new();
        for next in 0..chunks.len() {
            while spawned < chunks.len() && spawned < next + ahead {
                let (i, chunk, tx) = (spawned, chunks[spawned], tx.clone());
                scope.spawn(move |_| {
                    let r = catch_unwind(AssertUnwindSafe(|| render(chunk)));
                    // The receiver is gone only when the consumer failed.
                    let _ = tx.send((i, r));
                });
                spawned += 1;
            }
            let done = loop {
                if let Some(r) = pending.remove(&next) {
                    break r;
                }
                // Every chunk up to `spawned` was spawned and sends once.
                match rx.recv() {
                    Ok((i, r)) => {
                        pending.insert(i, r);
                    }
                    Err(_) => unreachable!("a sender is held by this loop"),
                }
            };
            match done {
                Ok(t) => consume(t)?,
                Err(panic) => resume_unwind(panic),
            }
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_bound_count_and_weight_and_keep_order() {
        let items: Vec<usize> = (0..100).collect();
        let c = chunks(&items, 8, 50, |&x| x);
        assert_eq!(c.concat(), items);
        for ch in &c {
            assert!(ch.len() <= 8);
            // Past the first item, a chunk ends once it reaches the weight.
            let before_last: usize = ch[..ch.len() - 1].iter().sum();
            assert!(ch.len() == 1 || before_last < 50, "{ch:?}");
        }
        // Heavy items go one per chunk; empty input gives no chunks.
        assert!(chunks(&[100, 100], 8, 50, |&x| x)
            .iter()
            .all(|c| c.len() == 1));
        assert!(chunks::<usize>(&[], 8, 50, |&x| x).is_empty());
    }

    #[test]
    fn results_arrive_in_order_whatever_order_they_finish_in() {
        let items: Vec<u64> = (0..2000).collect();
        let c = chunks(&items, 3, usize::MAX, |_| 1);
        let mut seen = Vec::new();
        let r: Result<(), ()> = render_in_order(
            &c,
            |ch| {
                // Uneven work, so later chunks often finish first.
                let spin = (ch[0] * 7919) % 5000;
                let mut x = 0u64;
                for k in 0..spin {
                    x = x.wrapping_add(std::hint::black_box(k));
                }
                std::hint::black_box(x);
                ch.to_vec()
            },
            |v| {
                seen.extend(v);
                Ok(())
            },
        );
        assert!(r.is_ok());
        assert_eq!(seen, items);
    }

    #[test]
    fn the_first_consumer_error_stops_the_listing() {
        let items: Vec<u32> = (0..1000).collect();
        let c = chunks(&items, 1, usize::MAX, |_| 1);
        let mut n = 0;
        let r = render_in_order(
            &c,
            |ch| ch[0],
            |x| {
                n += 1;
                if x == 10 {
                    Err(x)
                } else {
                    Ok(())
                }
            },
        );
        assert_eq!(r, Err(10));
        assert_eq!(n, 11);
    }

    #[test]
    #[should_panic(expected = "chunk 5")]
    fn a_panic_while_rendering_reaches_the_caller() {
        let items: Vec<u32> = (0..20).collect();
        let c = chunks(&items, 1, usize::MAX, |_| 1);
        let _: Result<(), ()> = render_in_order(
            &c,
            |ch| {
                if ch[0] == 5 {
                    panic!("chunk 5");
                }
            },
            |_| Ok(()),
        );
    }
}
