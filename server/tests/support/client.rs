//! Talking HTTP to a test server: clients with or without a session, their requests and
//! answers, and `/api/v1` calls with a token.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use super::{ADMIN_PASSWORD, Server};

impl Server {
    /// A plain HTTP/1.1 GET without a session; returns the status code and the body.
    pub fn get(&self, path: &str) -> (u16, String) {
        self.anonymous().get(path)
    }

    /// A POST of a JSON body without a session, as the browser calls a server function;
    /// returns the status code and the body.
    pub fn post_json(&self, path: &str, body: &str) -> (u16, String) {
        self.anonymous().post_json(path, body)
    }

    /// A client without a session.
    pub fn anonymous(&self) -> Client<'_> {
        Client {
            server: self,
            cookie: None,
        }
    }

    /// A client signed in as `name`.
    pub fn sign_in(&self, name: &str, password: &str) -> Client<'_> {
        let body = serde_json::json!({ "name": name, "password": password }).to_string();
        let response = self.anonymous().send(
            "POST",
            "/api/sign_in",
            &[],
            Some(("application/json", &body)),
        );
        assert_eq!(response.status, 200, "sign-in of {name}: {}", response.body);
        let cookie = response
            .header("set-cookie")
            .and_then(|value| value.split(';').next())
            .expect("a session cookie")
            .to_string();
        Client {
            server: self,
            cookie: Some(cookie),
        }
    }

    /// A new API token of the administrator, working for a day.
    pub fn admin_token(&self, name: &str) -> String {
        self.admin().ok(
            "/api/create_token",
            serde_json::json!({ "name": name, "days": 1 }),
        )["secret"]
            .as_str()
            .expect("a secret")
            .to_string()
    }

    /// A client signed in as the administrator `admin`.
    pub fn admin(&self) -> Client<'_> {
        self.sign_in("admin", ADMIN_PASSWORD)
    }

    /// Creates a modeler (through the administrator) and signs in as them.
    pub fn modeler(&self, name: &str) -> Client<'_> {
        let password = format!("{name}-password-1");
        let body = serde_json::json!({ "name": name, "role": "modeler", "password": password })
            .to_string();
        let (status, answer) = self.admin().post_json("/api/create_user", &body);
        assert_eq!(status, 200, "create {name}: {answer}");
        self.sign_in(name, &password)
    }
}

/// An HTTP answer.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub head: String,
    pub body: String,
}

impl Response {
    /// The first header called `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.eq_ignore_ascii_case(name).then(|| value.trim())
        })
    }
}

/// Talks HTTP/1.1 to a test server, with or without a session cookie.
pub struct Client<'a> {
    server: &'a Server,
    pub cookie: Option<String>,
}

impl Client<'_> {
    /// A server function call that must succeed; its answer as JSON.
    pub fn ok(&self, path: &str, body: serde_json::Value) -> serde_json::Value {
        let (status, answer) = self.post_json(path, &body.to_string());
        assert_eq!(status, 200, "{path}: {answer}");
        serde_json::from_str(&answer).expect("json")
    }

    /// Everything a namespace holds, by path, without ids: comparable across namespaces.
    pub fn state(&self, ns: &str) -> serde_json::Value {
        let tree = self.ok(
            "/api/get_namespace_tree",
            serde_json::json!({ "namespace": ns }),
        );
        let folders = tree["folders"].as_array().cloned().unwrap_or_default();
        let name_of = |id: &serde_json::Value| -> String {
            folders
                .iter()
                .find(|f| &f["id"] == id)
                .map(|f| f["name"].as_str().unwrap_or_default().to_string())
                .unwrap_or_default()
        };
        let mut out = serde_json::Map::new();
        let mut containers = vec![serde_json::Value::Null];
        containers.extend(folders.iter().map(|f| f["id"].clone()));
        for container in containers {
            let items = self.ok(
                "/api/list_items",
                serde_json::json!({ "namespace": ns, "folder": container }),
            );
            let label = if container.is_null() {
                "(top)".to_string()
            } else {
                name_of(&container)
            };
            let summary: Vec<serde_json::Value> = items
                .as_array()
                .cloned()
                .unwrap_or_default()
                .iter()
                .map(|i| serde_json::json!([i["name"], i["kind"], i["size"], i["revision"]]))
                .collect();
            out.insert(
                format!("items in {label}"),
                serde_json::Value::Array(summary),
            );
        }
        for folder in &folders {
            out.insert(
                format!("folder {}", folder["name"].as_str().unwrap_or_default()),
                serde_json::json!([name_of(&folder["parent"]), folder["permissions"]]),
            );
        }
        serde_json::Value::Object(out)
    }

    /// Follows job `id` until it has ended; returns it.
    pub fn wait_for_job(&self, id: &str) -> serde_json::Value {
        for _ in 0..600 {
            let job = self.ok("/api/get_job", serde_json::json!({ "id": id }));
            if job["status"] == "succeeded" || job["status"] == "failed" {
                return job;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("job {id} did not finish");
    }

    /// Backs up `namespace` as `name` and waits until the backup succeeded; its id.
    pub fn backup(&self, namespace: &str, name: &str) -> String {
        let started = self.ok(
            "/api/create_backup",
            serde_json::json!({ "namespace": namespace, "name": name }),
        );
        let job = self.wait_for_job(started[1]["id"].as_str().expect("a job"));
        assert_eq!(job["status"], "succeeded", "{job}");
        started[0]["id"].as_str().expect("an id").to_string()
    }

    /// Restores backup `id` into `namespace` and waits until the restore succeeded.
    pub fn restore(&self, id: &str, namespace: &str) {
        let job = self.ok(
            "/api/restore_backup",
            serde_json::json!({ "id": id, "namespace": namespace }),
        );
        let job = self.wait_for_job(job["id"].as_str().expect("a job"));
        assert_eq!(job["status"], "succeeded", "{job}");
    }

    /// A GET; returns the status code and the body.
    pub fn get(&self, path: &str) -> (u16, String) {
        let response = self.send("GET", path, &[], None);
        (response.status, response.body)
    }

    /// A POST of a JSON body, as the browser calls a server function.
    pub fn post_json(&self, path: &str, body: &str) -> (u16, String) {
        let response = self.send("POST", path, &[], Some(("application/json", body)));
        (response.status, response.body)
    }

    /// Any request: extra headers, and a body with its content type.
    pub fn send(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<(&str, &str)>,
    ) -> Response {
        let (status, head, bytes) =
            self.exchange(method, path, headers, body.map(|(t, b)| (t, b.as_bytes())));
        Response {
            status,
            head,
            body: String::from_utf8_lossy(&bytes).to_string(),
        }
    }

    /// Any request with a binary body; the answer's body as bytes.
    /// Sends a server function call and returns without waiting for the answer: the
    /// connection stays open while the returned stream lives (for a call that a test holds
    /// at a fault point, then kills the server).
    pub fn send_and_leave(&self, path: &str, body: &serde_json::Value) -> TcpStream {
        self.try_send_and_leave(path, body)
            .expect("connects and sends")
    }

    /// As [`Client::send_and_leave`], for a server that may die meanwhile.
    pub fn try_send_and_leave(
        &self,
        path: &str,
        body: &serde_json::Value,
    ) -> std::io::Result<TcpStream> {
        let address = self.server.base_url.trim_start_matches("http://");
        let mut stream = TcpStream::connect(address)?;
        let body = body.to_string();
        let mut head = format!(
            "POST {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\nContent-Type: application/json\r\nAccept: application/json\r\nContent-Length: {}\r\n",
            body.len()
        );
        if let Some(cookie) = &self.cookie {
            head.push_str(&format!("Cookie: {cookie}\r\n"));
        }
        head.push_str("\r\n");
        head.push_str(&body);
        stream.write_all(head.as_bytes())?;
        Ok(stream)
    }

    pub fn exchange(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<(&str, &[u8])>,
    ) -> (u16, String, Vec<u8>) {
        let address = self.server.base_url.trim_start_matches("http://");
        let mut stream = TcpStream::connect(address).expect("connects");
        stream
            .set_read_timeout(Some(Duration::from_secs(120)))
            .expect("timeout");
        let mut head =
            format!("{method} {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n");
        if let Some(cookie) = &self.cookie {
            head.push_str(&format!("Cookie: {cookie}\r\n"));
        }
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        if let Some((content_type, body)) = body {
            head.push_str(&format!(
                "Content-Type: {content_type}\r\nAccept: application/json\r\nContent-Length: {}\r\n",
                body.len()
            ));
        }
        stream.write_all(head.as_bytes()).expect("sends");
        stream.write_all(b"\r\n").expect("sends");
        if let Some((_, body)) = body {
            // The server may answer (and close) before it has read everything, as for a
            // body over the size limit.
            let _ = stream.write_all(body);
        }
        let mut response = Vec::new();
        let _ = stream.read_to_end(&mut response);
        let split = response
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .expect("a head and a body");
        let head = String::from_utf8_lossy(&response[..split]).to_string();
        let mut body = response[split + 4..].to_vec();
        if head
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked")
        {
            body = dechunk(&body);
        }
        let status = head
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .expect("a status code");
        (status, head, body)
    }
}

/// The body of a chunked answer.
fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let Some(line_end) = data.windows(2).position(|w| w == b"\r\n") else {
            return out;
        };
        let size = usize::from_str_radix(String::from_utf8_lossy(&data[..line_end]).trim(), 16)
            .unwrap_or(0);
        if size == 0 {
            return out;
        }
        let start = line_end + 2;
        out.extend_from_slice(&data[start..start + size]);
        data = &data[start + size + 2..];
    }
}

/// An `/api/v1` request with the token `token`; the status and the body as JSON.
pub fn call(
    client: &Client<'_>,
    token: &str,
    method: &str,
    path: &str,
    body: Option<&serde_json::Value>,
) -> (u16, serde_json::Value) {
    let bearer = format!("Bearer {token}");
    let body = body.map(serde_json::Value::to_string);
    let response = client.send(
        method,
        path,
        &[("Authorization", &bearer)],
        body.as_deref().map(|b| ("application/json", b)),
    );
    let json = serde_json::from_str(&response.body).unwrap_or(serde_json::Value::Null);
    (response.status, json)
}

/// Follows job `id` through `/api/v1/jobs/{id}` until it succeeds (fails the test if it
/// fails, or runs for more than two minutes).
pub fn job_succeeds(client: &Client<'_>, token: &str, id: &str) {
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    loop {
        let (status, now) = call(client, token, "GET", &format!("/api/v1/jobs/{id}"), None);
        assert_eq!(status, 200, "{now}");
        if now["status"] == "succeeded" {
            return;
        }
        assert_ne!(now["status"], "failed", "{now}");
        assert!(std::time::Instant::now() < deadline, "{now}");
        std::thread::sleep(Duration::from_millis(200));
    }
}
