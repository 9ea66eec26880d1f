//! The packages, really built (scripts/build-packages.sh: rpmbuild offline from a source
//! tarball, .debs from the same binaries), their contents and scriptlets checked, then the
//! .debs installed on this machine with dpkg, smoke-tested from the installed paths and
//! removed again. Root; it builds the packages (release) unless MSGTK_PACKAGES names them
//! built: scripts/test.sh builds them of its test build beside the other tests and runs this
//! in a step of its own after them (`root_packages_`).

use std::path::Path;
use std::process::Command;

use test_support::tools;

fn run(program: &str, args: &[&str]) -> String {
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program}: {e}"));
    assert!(
        out.status.success(),
        "{program} {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn find(dir: &Path, tool: &str, ext: &str) -> String {
    std::fs::read_dir(dir)
        .expect("packages")
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .find(|p| {
            let n = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            n.starts_with(&format!("{tool}-0")) && n.ends_with(ext)
                || n.starts_with(&format!("{tool}_")) && n.ends_with(ext)
        })
        .unwrap_or_else(|| panic!("no {tool} {ext} in {}", dir.display()))
        .display()
        .to_string()
}

fn has(list: &str, what: &str, pkg: &str) {
    assert!(
        list.lines().any(|l| l.trim_end().ends_with(what)),
        "{pkg} lacks {what}:\n{list}"
    );
}

/// Removes the installed .debs, even when an assertion failed.
struct Installed;

impl Drop for Installed {
    fn drop(&mut self) {
        let _ = Command::new("dpkg")
            .arg("--purge")
            .args(tools::names())
            .output();
    }
}

/// An installed agent's (or simplevisor's) system user exists, owns the agent's spool, and
/// reads its configuration through its group; nobody else can.
fn owned_by_its_user(t: &str) {
    use std::os::unix::fs::MetadataExt;
    let passwd = run("getent", &["passwd", t]);
    let fields: Vec<&str> = passwd.trim().split(':').collect();
    let uid: u32 = fields[2].parse().expect("uid");
    let gid: u32 = fields[3].parse().expect("gid");
    assert!(uid > 0 && uid < 1000, "a system user: {passwd}");
    assert!(
        fields[6].ends_with("nologin") || fields[6].ends_with("false"),
        "no shell: {passwd}"
    );
    let check = |path: &str, want: (u32, u32, u32)| {
        let m = std::fs::metadata(path).unwrap_or_else(|e| panic!("{path}: {e}"));
        assert_eq!((m.uid(), m.gid(), m.mode() & 0o7777), want, "{path}");
    };
    if t != "simplevisor" {
        check(&format!("/var/spool/{t}"), (uid, gid, 0o750));
    }
    check(&format!("/etc/{t}"), (0, gid, 0o750));
    for conf in std::fs::read_dir(format!("/etc/{t}")).expect("/etc/TOOL") {
        let conf = conf.expect("entry").path();
        check(&conf.display().to_string(), (0, gid, 0o640));
    }
}

#[test]
fn root_packages_build_install_and_remove() {
    test_support::process::need_root();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let d = test_support::queues::tmp();
    // MSGTK_PACKAGES: the packages scripts/build-packages.sh made of this checkout earlier in
    // the same run (scripts/test.sh builds them beside the other tests), else built here
    let out = match std::env::var_os("MSGTK_PACKAGES") {
        Some(dir) => std::path::PathBuf::from(dir),
        None => {
            let out = d.path().join("packages");
            run(
                &root.join("scripts/build-packages.sh").display().to_string(),
                &[&out.display().to_string()],
            );
            out
        }
    };
    let names = tools::names();
    // the tools that run as system users of their own: the agents and simplevisor
    let mut users = tools::agents();
    users.push("simplevisor".to_string());
    for t in names.iter().map(String::as_str) {
        package_contents(&out, t);
    }
    for t in users.iter().map(String::as_str) {
        package_user(&out, t);
    }
    install_use_and_remove(&out, &names, &users);
}

/// Tool `t`'s RPM and .deb: its binary, man page, completion, unit, scriptlets and
/// configuration files.
fn package_contents(out: &Path, t: &str) {
    let rpm = find(out, t, ".rpm");
    let files = run("rpm", &["-qlp", &rpm]);
    has(&files, &format!("/usr/bin/{t}"), &rpm);
    has(&files, &format!("/usr/share/man/man1/{t}.1.gz"), &rpm);
    has(
        &files,
        &format!("/usr/share/bash-completion/completions/{t}"),
        &rpm,
    );
    let deb = find(out, t, ".deb");
    let contents = run("dpkg-deb", &["-c", &deb]);
    has(&contents, &format!("./usr/bin/{t}"), &deb);
    has(&contents, &format!("./usr/share/man/man1/{t}.1.gz"), &deb);
    let info = run("dpkg-deb", &["-I", &deb]);
    assert!(info.contains(&format!("Package: {t}")), "{info}");
    if t == "dirq" {
        return;
    }
    let unit = if t == "simplevisor" {
        "simplevisor.service".to_string()
    } else {
        format!("{t}@.service")
    };
    has(&files, &format!("/usr/lib/systemd/system/{unit}"), &rpm);
    has(&contents, &format!("./usr/lib/systemd/system/{unit}"), &deb);
    if t == "amsclt" {
        // ams-publisherd's replacement
        has(
            &files,
            "/usr/lib/systemd/system/amsclt-publisher.service",
            &rpm,
        );
        has(
            &contents,
            "./usr/lib/systemd/system/amsclt-publisher.service",
            &deb,
        );
    }
    let scripts = run("rpm", &["-qp", "--scripts", &rpm]);
    for s in ["postinstall", "preuninstall", "postuninstall"] {
        assert!(scripts.contains(s), "{rpm}: no {s} scriptlet:\n{scripts}");
    }
    assert!(
        scripts.contains("systemctl --no-reload preset")
            && scripts.contains("disable --now")
            && scripts.contains("try-restart"),
        "{rpm}: the systemd scriptlets:\n{scripts}"
    );
    let config = run("rpm", &["-qp", "--configfiles", &rpm]);
    assert!(
        config.lines().any(|l| l.starts_with(&format!("/etc/{t}/"))),
        "{rpm}: no configuration under /etc/{t}:\n{config}"
    );
    let conffiles = run("dpkg-deb", &["-I", &deb, "conffiles"]);
    assert!(
        conffiles
            .lines()
            .any(|l| l.starts_with(&format!("/etc/{t}/"))),
        "{deb}: no conffile under /etc/{t}:\n{conffiles}"
    );
}

/// The RPM of a tool that runs as a system user of its own: spool and /etc owners and
/// modes, the sysusers.d file, the user made before the files.
fn package_user(out: &Path, t: &str) {
    let rpm = find(out, t, ".rpm");
    let dump = run("rpm", &["-qp", "--dump", &rpm]);
    // PATH SIZE MTIME DIGEST MODE OWNER GROUP ...: an agent's spool, 0750 its user's
    if t != "simplevisor" {
        let spool = dump
            .lines()
            .find(|l| l.starts_with(&format!("/var/spool/{t} ")))
            .unwrap_or_else(|| panic!("{rpm}: no spool directory:\n{dump}"));
        let fields: Vec<&str> = spool.split_whitespace().collect();
        assert_eq!(fields[4], "040750", "{spool}");
        assert_eq!(
            (fields[5], fields[6]),
            (t, t),
            "owned by the agent's user: {spool}"
        );
    }
    let etc = dump
        .lines()
        .find(|l| l.starts_with(&format!("/etc/{t} ")))
        .unwrap_or_else(|| panic!("{rpm}: no /etc/{t}:\n{dump}"));
    let fields: Vec<&str> = etc.split_whitespace().collect();
    assert_eq!(
        (fields[4], fields[5], fields[6]),
        ("040750", "root", t),
        "{etc}"
    );
    assert!(
        dump.lines()
            .any(|l| l.starts_with(&format!("/usr/lib/sysusers.d/{t}.conf "))),
        "{rpm}: no sysusers.d file:\n{dump}"
    );
    let scripts = run("rpm", &["-qp", "--scripts", &rpm]);
    assert!(
        scripts.contains(&format!("useradd -r -g {t}")),
        "{rpm}: no user made before the files:\n{scripts}"
    );
    has(
        &run("rpm", &["-qlp", &rpm]),
        &format!("/usr/share/doc/{t}/examples"),
        &rpm,
    );
}

/// Installed from the .debs, used from the installed paths, removed.
fn install_use_and_remove(out: &Path, names: &[String], users: &[String]) {
    let debs: Vec<String> = names.iter().map(|t| find(out, t, ".deb")).collect();
    let _installed = Installed;
    let mut args = vec!["-i"];
    args.extend(debs.iter().map(String::as_str));
    run("dpkg", &args);
    for page in [
        "stompclt.conf",
        "amqpclt.conf",
        "mqttclt.conf",
        "messaging-queue",
    ] {
        run("man", &["-w", page]);
    }
    for t in names.iter().map(String::as_str) {
        let v = run(&format!("/usr/bin/{t}"), &["--version"]);
        assert!(v.contains("0.1.0"), "{t} --version: {v}");
        let page = run("man", &["-w", t]);
        assert!(page.contains(&format!("man1/{t}.1")), "man -w {t}: {page}");
    }
    let conf = std::fs::metadata("/etc/stompclt/sender.conf").expect("a default configuration");
    assert_eq!(
        std::os::unix::fs::PermissionsExt::mode(&conf.permissions()) & 0o777,
        0o640
    );
    for t in users.iter().map(String::as_str) {
        owned_by_its_user(t);
    }
    // the installed units, a template through an instance, without a single warning
    let verify = Command::new("systemd-analyze")
        .args([
            "verify",
            "--man=no",
            "simplevisor.service",
            "stompclt@sender.service",
            "amqpclt@receiver.service",
            "mqttclt@sender.service",
            "amsclt@sender.service",
            "amsclt-publisher.service",
        ])
        .output()
        .expect("systemd-analyze");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&verify.stdout),
        String::from_utf8_lossy(&verify.stderr)
    );
    assert!(
        verify.status.success() && said.trim().is_empty(),
        "systemd-analyze verify:\n{said}"
    );
    let mut args = vec!["--purge"];
    args.extend(names.iter().map(String::as_str));
    run("dpkg", &args);
    for t in names {
        assert!(!Path::new(&format!("/usr/bin/{t}")).exists(), "{t} removed");
    }
}
