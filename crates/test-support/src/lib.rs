//! What the integration tests of the agents and simplevisor share: brokers of a test's own
//! ([`brokers`], a RabbitMQ cluster in [`cluster`]), temporary queues and test messages ([`queues`]), running a binary and
//! taking its one-line error ([`bin`]), processes ([`process`]), syslog lines ([`syslog`]), a
//! silencing proxy ([`proxy`]), the Pub/Sub emulator ([`pubsub`]) and a server of the AMS dialect ([`ams`]), a small tmpfs ([`tmpfs`]), a filesystem that loses what a power cut loses ([`crashfs`]), the user documentation ([`docs`])
//! and the list of tools ([`tools`]). Tests that need a broker or root
//! fail loudly without one; only an explicit `--skip` leaves them out.

pub mod ams;
pub mod bin;
pub mod brokers;
pub mod cluster;
pub mod crashfs;
pub mod docs;
pub mod hostile;
pub mod process;
pub mod prometheus;
pub mod proxy;
pub mod pubsub;
pub mod queues;
pub mod soak;
pub mod syslog;
pub mod tmpfs;
pub mod tools;

/// Writes a file holding a secret (a password, a key) as a user would: readable by its owner
/// only, so that the agents accept it.
pub fn secret_file(path: &std::path::Path, secret: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, format!("{secret}\n")).expect("secret file");
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).expect("chmod 600");
}
