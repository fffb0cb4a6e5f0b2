//! The geometry shared by convolution and pooling windows.

/// A square window sliding over a batch of channels-last images.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    pub batch: usize,
    pub channels: usize,
    pub height: usize,
    pub width: usize,
    pub kernel: usize,
    pub stride: usize,
    pub padding: usize,
}

impl Window {
    /// Output rows (PyTorch's floor rule). Callers validate the geometry first.
    pub fn out_height(&self) -> usize {
        (self.height + 2 * self.padding - self.kernel) / self.stride + 1
    }

    pub fn out_width(&self) -> usize {
        (self.width + 2 * self.padding - self.kernel) / self.stride + 1
    }

    pub fn input_len(&self) -> usize {
        self.batch * self.image_len()
    }

    /// Values in one input image.
    pub fn image_len(&self) -> usize {
        self.height * self.width * self.channels
    }

    /// Output positions per image.
    pub fn out_pixels(&self) -> usize {
        self.out_height() * self.out_width()
    }

    /// The same window over a single image (kernels run one image per rayon task).
    pub fn one_image(&self) -> Self {
        Self { batch: 1, ..*self }
    }

    /// The output positions (of `out_extent`) whose window offset `k` lands inside an input
    /// of `extent`: those for which [`Window::source`] is `Some`.
    pub(crate) fn inside(
        &self,
        k: usize,
        extent: usize,
        out_extent: usize,
    ) -> std::ops::Range<usize> {
        // o * stride + k - padding in [0, extent)
        let first = self.padding.saturating_sub(k).div_ceil(self.stride);
        let end = match (extent + self.padding).checked_sub(k + 1) {
            Some(last_start) => (last_start / self.stride + 1).min(out_extent),
            None => 0,
        };
        first..end.max(first)
    }

    /// Input coordinate of window offset `k` at output position `o`, or `None` in the padding.
    #[inline]
    pub(crate) fn source(&self, o: usize, k: usize, extent: usize) -> Option<usize> {
        (o * self.stride + k)
            .checked_sub(self.padding)
            .filter(|&i| i < extent)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inside_is_exactly_where_source_is_some() {
        for (extent, kernel, stride, padding) in [
            (5, 3, 1, 0),
            (6, 3, 2, 1),
            (4, 5, 3, 2),
            (7, 2, 1, 1),
            (3, 3, 1, 2),
        ] {
            let w = Window {
                batch: 1,
                channels: 1,
                height: extent,
                width: extent,
                kernel,
                stride,
                padding,
            };
            let out = w.out_width();
            for k in 0..kernel {
                let expected: Vec<usize> = (0..out)
                    .filter(|&o| w.source(o, k, extent).is_some())
                    .collect();
                let got: Vec<usize> = w.inside(k, extent, out).collect();
                assert_eq!(
                    got, expected,
                    "extent {extent} kernel {kernel} stride {stride} padding {padding} k {k}"
                );
            }
        }
    }
}
