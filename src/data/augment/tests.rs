use rand::SeedableRng;

use super::*;

/// A 5x5 picture whose every pixel differs, in (0, 1].
fn numbered(side: usize) -> Vec<f32> {
    (0..side * side)
        .map(|i| (i + 1) as f32 / (side * side) as f32)
        .collect()
}

const GREY: fn(usize) -> ImageShape = |side| ImageShape {
    channels: 1,
    height: side,
    width: side,
};

#[test]
fn a_rotation_by_90_degrees_moves_every_pixel_where_it_belongs() {
    let side = 5;
    let image = numbered(side);
    let mut out = vec![0.0; image.len()];
    let quarter = Affine {
        degrees: 90.0,
        ..Affine::IDENTITY
    };
    warp(&image, 1, side, side, &quarter, &mut out);
    for row in 0..side {
        for column in 0..side {
            let expected = image[column * side + (side - 1 - row)];
            let got = out[row * side + column];
            assert!(
                (got - expected).abs() < 1e-5,
                "({row}, {column}): {got} against {expected}"
            );
        }
    }
    // The identity leaves the picture as it is; a shift by a whole pixel moves it by one
    // and brings in black.
    warp(&image, 1, side, side, &Affine::IDENTITY, &mut out);
    assert_eq!(out, image);
    let one_pixel = Affine {
        translate: [1.0 / side as f32, 0.0],
        ..Affine::IDENTITY
    };
    warp(&image, 1, side, side, &one_pixel, &mut out);
    for row in 0..side {
        assert!((out[row * side] - image[row * side + 1]).abs() < 1e-6);
        assert!(out[row * side + side - 1].abs() < 1e-6);
    }
}

#[test]
fn erasing_zeroes_exactly_the_drawn_rectangle_within_torchvisions_ranges() {
    let mut rng = SmallRng::seed_from_u64(3);
    for _ in 0..200 {
        let mut image = vec![1.0; 28 * 28];
        let Some((top, left, h, w)) = draw_rectangle(&mut rng, 28, 28, [0.02, 0.33], [0.3, 3.3])
        else {
            continue;
        };
        assert!(top + h <= 28 && left + w <= 28);
        erase(&mut image, 1, 28, 28, (top, left, h, w));
        let zeros: Vec<usize> = (0..image.len()).filter(|&i| image[i] == 0.0).collect();
        assert_eq!(zeros.len(), h * w);
        assert!(zeros
            .iter()
            .all(|&i| (top..top + h).contains(&(i / 28)) && (left..left + w).contains(&(i % 28))));
        // Its share of the area, within rounding of each side.
        let share = (h * w) as f32 / 784.0;
        assert!(share > 0.01 && share < 0.42, "{share}");
    }
}

#[test]
fn each_sample_is_augmented_the_same_way_wherever_it_is_and_otherwise_each_epoch() {
    let augmentation = Augmentation::parse(
        "rotate=15,translate=0.1,scale=0.1,shear=5,elastic=8,noise=0.05,erase=0.5",
    )
    .unwrap();
    let shape = GREY(28);
    let batch: Vec<f32> = (0..3).flat_map(|_| numbered(28)).collect();
    let run = |epoch: usize, indices: &[u32]| {
        let mut inputs = batch.clone();
        augmentation.apply_batch(&mut inputs, shape, 7, epoch, indices);
        inputs
    };
    let first = run(0, &[10, 11, 12]);
    assert_eq!(first, run(0, &[10, 11, 12]));
    // Sample 12 in another place of another batch: the same pixels.
    let moved = run(0, &[12, 99, 5]);
    assert_eq!(moved[..784], first[784 * 2..]);
    assert_ne!(run(1, &[10, 11, 12]), first, "another epoch, other draws");
    assert_ne!(first[..784], batch[..784]);
    assert!(first.iter().all(|p| (0.0..=1.0).contains(p)));
}

#[test]
fn a_flip_mirrors_or_leaves_the_picture_and_nothing_on_changes_nothing() {
    let flip = Augmentation::parse("flip").unwrap();
    let image = numbered(4);
    let mirrored: Vec<f32> = image
        .chunks(4)
        .flat_map(|r| r.iter().rev().copied())
        .collect();
    let mut seen = (false, false);
    for index in 0..20 {
        let mut copy = image.clone();
        let draw = SampleDraw {
            seed: 0,
            epoch: 0,
            index,
        };
        flip.apply(&mut copy, GREY(4), draw, &mut Vec::new());
        if copy == image {
            seen.0 = true;
        } else {
            assert_eq!(copy, mirrored);
            seen.1 = true;
        }
    }
    assert_eq!(seen, (true, true));
    let none = Augmentation::default();
    assert!(!none.is_active());
    let mut copy = image.clone();
    none.apply(
        &mut copy,
        GREY(4),
        SampleDraw {
            seed: 0,
            epoch: 0,
            index: 0,
        },
        &mut Vec::new(),
    );
    assert_eq!(copy, image);
}

#[test]
fn the_augment_option_parses_and_refuses_what_makes_no_sense() {
    let parsed =
        Augmentation::parse("rotate=10, translate=0.1,scale=0.1,erase=0.25,elastic=34").unwrap();
    assert_eq!(parsed.rotate, 10.0);
    assert_eq!(parsed.elastic_alpha, 34.0);
    assert_eq!(
        parsed.describe(),
        "rotate=10,translate=0.1,scale=0.1,elastic=34,erase=0.25,elastic_sigma=4"
    );
    assert_eq!(Augmentation::parse(&parsed.describe()).unwrap(), parsed);
    let none = Augmentation::default();
    assert_eq!(Augmentation::parse(&none.describe()).unwrap(), none);
    for (bad, why) in [
        ("rotate", "rotate needs a number"),
        ("rotate=x", "rotate needs a number"),
        ("spin=3", "unknown augmentation \"spin\""),
        ("translate=2", "translate must be between 0 and 0.5"),
        ("erase=NaN", "erase needs a number"),
        ("flip=maybe", "flip is on or off"),
    ] {
        let error = Augmentation::parse(bad).unwrap_err();
        assert!(error.0.contains(why), "{bad}: {error}");
    }
}

#[test]
fn elastic_distortion_moves_ink_a_little_and_keeps_it_in_the_picture() {
    let mut digit = vec![0.0; 28 * 28];
    for row in 6..22 {
        digit[row * 28 + 13] = 1.0;
        digit[row * 28 + 14] = 1.0;
    }
    let elastic = Augmentation::parse("elastic=34").unwrap();
    let mut copy = digit.clone();
    elastic.apply(
        &mut copy,
        GREY(28),
        SampleDraw {
            seed: 1,
            epoch: 0,
            index: 0,
        },
        &mut Vec::new(),
    );
    assert_ne!(copy, digit);
    let (before, after): (f32, f32) = (digit.iter().sum(), copy.iter().sum());
    assert!(
        (after - before).abs() < 0.35 * before,
        "{before} -> {after}"
    );
}
