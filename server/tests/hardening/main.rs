//! What an attacker, a careless script or a crafted file could do to the running server, each
//! tried from outside over HTTP against the real binary: deep folder chains, oversized and
//! malformed requests, races, hidden names, leftovers, headers.

#[path = "../support/mod.rs"]
mod support;

mod audit;
mod damage;
mod names;
mod races;
mod requests;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use support::Server;

fn mem_server(dir: &tempfile::TempDir) -> Server {
    Server::start(dir.path(), &["--db", "mem://"])
}

/// Reads the whole answer of a raw request (for requests the helpers cannot make).
fn raw(server: &Server, request: &[u8]) -> String {
    String::from_utf8_lossy(&raw_bytes(server, request)).to_string()
}

/// As [`raw`], the answer's bytes as they came, however the connection ended.
fn raw_bytes(server: &Server, request: &[u8]) -> Vec<u8> {
    let address = server.base_url.trim_start_matches("http://");
    let mut stream = TcpStream::connect(address).expect("connects");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    stream.write_all(request).expect("sends");
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    answer
}
