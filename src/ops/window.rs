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
        self.batch * self.height * self.width * self.channels
    }

    /// Input coordinate of window offset `k` at output position `o`, or `None` in the padding.
    #[inline]
    pub(crate) fn source(&self, o: usize, k: usize, extent: usize) -> Option<usize> {
        (o * self.stride + k)
            .checked_sub(self.padding)
            .filter(|&i| i < extent)
    }
}
