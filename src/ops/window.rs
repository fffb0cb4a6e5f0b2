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

    /// Input coordinate of window offset `k` at output position `o`, or `None` in the padding.
    #[inline]
    pub(crate) fn source(&self, o: usize, k: usize, extent: usize) -> Option<usize> {
        (o * self.stride + k)
            .checked_sub(self.padding)
            .filter(|&i| i < extent)
    }
}
