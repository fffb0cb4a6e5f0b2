//! TensorBoard's (TFRecord) framing: each record is its length (u64, little-endian), the
//! masked CRC-32C of those 8 bytes, the data, and the masked CRC-32C of the data.

/// TFRecord's CRC mask: rotate right by 15 bits and add a constant.
fn masked_crc(bytes: &[u8]) -> u32 {
    let crc = crc32c::crc32c(bytes);
    crc.rotate_right(15).wrapping_add(0xa282_ead8)
}

/// Appends one framed record holding `data` to `out`.
pub fn frame(data: &[u8], out: &mut Vec<u8>) {
    let length = (data.len() as u64).to_le_bytes();
    out.extend_from_slice(&length);
    out.extend_from_slice(&masked_crc(&length).to_le_bytes());
    out.extend_from_slice(data);
    out.extend_from_slice(&masked_crc(data).to_le_bytes());
}

/// The records of a file, every CRC checked; an error names the record and what is wrong.
pub fn records(bytes: &[u8]) -> Result<Vec<&[u8]>, String> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let index = out.len();
        let header = bytes
            .get(at..at + 12)
            .ok_or(format!("record {index} is cut short in its header"))?;
        let (length, crc) = header.split_at(8);
        let crc = u32::from_le_bytes([crc[0], crc[1], crc[2], crc[3]]);
        if masked_crc(length) != crc {
            return Err(format!("record {index}: the length's CRC does not match"));
        }
        let mut raw = [0u8; 8];
        raw.copy_from_slice(length);
        let length = usize::try_from(u64::from_le_bytes(raw))
            .map_err(|_| format!("record {index}: a length beyond this machine"))?;
        let start = at + 12;
        let end = start
            .checked_add(length)
            .filter(|end| end + 4 <= bytes.len())
            .ok_or(format!("record {index} is cut short"))?;
        let data = &bytes[start..end];
        let crc = &bytes[end..end + 4];
        if masked_crc(data) != u32::from_le_bytes([crc[0], crc[1], crc[2], crc[3]]) {
            return Err(format!("record {index}: the data's CRC does not match"));
        }
        out.push(data);
        at = end + 4;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn framing_matches_tensorflows_and_damage_is_found() {
        // CRC-32C's check value (0xE3069283 for "123456789"), masked as TensorFlow's
        // `((crc >> 15) | (crc << 17)) + 0xa282ead8` (worked out in Python).
        assert_eq!(masked_crc(b"123456789"), 0xc78a_b0e5);
        let mut file = Vec::new();
        frame(b"first", &mut file);
        frame(b"", &mut file);
        frame(b"third record", &mut file);
        let read = records(&file).unwrap();
        assert_eq!(read, [&b"first"[..], b"", b"third record"]);
        let mut damaged = file.clone();
        damaged[14] ^= 1;
        assert!(records(&damaged).unwrap_err().contains("record 0"));
        assert!(records(&file[..file.len() - 1])
            .unwrap_err()
            .contains("cut short"));
    }
}
