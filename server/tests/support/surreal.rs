//! A real SurrealDB server for tests: the `surreal` binary of the workspace (the
//! `surrealdb-server` crate of the client's release), in memory on a free loopback port,
//! stopped when dropped.

use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::free_port;

/// `surreal start … memory` with the root user `root` / `root`.
pub struct Surreal {
    child: Child,
    /// `ws://127.0.0.1:PORT`.
    pub url: String,
}

/// The `surreal` binary: `NSBACKUP_SURREAL`, or beside the test binaries (`make test`
/// builds it there first).
fn binary() -> PathBuf {
    if let Some(path) = std::env::var_os("NSBACKUP_SURREAL") {
        return PathBuf::from(path);
    }
    let exe = std::env::current_exe().expect("the test binary");
    let dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("the target directory");
    let path = dir.join("surreal");
    assert!(
        path.is_file(),
        "the SurrealDB server {} is missing: run `make test` (or `cargo build -p surreal-server`)",
        path.display()
    );
    path
}

impl Surreal {
    /// The options that point nsbackup at this server.
    pub fn options(&self) -> [&str; 6] {
        [
            "--db",
            self.url.as_str(),
            "--db-user",
            "root",
            "--db-password",
            "root",
        ]
    }

    pub fn start() -> Self {
        let port = free_port();
        let child = Command::new(binary())
            .args(["start", "--bind"])
            .arg(format!("127.0.0.1:{port}"))
            .args([
                "--user", "root", "--pass", "root", "--log", "warn", "memory",
            ])
            // Otherwise it asks the internet for a newer version at start-up.
            .env("SURREAL_ONLINE_VERSION_CHECK", "false")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("surreal starts");
        let server = Self {
            child,
            url: format!("ws://127.0.0.1:{port}"),
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "the SurrealDB server did not start"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        server
    }
}

impl Drop for Surreal {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
