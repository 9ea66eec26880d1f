//! Test and benchmark messages, with the option names of Perl's
//! `Messaging::Message::Generator`.

use std::collections::BTreeMap;

use crate::{Body, Message};

/// An integer option: `X` exact, `X-Y` uniform, `X^Y` pseudo-normal (Irwin–Hall) between
/// X and Y.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Range {
    /// Always this value.
    #[default]
    Zero,
    /// Always this value.
    Exact(usize),
    /// Uniform in `[lo, hi]`.
    Uniform(usize, usize),
    /// Roughly normal in `[lo, hi]`, centred.
    Normal(usize, usize),
}

impl std::str::FromStr for Range {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let num = |t: &str| {
            t.trim()
                .parse::<usize>()
                .map_err(|_| format!("{s:?} is not X, X-Y or X^Y"))
        };
        if let Some((a, b)) = s.split_once('-') {
            Ok(Range::Uniform(num(a)?, num(b)?))
        } else if let Some((a, b)) = s.split_once('^') {
            Ok(Range::Normal(num(a)?, num(b)?))
        } else {
            Ok(Range::Exact(num(s)?))
        }
    }
}

/// A small, seedable pseudo-random generator (xorshift64*): reproducible test data without
/// a dependency.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator with this seed.
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }
    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    /// True with probability `p` (0 to 1).
    pub fn chance(&mut self, p: f64) -> bool {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }
    /// Uniform in `[0, n)`; 0 when n is 0.
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next_u64() % n as u64) as usize
        }
    }
    fn pick(&mut self, r: Range) -> usize {
        match r {
            Range::Zero => 0,
            Range::Exact(x) => x,
            Range::Uniform(a, b) => a.min(b) + self.below(a.abs_diff(b) + 1),
            Range::Normal(a, b) => {
                let (lo, span) = (a.min(b), a.abs_diff(b));
                let sum: usize = (0..4).map(|_| self.below(span + 1)).sum();
                lo + sum / 4
            }
        }
    }
}

/// What a generator makes. Entropy: 0 one repeated letter, 1 hex, 2 base64url, 3
/// printable ASCII, 4 random bytes (binary) or random Unicode (text).
#[derive(Debug, Clone, Default)]
pub struct Generator {
    /// `None`: random text or binary (Perl `0-1`); `Some(t)`: always that.
    pub text: Option<bool>,
    /// `body-length`.
    pub body_length: Range,
    /// `body-entropy`.
    pub body_entropy: Range,
    /// `header-count`.
    pub header_count: Range,
    /// `header-name-prefix`.
    pub header_name_prefix: String,
    /// `header-name-length`.
    pub header_name_length: Range,
    /// `header-name-entropy`.
    pub header_name_entropy: Range,
    /// `header-value-prefix`.
    pub header_value_prefix: String,
    /// `header-value-length`.
    pub header_value_length: Range,
    /// `header-value-entropy`.
    pub header_value_entropy: Range,
}

const HEX: &[u8] = b"0123456789abcdef";
const B64URL: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const UNICODE: &[char] = &[
    'é', 'à', 'ü', 'ß', 'ø', 'Ω', 'λ', 'Ж', 'я', 'ש', 'ع', '中', '文', '日', '本', '☺', '€', '✓',
    '𝄞', '😀', 'a', 'b', ' ', '\t',
];

impl Generator {
    /// Sets an option by its Perl name (`body-length`, `header-count`, ...).
    pub fn set(&mut self, name: &str, value: &str) -> Result<(), String> {
        let r = || value.parse::<Range>();
        match name {
            "text" => {
                self.text = match value {
                    "0" => Some(false),
                    "1" => Some(true),
                    "0-1" => None,
                    _ => return Err(format!("text: {value:?} is not 0, 1 or 0-1")),
                }
            }
            "body-length" => self.body_length = r()?,
            "body-entropy" => self.body_entropy = r()?,
            "header-count" => self.header_count = r()?,
            "header-name-prefix" => self.header_name_prefix = value.to_string(),
            "header-name-length" => self.header_name_length = r()?,
            "header-name-entropy" => self.header_name_entropy = r()?,
            "header-value-prefix" => self.header_value_prefix = value.to_string(),
            "header-value-length" => self.header_value_length = r()?,
            "header-value-entropy" => self.header_value_entropy = r()?,
            _ => return Err(format!("unknown generator option {name:?}")),
        }
        Ok(())
    }

    fn string(rng: &mut Rng, len: usize, entropy: usize) -> String {
        match entropy {
            0 => "a".repeat(len),
            1 => (0..len).map(|_| HEX[rng.below(16)] as char).collect(),
            2 => (0..len).map(|_| B64URL[rng.below(64)] as char).collect(),
            3 => (0..len)
                .map(|_| (0x20 + rng.below(95) as u8) as char)
                .collect(),
            _ => (0..len)
                .map(|_| UNICODE[rng.below(UNICODE.len())])
                .collect(),
        }
    }

    /// One message.
    pub fn message(&self, rng: &mut Rng) -> Message {
        let mut header = BTreeMap::new();
        for _ in 0..rng.pick(self.header_count) {
            let (nl, ne) = (
                rng.pick(self.header_name_length),
                rng.pick(self.header_name_entropy).min(3),
            );
            let name = format!("{}{}", self.header_name_prefix, Self::string(rng, nl, ne));
            let (vl, ve) = (
                rng.pick(self.header_value_length),
                rng.pick(self.header_value_entropy),
            );
            let value = format!("{}{}", self.header_value_prefix, Self::string(rng, vl, ve));
            header.insert(name, value);
        }
        let text = self.text.unwrap_or_else(|| rng.below(2) == 1);
        let (len, entropy) = (rng.pick(self.body_length), rng.pick(self.body_entropy));
        let body = if text {
            Body::Text(Self::string(rng, len, entropy))
        } else if entropy >= 4 {
            Body::Binary((0..len).map(|_| rng.next_u64() as u8).collect())
        } else {
            Body::Binary(Self::string(rng, len, entropy).into_bytes())
        };
        Message { header, body }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_by_perl_names() {
        let mut g = Generator::default();
        g.set("text", "1").expect("ok");
        g.set("body-length", "100").expect("ok");
        g.set("body-entropy", "4").expect("ok");
        g.set("header-count", "2-5").expect("ok");
        g.set("header-name-prefix", "h-").expect("ok");
        g.set("header-name-length", "8").expect("ok");
        g.set("header-name-entropy", "2").expect("ok");
        g.set("header-value-length", "10^20").expect("ok");
        assert!(g.set("nope", "1").is_err());
        assert!(g.set("body-length", "x").is_err());
        let mut rng = Rng::new(1);
        for _ in 0..50 {
            let m = g.message(&mut rng);
            assert!(m.is_text());
            assert_eq!(m.body.len_units(), 100);
            assert!((2..=5).contains(&m.header.len()), "{:?}", m.header);
            for (k, v) in &m.header {
                assert!(k.starts_with("h-") && k.len() == 10, "{k}");
                assert!((10..=20).contains(&v.len()), "{v}");
            }
        }
    }
}
