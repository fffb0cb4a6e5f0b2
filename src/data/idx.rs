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

/// Largest IDX payload LayerLab reads (the 60,000 MNIST images are 47 MB).
pub const MAX_IDX_BYTES: usize = 2 << 30;

/// Reads an IDX file, gunzipping it on the fly when it starts with the gzip magic bytes. The
/// header is read first; then at most the bytes it promises are inflated (a gzip bomb or a
/// header that lies never makes the reader allocate more than the data can need).
pub fn read_idx(path: &Path) -> Result<IdxArray, DataError> {
    let file_name = path.display().to_string();
    let io = |cause| DataError::Io {
        path: file_name.clone(),
        cause,
    };
    let corrupt = |reason: String| DataError::Corrupt {
        path: file_name.clone(),
        reason,
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let file_len = file.metadata().map_err(io)?.len();
    let mut buffered =
        std::io::BufReader::new(super::progress::CountingReader::new(file, file_len));
    let gzip = std::io::BufRead::fill_buf(&mut buffered)
        .map_err(io)?
        .starts_with(&[0x1f, 0x8b]);
    let mut source: Box<dyn Read> = if gzip {
        // Every member, as gunzip reads it: `cat a.gz b.gz` is one file.
        Box::new(flate2::read::MultiGzDecoder::new(buffered))
    } else {
        Box::new(buffered)
    };
    let damaged = |e: std::io::Error| {
        if gzip {
            corrupt(format!("gzip data is damaged or truncated ({e})"))
        } else {
            corrupt(e.to_string())
        }
    };
    // The header: magic, type, rank, then 4 bytes per dimension.
    let mut header = vec![0u8; 4];
    let got = read_up_to(&mut source, &mut header).map_err(damaged)?;
    header.truncate(got);
    if got == 4 {
        let rank = header[3] as usize;
        let mut dims = vec![0u8; 4 * rank];
        let got = read_up_to(&mut source, &mut dims).map_err(damaged)?;
        header.extend_from_slice(&dims[..got]);
    }
    let (dims, expected) = parse_header(&header, &file_name)?;
    if expected > MAX_IDX_BYTES {
        return Err(corrupt(format!(
            "dimensions {dims:?} need {expected} bytes, more than the {} MiB LayerLab reads",
            MAX_IDX_BYTES >> 20
        )));
    }
    let available = if gzip {
        expected
    } else {
        (file_len as usize).saturating_sub(header.len())
    };
    if !gzip && available < expected {
        return Err(corrupt(format!(
            "truncated: dimensions {dims:?} need {expected} bytes of data, found {available}"
        )));
    }
    let mut values = Vec::with_capacity(expected.min(available).min(64 << 20));
    (&mut source)
        .take(expected as u64)
        .read_to_end(&mut values)
        .map_err(damaged)?;
    if values.len() < expected {
        return Err(corrupt(format!(
            "truncated: dimensions {dims:?} need {expected} bytes of data, found {}",
            values.len()
        )));
    }
    let mut extra = [0u8; 1];
    if read_up_to(&mut source, &mut extra).map_err(damaged)? > 0 {
        return Err(corrupt(format!(
            "has trailing bytes: dimensions {dims:?} need {expected} bytes of data, and more follows"
        )));
    }
    Ok(IdxArray { dims, values })
}

/// Fills `buffer` as far as the reader goes; returns how many bytes were read.
fn read_up_to(source: &mut impl Read, buffer: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buffer.len() {
        match source.read(&mut buffer[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// Parses IDX bytes; `source` names the file in errors.
pub fn parse_idx(bytes: &[u8], source: &str) -> Result<IdxArray, DataError> {
    let (dims, expected) = parse_header(bytes, source)?;
    let header_len = 4 + 4 * dims.len();
    let found = bytes.len() - header_len;
    if found != expected {
        let what = if found < expected {
            "truncated"
        } else {
            "has trailing bytes"
        };
        return Err(DataError::Corrupt {
            path: source.to_string(),
            reason: format!(
                "{what}: dimensions {dims:?} need {expected} bytes of data, found {found}"
            ),
        });
    }
    Ok(IdxArray {
        dims,
        values: bytes[header_len..].to_vec(),
    })
}

/// Checks the header at the start of `bytes`: the dimensions and the data bytes they need.
fn parse_header(bytes: &[u8], source: &str) -> Result<(Vec<usize>, usize), DataError> {
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
    Ok((dims, expected))
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
    fn a_gzip_bomb_is_read_only_as_far_as_its_header_promises() {
        use std::io::Write;
        // Header: one 28x28 image; then 200 MB of zeros, compressed to about 200 KB.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bomb.gz");
        let mut gz = flate2::write::GzEncoder::new(
            std::fs::File::create(&path).unwrap(),
            flate2::Compression::best(),
        );
        gz.write_all(&idx(&[1, 28, 28], &[])).unwrap();
        let zeros = vec![0u8; 1 << 20];
        for _ in 0..200 {
            gz.write_all(&zeros).unwrap();
        }
        gz.finish().unwrap();
        let err = read_idx(&path).unwrap_err().to_string();
        assert!(err.contains("has trailing bytes"), "{err}");

        // A raw file whose header claims 2^31 images is refused before anything is read.
        std::fs::write(&path, idx(&[1 << 31, 28, 28], &[0; 784])).unwrap();
        let err = read_idx(&path).unwrap_err().to_string();
        assert!(err.contains("more than the 2048 MiB"), "{err}");
        std::fs::write(&path, idx(&[1 << 20, 28, 28], &[0; 784])).unwrap();
        let err = read_idx(&path).unwrap_err().to_string();
        assert!(
            err.contains(
                "truncated: dimensions [1048576, 28, 28] need 822083584 bytes of data, found 784"
            ),
            "{err}"
        );

        // A good gzip file still reads.
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&idx(&[2, 2], &[1, 2, 3, 4])).unwrap();
        std::fs::write(&path, gz.finish().unwrap()).unwrap();
        assert_eq!(read_idx(&path).unwrap().values, [1, 2, 3, 4]);
    }

    #[test]
    fn a_multi_member_gzip_file_is_read_to_its_last_member() {
        use std::io::Write;
        // What `cat a.gz b.gz` makes: the header and first values in one member, the rest in
        // a second.
        let member = |bytes: &[u8]| {
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            gz.write_all(bytes).unwrap();
            gz.finish().unwrap()
        };
        let whole = idx(&[2, 3], &[1, 2, 3, 4, 5, 6]);
        let mut joined = member(&whole[..whole.len() - 4]);
        joined.extend(member(&whole[whole.len() - 4..]));
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("two-members.idx.gz");
        std::fs::write(&path, joined).unwrap();
        assert_eq!(read_idx(&path).unwrap().values, [1, 2, 3, 4, 5, 6]);
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
