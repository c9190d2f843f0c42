//! gzip (RFC 1952) around miniz_oxide's raw deflate, for `Content-Encoding: gzip`.
//!
//! Only built with the `gzip` feature. The compressor's tables are allocated once and reset for
//! each body, and output goes into a caller's reused buffer, so a steady stream of scrapes does
//! not allocate. The CRC-32 is computed here with a table built at compile time.

use miniz_oxide::deflate::core::{
    compress_to_output, create_comp_flags_from_zip_params, CompressorOxide, TDEFLFlush, TDEFLStatus,
};

/// deflate level 1: a third of level 6's time on exposition text for a few percent more bytes.
const LEVEL: i32 = 1;

/// A reusable gzip compressor.
pub(crate) struct Gzip {
    compressor: Box<CompressorOxide>,
}

impl std::fmt::Debug for Gzip {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Gzip")
    }
}

impl Gzip {
    pub(crate) fn new() -> Gzip {
        // Negative window bits: raw deflate, since the gzip framing is written here.
        let flags = create_comp_flags_from_zip_params(LEVEL, -15, 0);
        Gzip {
            compressor: Box::new(CompressorOxide::new(flags)),
        }
    }

    /// Appends `data` gzip-compressed to `out`; `false` if compression failed (then `out` is
    /// left as it was).
    pub(crate) fn compress(&mut self, data: &[u8], out: &mut Vec<u8>) -> bool {
        let start = out.len();
        // Header: magic, deflate, no flags, no mtime, no extra flags, OS unknown.
        out.extend_from_slice(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255]);
        self.compressor.reset();
        let (status, consumed) =
            compress_to_output(&mut self.compressor, data, TDEFLFlush::Finish, |chunk| {
                out.extend_from_slice(chunk);
                true
            });
        if status != TDEFLStatus::Done || consumed != data.len() {
            out.truncate(start);
            return false;
        }
        out.extend_from_slice(&crc32(data).to_le_bytes());
        // ISIZE is the length modulo 2^32, by definition.
        out.extend_from_slice(&(data.len() as u32).to_le_bytes());
        true
    }
}

const CRC_TABLE: [u32; 256] = {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
            k += 1;
        }
        table[i] = c;
        i += 1;
    }
    table
};

/// The CRC-32 (IEEE) of `data`, as gzip's trailer carries it.
fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc = CRC_TABLE[((crc ^ u32::from(b)) & 0xff) as usize] ^ (crc >> 8);
    }
    !crc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_matches_the_standard_check_value() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
    }

    #[test]
    fn output_decompresses_to_the_input() {
        let mut gzip = Gzip::new();
        let data: Vec<u8> = (0..100_000u32)
            .flat_map(|i| format!("metric{{id=\"{i}\"}} {}\n", i % 7).into_bytes())
            .collect();
        let mut out = b"prefix".to_vec();
        for _ in 0..2 {
            out.truncate(6);
            assert!(gzip.compress(&data, &mut out));
            let body = &out[6..];
            assert_eq!(&body[..3], &[0x1f, 0x8b, 8]);
            let deflated = &body[10..body.len() - 8];
            let inflated = miniz_oxide::inflate::decompress_to_vec(deflated).unwrap();
            assert_eq!(inflated, data);
            let trailer = &body[body.len() - 8..];
            assert_eq!(trailer[..4], crc32(&data).to_le_bytes());
            assert_eq!(trailer[4..], (data.len() as u32).to_le_bytes());
            assert!(body.len() < data.len() / 4, "{}", body.len());
        }
    }
}
