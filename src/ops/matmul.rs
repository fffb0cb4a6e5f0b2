//! A safe row-major front to `gemm`, the matrix kernel dfdx's own matmul uses.

use gemm::Parallelism;

/// Below this many multiply-adds a product runs on one thread: waking the pool costs more
/// than it saves (measured on single-image cnn inference: 292 us with 2^18, 180 us with 2^22).
const PARALLEL_MIN_MACS: usize = 1 << 22;
/// Up to this many rows times a row-major weight, plain dot products beat gemm, which would
/// pack the whole weight matrix first (a single-image Linear(784, 128) packs 400 KB per call).
const DOT_PRODUCT_MAX_ROWS: usize = 4;

fn thread_count() -> usize {
    static THREADS: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *THREADS.get_or_init(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    })
}

/// `sum(a[i] * b[i])` with eight independent accumulators, so the compiler vectorises it.
#[inline]
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut lanes = [0.0f32; 8];
    let (a_chunks, b_chunks) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = a_chunks
        .remainder()
        .iter()
        .zip(b_chunks.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in a_chunks.zip(b_chunks) {
        for i in 0..8 {
            lanes[i] += x[i] * y[i];
        }
    }
    lanes.iter().sum::<f32>() + tail
}

/// How a logical matrix is stored in its row-major buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// Stored as is: element `(i, j)` of an `r x c` matrix at `i * c + j`.
    AsIs,
    /// Stored transposed: element `(i, j)` at `j * r + i`.
    Transposed,
}

/// `dst (m x n) = lhs (m x k) · rhs (k x n)`, or `dst += ...` when `accumulate`.
/// All buffers are row-major; panics if a buffer is shorter than its shape needs.
#[allow(clippy::too_many_arguments)]
pub fn matmul(
    dst: &mut [f32],
    m: usize,
    n: usize,
    k: usize,
    lhs: &[f32],
    lhs_layout: Layout,
    rhs: &[f32],
    rhs_layout: Layout,
    accumulate: bool,
) {
    assert!(
        dst.len() >= m * n && lhs.len() >= m * k && rhs.len() >= k * n,
        "matmul shapes"
    );
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !accumulate {
            dst[..m * n].fill(0.0);
        }
        return;
    }
    if m <= DOT_PRODUCT_MAX_ROWS && lhs_layout == Layout::AsIs && rhs_layout == Layout::Transposed {
        // Row i of lhs and row j of the stored rhs are both contiguous k-vectors.
        for i in 0..m {
            let row = &lhs[i * k..(i + 1) * k];
            for j in 0..n {
                let value = dot(row, &rhs[j * k..(j + 1) * k]);
                let out = &mut dst[i * n + j];
                *out = if accumulate { *out + value } else { value };
            }
        }
        return;
    }
    // (row stride, column stride) of each operand.
    let (lhs_rs, lhs_cs) = match lhs_layout {
        Layout::AsIs => (k as isize, 1),
        Layout::Transposed => (1, m as isize),
    };
    let (rhs_rs, rhs_cs) = match rhs_layout {
        Layout::AsIs => (n as isize, 1),
        Layout::Transposed => (1, k as isize),
    };
    let parallelism = if m * n * k >= PARALLEL_MIN_MACS {
        Parallelism::Rayon(thread_count())
    } else {
        Parallelism::None
    };
    // SAFETY: the assert above keeps every index gemm computes from these strides inside
    // the slices; dst does not alias lhs or rhs (one is &mut, the others &).
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            1,
            n as isize,
            accumulate,
            lhs.as_ptr(),
            lhs_cs,
            lhs_rs,
            rhs.as_ptr(),
            rhs_cs,
            rhs_rs,
            1.0,
            1.0,
            false,
            false,
            false,
            parallelism,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::testing::{assert_all_close, pseudo_random};

    fn naive(m: usize, n: usize, k: usize, a: &[f32], a_t: bool, b: &[f32], b_t: bool) -> Vec<f32> {
        let mut out = vec![0.0; m * n];
        for i in 0..m {
            for j in 0..n {
                out[i * n + j] = (0..k)
                    .map(|p| {
                        let x = if a_t { a[p * m + i] } else { a[i * k + p] };
                        let y = if b_t { b[j * k + p] } else { b[p * n + j] };
                        x * y
                    })
                    .sum();
            }
        }
        out
    }

    #[test]
    fn every_layout_and_accumulation_matches_the_naive_product() {
        for (m, n, k) in [
            (1, 1, 1),
            (1, 20, 37),
            (3, 5, 7),
            (64, 33, 17),
            (130, 70, 90),
            (200, 160, 140),
        ] {
            let a = pseudo_random(m * k, 1);
            let b = pseudo_random(k * n, 2);
            for (a_t, b_t) in [(false, false), (true, false), (false, true), (true, true)] {
                let layout = |t| if t { Layout::Transposed } else { Layout::AsIs };
                let mut out = vec![1.0; m * n];
                matmul(&mut out, m, n, k, &a, layout(a_t), &b, layout(b_t), false);
                assert_all_close(&out, &naive(m, n, k, &a, a_t, &b, b_t), 1e-5);
                matmul(&mut out, m, n, k, &a, layout(a_t), &b, layout(b_t), true);
                let twice: Vec<f32> = naive(m, n, k, &a, a_t, &b, b_t)
                    .iter()
                    .map(|v| 2.0 * v)
                    .collect();
                assert_all_close(&out, &twice, 1e-5);
            }
        }
    }
}
