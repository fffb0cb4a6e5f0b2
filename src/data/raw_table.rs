//! A CSV file read as text (plain or gzip, every member), streamed into one buffer of cell
//! text with an offset per cell: no `String` per cell, so memory follows the data (about the
//! file's size plus 4 bytes a cell), not 60 times the file as a `Vec<Vec<String>>` did.

use std::io::Read;
use std::path::Path;

use super::DataError;

/// Refuse CSV files larger than this once decompressed (far above any table a laptop trains on).
pub const MAX_CSV_BYTES: u64 = 1 << 30;
/// Refuse a line (a record) longer than this: no table of a laptop's needs one, and a reader
/// must never hold a 1 GiB line in memory to find out that it is one.
pub const MAX_LINE_BYTES: usize = 32 << 20;

/// A CSV file held as text: the header and every record.
#[derive(Clone, Debug, PartialEq)]
pub struct RawTable {
    /// File name, for messages.
    pub source: String,
    pub headers: Vec<String>,
    cells: Cells,
}

/// Every cell's text, one after another, with where each cell and each row ends.
#[derive(Clone, Debug, Default, PartialEq)]
struct Cells {
    text: String,
    /// End of each cell in `text` (a cell starts where the one before it ends).
    cell_ends: Vec<u32>,
    /// End of each row in `cell_ends`.
    row_ends: Vec<u32>,
}

impl Cells {
    /// Appends one row. `text` stays under [`MAX_CSV_BYTES`] (checked by the reader), so its
    /// offsets fit in `u32`.
    fn push_row<'a>(&mut self, cells: impl Iterator<Item = &'a str>) {
        for cell in cells {
            self.text.push_str(cell);
            self.cell_ends.push(self.text.len() as u32);
        }
        self.row_ends.push(self.cell_ends.len() as u32);
    }

    fn row(&self, row: usize) -> Row<'_> {
        let first = row
            .checked_sub(1)
            .map_or(0, |before| self.row_ends[before] as usize);
        let last = self.row_ends[row] as usize;
        let start = first
            .checked_sub(1)
            .map_or(0, |before| self.cell_ends[before]);
        Row {
            text: &self.text,
            ends: &self.cell_ends[first..last],
            start,
        }
    }
}

/// One record of a [`RawTable`]: its cells, by column.
#[derive(Clone, Copy, Debug)]
pub struct Row<'a> {
    text: &'a str,
    ends: &'a [u32],
    /// Where the row's first cell starts in `text`.
    start: u32,
}

impl<'a> Row<'a> {
    /// Cells in this row (a headerless file's rows may differ in length).
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The cell of `column`, if the row has one.
    pub fn get(&self, column: usize) -> Option<&'a str> {
        let end = *self.ends.get(column)? as usize;
        let start = column
            .checked_sub(1)
            .map_or(self.start, |before| self.ends[before]) as usize;
        Some(&self.text[start..end])
    }

    /// The cell of `column`, or "" past the end of the row.
    pub fn cell(&self, column: usize) -> &'a str {
        self.get(column).unwrap_or("")
    }

    pub fn iter(&self) -> impl Iterator<Item = &'a str> + '_ {
        (0..self.len()).map(|column| self.cell(column))
    }
}

impl RawTable {
    /// A table of rows already in memory (built-in files read another way, a typed row).
    pub fn from_rows(source: String, headers: Vec<String>, rows: &[Vec<String>]) -> Self {
        let mut cells = Cells::default();
        for row in rows {
            cells.push_row(row.iter().map(String::as_str));
        }
        Self {
            source,
            headers,
            cells,
        }
    }

    /// Reads a CSV file with a header line; gzip when the file starts with gzip's magic bytes.
    pub fn read(path: &Path) -> Result<Self, DataError> {
        Self::read_with(path, CsvLayout::default())
    }

    /// Reads a file of rows without a header (columns named "1", "2", ...), rows of any length
    /// (the caller checks them), split on `delimiter`.
    pub fn read_headerless(path: &Path) -> Result<Self, DataError> {
        Self::read_with(
            path,
            CsvLayout {
                has_headers: false,
                delimiter: b',',
            },
        )
    }

    /// Reads a delimited file as `layout` says; gzip is detected from the content.
    pub fn read_with(path: &Path, layout: CsvLayout) -> Result<Self, DataError> {
        let source = super::file_label(path);
        let file = std::fs::File::open(path).map_err(|e| DataError::Io {
            path: path.display().to_string(),
            cause: e,
        })?;
        let len = file.metadata().map_or(0, |m| m.len());
        let mut reader = std::io::BufReader::new(super::progress::CountingReader::new(file, len));
        let gzip = {
            let buffer = std::io::BufRead::fill_buf(&mut reader).map_err(|e| DataError::Io {
                path: path.display().to_string(),
                cause: e,
            })?;
            buffer.starts_with(&[0x1f, 0x8b])
        };
        let input: Box<dyn Read> = if gzip {
            // Every member (`cat a.gz b.gz`, what `gzip` appends), as gunzip and pandas read it.
            Box::new(flate2::read::MultiGzDecoder::new(reader).take(MAX_CSV_BYTES + 1))
        } else {
            Box::new(reader.take(MAX_CSV_BYTES + 1))
        };
        Self::parse(input, &source, layout)
    }

    /// Parses CSV text with a header line; `source` names it in messages.
    pub fn from_reader(input: impl Read, source: &str) -> Result<Self, DataError> {
        Self::parse(input, source, CsvLayout::default())
    }

    fn parse(input: impl Read, source: &str, layout: CsvLayout) -> Result<Self, DataError> {
        let corrupt = |reason: String| DataError::Corrupt {
            path: source.to_string(),
            reason,
        };
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(layout.has_headers)
            .flexible(!layout.has_headers)
            .delimiter(layout.delimiter)
            .from_reader(LineGuard::new(input));
        let headers: Vec<String> = if layout.has_headers {
            let headers: Vec<String> = reader
                .headers()
                .map_err(|e| corrupt(csv_message(&e)))?
                .iter()
                .map(|h| h.trim().to_string())
                .collect();
            if headers.iter().all(|h| h.is_empty()) {
                return Err(corrupt("the file is empty: no header line".into()));
            }
            headers
        } else {
            Vec::new()
        };
        let mut cells = Cells::default();
        // One record, reused: its buffers grow to the longest row and stay.
        let mut record = csv::StringRecord::new();
        while reader
            .read_record(&mut record)
            .map_err(|e| corrupt(csv_message(&e)))?
        {
            if (cells.text.len() + record.as_slice().len()) as u64 > MAX_CSV_BYTES {
                return Err(corrupt(format!(
                    "more than {} MiB of data; LayerLab reads tables up to that size",
                    MAX_CSV_BYTES >> 20
                )));
            }
            cells.push_row(record.iter());
        }
        if cells.row_ends.is_empty() {
            return Err(corrupt(if layout.has_headers {
                "the file has a header but no rows".into()
            } else {
                "the file is empty".into()
            }));
        }
        Ok(Self {
            source: source.to_string(),
            headers,
            cells,
        })
    }

    /// Records below the header.
    pub fn row_count(&self) -> usize {
        self.cells.row_ends.len()
    }

    /// Record `row` (0-based, below the header).
    pub fn row(&self, row: usize) -> Row<'_> {
        self.cells.row(row)
    }

    /// Every record, in order.
    pub fn rows(&self) -> impl ExactSizeIterator<Item = Row<'_>> + Clone {
        (0..self.row_count()).map(|row| self.cells.row(row))
    }

    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.headers.iter().position(|h| h == name)
    }

    /// The cells of column `index` ("" where a row is short).
    pub fn column(&self, index: usize) -> impl Iterator<Item = &str> + Clone {
        self.rows().map(move |row| row.cell(index))
    }

    /// CSV line of row `row` (the header is line 1).
    pub fn line_of(row: usize) -> usize {
        row + 2
    }
}

/// Fails the read, naming the line, once a line runs past [`MAX_LINE_BYTES`]: the csv
/// reader would otherwise grow one record to the size of the file.
struct LineGuard<R> {
    inner: R,
    line: usize,
    line_bytes: usize,
}

impl<R: Read> LineGuard<R> {
    fn new(inner: R) -> Self {
        Self {
            inner,
            line: 1,
            line_bytes: 0,
        }
    }
}

impl<R: Read> Read for LineGuard<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let read = self.inner.read(buf)?;
        for &byte in &buf[..read] {
            if byte == b'\n' {
                self.line += 1;
                self.line_bytes = 0;
            } else {
                self.line_bytes += 1;
                if self.line_bytes > MAX_LINE_BYTES {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::InvalidData,
                        format!(
                            "line {} is longer than {} MiB; LayerLab reads lines (and fields) up \
                             to that length",
                            self.line,
                            MAX_LINE_BYTES >> 20
                        ),
                    ));
                }
            }
        }
        Ok(read)
    }
}

/// How a delimited file is laid out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CsvLayout {
    pub has_headers: bool,
    pub delimiter: u8,
}

impl Default for CsvLayout {
    fn default() -> Self {
        Self {
            has_headers: true,
            delimiter: b',',
        }
    }
}

/// "line 4: found record with 3 fields, but the previous record has 4 fields" without the
/// csv crate's byte offsets.
#[allow(clippy::wildcard_enum_match_arm)] // csv::ErrorKind is foreign and non-exhaustive.
fn csv_message(error: &csv::Error) -> String {
    match error.kind() {
        csv::ErrorKind::UnequalLengths {
            pos,
            expected_len,
            len,
        } => {
            let line = pos.as_ref().map_or(0, |p| p.line());
            format!("line {line} has {len} fields but the header has {expected_len}")
        }
        csv::ErrorKind::Utf8 { pos, .. } => {
            let line = pos.as_ref().map_or(0, |p| p.line());
            format!("line {line} is not valid UTF-8 text")
        }
        // The line guard's own message says which line and why.
        csv::ErrorKind::Io(io) => io.to_string(),
        // csv's error kinds are non-exhaustive; the rest read well as they are.
        _ => error.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_and_columns_read_back_from_the_cell_buffer() {
        let table =
            RawTable::from_reader("a,b,c\n1,,3\nx y,\"q,r\",\n".as_bytes(), "t.csv").unwrap();
        assert_eq!(table.headers, ["a", "b", "c"]);
        assert_eq!(table.row_count(), 2);
        assert_eq!(table.row(0).iter().collect::<Vec<_>>(), ["1", "", "3"]);
        assert_eq!(table.row(1).iter().collect::<Vec<_>>(), ["x y", "q,r", ""]);
        assert_eq!(table.column(1).collect::<Vec<_>>(), ["", "q,r"]);
        assert_eq!(table.row(1).get(3), None);
        assert_eq!(table.row(1).cell(3), "");
        let again = RawTable::from_rows(
            "t.csv".into(),
            table.headers.clone(),
            &table
                .rows()
                .map(|r| r.iter().map(str::to_string).collect())
                .collect::<Vec<_>>(),
        );
        assert_eq!(again, table);
    }

    #[test]
    fn a_headerless_file_keeps_rows_of_any_length() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rows.txt");
        std::fs::write(&path, "1,2,3\n4\n\n5,6\n").unwrap();
        let table = RawTable::read_headerless(&path).unwrap();
        let lengths: Vec<usize> = table.rows().map(|r| r.len()).collect();
        assert_eq!(lengths, [3, 1, 2]);
        assert_eq!(table.row(2).iter().collect::<Vec<_>>(), ["5", "6"]);
    }

    #[test]
    fn a_line_longer_than_the_limit_is_refused_with_its_number() {
        // A header, a good row, then a line of MAX_LINE_BYTES + 1 bytes: refused as soon as
        // the limit is passed, without reading the rest of the line.
        let long = vec![b'7'; MAX_LINE_BYTES + 1];
        let text = [b"x,y\n1,2\n".as_slice(), &long, b",1\n"].concat();
        let err = RawTable::from_reader(text.as_slice(), "t.csv")
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "t.csv: line 3 is longer than 32 MiB; LayerLab reads lines (and fields) up to that \
             length"
        );
    }
}
