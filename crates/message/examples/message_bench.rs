//! Benchmark driver for the message crate; `bench/message.sh` runs it beside python
//! messaging 1.2 and prints the ratios.
//!
//! `message_bench make FILE N` writes N generated messages (one serialized message a line) that
//! both sides then load. `message_bench codec FILE ROUNDS` times encode + decode of every message
//! with each compression (`message_bench codec FILE ROUNDS ALGO` one only; `message_bench split FILE` times
//! encode and decode apart, for profiling). `message_bench queue FILE DIR` times DQS and DQN add
//! and consume.

use std::io::{BufRead, Write};
use std::time::Instant;

use message::generator::{Generator, Rng};
use message::{Encoder, Message, MessageQueue, decode};

fn phase(kind: &str, name: &str, n: usize, secs: f64) {
    println!(
        "{{\"kind\":\"{kind}\",\"impl\":\"rust\",\"phase\":\"{name}\",\"n\":{n},\"secs\":{secs:.6},\"rate\":{:.1}}}",
        n as f64 / secs
    );
}

fn load(file: &str) -> Vec<Message> {
    let f = std::io::BufReader::new(std::fs::File::open(file).expect("messages file"));
    f.lines()
        .map(|l| decode(l.expect("line").as_bytes()).expect("message"))
        .collect()
}

fn main() {
    let a: Vec<String> = std::env::args().skip(1).collect();
    match a[0].as_str() {
        "make" => {
            let n: usize = a[2].parse().expect("N");
            let mut out = std::io::BufWriter::new(std::fs::File::create(&a[1]).expect("create"));
            let mut g = Generator::default();
            for (k, v) in [
                ("body-length", "1024"),
                ("header-count", "5"),
                ("header-name-length", "10"),
                ("header-name-entropy", "2"),
                ("header-value-length", "20"),
                ("header-value-entropy", "3"),
            ] {
                g.set(k, v).expect("option");
            }
            let mut rng = Rng::new(42);
            for i in 0..n {
                // a mix: compressible text, printable binary, random binary
                g.text = Some(i % 3 != 2);
                g.set("body-entropy", ["1", "3", "4"][i % 3])
                    .expect("entropy");
                let m = g.message(&mut rng);
                writeln!(out, "{}", Encoder::default().encode(&m)).expect("write");
            }
        }
        "codec" => {
            let msgs = load(&a[1]);
            let rounds: usize = a[2].parse().expect("ROUNDS");
            let only = a.get(3).map(String::as_str);
            for comp in ["none", "zlib", "lz4", "snappy"] {
                if only.is_some_and(|o| o != comp) {
                    continue;
                }
                let enc: Encoder = if comp == "none" { "" } else { comp }.parse().expect("enc");
                let t = Instant::now();
                for _ in 0..rounds {
                    for m in &msgs {
                        let s = enc.serialize(m);
                        let back = decode(&s).expect("decode");
                        assert_eq!(back.body.as_bytes().len(), m.body.as_bytes().len());
                    }
                }
                phase(
                    comp,
                    "encode+decode",
                    msgs.len() * rounds,
                    t.elapsed().as_secs_f64(),
                );
            }
        }
        "split" => {
            // encode alone, then decode alone, without compression (for profiling)
            let msgs = load(&a[1]);
            let enc = Encoder::default();
            let t = Instant::now();
            let ser: Vec<Vec<u8>> = (0..10)
                .flat_map(|_| msgs.iter().map(|m| enc.serialize(m)))
                .collect();
            phase("none", "encode", ser.len(), t.elapsed().as_secs_f64());
            let t = Instant::now();
            for s in &ser {
                decode(s).expect("decode");
            }
            phase("none", "decode", ser.len(), t.elapsed().as_secs_f64());
        }
        "queue" => {
            let msgs = load(&a[1]);
            for kind in ["DQS", "DQN"] {
                let q = MessageQueue::open_str(&format!("type={kind} path={}/rust-{kind}", a[2]))
                    .expect("open");
                let t = Instant::now();
                for m in &msgs {
                    q.add_message(m).expect("add");
                }
                phase(kind, "add", msgs.len(), t.elapsed().as_secs_f64());
                let t = Instant::now();
                let mut n = 0;
                for name in q.names() {
                    let name = name.expect("name");
                    if q.dirq().lock(&name).expect("lock") {
                        q.get_message(&name).expect("get");
                        q.dirq().remove(&name).expect("remove");
                        n += 1;
                    }
                }
                assert_eq!(n, msgs.len());
                phase(kind, "consume", n, t.elapsed().as_secs_f64());
            }
        }
        _ => panic!("usage: bench make FILE N | codec FILE ROUNDS | queue FILE DIR"),
    }
}
