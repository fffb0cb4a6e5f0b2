//! Property tests over every parser and validator: whatever bytes come in, the answer is a
//! value or an error that names the input, never a panic, and never an allocation the data
//! cannot need. CI runs a few hundred cases each (`PROPTEST_CASES` overrides);
//! `scripts/fuzz.sh` runs thousands with the peak memory reported. tests/corpus holds the
//! inputs that once crashed LayerLab; every one is replayed here.

// Tests state what they expect with unwrap and expect; a failure is the report.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::wildcard_enum_match_arm
)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use layerlab::data::{parse_idx, profile_columns, read_idx, table_dataset, RawTable, TableOptions};
use layerlab::export::SavedModel;
use layerlab::spec::{check_training_memory, validate, ActivationShape, Layer, ModelSpec};
use proptest::prelude::*;

/// The system allocator, counting each thread's live bytes and their peak, so a case can
/// assert what it held at most (the loaders run on the calling thread).
struct CountingAllocator;

thread_local! {
    static LIVE_BYTES: Cell<isize> = const { Cell::new(0) };
    static PEAK_BYTES: Cell<isize> = const { Cell::new(0) };
}

fn count(change: isize) {
    // `try_with`: a thread being torn down still allocates and frees.
    let _ = LIVE_BYTES.try_with(|live| {
        let now = live.get() + change;
        live.set(now);
        let _ = PEAK_BYTES.try_with(|peak| peak.set(peak.get().max(now)));
    });
}

// SAFETY: every call is passed to `System` unchanged; only sizes are counted.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's layout, passed on as `GlobalAlloc::alloc` requires.
        let pointer = unsafe { System.alloc(layout) };
        if !pointer.is_null() {
            count(layout.size() as isize);
        }
        pointer
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as for `alloc`.
        let pointer = unsafe { System.alloc_zeroed(layout) };
        if !pointer.is_null() {
            count(layout.size() as isize);
        }
        pointer
    }

    unsafe fn dealloc(&self, pointer: *mut u8, layout: Layout) {
        // SAFETY: `pointer` came from this allocator (so from `System`) with `layout`.
        unsafe { System.dealloc(pointer, layout) };
        count(-(layout.size() as isize));
    }

    unsafe fn realloc(&self, pointer: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: `pointer` came from `System` with `layout`; the caller checked `new_size`.
        let moved = unsafe { System.realloc(pointer, layout, new_size) };
        if !moved.is_null() {
            count(new_size as isize - layout.size() as isize);
        }
        moved
    }
}

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

/// Runs `work` and returns what it gave and the most bytes it held at once on this thread
/// beyond what was live before.
fn peak_bytes<T>(work: impl FnOnce() -> T) -> (T, usize) {
    let before = LIVE_BYTES.with(Cell::get);
    PEAK_BYTES.with(|peak| peak.set(before));
    let value = work();
    let peak = PEAK_BYTES.with(Cell::get);
    (value, (peak - before).max(0) as usize)
}

/// The largest peak any case of a bounded generator reached, and its input's size (printed
/// by `scripts/fuzz.sh`).
static LARGEST_PEAK: std::sync::Mutex<(usize, usize, &str)> = std::sync::Mutex::new((0, 0, ""));

fn record_peak(peak: usize, input: usize, generator: &'static str) {
    if let Ok(mut largest) = LARGEST_PEAK.lock() {
        if peak > largest.0 {
            *largest = (peak, input, generator);
            // scripts/fuzz.sh reports the largest case of the run.
            if let Some(path) = std::env::var_os("FUZZ_PEAK_FILE") {
                let _ = std::fs::write(path, format!("{peak} {input} {generator}\n"));
            }
        }
    }
}

#[test]
fn the_allocator_counts_what_a_case_holds() {
    let ((), peak) = peak_bytes(|| {
        let held = vec![1u8; 3 << 20];
        drop(std::hint::black_box(held));
    });
    assert!((3 << 20..4 << 20).contains(&peak), "{peak}");
    let (kept, peak) = peak_bytes(|| vec![0u64; 1000]);
    assert!(peak >= 8000 && kept.len() == 1000);
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256)
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: cases(),
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// A real exported model (iris-sized, with a data card and a batch norm's int64 counter),
/// made once.
fn model_bytes() -> &'static [u8] {
    static BYTES: OnceLock<Vec<u8>> = OnceLock::new();
    BYTES.get_or_init(|| {
        let data = layerlab::data::load_builtin("iris", &Default::default()).unwrap();
        let spec = ModelSpec::new(vec![
            Layer::Linear { out_features: 8 },
            Layer::BatchNorm1d {
                eps: 1e-5,
                momentum: 0.1,
            },
            Layer::ReLU,
            Layer::Linear { out_features: 3 },
        ]);
        let plan = validate(&spec, data.input_shape(), 3).unwrap();
        let model = layerlab::model::Model::initialise(spec, plan, &Default::default(), 0);
        SavedModel::from_model(&model, &data.card)
            .to_bytes()
            .unwrap()
    })
}

/// A small valid IDX file (gzip or raw).
fn idx_bytes(gzip: bool) -> Vec<u8> {
    let mut bytes = vec![0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 3];
    bytes.extend(0..18u8);
    if gzip {
        use std::io::Write;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&bytes).unwrap();
        gz.finish().unwrap()
    } else {
        bytes
    }
}

/// A small valid PNG and JPEG of a digit-like bar.
fn image_bytes(format: image::ImageFormat) -> Vec<u8> {
    let img = image::GrayImage::from_fn(24, 24, |x, _| image::Luma([if x > 10 { 0 } else { 255 }]));
    let mut bytes = Vec::new();
    image::DynamicImage::ImageLuma8(img)
        .write_to(&mut std::io::Cursor::new(&mut bytes), format)
        .unwrap();
    bytes
}

/// `base` with some bytes replaced, some removed at the end, some inserted.
fn mutate(base: &[u8], edits: &[(usize, u8)], cut: usize) -> Vec<u8> {
    let mut bytes = base.to_vec();
    for &(at, value) in edits {
        if !bytes.is_empty() {
            let i = at % bytes.len();
            bytes[i] = value;
        }
    }
    bytes.truncate(bytes.len().saturating_sub(cut % (base.len() + 1)));
    bytes
}

fn edits() -> impl Strategy<Value = Vec<(usize, u8)>> {
    prop::collection::vec((any::<usize>(), any::<u8>()), 0..8)
}

fn temp_file(bytes: &[u8], name: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).unwrap();
    (dir, path)
}

fn layer() -> impl Strategy<Value = Layer> {
    let size = prop_oneof![
        0usize..64,
        Just(usize::MAX),
        Just(1usize << 32),
        any::<usize>()
    ];
    prop_oneof![
        size.clone()
            .prop_map(|out_features| Layer::Linear { out_features }),
        (size.clone(), size.clone(), size.clone(), size.clone()).prop_map(
            |(out_channels, kernel_size, stride, padding)| Layer::Conv2d {
                out_channels,
                kernel_size,
                stride,
                padding,
            }
        ),
        (size.clone(), prop::option::of(size.clone())).prop_map(|(kernel_size, stride)| {
            Layer::MaxPool2d {
                kernel_size,
                stride,
            }
        }),
        (size.clone(), prop::option::of(size)).prop_map(|(kernel_size, stride)| {
            Layer::AvgPool2d {
                kernel_size,
                stride,
            }
        }),
        Just(Layer::Flatten),
        Just(Layer::ReLU),
        any::<f32>().prop_map(|negative_slope| Layer::LeakyReLU { negative_slope }),
        Just(Layer::Tanh),
        any::<f32>().prop_map(|p| Layer::Dropout { p }),
        (any::<f32>(), any::<f32>())
            .prop_map(|(eps, momentum)| Layer::BatchNorm1d { eps, momentum }),
        (any::<f32>(), any::<f32>())
            .prop_map(|(eps, momentum)| Layer::BatchNorm2d { eps, momentum }),
    ]
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn model_files_never_panic(edits in edits(), cut in any::<usize>()) {
        let bytes = mutate(model_bytes(), &edits, cut);
        match SavedModel::from_bytes(&bytes, "fuzz.safetensors") {
            Ok(saved) => {
                let _ = saved.input();
                if let Err(error) = saved.into_model(&Default::default(), "fuzz.safetensors") {
                    prop_assert!(error.to_string().contains("fuzz.safetensors"), "{error}");
                }
            }
            Err(error) => prop_assert!(error.to_string().contains("fuzz.safetensors"), "{error}"),
        }
    }

    #[test]
    fn arbitrary_bytes_are_never_a_model(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        if let Err(error) = SavedModel::from_bytes(&bytes, "noise.safetensors") {
            prop_assert!(error.to_string().contains("noise.safetensors"), "{error}");
        }
    }

    #[test]
    fn idx_files_never_panic(edits in edits(), cut in any::<usize>(), gzip in any::<bool>()) {
        let bytes = mutate(&idx_bytes(gzip), &edits, cut);
        let (_dir, path) = temp_file(&bytes, "fuzz.idx");
        if let Err(error) = read_idx(&path) {
            prop_assert!(error.to_string().contains("fuzz.idx"), "{error}");
        }
        if let Err(error) = parse_idx(&bytes, "fuzz.idx") {
            prop_assert!(error.to_string().contains("fuzz.idx"), "{error}");
        }
    }

    #[test]
    fn layer_stacks_validate_without_panic_or_overflow(
        layers in prop::collection::vec(layer(), 0..12),
        channels in 1usize..4,
        side in 1usize..40,
        outputs in 1usize..20,
        batch in 1usize..5000,
    ) {
        let spec = ModelSpec::new(layers);
        let json = spec.to_json_pretty();
        prop_assert_eq!(ModelSpec::from_json(&json).ok().map(|s| s.layers.len()), Some(spec.layers.len()));
        let input = ActivationShape::image(channels, side, side);
        if let Ok(plan) = validate(&spec, input, outputs) {
            prop_assert!(plan.total_parameters() <= layerlab::spec::MAX_PARAMETERS);
            let _ = check_training_memory(&plan, batch);
        }
    }

    #[test]
    fn stack_json_never_panics(edits in edits(), cut in any::<usize>()) {
        let base = layerlab::presets::preset("cnn").unwrap().spec.to_json_pretty();
        let bytes = mutate(base.as_bytes(), &edits, cut);
        if let Ok(text) = std::str::from_utf8(&bytes) {
            if let Ok(spec) = ModelSpec::from_json(text) {
                let _ = validate(&spec, ActivationShape::image(1, 28, 28), 10);
            }
        }
    }

    #[test]
    fn images_never_panic(edits in edits(), cut in any::<usize>(), png in any::<bool>()) {
        let format = if png { image::ImageFormat::Png } else { image::ImageFormat::Jpeg };
        let bytes = mutate(&image_bytes(format), &edits, cut);
        match layerlab::preprocess::decode_image(&bytes, "fuzz.img") {
            Ok(image) => {
                let _ = layerlab::preprocess::preprocess_digit(&image);
            }
            Err(error) => prop_assert!(error.to_string().contains("fuzz.img"), "{error}"),
        }
    }

    #[test]
    fn csv_tables_never_panic(
        rows in prop::collection::vec(prop::collection::vec("[a-z0-9 .,\"NA-]{0,8}", 1..5), 0..30),
        target_last in any::<bool>(),
    ) {
        let text: String = rows.iter().map(|r| r.join(",") + "\n").collect();
        match RawTable::from_reader(text.as_bytes(), "fuzz.csv") {
            Ok(table) => {
                // The import dialog's profile of every column: one per header, counts that
                // add up, ranges in order.
                let profiles = profile_columns(&table);
                prop_assert_eq!(profiles.len(), table.headers.len());
                for profile in &profiles {
                    prop_assert!(profile.missing <= table.row_count());
                    if let Some((low, high)) = profile.range {
                        prop_assert!(low <= high);
                    }
                    let _ = profile.summary();
                }
                let options = TableOptions {
                    target: (!target_last).then(|| table.headers[0].clone()),
                    ..TableOptions::default()
                };
                if let Err(error) = table_dataset("fuzz", &table, None, &options) {
                    prop_assert!(error.to_string().contains("fuzz.csv"), "{error}");
                }
            }
            Err(error) => prop_assert!(error.to_string().contains("fuzz.csv"), "{error}"),
        }
    }
}

/// A CSV of a generated shape: `columns` columns of mixed kinds (numbers, categories drawn
/// from `levels`, long text with emoji and NULs), `rows` rows, cells up to `cell` bytes.
fn shaped_csv(
    columns: usize,
    rows: usize,
    cell: usize,
    levels: usize,
    emoji_only: bool,
    seed: u64,
) -> String {
    use rand::{Rng, SeedableRng};
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let header: Vec<String> = (0..columns).map(|c| format!("c{c}")).collect();
    let mut text = header.join(",") + "\n";
    for _ in 0..rows {
        let cells: Vec<String> = (0..columns)
            .map(|c| match c % 4 {
                0 => format!("{}", rng.gen_range(-1e6..1e6f64)),
                1 => format!("level{}", rng.gen_range(0..levels.max(1))),
                2 => {
                    let words = rng.gen_range(0..=cell / 4 + 1);
                    let text: String = (0..words)
                        .map(|i| match (emoji_only, i % 5) {
                            (true, _) => "\u{1F375}\u{1F600}",
                            (false, 0) => "tea ",
                            (false, 1) => "\u{1F375} ",
                            (false, 2) => "very good ",
                            (false, 3) => "\0 ",
                            (false, _) => "x",
                        })
                        .collect();
                    format!("\"{}\"", text.chars().take(cell).collect::<String>())
                }
                _ => ["", "NA", "1", "abc"][rng.gen_range(0..4)].to_string(),
            })
            .collect();
        text.push_str(&cells.join(","));
        text.push('\n');
    }
    text
}

/// `text` as `members` gzip members one after another (what `cat a.gz b.gz` makes); 0 is
/// the text itself.
fn gzip_members(text: &[u8], members: usize) -> Vec<u8> {
    use std::io::Write;
    if members == 0 {
        return text.to_vec();
    }
    let size = text.len().div_ceil(members).max(1);
    let mut bytes = Vec::new();
    for part in text.chunks(size) {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(part).unwrap();
        bytes.extend(gz.finish().unwrap());
    }
    bytes
}

proptest! {
    #![proptest_config(config())]

    /// Shapes rather than bytes: wide, long, many-levelled, gzip in several members, text
    /// with emoji and NULs. Every row is read; an import's inputs stay within their bound
    /// (a categorical column at most 101 features); an error names the file.
    #[test]
    fn csv_shapes_are_read_whole_and_imported_within_bounds(
        columns in prop_oneof![9 => 1usize..40, 1 => 200usize..1_500],
        rows in prop_oneof![9 => 0usize..80, 1 => 300usize..3_000],
        cell in prop_oneof![9 => 0usize..400, 1 => 20_000usize..200_000],
        levels in 1usize..600,
        members in 0usize..4,
        emoji_only in any::<bool>(),
        seed in any::<u64>(),
    ) {
        // Long lines and huge fields, wide or long tables (one case in ten each), within a
        // case's fraction of a second: at most about a million characters (the caps past
        // that, 32 MiB a line and 1 GiB inflated, have tests of their own in the data module).
        let budget = 1usize << 20;
        let cell = cell.min(budget / columns);
        let rows = rows.min((budget / (columns * cell.max(8))).max(1));
        let text = shaped_csv(columns, rows, cell, levels, emoji_only, seed);
        let name = if members > 0 { "fuzz.csv.gz" } else { "fuzz.csv" };
        let (_dir, path) = temp_file(&gzip_members(text.as_bytes(), members), name);
        let (outcome, peak) = peak_bytes(|| {
            RawTable::read(&path).map(|table| {
                let imported = table_dataset("fuzz", &table, None, &TableOptions::default());
                (table, imported)
            })
        });
        // Memory is bounded by the data: the text held once as cells, the encoded features
        // (4 bytes each), and a fixed allowance; never a multiple of the file per cell.
        let features = match &outcome {
            Ok((_, Ok((data, _)))) => (data.train.len() + data.test.len()) * data.input_shape().numel(),
            _ => 0,
        };
        let bound = (16 << 20) + 4 * text.len() + 8 * features;
        record_peak(peak, text.len(), "csv shapes");
        prop_assert!(peak <= bound, "{peak} bytes held for {} bytes of CSV ({features} features)", text.len());
        match outcome {
            Ok((table, imported)) => {
                prop_assert_eq!(table.row_count(), rows);
                prop_assert_eq!(table.headers.len(), columns);
                match imported {
                    Ok((data, _)) => {
                        let width = data.input_shape().numel();
                        let bound = columns * (layerlab::data::DEFAULT_VOCABULARY_SIZE + 101);
                        prop_assert!(width <= bound, "{width} features from {columns} columns");
                    }
                    Err(error) => {
                        let message = error.to_string();
                        prop_assert!(message.contains(name), "{message}");
                        // A cell's fault says where the cell is.
                        if message.contains("is not a number") {
                            prop_assert!(message.contains("line ") && message.contains("column "), "{message}");
                        }
                    }
                }
            }
            Err(error) => {
                prop_assert!(rows == 0, "{error}");
                prop_assert!(error.to_string().contains(name), "{error}");
            }
        }
    }

    /// Image folders of generated layouts: empty classes, mixed sizes, a directory named like
    /// an image, a stray file at the root, a test/ split missing a class. Loaded, or refused
    /// with the folder named.
    #[test]
    fn image_folders_never_panic(
        classes in 0usize..4,
        images in prop::collection::vec((0usize..4, 1u32..20, 1u32..20), 0..8),
        image_named_folder in any::<bool>(),
        stray_file in any::<bool>(),
        split in any::<bool>(),
        test_missing_class in any::<bool>(),
        non_utf8_class in any::<bool>(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("folder");
        let class_root = if split { root.join("train") } else { root.clone() };
        for class in 0..classes {
            std::fs::create_dir_all(class_root.join(format!("class{class}"))).unwrap();
            if split && !(test_missing_class && class == 0) {
                std::fs::create_dir_all(root.join(format!("test/class{class}"))).unwrap();
            }
        }
        std::fs::create_dir_all(&class_root).unwrap();
        for (i, &(class, width, height)) in images.iter().enumerate() {
            if class < classes {
                let file = class_root.join(format!("class{class}/{i}.png"));
                image::GrayImage::from_pixel(width, height, image::Luma([(i * 40) as u8]))
                    .save(&file)
                    .unwrap();
            }
        }
        if image_named_folder && classes > 0 {
            std::fs::create_dir_all(class_root.join("class0/looks-like.png")).unwrap();
        }
        if stray_file {
            std::fs::write(root.join("notes.txt"), b"not an image").unwrap();
        }
        #[cfg(unix)]
        if non_utf8_class {
            use std::os::unix::ffi::OsStrExt;
            let name = std::ffi::OsStr::from_bytes(b"caf\xe9");
            let class = class_root.join(name);
            std::fs::create_dir_all(&class).unwrap();
            image::GrayImage::from_pixel(8, 8, image::Luma([200]))
                .save(class.join("0.png"))
                .unwrap();
        }
        let pixels: usize = images.iter().map(|&(_, w, h)| (w * h) as usize).sum::<usize>() + 64;
        let options = layerlab::data::ImageFolderOptions::default();
        let (loaded, peak) = peak_bytes(|| layerlab::data::folder_dataset(&root, None, options));
        // Decoded images at most 64x64 (the default side) in f32, a few copies, and a
        // fixed allowance: bounded by the images, not by anything else in the folder.
        let bound = (8 << 20) + 4 * 4 * (64 * 64).max(pixels) * (images.len() + 2);
        record_peak(peak, pixels, "image folders");
        prop_assert!(peak <= bound, "{peak} bytes for {} images", images.len());
        if let Err(error) = loaded {
            let message = error.to_string();
            let named = root.display().to_string();
            prop_assert!(message.contains(&named), "{message}");
        }
    }
}

#[cfg(feature = "gui")]
proptest! {
    #![proptest_config(config())]

    #[test]
    fn saved_window_state_never_panics(edits in edits(), cut in any::<usize>()) {
        let base = std::fs::read(corpus().join("window-zoom-nan.ron")).unwrap();
        let bytes = mutate(&base, &edits, cut);
        let (_dir, path) = temp_file(&bytes, "app.ron");
        let _ = layerlab::app::repair_storage_file(&path);
    }
}

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus")
}

/// Every input that once crashed LayerLab (or that this issue found reported as success) now
/// gets an error, or for window state a repair.
#[test]
fn the_corpus_of_past_crashes_is_refused_cleanly() {
    let mut seen = 0;
    for entry in std::fs::read_dir(corpus()).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        seen += 1;
        if name.ends_with(".json") {
            let text = std::fs::read_to_string(&path).unwrap();
            let refused = ModelSpec::from_json(&text)
                .map_err(|e| e.to_string())
                .and_then(|spec| {
                    validate(&spec, ActivationShape::image(1, 28, 28), 10)
                        .map_err(|e| e.to_string())
                });
            assert!(refused.is_err(), "{name} was accepted");
        } else if name.contains(".idx") {
            let error = read_idx(&path).unwrap_err().to_string();
            assert!(error.contains(&name), "{name}: {error}");
        } else if name.ends_with(".safetensors") {
            let error = SavedModel::load(&path).unwrap_err().to_string();
            assert!(error.contains(&name), "{name}: {error}");
        } else if name.ends_with(".ron") {
            #[cfg(feature = "gui")]
            {
                let dir = tempfile::tempdir().unwrap();
                let copy = dir.path().join("app.ron");
                std::fs::copy(&path, &copy).unwrap();
                let message = layerlab::app::repair_storage_file(&copy);
                assert!(message.is_some(), "{name} was not repaired");
            }
        } else {
            panic!("corpus file {name} has no test: add one");
        }
    }
    assert!(seen >= 10, "the corpus is missing");
}

/// Text for `--augment`'s parser: known and unknown keys, with numbers in and out of range,
/// non-numbers and nothing.
fn augment_text() -> impl Strategy<Value = String> {
    let key = prop::sample::select(vec![
        "rotate",
        "translate",
        "scale",
        "shear",
        "elastic",
        "elastic_sigma",
        "flip",
        "noise",
        "erase",
        "spin",
        "",
        "rotate=",
        "=",
    ]);
    let value = prop_oneof![
        any::<f32>().prop_map(|v| v.to_string()),
        (0.0f32..1.0).prop_map(|v| v.to_string()),
        (0.0f32..200.0).prop_map(|v| v.to_string()),
        ".*".prop_map(|v: String| v),
    ];
    prop::collection::vec((key, value, any::<bool>()), 0..8).prop_map(|parts| {
        parts
            .into_iter()
            .map(|(k, v, with_value)| {
                if with_value {
                    format!("{k}={v}")
                } else {
                    k.to_string()
                }
            })
            .collect::<Vec<_>>()
            .join(",")
    })
}

proptest! {
    #![proptest_config(config())]

    /// Any text is a setting or a sentence naming what is wrong.
    #[test]
    fn augment_text_is_a_setting_or_a_sentence(text in augment_text()) {
        if let Err(message) = layerlab::data::Augmentation::parse(&text) {
            prop_assert!(!message.to_string().is_empty());
        }
    }

    /// Every setting the parser accepts (written as `--augment` text, read back) changes
    /// images of any size without a panic, keeping their size and pixels in [0, 1].
    #[test]
    fn every_accepted_augmentation_keeps_images_whole(
        rotate in 0.0f32..=180.0,
        translate in 0.0f32..=0.5,
        scale in 0.0f32..=0.9,
        shear in 0.0f32..=60.0,
        elastic in prop_oneof![Just(0.0f32), 0.0f32..=100.0],
        elastic_sigma in 0.5f32..=20.0,
        flip in any::<bool>(),
        noise in 0.0f32..=1.0,
        erase in 0.0f32..=1.0,
        side in 1usize..12,
        channels in prop::sample::select(vec![1usize, 3]),
        seed in any::<u64>(),
        epoch in 0usize..1000,
    ) {
        let wanted = layerlab::data::Augmentation {
            rotate, translate, scale, shear, elastic_alpha: elastic, elastic_sigma, flip, noise,
            erase, ..Default::default()
        };
        let augmentation = layerlab::data::Augmentation::parse(&wanted.describe()).unwrap();
        let shape = layerlab::data::ImageShape { channels, height: side, width: side };
        let mut images: Vec<f32> = (0..shape.len() * 2).map(|i| (i % 7) as f32 / 6.0).collect();
        augmentation.apply_batch(&mut images, shape, seed, epoch, &[0, u32::MAX]);
        prop_assert_eq!(images.len(), shape.len() * 2);
        // In [0, 1] up to the rounding of bilinear weights.
        prop_assert!(
            images.iter().all(|p| (-1e-6..=1.0 + 1e-6).contains(p)),
            "{:?}",
            augmentation
        );
    }
}
