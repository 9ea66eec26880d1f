//! A small tmpfs, to fill a disk.

use std::path::Path;
use std::process::Command;

/// A small tmpfs, mounted for the test and unmounted after (needs root: tests named
/// `root_*`; an offline run can leave them out with `--skip root_`).
pub struct SmallFs(pub std::path::PathBuf);

impl SmallFs {
    /// Mounts a tmpfs of this size (`512k`) on `dir`.
    pub fn mount(dir: &Path, size: &str) -> SmallFs {
        assert!(
            crate::process::is_root(),
            "root_* tests mount a tmpfs and need root; leave them out with `--skip root_`"
        );
        std::fs::create_dir_all(dir).expect("mkdir");
        let st = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .status()
            .expect("mount");
        assert!(st.success(), "mount tmpfs on {}", dir.display());
        SmallFs(dir.to_path_buf())
    }
}

impl Drop for SmallFs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}
