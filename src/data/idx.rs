//! The IDX format of MNIST (raw or gzip-compressed): a 4-byte magic `00 00 08 n` (unsigned
//! bytes, n dimensions), n big-endian u32 sizes, then the data in row-major order.
//! Every check names the file and what was wrong.

use crate::error::{Error, Result};
use flate2::read::GzDecoder;
use std::io::Read;
use std::path::Path;

/// A decoded IDX array of unsigned bytes.
#[derive(Clone, Debug, PartialEq)]
pub struct IdxArray {
    pub dims: Vec<usize>,
    pub data: Vec<u8>,
}

fn err(path: &Path, what: impl std::fmt::Display) -> Error {
    Error::Io(format!("{}: {what}", path.display()))
}

/// Reads an IDX file, decompressing it first if it starts with the gzip magic.
pub fn read_idx(path: &Path) -> Result<IdxArray> {
    let raw = std::fs::read(path)
        .map_err(|e| err(path, format!("{e} (is the dataset folder right?)")))?;
    let bytes = if raw.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        GzDecoder::new(&raw[..])
            .read_to_end(&mut out)
            .map_err(|e| err(path, format!("corrupt gzip data: {e}")))?;
        out
    } else {
        raw
    };
    parse_idx(&bytes).map_err(|what| err(path, what))
}

/// Parses IDX bytes; the error says what was wrong.
pub fn parse_idx(b: &[u8]) -> std::result::Result<IdxArray, String> {
    if b.len() < 4 {
        return Err(format!("too short for an IDX header ({} bytes)", b.len()));
    }
    if b[0] != 0 || b[1] != 0 {
        return Err(format!(
            "bad magic number {:02x} {:02x} {:02x} {:02x}: not an IDX file",
            b[0], b[1], b[2], b[3]
        ));
    }
    if b[2] != 0x08 {
        return Err(format!(
            "element type 0x{:02x} is not supported (only unsigned bytes, 0x08)",
            b[2]
        ));
    }
    let nd = b[3] as usize;
    if nd == 0 || nd > 4 {
        return Err(format!("{nd} dimensions in the header (expected 1 to 4)"));
    }
    let header = 4 + 4 * nd;
    if b.len() < header {
        return Err(format!(
            "truncated header: {} bytes, need {header}",
            b.len()
        ));
    }
    let dims: Vec<usize> = (0..nd)
        .map(|i| u32::from_be_bytes(b[4 + 4 * i..8 + 4 * i].try_into().expect("4 bytes")) as usize)
        .collect();
    let n = dims
        .iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d))
        .ok_or("dimensions overflow")?;
    let have = b.len() - header;
    if have != n {
        let what = if have < n { "truncated" } else { "too long" };
        return Err(format!(
            "{what}: dimensions {dims:?} need {n} data bytes, found {have}"
        ));
    }
    Ok(IdxArray {
        dims,
        data: b[header..].to_vec(),
    })
}

/// Encodes an IDX array (used by tests and by tools that write small files).
pub fn encode_idx(a: &IdxArray) -> Vec<u8> {
    let mut out = vec![0, 0, 0x08, a.dims.len() as u8];
    for &d in &a.dims {
        out.extend((d as u32).to_be_bytes());
    }
    out.extend(&a.data);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::Compression;
    use flate2::write::GzEncoder;
    use std::io::Write;

    fn sample() -> IdxArray {
        IdxArray {
            dims: vec![2, 3, 2],
            data: (0..12).collect(),
        }
    }

    #[test]
    fn raw_and_gzip_round_trip() {
        let dir = std::env::temp_dir().join(format!("lamppost-idx-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let raw = encode_idx(&sample());
        std::fs::write(dir.join("a"), &raw).unwrap();
        let mut gz = GzEncoder::new(Vec::new(), Compression::default());
        gz.write_all(&raw).unwrap();
        std::fs::write(dir.join("a.gz"), gz.finish().unwrap()).unwrap();
        assert_eq!(read_idx(&dir.join("a")).unwrap(), sample());
        assert_eq!(read_idx(&dir.join("a.gz")).unwrap(), sample());
        // a truncated gzip stream is an error that names the file
        let gzb = std::fs::read(dir.join("a.gz")).unwrap();
        std::fs::write(dir.join("b.gz"), &gzb[..gzb.len() / 2]).unwrap();
        let e = read_idx(&dir.join("b.gz")).unwrap_err().to_string();
        assert!(e.contains("b.gz") && e.contains("gzip"), "{e}");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn corrupt_headers_and_lengths_are_named() {
        let good = encode_idx(&sample());
        let check = |b: &[u8], want: &str| {
            let e = parse_idx(b).unwrap_err();
            assert!(e.contains(want), "{e} should mention {want}");
        };
        check(&good[..2], "too short");
        check(&[1, 0, 8, 1, 0, 0, 0, 0], "magic");
        check(&[0, 0, 0x0d, 1, 0, 0, 0, 0], "element type");
        check(&[0, 0, 8, 0], "dimensions");
        check(&good[..10], "truncated header");
        check(&good[..good.len() - 1], "truncated");
        let mut long = good.clone();
        long.push(0);
        check(&long, "too long");
        for cut in 0..good.len() {
            assert!(parse_idx(&good[..cut]).is_err());
        }
    }
}
