//! The body compressions of the JSON form.

use std::cell::RefCell;
use std::fmt;
use std::str::FromStr;

use flate2::{FlushCompress, FlushDecompress, Status};

use crate::DecodeError;

/// Decompressed bodies larger than this are refused, so that a corrupt or hostile size
/// prefix (or a zlib bomb) cannot exhaust memory.
pub const MAX_BODY: usize = 1 << 30;

/// A body compression.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// zlib stream (RFC 1950).
    Zlib,
    /// LZ4 block with a 4-byte little-endian size prefix.
    Lz4,
    /// Raw Snappy block (not the framed format).
    Snappy,
}

impl Compression {
    /// The encoding token.
    pub fn token(self) -> &'static str {
        match self {
            Compression::Zlib => "zlib",
            Compression::Lz4 => "lz4",
            Compression::Snappy => "snappy",
        }
    }

    pub(crate) fn from_token(t: &str) -> Option<Self> {
        match t {
            "zlib" => Some(Compression::Zlib),
            "lz4" => Some(Compression::Lz4),
            "snappy" => Some(Compression::Snappy),
            _ => None,
        }
    }

    pub(crate) fn compress(self, data: &[u8]) -> Vec<u8> {
        match self {
            Compression::Zlib => zlib_compress(data),
            Compression::Lz4 => lz4_flex::block::compress_prepend_size(data),
            Compression::Snappy => snap::raw::Encoder::new()
                .compress_vec(data)
                .unwrap_or_default(),
        }
    }

    pub(crate) fn decompress(self, data: &[u8]) -> Result<Vec<u8>, DecodeError> {
        let fail = |reason: String| DecodeError::Decompress {
            algo: self.token(),
            reason,
        };
        match self {
            Compression::Zlib => zlib_decompress(data).map_err(fail),
            Compression::Lz4 => {
                let size = data
                    .get(..4)
                    .map(|p| u32::from_le_bytes([p[0], p[1], p[2], p[3]]) as usize)
                    .ok_or_else(|| fail("shorter than its size prefix".into()))?;
                // LZ4 cannot expand more than 255 times.
                if size > MAX_BODY || size > data.len().saturating_mul(255) + 64 {
                    return Err(fail(format!("implausible size prefix {size}")));
                }
                lz4_flex::block::decompress_size_prepended(data).map_err(|e| fail(e.to_string()))
            }
            Compression::Snappy => {
                let size = snap::raw::decompress_len(data).map_err(|e| fail(e.to_string()))?;
                if size > MAX_BODY || size > data.len().saturating_mul(64) + 64 {
                    return Err(fail(format!("implausible length {size}")));
                }
                snap::raw::Decoder::new()
                    .decompress_vec(data)
                    .map_err(|e| fail(e.to_string()))
            }
        }
    }
}

// zlib streams are reused per thread: deflateInit/inflateInit allocate and clear a few
// hundred KiB each, which costs more than compressing a 1 KiB body. A reset stream
// produces exactly the bytes a fresh one would.
thread_local! {
    static DEFLATE: RefCell<flate2::Compress> =
        RefCell::new(flate2::Compress::new(flate2::Compression::default(), true));
    static INFLATE: RefCell<flate2::Decompress> = RefCell::new(flate2::Decompress::new(true));
}

fn zlib_compress(data: &[u8]) -> Vec<u8> {
    DEFLATE.with(|z| {
        let mut z = z.borrow_mut();
        z.reset();
        // zlib's compressBound, so that one call normally finishes
        let mut out = Vec::with_capacity(data.len() + (data.len() >> 12) + (data.len() >> 14) + 64);
        loop {
            let consumed = z.total_in() as usize;
            match z.compress_vec(&data[consumed..], &mut out, FlushCompress::Finish) {
                Ok(Status::StreamEnd) => return out,
                Ok(_) => out.reserve(out.capacity().max(64)),
                // cannot happen with valid parameters; an empty result is refused by decode
                Err(_) => return Vec::new(),
            }
        }
    })
}

fn zlib_decompress(data: &[u8]) -> Result<Vec<u8>, String> {
    INFLATE.with(|z| {
        let mut z = z.borrow_mut();
        z.reset(true);
        let mut out = Vec::with_capacity(data.len().saturating_mul(4).min(MAX_BODY) + 64);
        loop {
            let (tin, tout) = (z.total_in(), z.total_out());
            let status = z
                .decompress_vec(&data[tin as usize..], &mut out, FlushDecompress::Finish)
                .map_err(|e| e.to_string())?;
            match status {
                Status::StreamEnd => return Ok(out),
                _ if out.len() > MAX_BODY => return Err("larger than 1 GiB".into()),
                _ if z.total_in() == tin && z.total_out() == tout && out.len() < out.capacity() => {
                    return Err("truncated stream".into());
                }
                _ => out.reserve(out.capacity().max(1024)),
            }
        }
    })
}

impl fmt::Display for Compression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.token())
    }
}

impl FromStr for Compression {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Compression::from_token(s)
            .ok_or_else(|| format!("unsupported compression {s:?} (zlib, lz4 or snappy)"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_the_references() {
        let data = vec![b'a'; 1000];
        assert_eq!(&Compression::Zlib.compress(&data)[..2], &[0x78, 0x9c]);
        assert_eq!(&Compression::Lz4.compress(&data)[..4], &[0xe8, 3, 0, 0]);
        // raw snappy starts with the varint length (1000 = 0xe8 0x07)
        assert_eq!(&Compression::Snappy.compress(&data)[..2], &[0xe8, 0x07]);
        for c in [Compression::Zlib, Compression::Lz4, Compression::Snappy] {
            assert_eq!(c.decompress(&c.compress(&data)).expect("round trip"), data);
        }
    }

    #[test]
    fn corrupt_input_is_an_error_not_a_panic_or_a_huge_allocation() {
        for c in [Compression::Zlib, Compression::Lz4, Compression::Snappy] {
            for bad in [&b""[..], b"\xff\xff\xff\x7f garbage", b"\x05\x00\x00\x00ab"] {
                assert!(c.decompress(bad).is_err(), "{c} accepted {bad:?}");
            }
        }
    }
}
