//! Matrix products for CPUs with AVX-512, 16 floats per register.
//!
//! `gemm` (the crate dfdx multiplies with) stops at AVX2 on stable Rust: its AVX-512 kernels
//! sit behind its `nightly` feature. The products of the convolutions are the bulk of a cnn
//! step and all have one operand whose rows are contiguous in the output's columns, so one
//! broadcast kernel covers them without packing: for each step `p` of the shared dimension
//! it loads `NR` registers of row `p` of `b` and, for each of `MR` output rows, broadcasts
//! `a(i, p)` and multiplies-adds it into `NR` accumulators. `a` is read through two strides,
//! so the same kernel serves `a` stored as is (rows) and transposed (the weight gradient's
//! `gradientᵀ · columns`). The output's `MR x 16*NR` block stays in registers over a block of
//! the shared dimension ([`DEPTH_BLOCK`]) and goes to memory once per block.
//!
//! Sums run in a fixed order whatever the thread count's split, so training stays
//! reproducible; they differ from `gemm`'s order by float rounding only.

#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::{
    __m512, _mm512_fmadd_ps, _mm512_loadu_ps, _mm512_set1_ps, _mm512_setzero_ps, _mm512_storeu_ps,
};

use rayon::prelude::*;

/// Floats per register.
pub(crate) const LANES: usize = 16;
/// Steps of the shared dimension between two trips of the output block to memory: a strip of
/// `b` four registers wide over 128 steps is 32 KB and stays in L1 while every row tile
/// reads it (a weight gradient's 3,872-step product streamed it from L2: 118 against 126
/// GFLOP/s on one core with 256).
const DEPTH_BLOCK: usize = 128;

/// Whether this CPU runs the kernels here.
pub(crate) fn available() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        static AVAILABLE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
        *AVAILABLE.get_or_init(|| std::arch::is_x86_feature_detected!("avx512f"))
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// `a(i, p) = a[i * row_stride + p * depth_stride]`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Strided<'a> {
    pub values: &'a [f32],
    pub row_stride: usize,
    pub depth_stride: usize,
}

/// `dst (m x n, row-major) (+)= a (m x k) · b (k x n)` with `b` row-major (`b[p * n + j]`),
/// `n` a multiple of [`LANES`]. Splits the rows (or, when they are few, the columns) of
/// `dst` between `threads`. Returns false, doing nothing, when the CPU lacks AVX-512.
///
/// Panics when a buffer is shorter than its shape needs.
#[allow(clippy::too_many_arguments)]
pub(crate) fn product(
    dst: &mut [f32],
    (m, n, k): (usize, usize, usize),
    a: Strided<'_>,
    b: &[f32],
    accumulate: bool,
    threads: usize,
) -> bool {
    if !available() {
        return false;
    }
    assert!(n.is_multiple_of(LANES), "columns must fill whole registers");
    assert!(dst.len() >= m * n && b.len() >= k * n, "product shapes");
    if m == 0 || n == 0 {
        return true;
    }
    if k > 0 {
        let last = (m - 1) * a.row_stride + (k - 1) * a.depth_stride;
        assert!(last < a.values.len(), "product shapes");
    }
    let dst = &mut dst[..m * n];
    let whole = Block {
        rows: 0..m,
        cols: 0..n,
        n,
        k,
    };
    if threads < 2 {
        // SAFETY: the checks above bound every index the block reads and writes.
        unsafe { whole.run(dst.as_mut_ptr(), a, b, accumulate) };
        return true;
    }
    if m >= 48 * threads {
        let band = m.div_ceil(threads);
        dst.par_chunks_mut(band * n)
            .enumerate()
            .for_each(|(part, dst)| {
                let first = part * band;
                let block = Block {
                    rows: first..first + dst.len() / n,
                    ..whole.clone()
                };
                let dst = dst.as_mut_ptr().wrapping_sub(first * n);
                // SAFETY: this part writes only rows `first..` of dst, which its chunk holds
                // (the pointer is moved back so that row indices stay global).
                unsafe { block.run(dst, a, b, accumulate) };
            });
    } else {
        let registers = n / LANES;
        let band = registers.div_ceil(threads) * LANES;
        let shared = SharedDst(dst.as_mut_ptr());
        (0..n.div_ceil(band)).into_par_iter().for_each(|part| {
            let first = part * band;
            let block = Block {
                cols: first..(first + band).min(n),
                ..whole.clone()
            };
            // SAFETY: every part writes only its own columns of dst.
            unsafe { block.run(shared.get(), a, b, accumulate) };
        });
    }
    true
}

#[derive(Clone, Copy)]
struct SharedDst(*mut f32);
// SAFETY: the parts that share it write disjoint elements (see `product`).
unsafe impl Send for SharedDst {}
// SAFETY: as for Send.
unsafe impl Sync for SharedDst {}

impl SharedDst {
    fn get(self) -> *mut f32 {
        self.0
    }
}

/// Rows and columns of `dst` one thread computes, over the whole shared dimension `k`.
#[derive(Clone, Debug)]
struct Block {
    rows: std::ops::Range<usize>,
    cols: std::ops::Range<usize>,
    /// Row stride of dst and b.
    n: usize,
    k: usize,
}

impl Block {
    /// SAFETY: `dst` must be valid for rows `self.rows` (global indices, stride `n`), and
    /// `a`, `b` must hold every element the product reads (checked in `product`).
    unsafe fn run(&self, dst: *mut f32, a: Strided<'_>, b: &[f32], accumulate: bool) {
        #[cfg(target_arch = "x86_64")]
        {
            // SAFETY: `product` checked the CPU has AVX-512; the caller's bounds hold.
            unsafe { self.run_avx512(dst, a, b, accumulate) }
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            let _ = (dst, a, b, accumulate);
        }
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f")]
    unsafe fn run_avx512(&self, dst: *mut f32, a: Strided<'_>, b: &[f32], accumulate: bool) {
        let blocks = self.k.div_ceil(DEPTH_BLOCK).max(1);
        let depth = self.k.div_ceil(blocks);
        let mut p0 = 0;
        loop {
            let len = depth.min(self.k - p0);
            let add = accumulate || p0 > 0;
            // Strips of even width (3+3+3 registers rather than 4+4+1, whose last strip
            // loads one register per dozen broadcasts).
            let total = (self.cols.end - self.cols.start) / LANES;
            let width = total.div_ceil(total.div_ceil(4).max(1)).max(1);
            let mut j = self.cols.start;
            while j < self.cols.end {
                let registers = ((self.cols.end - j) / LANES).min(width);
                // SAFETY: the columns j..j+16*registers lie inside the block's.
                unsafe {
                    match registers {
                        4 => self.column_strip::<4>(dst, a, b, j, p0, len, add),
                        3 => self.column_strip::<3>(dst, a, b, j, p0, len, add),
                        2 => self.column_strip::<2>(dst, a, b, j, p0, len, add),
                        _ => self.column_strip::<1>(dst, a, b, j, p0, len, add),
                    }
                }
                j += registers * LANES;
            }
            p0 += len;
            if p0 >= self.k {
                break;
            }
        }
    }

    /// All the block's rows for the `16*NR` columns from `j`, steps `p0..p0+len`.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f")]
    #[allow(clippy::too_many_arguments)]
    unsafe fn column_strip<const NR: usize>(
        &self,
        dst: *mut f32,
        a: Strided<'_>,
        b: &[f32],
        j: usize,
        p0: usize,
        len: usize,
        add: bool,
    ) {
        let tall = if NR <= 2 { 12 } else { 6 };
        let mut i = self.rows.start;
        while i < self.rows.end {
            let rows = (self.rows.end - i).min(tall);
            let tile = Tile {
                a: a.values
                    .as_ptr()
                    .wrapping_add(i * a.row_stride + p0 * a.depth_stride),
                row_stride: a.row_stride,
                depth_stride: a.depth_stride,
                b: b.as_ptr().wrapping_add(p0 * self.n + j),
                ldb: self.n,
                c: dst.wrapping_add(i * self.n + j),
                ldc: self.n,
                len,
                add,
            };
            // SAFETY: rows i..i+rows and the strip's columns are inside the block; steps
            // p0..p0+len inside k.
            unsafe {
                match rows {
                    12 => tile.run::<12, NR>(),
                    6..=11 => {
                        tile.run::<6, NR>();
                        i += 6;
                        continue;
                    }
                    5 => tile.run::<5, NR>(),
                    4 => tile.run::<4, NR>(),
                    3 => tile.run::<3, NR>(),
                    2 => tile.run::<2, NR>(),
                    _ => tile.run::<1, NR>(),
                }
            }
            i += rows;
        }
    }
}

/// One `MR x 16*NR` block of the output over `len` steps.
struct Tile {
    a: *const f32,
    row_stride: usize,
    depth_stride: usize,
    b: *const f32,
    ldb: usize,
    c: *mut f32,
    ldc: usize,
    len: usize,
    add: bool,
}

impl Tile {
    /// SAFETY: every `a`, `b`, `c` element the tile names must be valid (see `Block::run`),
    /// and the CPU must have AVX-512F.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f")]
    #[inline]
    unsafe fn run<const MR: usize, const NR: usize>(&self) {
        // SAFETY: the caller guarantees every element the tile reads and writes is valid.
        unsafe {
            let mut acc: [[__m512; NR]; MR] = [[_mm512_setzero_ps(); NR]; MR];
            if self.add {
                for (i, row) in acc.iter_mut().enumerate() {
                    for (r, value) in row.iter_mut().enumerate() {
                        *value = _mm512_loadu_ps(self.c.add(i * self.ldc + r * LANES));
                    }
                }
            }
            let (mut a, mut b) = (self.a, self.b);
            for _ in 0..self.len {
                let mut column = [_mm512_setzero_ps(); NR];
                for (r, value) in column.iter_mut().enumerate() {
                    *value = _mm512_loadu_ps(b.add(r * LANES));
                }
                for (i, row) in acc.iter_mut().enumerate() {
                    let broadcast = _mm512_set1_ps(*a.add(i * self.row_stride));
                    for (value, bv) in row.iter_mut().zip(&column) {
                        *value = _mm512_fmadd_ps(broadcast, *bv, *value);
                    }
                }
                a = a.add(self.depth_stride);
                b = b.add(self.ldb);
            }
            for (i, row) in acc.iter().enumerate() {
                for (r, value) in row.iter().enumerate() {
                    _mm512_storeu_ps(self.c.add(i * self.ldc + r * LANES), *value);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::testing::{assert_all_close, pseudo_random};

    fn naive(m: usize, n: usize, k: usize, a: Strided<'_>, b: &[f32], start: &[f32]) -> Vec<f32> {
        let mut out = start.to_vec();
        for i in 0..m {
            for j in 0..n {
                let mut sum = f64::from(out[i * n + j]);
                for p in 0..k {
                    let x = a.values[i * a.row_stride + p * a.depth_stride];
                    sum += f64::from(x) * f64::from(b[p * n + j]);
                }
                out[i * n + j] = sum as f32;
            }
        }
        out
    }

    #[test]
    fn products_of_every_tile_shape_match_a_plain_loop() {
        if !available() {
            return;
        }
        // Rows that leave every remainder, columns of 1 to 5 registers, depths across blocks.
        for &(m, n, k) in &[
            (1, 16, 1),
            (7, 48, 3),
            (25, 80, 300),
            (13, 32, 9),
            (100, 64, 520),
        ] {
            for transposed in [false, true] {
                for threads in [1, 2] {
                    let values = pseudo_random(m * k, 1);
                    let a = if transposed {
                        Strided {
                            values: &values,
                            row_stride: 1,
                            depth_stride: m,
                        }
                    } else {
                        Strided {
                            values: &values,
                            row_stride: k,
                            depth_stride: 1,
                        }
                    };
                    let b = pseudo_random(k * n, 2);
                    let start = pseudo_random(m * n, 3);
                    for accumulate in [false, true] {
                        let mut dst = start.clone();
                        assert!(product(&mut dst, (m, n, k), a, &b, accumulate, threads));
                        let from = if accumulate {
                            start.clone()
                        } else {
                            vec![0.0; m * n]
                        };
                        let expected = naive(m, n, k, a, &b, &from);
                        assert_all_close(&dst, &expected, 1e-4);
                    }
                }
            }
        }
    }

    #[test]
    fn the_split_between_threads_does_not_change_a_single_bit() {
        if !available() {
            return;
        }
        let (m, n, k) = (200, 64, 700);
        let values = pseudo_random(m * k, 4);
        let a = Strided {
            values: &values,
            row_stride: k,
            depth_stride: 1,
        };
        let b = pseudo_random(k * n, 5);
        let mut one = vec![0.0; m * n];
        let mut two = vec![0.0; m * n];
        assert!(product(&mut one, (m, n, k), a, &b, false, 1));
        assert!(product(&mut two, (m, n, k), a, &b, false, 2));
        assert_eq!(one, two);
    }
}
