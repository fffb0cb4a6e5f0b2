//! A safe row-major front to `gemm`, the matrix kernel dfdx's own matmul uses.

use gemm::Parallelism;

use super::avx512::{self, Strided};
use rayon::prelude::*;

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

/// Independent accumulators in [`dot`]: four 8-wide vectors, so consecutive multiply-adds do
/// not wait for each other (one vector of 8 made the loop latency-bound).
const DOT_LANES: usize = 32;

/// `sum(a[i] * b[i])` over [`DOT_LANES`] accumulators, so the compiler vectorises it;
/// `FUSED` uses fused multiply-adds (only where the CPU has them: see [`dot_products`]).
#[inline(always)]
fn dot<const FUSED: bool>(a: &[f32], b: &[f32]) -> f32 {
    let mut lanes = [0.0f32; DOT_LANES];
    let (a_chunks, b_chunks) = (a.chunks_exact(DOT_LANES), b.chunks_exact(DOT_LANES));
    let tail: f32 = a_chunks
        .remainder()
        .iter()
        .zip(b_chunks.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in a_chunks.zip(b_chunks) {
        for i in 0..DOT_LANES {
            lanes[i] = if FUSED {
                x[i].mul_add(y[i], lanes[i])
            } else {
                lanes[i] + x[i] * y[i]
            };
        }
    }
    lanes.iter().sum::<f32>() + tail
}

/// `dst (m x n) (+)= lhs · rhsᵀ` for row-major `lhs (m x k)` and `rhs (n x k)`: one dot
/// product per output. Uses AVX2 and FMA when the CPU has them (the build targets plain
/// x86-64, whose 4-wide SSE made the cnn's single-image Linear(1600, 128) 15% of a predict).
#[allow(clippy::too_many_arguments)]
fn dot_products(
    dst: &mut [f32],
    m: usize,
    n: usize,
    k: usize,
    lhs: &[f32],
    rhs: &[f32],
    accumulate: bool,
) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
        // SAFETY: the CPU supports both features the function is compiled for (checked above).
        unsafe { dot_products_avx2_fma(dst, m, n, k, lhs, rhs, accumulate) };
        return;
    }
    dot_products_with::<false>(dst, m, n, k, lhs, rhs, accumulate);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
#[allow(clippy::too_many_arguments)]
unsafe fn dot_products_avx2_fma(
    dst: &mut [f32],
    m: usize,
    n: usize,
    k: usize,
    lhs: &[f32],
    rhs: &[f32],
    accumulate: bool,
) {
    dot_products_with::<true>(dst, m, n, k, lhs, rhs, accumulate);
}

#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn dot_products_with<const FUSED: bool>(
    dst: &mut [f32],
    m: usize,
    n: usize,
    k: usize,
    lhs: &[f32],
    rhs: &[f32],
    accumulate: bool,
) {
    for i in 0..m {
        let row = &lhs[i * k..(i + 1) * k];
        for j in 0..n {
            let value = dot::<FUSED>(row, &rhs[j * k..(j + 1) * k]);
            let out = &mut dst[i * n + j];
            *out = if accumulate { *out + value } else { value };
        }
    }
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
        dot_products(dst, m, n, k, lhs, rhs, accumulate);
        return;
    }
    if wide_product(
        dst,
        (m, n, k),
        (lhs, lhs_layout),
        (rhs, rhs_layout),
        accumulate,
    ) {
        return;
    }
    let lhs = Operand::new(lhs, lhs_layout, m, k);
    let rhs = Operand::new(rhs, rhs_layout, k, n);
    let threads = thread_count();
    if threads < 2 || m * n * k < PARALLEL_MIN_MACS {
        // SAFETY: `dst` holds m x n values; `Operand::new` checked lhs and rhs.
        unsafe { gemm_block(dst.as_mut_ptr(), n, (m, n, k), lhs, rhs, accumulate) };
        return;
    }
    match Split::cheapest(m, n, k) {
        Split::Rows => {
            // Contiguous bands of dst rows, each with its band of lhs rows.
            let band = m.div_ceil(threads);
            dst[..m * n]
                .par_chunks_mut(band * n)
                .enumerate()
                .for_each(|(part, dst)| {
                    let rows = dst.len() / n;
                    let lhs = lhs.offset(part * band, 0);
                    // SAFETY: this band of dst is `rows x n`; the sub-operands stay inside
                    // the slices `Operand::new` checked.
                    unsafe { gemm_block(dst.as_mut_ptr(), n, (rows, n, k), lhs, rhs, accumulate) };
                });
        }
        Split::Columns => {
            let band = n.div_ceil(threads);
            let dst = SharedDst(dst.as_mut_ptr());
            (0..n.div_ceil(band)).into_par_iter().for_each(|part| {
                let first = part * band;
                let cols = band.min(n - first);
                let rhs = rhs.offset(0, first);
                // SAFETY: every part writes only its own columns first..first+cols of dst,
                // whose row stride stays n; no two parts touch the same element.
                unsafe { gemm_block(dst.at(first), n, (m, cols, k), lhs, rhs, accumulate) };
            });
        }
        Split::Depth => {
            // Each part multiplies one slice of the shared dimension; the first writes dst,
            // the others their own m x n buffers, summed into dst afterwards.
            let band = k.div_ceil(threads);
            let parts = k.div_ceil(band);
            let mut partials = vec![0.0f32; (parts - 1) * m * n];
            let dst = &mut dst[..m * n];
            rayon::join(
                || {
                    let depth = band.min(k);
                    // SAFETY: dst is m x n; the operands are sliced to the first `depth`.
                    unsafe { gemm_block(dst.as_mut_ptr(), n, (m, n, depth), lhs, rhs, accumulate) };
                },
                || {
                    partials
                        .par_chunks_mut(m * n)
                        .enumerate()
                        .for_each(|(index, partial)| {
                            let first = (index + 1) * band;
                            let depth = band.min(k - first);
                            let (lhs, rhs) = (lhs.offset(0, first), rhs.offset(first, 0));
                            // SAFETY: partial is m x n; the operands stay inside their slices.
                            unsafe {
                                gemm_block(partial.as_mut_ptr(), n, (m, n, depth), lhs, rhs, false)
                            };
                        });
                },
            );
            for partial in partials.chunks_exact(m * n) {
                for (d, p) in dst.iter_mut().zip(partial) {
                    *d += p;
                }
            }
        }
    }
}

/// The product on AVX-512 ([`avx512::product`]) where the CPU has it, the output's rows fill
/// whole registers and `rhs` is stored with its columns contiguous (or is small beside the
/// product, so a transposed copy costs little: a convolution's weights). False when it did
/// not run.
fn wide_product(
    dst: &mut [f32],
    (m, n, k): (usize, usize, usize),
    (lhs, lhs_layout): (&[f32], Layout),
    (rhs, rhs_layout): (&[f32], Layout),
    accumulate: bool,
) -> bool {
    if !n.is_multiple_of(avx512::LANES) || !avx512::available() {
        return false;
    }
    let a = match lhs_layout {
        Layout::AsIs => Strided {
            values: lhs,
            row_stride: k,
            depth_stride: 1,
        },
        Layout::Transposed => Strided {
            values: lhs,
            row_stride: 1,
            depth_stride: m,
        },
    };
    let threads = if m * n * k < PARALLEL_MIN_MACS {
        1
    } else {
        thread_count()
    };
    match rhs_layout {
        Layout::AsIs => avx512::product(dst, (m, n, k), a, rhs, accumulate, threads),
        Layout::Transposed if m >= TRANSPOSED_RHS_MIN_ROWS => {
            let mut columns = vec![0.0f32; k * n];
            for (j, row) in rhs[..n * k].chunks_exact(k).enumerate() {
                for (p, &value) in row.iter().enumerate() {
                    columns[p * n + j] = value;
                }
            }
            avx512::product(dst, (m, n, k), a, &columns, accumulate, threads)
        }
        Layout::Transposed => false,
    }
}

/// Rows of the output from which transposing a stored-transposed `rhs` pays (a convolution
/// has thousands; a Linear layer's batch of 32 does not, and its weight is large).
const TRANSPOSED_RHS_MIN_ROWS: usize = 256;

/// Which dimension of a product is divided between threads. Each choice makes the threads
/// repeat some work: dividing the rows makes every thread pack all of rhs (k x n), dividing
/// the columns all of lhs (m x k), dividing the shared dimension costs an m x n partial
/// result to add up. The cheapest wins; in all three every thread runs one serial gemm, so
/// a product costs one fork-join instead of gemm's own two per block of k.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Split {
    Rows,
    Columns,
    Depth,
}

impl Split {
    fn cheapest(m: usize, n: usize, k: usize) -> Self {
        let (rows, columns, depth) = (k * n, m * k, m * n);
        if depth <= rows && depth <= columns {
            Self::Depth
        } else if rows <= columns {
            Self::Rows
        } else {
            Self::Columns
        }
    }
}

/// A read-only matrix operand: element `(i, j)` at `ptr + i * row_stride + j * col_stride`.
#[derive(Clone, Copy)]
struct Operand {
    ptr: *const f32,
    row_stride: usize,
    col_stride: usize,
}

// SAFETY: an Operand only reads through `ptr`, which points into a `&[f32]` borrowed for
// the whole `matmul` call.
unsafe impl Send for Operand {}
// SAFETY: as for Send: shared access only ever reads.
unsafe impl Sync for Operand {}

impl Operand {
    /// The `rows x cols` matrix `values` holds in `layout`; the caller checked its length.
    fn new(values: &[f32], layout: Layout, rows: usize, cols: usize) -> Self {
        let (row_stride, col_stride) = match layout {
            Layout::AsIs => (cols, 1),
            Layout::Transposed => (1, rows),
        };
        Self {
            ptr: values.as_ptr(),
            row_stride,
            col_stride,
        }
    }

    /// The sub-matrix starting at `(row, col)`.
    fn offset(self, row: usize, col: usize) -> Self {
        Self {
            ptr: self
                .ptr
                .wrapping_add(row * self.row_stride + col * self.col_stride),
            ..self
        }
    }
}

/// The destination shared by the parts of a column split, which write disjoint columns.
#[derive(Clone, Copy)]
struct SharedDst(*mut f32);

// SAFETY: see the column split: the parts write disjoint elements.
unsafe impl Send for SharedDst {}
// SAFETY: as for Send: each thread writes only its own disjoint elements.
unsafe impl Sync for SharedDst {}

impl SharedDst {
    fn at(self, offset: usize) -> *mut f32 {
        self.0.wrapping_add(offset)
    }
}

/// One serial gemm: `dst (m x n, row stride dst_row_stride) (+)= lhs · rhs`.
///
/// # Safety
/// `dst` must be valid for writes of every `(i, j)` with `i < m`, `j < n`, at
/// `i * dst_row_stride + j`, and no other thread may access those elements; `lhs` and `rhs`
/// must be valid for reads of their `m x k` and `k x n` elements.
unsafe fn gemm_block(
    dst: *mut f32,
    dst_row_stride: usize,
    (m, n, k): (usize, usize, usize),
    lhs: Operand,
    rhs: Operand,
    accumulate: bool,
) {
    if m == 0 || n == 0 || k == 0 {
        return;
    }
    gemm::gemm(
        m,
        n,
        k,
        dst,
        1,
        dst_row_stride as isize,
        accumulate,
        lhs.ptr,
        lhs.col_stride as isize,
        lhs.row_stride as isize,
        rhs.ptr,
        rhs.col_stride as isize,
        rhs.row_stride as isize,
        1.0,
        1.0,
        false,
        false,
        false,
        Parallelism::None,
    );
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
                        f64::from(x) * f64::from(y)
                    })
                    .sum::<f64>() as f32;
            }
        }
        out
    }

    #[test]
    fn products_large_enough_to_split_match_the_naive_product() {
        // One shape per way of dividing the work, with bands that do not divide evenly.
        for ((m, n, k), split) in [
            ((3871, 64, 33), Split::Rows),
            ((17, 7999, 61), Split::Columns),
            ((32, 9, 21631), Split::Depth),
        ] {
            assert_eq!(Split::cheapest(m, n, k), split);
            assert!(m * n * k >= PARALLEL_MIN_MACS);
            let a = pseudo_random(m * k, 3);
            let b = pseudo_random(k * n, 4);
            for (a_t, b_t) in [(false, false), (true, true)] {
                let layout = |t| if t { Layout::Transposed } else { Layout::AsIs };
                let expected = naive(m, n, k, &a, a_t, &b, b_t);
                let mut out = vec![f32::NAN; m * n];
                matmul(&mut out, m, n, k, &a, layout(a_t), &b, layout(b_t), false);
                assert_all_close(&out, &expected, 1e-4);
                matmul(&mut out, m, n, k, &a, layout(a_t), &b, layout(b_t), true);
                let twice: Vec<f32> = expected.iter().map(|v| 2.0 * v).collect();
                assert_all_close(&out, &twice, 1e-4);
            }
        }
    }

    #[test]
    fn both_dot_product_kernels_match_the_naive_product() {
        // Whichever one this CPU dispatches to, the other is checked too (`mul_add` is exact
        // without FMA hardware, only slower). k covers whole lane blocks and a tail.
        for (m, n, k) in [(1, 7, 3), (2, 5, 32), (4, 3, 101)] {
            let a = pseudo_random(m * k, 5);
            let b = pseudo_random(n * k, 6);
            let expected = naive(m, n, k, &a, false, &b, true);
            let mut plain = vec![0.0; m * n];
            dot_products_with::<false>(&mut plain, m, n, k, &a, &b, false);
            assert_all_close(&plain, &expected, 1e-5);
            let mut fused = vec![0.0; m * n];
            dot_products_with::<true>(&mut fused, m, n, k, &a, &b, false);
            assert_all_close(&fused, &expected, 1e-5);
        }
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
