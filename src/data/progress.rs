//! How far a load has got, for a progress bar. A driver that wants to know (the window's
//! import) runs the load inside [`LoadProgress::run`]; the loaders on that thread add the
//! work they expect ([`expect`]) and what they have done ([`advance`]): bytes of a file,
//! images of a folder. Without a driver both cost a thread-local read.

use std::cell::RefCell;
use std::io::Read;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

thread_local! {
    static CURRENT: RefCell<Option<LoadProgress>> = const { RefCell::new(None) };
}

/// Work done and expected, shared between the loading thread and whoever draws the bar.
#[derive(Clone, Debug, Default)]
pub struct LoadProgress {
    counts: Arc<[AtomicU64; 2]>,
}

impl LoadProgress {
    /// Runs `work` (a load) on this thread, its loaders reporting here.
    pub fn run<T>(&self, work: impl FnOnce() -> T) -> T {
        let previous = CURRENT.with(|current| current.replace(Some(self.clone())));
        let result = work();
        CURRENT.with(|current| *current.borrow_mut() = previous);
        result
    }

    /// The share done, once the loaders have said what to expect.
    pub fn fraction(&self) -> Option<f32> {
        let (done, expected) = (
            self.counts[0].load(Ordering::Relaxed),
            self.counts[1].load(Ordering::Relaxed),
        );
        (expected > 0).then(|| (done as f64 / expected as f64).min(1.0) as f32)
    }
}

fn with_current(update: impl FnOnce(&LoadProgress)) {
    CURRENT.with(|current| {
        if let Some(progress) = current.borrow().as_ref() {
            update(progress);
        }
    });
}

/// The load on this thread will also do `units` of work.
pub fn expect(units: u64) {
    with_current(|p| {
        p.counts[1].fetch_add(units, Ordering::Relaxed);
    });
}

/// `units` more of the expected work are done.
pub fn advance(units: u64) {
    with_current(|p| {
        p.counts[0].fetch_add(units, Ordering::Relaxed);
    });
}

/// A reader that reports the bytes read through it as progress.
pub struct CountingReader<R> {
    inner: R,
}

impl<R> CountingReader<R> {
    /// Reads `inner`, a file of `len` bytes (expected as work).
    pub fn new(inner: R, len: u64) -> Self {
        expect(len);
        Self { inner }
    }
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let read = self.inner.read(buf)?;
        advance(read as u64);
        Ok(read)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_load_reports_into_the_progress_it_runs_in_and_nowhere_else() {
        let progress = LoadProgress::default();
        assert_eq!(progress.fraction(), None);
        advance(5); // no driver: ignored
        let read = progress.run(|| {
            let mut reader = CountingReader::new(&[7u8; 100][..], 100);
            let mut first = [0u8; 40];
            reader.read_exact(&mut first).unwrap();
            assert_eq!(progress.fraction(), Some(0.4));
            let mut rest = Vec::new();
            reader.read_to_end(&mut rest).unwrap();
            rest.len()
        });
        assert_eq!(read, 60);
        assert_eq!(progress.fraction(), Some(1.0));
        advance(50); // after the run: not counted
        assert_eq!(progress.fraction(), Some(1.0));
        // Another thread's load does not count either.
        std::thread::Builder::new()
            .name("other-load".into())
            .spawn(|| advance(10))
            .unwrap()
            .join()
            .unwrap();
        assert_eq!(progress.fraction(), Some(1.0));
    }

    #[test]
    fn reading_a_csv_or_an_idx_file_counts_its_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let csv = dir.path().join("rows.csv");
        std::fs::write(&csv, "a,b\n1,2\n3,4\n").unwrap();
        let progress = LoadProgress::default();
        let table = progress.run(|| crate::data::RawTable::read(&csv)).unwrap();
        assert_eq!(table.row_count(), 2);
        assert_eq!(progress.fraction(), Some(1.0));

        let idx = dir.path().join("t10k-labels-idx1-ubyte");
        std::fs::write(&idx, [0, 0, 8, 1, 0, 0, 0, 3, 7, 2, 1]).unwrap();
        let progress = LoadProgress::default();
        progress.run(|| crate::data::read_idx(&idx)).unwrap();
        assert_eq!(progress.fraction(), Some(1.0));
    }
}
