//! `layerlab augment-preview`: draws training images beside the augmented copies a run with
//! the same seed would train on.

use anyhow::Context;
use layerlab::data::{preview_grid, preview_images, Augmentation};
use layerlab::train::{check_augmentation, image_shape};

use super::args::AugmentPreviewArgs;

/// Rows and copies at most, so the picture stays a picture.
const MAX_IMAGES: usize = 64;
const MAX_COPIES: usize = 32;

pub fn run(args: AugmentPreviewArgs) -> anyhow::Result<()> {
    let augmentation =
        Augmentation::parse(&args.augment).map_err(|why| anyhow::anyhow!("--augment: {why}"))?;
    if !(1..=MAX_IMAGES).contains(&args.images) || !(1..=MAX_COPIES).contains(&args.copies) {
        anyhow::bail!("--images goes from 1 to {MAX_IMAGES} and --copies from 1 to {MAX_COPIES}");
    }
    let loaded = args.data.load(false)?;
    let dataset = loaded.dataset;
    check_augmentation(&augmentation, &dataset)?;
    let shape = image_shape(&dataset).context("not an image dataset")?;
    let (indices, images) = preview_images(&dataset.train, args.seed, args.images);
    let grid = preview_grid(
        &augmentation,
        shape,
        &images,
        &indices,
        args.copies,
        args.seed,
    );
    grid.save(&args.out)
        .with_context(|| format!("cannot write {}", args.out.display()))?;
    outln!(
        "wrote {} ({} images, {} copies each: {})",
        args.out.display(),
        images.len(),
        args.copies,
        augmentation.describe()
    );
    Ok(())
}
