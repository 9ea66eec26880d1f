//! The corpus: every `tests/corpus/NAME.conf` parses to `NAME.json` (Config::General's
//! `getall` shape), every `tests/corpus/errors/NAME.conf` fails with `NAME.err`. A first
//! line `# options: interpolate c_comments` selects parser options.

use std::fs;
use std::path::{Path, PathBuf};

use config_general::{FlatValue, Options, agent_options, parse_bool, parse_file, parse_str};
use proptest::prelude::*;

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus")
}

fn options_of(conf: &Path) -> Options {
    let first = fs::read_to_string(conf)
        .unwrap_or_default()
        .lines()
        .next()
        .unwrap_or_default()
        .to_string();
    let words = first.strip_prefix("# options:").unwrap_or("");
    Options {
        interpolate: words.contains("interpolate"),
        c_comments: words.contains("c_comments"),
    }
}

fn with_ext(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = fs::read_dir(dir)
        .expect("corpus directory")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .collect();
    v.sort();
    v
}

#[test]
fn every_rule_parses_to_its_expected_tree() {
    let cases = with_ext(&corpus(), "json");
    assert!(cases.len() >= 14, "corpus has {} cases", cases.len());
    for json in cases {
        let conf = json.with_extension("conf");
        let want: serde_json::Value =
            serde_json::from_str(&fs::read_to_string(&json).expect("json")).expect("valid json");
        let got = parse_file(&conf, &options_of(&conf))
            .unwrap_or_else(|e| panic!("{}: {e}", conf.display()))
            .to_json();
        assert_eq!(got, want, "{}", conf.display());
    }
}

#[test]
fn every_error_names_file_line_and_reason() {
    let dir = corpus().join("errors");
    let cases = with_ext(&dir, "err");
    assert!(cases.len() >= 9);
    let prefix = format!("{}/", corpus().display());
    for err in cases {
        let conf = err.with_extension("conf");
        let want = fs::read_to_string(&err).expect("err");
        let got = parse_file(&conf, &options_of(&conf))
            .expect_err(&format!("{} must fail", conf.display()))
            .to_string()
            .replace(&prefix, "");
        assert_eq!(got, want.trim_end(), "{}", conf.display());
    }
}

#[test]
fn locations_are_kept() {
    let root = parse_file(corpus().join("include.conf"), &Options::default()).expect("parses");
    let leaf = root.scalar("leaf").expect("leaf");
    assert!(leaf.at.file.ends_with("inc/leaf.conf"));
    assert_eq!(leaf.at.line, 1);
    assert_eq!(root.scalar("last").expect("last").at.line, 8);
}

#[test]
fn agents_see_dashed_names() {
    let text = "
<stompclt>
  <incoming-queue>
    path = /var/spool/in
  </incoming-queue>
  <outgoing>
    <broker>
      uri = stomp://broker:61613
      <auth>
        scheme = plain
        name = guest
      </auth>
    </broker>
  </outgoing>
  <subscribe>
    destination = /queue/a
    <activemq>
      retroactive = true
    </activemq>
  </subscribe>
  <subscribe>
    destination = /queue/b
    x-queue-name = b
  </subscribe>
  reliable = yes
</stompclt>
count = 10
";
    let root = parse_str(text, &Options::default()).expect("parses");
    let flat = agent_options(&root, "stompclt", &["subscribe"]);
    let names: Vec<(&str, String)> = flat
        .iter()
        .map(|f| {
            (
                f.name.as_str(),
                match &f.value {
                    FlatValue::Scalar(s) => s.clone(),
                    FlatValue::Map(m) => m
                        .iter()
                        .map(|(k, v)| format!("{k}={v}"))
                        .collect::<Vec<_>>()
                        .join(" "),
                },
            )
        })
        .collect();
    assert_eq!(
        names,
        [
            ("incoming-queue-path", "/var/spool/in".to_string()),
            ("outgoing-broker-uri", "stomp://broker:61613".to_string()),
            ("outgoing-broker-auth-scheme", "plain".to_string()),
            ("outgoing-broker-auth-name", "guest".to_string()),
            (
                "subscribe",
                "destination=/queue/a activemq-retroactive=true".to_string()
            ),
            (
                "subscribe",
                "destination=/queue/b x-queue-name=b".to_string()
            ),
            ("reliable", "yes".to_string()),
            ("count", "10".to_string()),
        ]
    );
    assert_eq!(flat[0].at.line, 4);
}

#[test]
fn boolean_words() {
    for t in ["true", "TRUE", "yes", "On", "1"] {
        assert_eq!(parse_bool(t), Some(true), "{t}");
    }
    for f in ["false", "no", "OFF", "0"] {
        assert_eq!(parse_bool(f), Some(false), "{f}");
    }
    assert_eq!(parse_bool("maybe"), None);
}

proptest! {
    #[test]
    fn random_input_never_panics(s in "(?s).{0,400}") {
        let _ = parse_str(&s, &Options::interpolating());
        let _ = parse_str(&s, &Options { interpolate: false, c_comments: true });
    }

    #[test]
    fn config_like_input_never_panics(lines in proptest::collection::vec(
        prop_oneof![
            Just("<a>".to_string()), Just("</a>".to_string()), Just("<b x>".to_string()),
            Just("</b>".to_string()), Just("k = $v".to_string()), Just("v = ${k}".to_string()),
            Just("m <<E".to_string()), Just("E".to_string()), Just("x \\".to_string()),
            Just("<<include nope.conf>>".to_string()), Just("/* c".to_string()),
            Just("*/".to_string()), "[ -~]{0,20}",
        ], 0..30)) {
        let text = lines.join("\n");
        let _ = parse_str(&text, &Options::interpolating());
        let _ = parse_str(&text, &Options { interpolate: false, c_comments: true });
    }
}
