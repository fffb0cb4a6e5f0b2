//! A folder of one's own images, one sub-folder per class (torchvision's `ImageFolder`
//! convention), with `train/` and `test/` sub-folders when the split is given.

use std::path::{Path, PathBuf};

use image::{imageops::FilterType, DynamicImage};

use super::dataset::{seeded_split, DataCard, Dataset, Inputs, Samples, Targets, Task};
use super::preprocessing::{ImageFraming, InputPipeline, Preprocessing};
use super::DataError;

/// Longest side the images are resized to by default (the median size, capped here).
pub const MAX_DEFAULT_SIDE: usize = 64;
/// Largest side a user may ask for.
pub const MAX_SIDE: usize = 512;
/// Most bytes of pixels a folder may expand to in memory.
pub const MAX_PIXEL_BYTES: usize = 2 << 30;
/// Unreadable files listed by name; the rest are counted.
const LISTED_FAILURES: usize = 10;

/// How a folder of images is turned into samples.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ImageFolderOptions {
    /// `(height, width)`; default: the median size of the images, each side capped at 64.
    pub size: Option<(usize, usize)>,
    /// Three channels instead of one; default: colour when any image has colour.
    pub rgb: Option<bool>,
    /// Seed of the 80/20 split when the folder has no train/ and test/.
    pub seed: u64,
}

/// The readable images of one split: `(file, class)`.
type Listing = Vec<(PathBuf, u8)>;

/// Loads `root` as an image-classification dataset; the notes list unreadable files.
pub fn image_folder(
    root: &Path,
    options: ImageFolderOptions,
) -> Result<(Dataset, Vec<String>), DataError> {
    let corrupt = |reason: String| corrupt(root, reason);
    let (train_dir, test_dir) = (root.join("train"), root.join("test"));
    let split_given = train_dir.is_dir() && test_dir.is_dir();
    let class_names = class_names(root, split_given)?;
    let (train_files, test_files) = if split_given {
        (
            list_files(&train_dir, &class_names)?,
            list_files(&test_dir, &class_names)?,
        )
    } else {
        let all = list_files(root, &class_names)?;
        let (train, test) = seeded_split(all.len(), 0.2, options.seed);
        (
            train.iter().map(|&i| all[i as usize].clone()).collect(),
            test.iter().map(|&i| all[i as usize].clone()).collect(),
        )
    };

    // Sizes and colour from the headers, without decoding the pixels.
    let mut headers = Headers::default();
    let train_files = headers.keep_readable(train_files);
    let test_files = headers.keep_readable(test_files);
    if train_files.is_empty() || test_files.is_empty() {
        return Err(corrupt(format!(
            "no readable images in the {} split{}",
            if train_files.is_empty() {
                "training"
            } else {
                "test"
            },
            headers
                .failures
                .first()
                .map(|f| format!(" (first failure: {f})"))
                .unwrap_or_default()
        )));
    }
    let (height, width) = match options.size {
        Some((h, w)) if (1..=MAX_SIDE).contains(&h) && (1..=MAX_SIDE).contains(&w) => (h, w),
        Some((h, w)) => {
            return Err(corrupt(format!(
                "image size {h}x{w} is outside 1x1 to {MAX_SIDE}x{MAX_SIDE}"
            )))
        }
        None => median_size(&headers.sizes),
    };
    let channels = if options.rgb.unwrap_or(headers.colour) {
        3
    } else {
        1
    };
    let shape = (channels, height, width);
    let images = train_files.len() + test_files.len();
    let total = images.saturating_mul(channels * height * width);
    if total > MAX_PIXEL_BYTES {
        return Err(corrupt(format!(
            "{images} images of {channels}x{height}x{width} need {} MiB; choose a smaller size",
            total >> 20
        )));
    }
    super::progress::expect(images as u64);
    let mut failures = headers.failures;
    let train = decode_split(&train_files, shape, &mut failures);
    let test = decode_split(&test_files, shape, &mut failures);
    if train.is_empty() || test.is_empty() {
        return Err(corrupt(
            "no image could be decoded in one of the splits".into(),
        ));
    }
    let name = root.file_name().map_or_else(
        || "images".to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let mut notes = vec![format!(
        "{name}: {} training and {} test images in {} classes, resized to {channels}x{height}x{width}{}",
        train.len(),
        test.len(),
        class_names.len(),
        if split_given { "" } else { " (seeded 80/20 split)" }
    )];
    notes.extend(failure_notes(&failures));
    let dataset = Dataset {
        name: name.clone(),
        card: DataCard {
            dataset: name,
            task: Task::Classification { class_names },
            preprocessing: Preprocessing {
                input: InputPipeline::Image {
                    channels,
                    height,
                    width,
                    max_level: 255,
                    framing: ImageFraming::Plain,
                },
                target: None,
            },
            builtin_options: None,
        },
        train,
        test,
    };
    Ok((dataset, notes))
}

fn corrupt(root: &Path, reason: String) -> DataError {
    DataError::Corrupt {
        path: root.display().to_string(),
        reason,
    }
}

/// The class folders' names (the training split's, checked against the test split's when
/// the folder has both), between 2 and 256 of them.
fn class_names(root: &Path, split_given: bool) -> Result<Vec<String>, DataError> {
    let class_names = if split_given {
        let names = class_folders(&root.join("train"))?;
        check_test_classes(root, &names, &class_folders(&root.join("test"))?)?;
        names
    } else {
        class_folders(root)?
    };
    if class_names.len() < 2 {
        return Err(corrupt(
            root,
            format!(
                "an image folder needs one sub-folder per class and at least two classes; found {}",
                match class_names.first() {
                    Some(name) => format!("only {name:?}"),
                    None => "none".into(),
                }
            ),
        ));
    }
    if class_names.len() > 256 {
        return Err(corrupt(
            root,
            format!(
                "{} class folders; LayerLab supports up to 256 classes",
                class_names.len()
            ),
        ));
    }
    Ok(class_names)
}

/// Every file of `dir`'s class folders, sorted within each class.
fn list_files(dir: &Path, class_names: &[String]) -> Result<Listing, DataError> {
    let mut files = Vec::new();
    for (class, name) in class_names.iter().enumerate() {
        let folder = dir.join(name);
        let mut entries: Vec<PathBuf> = std::fs::read_dir(&folder)
            .map_err(|e| DataError::Io {
                path: folder.display().to_string(),
                cause: e,
            })?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_file())
            .collect();
        entries.sort();
        files.extend(entries.into_iter().map(|p| (p, class as u8)));
    }
    Ok(files)
}

/// What the images' headers said: their sizes, whether any has colour, and the files that
/// could not be read.
#[derive(Default)]
struct Headers {
    sizes: Vec<(usize, usize)>,
    colour: bool,
    failures: Vec<String>,
}

impl Headers {
    /// The files whose header reads, noting the others.
    fn keep_readable(&mut self, files: Listing) -> Listing {
        files
            .into_iter()
            .filter(|(path, _)| match header(path) {
                Ok((width, height, has_colour)) => {
                    self.sizes.push((height, width));
                    self.colour |= has_colour;
                    true
                }
                Err(reason) => {
                    self.failures.push(format!("{}: {reason}", path.display()));
                    false
                }
            })
            .collect()
    }
}

/// Decodes and resizes one split's images to `(channels, height, width)`, noting the files
/// that fail.
fn decode_split(
    files: &Listing,
    (channels, height, width): (usize, usize, usize),
    failures: &mut Vec<String>,
) -> Samples {
    let sample_len = channels * height * width;
    let mut values = Vec::with_capacity(files.len() * sample_len);
    let mut labels = Vec::with_capacity(files.len());
    for (path, class) in files {
        let decoded = decode_image(path);
        super::progress::advance(1);
        match decoded {
            Ok(image) => {
                push_pixels(&image, channels, height, width, &mut values);
                labels.push(*class);
            }
            Err(reason) => failures.push(format!("{}: {reason}", path.display())),
        }
    }
    Samples {
        inputs: Inputs::Pixels {
            values,
            sample_len,
            max_level: 255,
        },
        targets: Targets::Classes(labels),
        raw: Vec::new(),
    }
}

/// The files left out, the first few by name.
fn failure_notes(failures: &[String]) -> Vec<String> {
    if failures.is_empty() {
        return Vec::new();
    }
    let mut notes = vec![format!(
        "{} files could not be read and were left out:",
        failures.len()
    )];
    notes.extend(
        failures
            .iter()
            .take(LISTED_FAILURES)
            .map(|f| format!("  {f}")),
    );
    if failures.len() > LISTED_FAILURES {
        notes.push(format!(
            "  ... and {} more",
            failures.len() - LISTED_FAILURES
        ));
    }
    notes
}

/// Sorted names of the sub-folders of `dir` (hidden ones left out).
fn class_folders(dir: &Path) -> Result<Vec<String>, DataError> {
    let entries = std::fs::read_dir(dir).map_err(|e| DataError::Io {
        path: dir.display().to_string(),
        cause: e,
    })?;
    let mut names = Vec::new();
    for entry in entries.filter_map(Result::ok) {
        if !entry.path().is_dir() {
            continue;
        }
        // A class's name is shown and saved as text; a folder name that is not UTF-8 would
        // be changed on the way and then name a folder that does not exist.
        let name = entry
            .file_name()
            .into_string()
            .map_err(|raw| DataError::Corrupt {
                path: dir.display().to_string(),
                reason: format!(
                    "the class folder {:?} has a name that is not UTF-8 text; rename it \
                 (class names are shown and saved as text)",
                    raw.to_string_lossy()
                ),
            })?;
        if !name.starts_with('.') {
            names.push(name);
        }
    }
    names.sort();
    Ok(names)
}

/// With `train/` and `test/` given, both must hold the same class folders (an empty one is
/// fine): a class missing from `test/` is a typo or a lost folder, not zero test images.
fn check_test_classes(root: &Path, train: &[String], test: &[String]) -> Result<(), DataError> {
    let corrupt = |reason: String| DataError::Corrupt {
        path: root.display().to_string(),
        reason,
    };
    if let Some(missing) = train.iter().find(|name| !test.contains(name)) {
        return Err(corrupt(format!(
            "test/ has no folder {missing:?}, a class of train/; give every class a folder in \
             test/ too (an empty one if it has no test images)"
        )));
    }
    if let Some(extra) = test.iter().find(|name| !train.contains(name)) {
        return Err(corrupt(format!(
            "test/ has a folder {extra:?} that train/ has not; its images would never be \
             trained on or scored (classes are train/'s folders: {})",
            train.join(", ")
        )));
    }
    Ok(())
}

/// Width, height and whether the image has colour, from its header.
fn header(path: &Path) -> Result<(usize, usize, bool), String> {
    let reader = image::ImageReader::open(path)
        .and_then(|r| r.with_guessed_format())
        .map_err(|e| e.to_string())?;
    if reader.format().is_none() {
        return Err("not an image format LayerLab reads (PNG, JPEG, BMP, GIF)".into());
    }
    let decoder = reader.into_decoder().map_err(|e| e.to_string())?;
    let colour = image::ImageDecoder::color_type(&decoder).has_color();
    let (w, h) = image::ImageDecoder::dimensions(&decoder);
    Ok((w as usize, h as usize, colour))
}

/// Decodes within LayerLab's image limits, refusing truncated files.
fn decode_image(path: &Path) -> Result<DynamicImage, String> {
    crate::preprocess::read_image(path).map_err(|e| e.to_string())
}

/// The median height and width, each capped at [`MAX_DEFAULT_SIDE`].
fn median_size(sizes: &[(usize, usize)]) -> (usize, usize) {
    let median = |mut v: Vec<usize>| {
        v.sort_unstable();
        v[v.len() / 2].clamp(1, MAX_DEFAULT_SIDE)
    };
    (
        median(sizes.iter().map(|s| s.0).collect()),
        median(sizes.iter().map(|s| s.1).collect()),
    )
}

/// Appends `image` resized to `height x width` as channels-first grey levels.
pub fn push_pixels(
    image: &DynamicImage,
    channels: usize,
    height: usize,
    width: usize,
    out: &mut Vec<u8>,
) {
    let resized = image.resize_exact(width as u32, height as u32, FilterType::Triangle);
    if channels == 3 {
        let rgb = resized.to_rgb8();
        for c in 0..3 {
            out.extend(rgb.pixels().map(|p| p.0[c]));
        }
    } else {
        out.extend(resized.to_luma8().pixels().map(|p| p.0[0]));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn save(path: &Path, colour: [u8; 3], width: u32, height: u32) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        image::RgbImage::from_pixel(width, height, image::Rgb(colour))
            .save(path)
            .unwrap();
    }

    #[test]
    fn a_test_folder_without_a_class_or_with_an_extra_one_is_named() {
        let dir = tempfile::tempdir().unwrap();
        for split in ["train", "test"] {
            for class in ["cat", "dog"] {
                save(
                    &dir.path().join(format!("{split}/{class}/0.png")),
                    [9; 3],
                    8,
                    8,
                );
            }
        }
        std::fs::remove_dir_all(dir.path().join("test/dog")).unwrap();
        let err = image_folder(dir.path(), ImageFolderOptions::default())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("test/ has no folder \"dog\", a class of train/"),
            "{err}"
        );
        std::fs::create_dir(dir.path().join("test/dog")).unwrap();
        std::fs::create_dir(dir.path().join("test/bird")).unwrap();
        let err = image_folder(dir.path(), ImageFolderOptions::default())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("test/ has a folder \"bird\" that train/ has not"),
            "{err}"
        );
        // An empty class folder in test/ is fine: that class has no test images.
        std::fs::remove_dir(dir.path().join("test/bird")).unwrap();
        let (data, _) = image_folder(dir.path(), ImageFolderOptions::default()).unwrap();
        assert_eq!((data.train.len(), data.test.len()), (2, 1));
    }

    #[cfg(unix)]
    #[test]
    fn a_class_folder_whose_name_is_not_utf8_is_named_not_lost() {
        use std::os::unix::ffi::OsStrExt;
        let dir = tempfile::tempdir().unwrap();
        save(&dir.path().join("cat/0.png"), [9; 3], 8, 8);
        let odd = dir.path().join(std::ffi::OsStr::from_bytes(b"d\xf6g"));
        save(&odd.join("0.png"), [9; 3], 8, 8);
        let err = image_folder(dir.path(), ImageFolderOptions::default())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("the class folder \"d\u{fffd}g\" has a name that is not UTF-8"),
            "{err}"
        );
    }

    #[test]
    fn class_folders_become_classes_and_unreadable_files_are_listed() {
        let dir = tempfile::tempdir().unwrap();
        for i in 0..5 {
            save(
                &dir.path().join(format!("cat/{i}.png")),
                [200, 10, 10],
                20,
                10,
            );
            save(
                &dir.path().join(format!("dog/{i}.png")),
                [10, 10, 200],
                40,
                30,
            );
        }
        std::fs::write(dir.path().join("dog/notes.txt"), "not an image").unwrap();
        std::fs::write(
            dir.path().join("cat/broken.png"),
            [0x89, b'P', b'N', b'G', 1, 2],
        )
        .unwrap();
        // Loaded as the window imports: every file listed counts toward the progress bar.
        let progress = crate::data::LoadProgress::default();
        let (data, notes) =
            progress.run(|| image_folder(dir.path(), ImageFolderOptions::default()).unwrap());
        assert_eq!(progress.fraction(), Some(1.0));
        assert_eq!(data.task().class_names(), ["cat", "dog"]);
        assert_eq!(data.train.len() + data.test.len(), 10);
        // Colour files give RGB; the median size of 20x10 and 40x30 images.
        assert_eq!(
            data.input_shape(),
            crate::spec::ActivationShape::image(3, 30, 40)
        );
        assert!(
            notes
                .iter()
                .any(|n| n.contains("2 files could not be read")),
            "{notes:?}"
        );
        assert!(notes.iter().any(|n| n.contains("notes.txt")), "{notes:?}");
        // Channels first: a red cat is all red in plane 0 and dark in plane 2.
        let cat = data.train.labels().iter().position(|&l| l == 0).unwrap();
        let pixels = data.train.image(cat).unwrap();
        assert_eq!((pixels[0], pixels[2 * 30 * 40]), (200, 10));
    }

    #[test]
    fn one_class_or_no_images_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        save(&dir.path().join("only/a.png"), [0, 0, 0], 4, 4);
        let err = image_folder(dir.path(), ImageFolderOptions::default()).unwrap_err();
        assert!(
            err.to_string()
                .contains("at least two classes; found only \"only\""),
            "{err}"
        );
        std::fs::create_dir(dir.path().join("empty")).unwrap();
        let err = image_folder(dir.path(), ImageFolderOptions::default()).unwrap_err();
        assert!(err.to_string().contains("no readable images"), "{err}");
    }
}
