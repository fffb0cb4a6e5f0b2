//! Datasets through the `layerlab` binary: built-ins of every kind, CSV files of one's own,
//! and save-load-predict round trips on raw input (CSV rows, a sentence, an image).

// Tests state what they expect with unwrap and expect; a failure is the report.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::wildcard_enum_match_arm
)]

mod common;

use std::path::Path;

use common::{assert_ok, assert_refused, last_line, layerlab, metric, stderr};

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn every_builtin_is_listed_with_its_task() {
    let out = assert_ok(&layerlab(&["datasets"]));
    for name in [
        "mnist",
        "fashion-mnist",
        "digits-8x8",
        "iris",
        "wine",
        "breast-cancer",
        "diabetes",
        "ames-housing",
        "fine-food-reviews",
        "circles",
        "xor",
        "spiral",
        "gaussian",
    ] {
        assert!(
            out.lines().any(|l| l.starts_with(name)),
            "{name} missing:\n{out}"
        );
    }
    assert!(!out.contains("[files not found]"), "{out}");
    let shown = assert_ok(&layerlab(&["datasets", "--show", "fashion-mnist"]));
    assert!(shown.contains("Ankle boot: 6000"), "{shown}");
    let presets = assert_ok(&layerlab(&["presets"]));
    assert!(
        presets.contains("mlp-regressor") && presets.contains("ames-housing"),
        "{presets}"
    );
}

#[test]
fn a_tabular_regressor_round_trips_on_raw_csv_rows() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("ames.safetensors");
    let out = assert_ok(&layerlab(&[
        "train",
        "--dataset",
        "ames-housing",
        "--epochs",
        "5",
        "--quiet",
        "--export",
        path(&model),
    ]));
    // Regression reports its metrics in dollars and no accuracy.
    let trained = last_line(&out).to_string();
    assert!(trained.starts_with("test_rmse="), "{out}");
    assert!(
        trained.contains(" test_mae=") && trained.contains(" test_r2="),
        "{trained}"
    );
    assert!(!out.contains("accuracy"), "{out}");

    // eval rebuilds the same test split through the file's own preprocessing.
    let eval = assert_ok(&layerlab(&["eval", "--model", path(&model)]));
    assert_eq!(last_line(&eval), trained);

    // Raw rows as they are in the source file (target column present or not).
    let rows = dir.path().join("rows.csv");
    std::fs::write(
        &rows,
        "MS_SubClass,MS_Zoning,Lot_Frontage,Lot_Area,Street,Alley,Lot_Shape,Land_Contour,Utilities,Lot_Config,Land_Slope,Neighborhood,Condition_1,Condition_2,Bldg_Type,House_Style,Overall_Cond,Year_Built,Year_Remod_Add,Roof_Style,Roof_Matl,Exterior_1st,Exterior_2nd,Mas_Vnr_Type,Mas_Vnr_Area,Exter_Cond,Foundation,Bsmt_Cond,Bsmt_Exposure,BsmtFin_Type_1,BsmtFin_SF_1,BsmtFin_Type_2,BsmtFin_SF_2,Bsmt_Unf_SF,Total_Bsmt_SF,Heating,Heating_QC,Central_Air,Electrical,First_Flr_SF,Second_Flr_SF,Gr_Liv_Area,Bsmt_Full_Bath,Bsmt_Half_Bath,Full_Bath,Half_Bath,Bedroom_AbvGr,Kitchen_AbvGr,TotRms_AbvGrd,Functional,Fireplaces,Garage_Type,Garage_Finish,Garage_Cars,Garage_Area,Garage_Cond,Paved_Drive,Wood_Deck_SF,Open_Porch_SF,Enclosed_Porch,Three_season_porch,Screen_Porch,Pool_Area,Pool_QC,Fence,Misc_Feature,Misc_Val,Mo_Sold,Year_Sold,Sale_Type,Sale_Condition,Longitude,Latitude\n\
         One_Story_1946_and_Newer_All_Styles,Residential_Low_Density,141.0,31770,Pave,No_Alley_Access,Slightly_Irregular,Lvl,AllPub,Corner,Gtl,North_Ames,Norm,Norm,OneFam,One_Story,Average,1960,1960,Hip,CompShg,BrkFace,Plywood,Stone,112.0,Typical,CBlock,Good,Gd,BLQ,2.0,Unf,0.0,441.0,1080.0,GasA,Fair,Y,SBrkr,1656,0,1656,1.0,0.0,1,0,3,1,7,Typ,2,Attchd,Fin,2.0,528.0,Typical,Partial_Pavement,210,62,0,0,0,0,No_Pool,No_Fence,None,0,5,2010,WD ,Normal,-93.619754,42.054035\n",
    )
    .unwrap();
    let predicted = assert_ok(&layerlab(&[
        "predict",
        "--model",
        path(&model),
        path(&rows),
        "--json",
    ]));
    let value: serde_json::Value = serde_json::from_str(&predicted).unwrap();
    let dollars = value["value"].as_f64().unwrap();
    assert_eq!(value["unit"], "USD");
    // The house sold for $215,000; five epochs already give the right order of magnitude.
    assert!((50_000.0..600_000.0).contains(&dollars), "{value}");

    // A row whose number is not a number is refused with its line and column.
    let text = std::fs::read_to_string(&rows)
        .unwrap()
        .replace(",31770,", ",abc,");
    std::fs::write(&rows, text).unwrap();
    assert_refused(
        &layerlab(&["predict", "--model", path(&model), path(&rows)]),
        "rows.csv: line 2, column Lot_Area: \"abc\" is not a number",
    );
    // A text model's input is not a table's.
    assert_refused(
        &layerlab(&["predict", "--model", path(&model), "--text", "nice house"]),
        "this model takes CSV rows, not text",
    );
}

#[test]
fn a_text_classifier_round_trips_on_a_raw_sentence() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("reviews.safetensors");
    let out = assert_ok(&layerlab(&[
        "train",
        "--dataset",
        "fine-food-reviews",
        "--epochs",
        "1",
        "--quiet",
        "--export",
        path(&model),
    ]));
    let trained = last_line(&out).to_string();
    let accuracy = metric(&out, "test_accuracy");
    // Above the majority class (65.8% "great").
    assert!(accuracy > 0.7, "{trained}");
    assert_eq!(
        last_line(&assert_ok(&layerlab(&["eval", "--model", path(&model)]))),
        trained
    );

    let predict = |text: &str| -> serde_json::Value {
        let out = assert_ok(&layerlab(&[
            "predict",
            "--model",
            path(&model),
            "--json",
            "--text",
            text,
        ]));
        serde_json::from_str(&out).unwrap()
    };
    let glowing =
        predict("Delicious! The best coffee I have ever had, I love it and highly recommend it.");
    let awful = predict(
        "Awful. Stale, tasteless and a waste of money; I threw it away and will not buy again.",
    );
    assert_eq!(glowing["label"], "great", "{glowing}");
    assert_eq!(awful["label"], "other", "{awful}");

    // A CSV of more rows than one batch: every row predicted in order, as valid JSON and
    // as one line per row.
    let rows = dir.path().join("reviews.csv");
    let mut csv = String::from("review\n");
    for i in 0..600 {
        let review = if i % 2 == 0 {
            "Delicious, the best coffee, I love it"
        } else {
            "Awful and stale, a waste of money"
        };
        csv.push_str(&format!("\"{review}\"\n"));
    }
    std::fs::write(&rows, csv).unwrap();
    let out = assert_ok(&layerlab(&[
        "predict",
        "--model",
        path(&model),
        "--json",
        path(&rows),
    ]));
    let all: Vec<serde_json::Value> = serde_json::from_str(&out).unwrap();
    assert_eq!(all.len(), 600);
    assert!(all.iter().step_by(2).all(|p| p["label"] == "great"));
    assert!(all.iter().skip(1).step_by(2).all(|p| p["label"] == "other"));
    let out = assert_ok(&layerlab(&[
        "predict",
        "--model",
        path(&model),
        path(&rows),
    ]));
    assert_eq!(out.lines().count(), 600, "{out}");
    assert_eq!(last_line(&out), "line 601: class=1 (other)");

    // Text longer than what is read of it says so, and still predicts.
    std::fs::write(
        &rows,
        format!("review\n\"{}\"\n", "delicious ".repeat(200_000)),
    )
    .unwrap();
    let out = layerlab(&["predict", "--model", path(&model), path(&rows)]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(
            "note: line 2, column review is 2,000,000 bytes of text; the first 1 MiB were read"
        ),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_small_image_set_round_trips_on_an_image_file() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("digits.safetensors");
    let out = assert_ok(&layerlab(&[
        "train",
        "--dataset",
        "digits-8x8",
        "--quiet",
        "--export",
        path(&model),
    ]));
    let trained = last_line(&out).to_string();
    let accuracy = metric(&out, "test_accuracy");
    assert!(accuracy >= 0.95, "{trained}");

    // A thick "1" drawn dark on white, larger than 8x8: framed, shrunk and quantised as the
    // set was.
    let one = image::GrayImage::from_fn(120, 160, |x, y| {
        image::Luma([if (50..70).contains(&x) && (20..140).contains(&y) {
            0
        } else {
            255
        }])
    });
    let file = dir.path().join("one.png");
    one.save(&file).unwrap();
    let out = assert_ok(&layerlab(&[
        "predict",
        "--model",
        path(&model),
        "--json",
        path(&file),
    ]));
    let prediction: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(prediction["label"], "1", "{prediction}");
}

#[test]
fn a_csv_of_ones_own_trains_with_guessed_columns_and_overrides() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("plants.csv");
    // y = 3x + (2 if sunny), a text-free table with a categorical and an id column.
    let mut text = String::from("id,x,weather,y\n");
    for i in 0..200 {
        let x = (i % 37) as f32 / 3.0;
        let sunny = i % 3 == 0;
        let y = 3.0 * x + if sunny { 2.0 } else { 0.0 };
        text.push_str(&format!(
            "p{i},{x},{},{y}\n",
            if sunny { "sunny" } else { "cloudy" }
        ));
    }
    std::fs::write(&csv, &text).unwrap();
    let out = assert_ok(&layerlab(&["train", "--dataset", path(&csv), "--quiet"]));
    assert!(
        out.contains("id=ignore, x=numeric, weather=categorical"),
        "{out}"
    );
    assert!(out.contains("regression of y"), "{out}");
    let r2 = metric(&out, "test_r2");
    assert!(r2 > 0.9, "a linear target is learned: {out}");

    // The user's choices override the guesses.
    let out = assert_ok(&layerlab(&[
        "train",
        "--dataset",
        path(&csv),
        "--quiet",
        "--epochs",
        "1",
        "--column",
        "x=ignore",
        "--target",
        "weather",
    ]));
    assert!(
        out.contains("x=ignore") && out.contains("2-class classification"),
        "{out}"
    );
    assert!(last_line(&out).starts_with("test_accuracy="), "{out}");
}

#[test]
fn bad_tables_and_folders_get_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    };
    let train = |p: &Path| layerlab(&["train", "--dataset", path(p), "--quiet", "--epochs", "1"]);

    assert_refused(
        &train(&write("empty.csv", "")),
        "empty.csv: the file is empty",
    );
    assert_refused(&train(&write("header.csv", "a,b\n")), "header but no rows");
    assert_refused(
        &train(&write("ragged.csv", "a,b\n1,2\n3,4\n5\n6,7\n8,9\n")),
        "ragged.csv: line 4 has 1 fields but the header has 2",
    );
    assert_refused(
        &train(&write("one.csv", "a,b\n1,x\n2,x\n3,x\n4,x\n5,x\n6,x\n")),
        "the target column b has only one value (x)",
    );
    assert_refused(
        &train(&write(
            "blank.csv",
            "words,label\n ,a\n ,b\n ,a\n ,b\n ,a\n ,b\n",
        )),
        "no column is left to learn from",
    );
    let blank = write(
        "blank2.csv",
        "words,label\n!!,a\n??,b\n..,a\n--,b\n%%,a\n;;,b\n",
    );
    assert_refused(
        &layerlab(&[
            "train",
            "--dataset",
            path(&blank),
            "--column",
            "words=text",
            "--quiet",
        ]),
        "the text column holds no words",
    );
    let numbers = write("numbers.csv", "a,b\n1,2\n3,4\n5,6\n7,8\n9,10\n11,12\n");
    assert_refused(
        &layerlab(&["train", "--dataset", path(&numbers), "--target", "c"]),
        "there is no column \"c\"; the columns are a, b",
    );
    assert_refused(
        &layerlab(&["train", "--dataset", path(&numbers), "--column", "a=date"]),
        "\"date\" is not a column kind",
    );
    assert_refused(
        &layerlab(&["train", "--dataset", "imagenet"]),
        "\"imagenet\" is neither a built-in dataset nor an existing file or folder",
    );
    assert_refused(
        &layerlab(&[
            "train",
            "--dataset",
            "iris",
            "--loss",
            "cross-entropy",
            "--target",
            "x",
        ]),
        "--target applies to CSV files",
    );

    // IDX files whose header claims far more images than the file holds.
    let idx = dir.path().join("idx");
    std::fs::create_dir(&idx).unwrap();
    let header = |dims: &[u32]| {
        let mut bytes = vec![0, 0, 8, dims.len() as u8];
        for d in dims {
            bytes.extend_from_slice(&d.to_be_bytes());
        }
        bytes
    };
    let mut images = header(&[1 << 31, 28, 28]);
    images.extend([0u8; 784]);
    std::fs::write(idx.join("train-images-idx3-ubyte"), &images).unwrap();
    std::fs::write(idx.join("train-labels-idx1-ubyte"), header(&[1])).unwrap();
    assert_refused(
        &train(&idx),
        "train-images-idx3-ubyte: dimensions [2147483648, 28, 28] need 1683627180032 bytes, more than the 2048 MiB LayerLab reads",
    );
}

#[test]
fn an_image_folder_of_ones_own_trains_and_predicts_with_unreadable_files_listed() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("shapes");
    // Two classes told apart by colour: red squares and blue squares, 12x12 and 16x16.
    for i in 0..30u32 {
        for (class, colour) in [("red", [220u8, 20, 20]), ("blue", [20u8, 20, 220])] {
            let folder = root.join(class);
            std::fs::create_dir_all(&folder).unwrap();
            let side = if i % 2 == 0 { 12 } else { 16 };
            let shade = (i * 3) as u8;
            image::RgbImage::from_pixel(
                side,
                side,
                image::Rgb(colour.map(|c| c.saturating_sub(shade))),
            )
            .save(folder.join(format!("{i}.png")))
            .unwrap();
        }
    }
    std::fs::write(root.join("red/readme.txt"), "not an image").unwrap();
    let model = dir.path().join("shapes.safetensors");
    let out = assert_ok(&layerlab(&[
        "train",
        "--dataset",
        path(&root),
        "--epochs",
        "5",
        "--quiet",
        "--export",
        path(&model),
    ]));
    assert!(out.contains("in 2 classes, resized to 3x16x16"), "{out}");
    assert!(
        out.contains("1 files could not be read") && out.contains("readme.txt"),
        "{out}"
    );
    assert!(last_line(&out).starts_with("test_accuracy="), "{out}");
    let trained = last_line(&out).to_string();

    let probe = dir.path().join("probe.png");
    image::RgbImage::from_pixel(40, 30, image::Rgb([10, 10, 240]))
        .save(&probe)
        .unwrap();
    let out = assert_ok(&layerlab(&[
        "predict",
        "--model",
        path(&model),
        "--json",
        path(&probe),
    ]));
    let prediction: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(prediction["label"], "blue", "{prediction}");

    // The folder evaluates as its model was trained on it: the same size, colour and split
    // (it failed with "cannot read .../train-images-idx3-ubyte").
    let out = assert_ok(&layerlab(&[
        "eval",
        "--model",
        path(&model),
        "--dataset",
        path(&root),
    ]));
    assert_eq!(last_line(&out), trained, "{out}");

    // One class folder is not a classification problem.
    let single = dir.path().join("single");
    std::fs::create_dir_all(single.join("cats")).unwrap();
    std::fs::copy(&probe, single.join("cats/a.png")).unwrap();
    assert_refused(
        &layerlab(&["train", "--dataset", path(&single)]),
        "at least two classes; found only \"cats\"",
    );
}
