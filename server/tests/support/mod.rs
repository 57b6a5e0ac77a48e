//! Starting the real `nsbackup` binary for a test, and talking HTTP to it.

#![allow(dead_code)]

pub mod client;
pub mod large;
pub mod memory;
pub mod s3;
pub mod surreal;

// Every test binary uses some of the client, none all of it (as `dead_code` above).
#[allow(unused_imports)]
pub use client::{Client, Response, call, job_succeeds};

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// The password of the administrator `admin` that every test server starts with.
pub const ADMIN_PASSWORD: &str = "admin-password-for-tests";

/// A running `nsbackup serve`, stopped with SIGTERM when dropped.
pub struct Server {
    child: Child,
    pub base_url: String,
    /// Behind a lock so that tests can share the server between threads.
    stderr: std::sync::Mutex<mpsc::Receiver<String>>,
}

/// The binary under test.
pub fn nsbackup() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_nsbackup"));
    // The environment must not configure the server behind the test's back.
    for (key, _) in std::env::vars() {
        if key.starts_with("NSBACKUP_") {
            command.env_remove(key);
        }
    }
    // The default log filter, as a person running nsbackup sees it (the database engine
    // logs warnings only, so its shutdown does not follow nsbackup's last line).
    command
}

/// Runs `nsbackup COMMAND ARGS… --data-dir DIR` (a command-line subcommand) to its end.
pub fn command_in(dir: &Path, command: &str, args: &[&str]) -> std::process::Output {
    nsbackup()
        .arg(command)
        .args(args)
        .arg("--data-dir")
        .arg(dir)
        .output()
        .expect("runs")
}

/// A command's output as text.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A port that is free on the loopback address now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port()
}

/// The one line a command that was refused ends with, after checking that it was refused
/// and that the line is nsbackup's own (`nsbackup: …`).
pub fn refusal(output: &std::process::Output) -> String {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "refused: {stderr}");
    let last = stderr.lines().last().unwrap_or_default().to_string();
    assert!(last.starts_with("nsbackup: "), "{stderr}");
    last
}

impl Server {
    /// Starts `nsbackup serve` on a free port with the given extra arguments and waits until
    /// it prints its address.
    pub fn start(data_dir: &Path, args: &[&str]) -> Server {
        Self::start_with_env(data_dir, args, &[])
    }

    /// As [`Server::start`], with extra environment variables.
    pub fn start_with_env(data_dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Server {
        let mut child = nsbackup()
            .envs(env.iter().copied())
            .env("NSBACKUP_INITIAL_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .arg("serve")
            .args(["--listen", "127.0.0.1:0", "--data-dir"])
            .arg(data_dir)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the binary starts");
        let stdout = child.stdout.take().expect("stdout");
        let stderr = child.stderr.take().expect("stderr");
        let (err_tx, err_rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = err_tx.send(line);
            }
        });
        let (url_tx, url_rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("nsbackup is listening on ") {
                    let _ = url_tx.send(url.to_string());
                }
            }
        });
        let base_url = match url_rx.recv_timeout(Duration::from_secs(60)) {
            Ok(url) => url,
            Err(_) => {
                let _ = child.kill();
                let status = child.wait();
                // Everything it wrote: its standard error is closed once it has ended.
                let log: Vec<String> = err_rx.iter().collect();
                panic!("the server did not start ({status:?}):\n{}", log.join("\n"));
            }
        };
        Server {
            child,
            base_url,
            stderr: std::sync::Mutex::new(err_rx),
        }
    }

    /// Sends SIGTERM and waits for the process to end.
    pub fn stop(mut self) -> (ExitStatus, Vec<String>) {
        let status = self.terminate();
        // Everything it wrote before it ended: read until its standard error closes.
        let mut log = Vec::new();
        if let Ok(stderr) = self.stderr.lock() {
            while let Ok(line) = stderr.recv_timeout(Duration::from_secs(5)) {
                log.push(line);
            }
        }
        (status, log)
    }

    fn terminate(&mut self) -> ExitStatus {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        for _ in 0..300 {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        self.child.wait().expect("the server ends")
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits for the process to end by itself (or by a signal sent from elsewhere); kills it
    /// and fails when it is still running after `timeout`.
    pub fn wait_for_end(mut self, timeout: Duration) -> ExitStatus {
        let deadline = std::time::Instant::now() + timeout;
        while std::time::Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        panic!("the server was still running after {timeout:?}");
    }

    /// Kills the process at once (SIGKILL), as a crash or a power cut would.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Waits until the server logs a line containing `text`; returns whether it did within
    /// `timeout`.
    pub fn wait_for_log(&self, text: &str, timeout: Duration) -> bool {
        let deadline = std::time::Instant::now() + timeout;
        while std::time::Instant::now() < deadline {
            let line = self.stderr.lock().map_err(|_| ()).and_then(|stderr| {
                stderr
                    .recv_timeout(Duration::from_millis(100))
                    .map_err(|_| ())
            });
            if let Ok(line) = line
                && line.contains(text)
            {
                return true;
            }
        }
        false
    }

    /// Everything the server has logged so far.
    pub fn log(&self) -> Vec<String> {
        self.stderr
            .lock()
            .map(|stderr| stderr.try_iter().collect())
            .unwrap_or_default()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            self.terminate();
        }
    }
}
