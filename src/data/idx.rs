//! Reader for the IDX format MNIST ships in (raw or gzip), checking everything it reads.

use std::io::Read;
use std::path::Path;

use super::DataError;

/// An unsigned-byte IDX array: its dimensions and its values, row-major.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdxArray {
    pub dims: Vec<usize>,
    pub values: Vec<u8>,
}

/// IDX type code for unsigned bytes, the only type MNIST uses.
const UNSIGNED_BYTE: u8 = 0x08;

/// Reads an IDX file, gunzipping it first when it starts with the gzip magic bytes.
pub fn read_idx(path: &Path) -> Result<IdxArray, DataError> {
    let file_name = path.display().to_string();
    let raw = std::fs::read(path).map_err(|source| DataError::Io {
        path: file_name.clone(),
        cause: source,
    })?;
    let bytes = if raw.starts_with(&[0x1f, 0x8b]) {
        let mut unzipped = Vec::with_capacity(raw.len() * 4);
        flate2::read::GzDecoder::new(raw.as_slice())
            .read_to_end(&mut unzipped)
            .map_err(|e| DataError::Corrupt {
                path: file_name.clone(),
                reason: format!("gzip data is damaged or truncated ({e})"),
            })?;
        unzipped
    } else {
        raw
    };
    parse_idx(&bytes, &file_name)
}

/// Parses IDX bytes; `source` names the file in errors.
pub fn parse_idx(bytes: &[u8], source: &str) -> Result<IdxArray, DataError> {
    let corrupt = |reason: String| DataError::Corrupt {
        path: source.to_string(),
        reason,
    };
    if bytes.len() < 4 {
        return Err(corrupt(format!(
            "{} bytes is too short for an IDX header",
            bytes.len()
        )));
    }
    if bytes[0] != 0 || bytes[1] != 0 {
        return Err(corrupt(format!(
            "bad magic number {:02x}{:02x}{:02x}{:02x}: not an IDX file",
            bytes[0], bytes[1], bytes[2], bytes[3]
        )));
    }
    if bytes[2] != UNSIGNED_BYTE {
        return Err(corrupt(format!(
            "element type 0x{:02x} is not supported (expected 0x08, unsigned bytes)",
            bytes[2]
        )));
    }
    let rank = bytes[3] as usize;
    if rank == 0 {
        return Err(corrupt("an IDX array needs at least one dimension".into()));
    }
    let header_len = 4 + 4 * rank;
    if bytes.len() < header_len {
        return Err(corrupt(format!(
            "header declares {rank} dimensions but the file ends after {} bytes",
            bytes.len()
        )));
    }
    let dims: Vec<usize> = bytes[4..header_len]
        .chunks_exact(4)
        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize)
        .collect();
    let expected = dims
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .ok_or_else(|| corrupt(format!("dimensions {dims:?} overflow")))?;
    let found = bytes.len() - header_len;
    if found != expected {
        let what = if found < expected {
            "truncated"
        } else {
            "has trailing bytes"
        };
        return Err(corrupt(format!(
            "{what}: dimensions {dims:?} need {expected} bytes of data, found {found}"
        )));
    }
    Ok(IdxArray {
        dims,
        values: bytes[header_len..].to_vec(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn idx(dims: &[u32], values: &[u8]) -> Vec<u8> {
        let mut bytes = vec![0, 0, UNSIGNED_BYTE, dims.len() as u8];
        for d in dims {
            bytes.extend_from_slice(&d.to_be_bytes());
        }
        bytes.extend_from_slice(values);
        bytes
    }

    #[test]
    fn parses_a_well_formed_array() {
        let array = parse_idx(&idx(&[2, 3], &[1, 2, 3, 4, 5, 6]), "t").unwrap();
        assert_eq!(array.dims, [2, 3]);
        assert_eq!(array.values, [1, 2, 3, 4, 5, 6]);
    }

    #[test]
    fn truncated_data_is_reported_with_sizes() {
        let err = parse_idx(&idx(&[2, 3], &[1, 2, 3]), "images.idx").unwrap_err();
        assert_eq!(
            err.to_string(),
            "images.idx: truncated: dimensions [2, 3] need 6 bytes of data, found 3"
        );
    }

    #[test]
    fn garbage_and_short_headers_are_refused() {
        let err = parse_idx(b"GIF89a....", "x").unwrap_err();
        assert!(err.to_string().contains("bad magic number"), "{err}");
        let err = parse_idx(&[0, 0, 8], "x").unwrap_err();
        assert!(err.to_string().contains("too short"), "{err}");
        let err = parse_idx(&[0, 0, 8, 3, 0, 0], "x").unwrap_err();
        assert!(err.to_string().contains("declares 3 dimensions"), "{err}");
        let err = parse_idx(&[0, 0, 0x0d, 1, 0, 0, 0, 0], "x").unwrap_err();
        assert!(err.to_string().contains("not supported"), "{err}");
        let err = parse_idx(&idx(&[2], &[1, 2, 3]), "x").unwrap_err();
        assert!(err.to_string().contains("trailing bytes"), "{err}");
    }
}
