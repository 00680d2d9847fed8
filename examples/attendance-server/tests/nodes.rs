//! Attendance nodes on one PostgreSQL (`serve --database`), as behind a load balancer, against
//! a real server this test starts itself (tests/postgres.sh):
//! - the cameras that read their own source are shared, two per node, never run twice;
//! - any node answers for any camera: its status names the node running it, and its live view
//!   is relayed from there;
//! - a node that stops hands its cameras over at once; a new node gets its share; a node that
//!   is SIGKILLed loses its cameras to the others when its leases run out.

mod process;
mod scene;

use faceprint_server::testing::{free_port, run_tool, spawn_node, wait_ready, OwnPostgres};
use process::Api;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Child;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_faceprint-attendance");

/// A node process, killed at the end (a failed test too).
struct Node {
    child: Child,
    base: String,
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn node(data: &Path, url: &str, key: &str) -> Node {
    let port = free_port();
    // One media root for every node (the test's directory, which holds the hall video), and
    // the door cameras' dead URLs are on 127.0.0.1.
    let media = data.parent().unwrap().to_str().unwrap();
    let env = [
        ("FACEPRINT_APP__MEDIA_ROOT", media),
        ("FACEPRINT_OUTBOUND__ALLOW_PRIVATE_NETWORKS", "true"),
    ];
    let child = spawn_node(BIN, data, port, url, key, &env);
    let base = format!("http://127.0.0.1:{port}");
    wait_ready(&base).await;
    Node { child, base }
}

/// How many cameras each node runs, as `api`'s node reports them all (`node` of each status);
/// `None` while a camera is on no node or shown unreachable.
async fn placement(api: &Api) -> Option<BTreeMap<String, usize>> {
    let all = api.get("/stream/status").await;
    let mut per_node = BTreeMap::new();
    for s in all.as_array()? {
        if s["state"] == "stopped" || s["state"] == "unreachable" {
            return None;
        }
        *per_node.entry(s["node"].as_str()?.to_string()).or_default() += 1;
    }
    Some(per_node)
}

/// Waits until the cameras sit on the nodes as `want` says; how long that took.
async fn placed_as(api: &Api, want: &[(&str, usize)], within: Duration) -> Duration {
    let want: BTreeMap<String, usize> = want.iter().map(|(n, k)| (n.to_string(), *k)).collect();
    let started = Instant::now();
    loop {
        let now = placement(api).await;
        if now.as_ref() == Some(&want) {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < within,
            "cameras not placed as {want:?} within {within:?}: {now:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The first part of a camera's MJPEG live view, asked of the node at `base`.
async fn first_live_frame(api: &Api, base: &str, camera: &str) -> Vec<u8> {
    let mut res = api
        .http
        .get(format!("{base}/stream/{camera}?access_token={}", api.token))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "live view of {camera} from {base}");
    assert_eq!(
        res.headers()["content-type"],
        "multipart/x-mixed-replace; boundary=frame"
    );
    let mut got = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        let chunk = tokio::time::timeout(Duration::from_secs(20), res.chunk())
            .await
            .expect("a frame within 20 s")
            .unwrap()
            .expect("the stream went on");
        got.extend_from_slice(&chunk);
        if let Some(at) = got.windows(4).position(|w| w == b"\r\n\r\n") {
            let body = &got[at + 4..];
            if body.len() >= 2 {
                return body.to_vec();
            }
        }
    }
    panic!("no frame of {camera} from {base}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_share_the_cameras_and_take_over_those_of_a_node_that_stops_or_dies() {
    let pg = OwnPostgres::start("attendance-nodes");
    let dir = tempfile::tempdir().unwrap();
    let key = faceprint::store::MasterKey::generate().to_base64();
    // The staff account, made with the server's own command against the database.
    let admin = run_tool(
        BIN,
        &dir.path().join("tools"),
        &pg.url,
        &["admin", "create", "--username", "root"],
        "a long test password\n",
    );
    assert_eq!(admin["username"], "root");
    let mut a = node(&dir.path().join("a"), &pg.url, &key).await;
    let b = node(&dir.path().join("b"), &pg.url, &key).await;
    let on_a = Api::login(&a.base).await;
    let on_b = Api::login(&b.base).await;

    // A hall camera reading a minute-long recording (for the live view) and three door
    // cameras whose streams are down (they keep reconnecting), all added on node A.
    let video = dir.path().join("hall.mp4");
    scene::encode(&[], 300, &video);
    let hall = on_a
        .post(
            "/api/cameras",
            json!({"name": "hall", "kind": "file", "source": video, "settings": {"liveness": false}}),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    for door in ["door 1", "door 2", "door 3"] {
        on_a.post(
            "/api/cameras",
            json!({"name": door, "kind": "url", "source": "http://127.0.0.1:9/stream.mjpg"}),
        )
        .await;
    }
    let took = placed_as(
        &on_b,
        &[(&a.base, 2), (&b.base, 2)],
        Duration::from_secs(20),
    )
    .await;
    eprintln!("4 cameras added on A: two per node after {took:?}");
    assert_eq!(
        placement(&on_a).await,
        placement(&on_b).await,
        "both nodes tell the same"
    );

    // The node without the hall camera relays its status and its live view.
    let hall_status = on_a.get(&format!("/stream/status/{hall}")).await;
    let runner = hall_status["node"].as_str().unwrap().to_string();
    let other = if runner == a.base { &on_b } else { &on_a };
    let relayed: Value = other.get(&format!("/stream/status/{hall}")).await;
    assert_eq!(relayed["node"], json!(runner), "{relayed}");
    assert_ne!(relayed["state"], "stopped");
    let jpeg = first_live_frame(other, &other.base, &hall).await;
    assert_eq!(&jpeg[..2], &[0xff, 0xd8], "a JPEG relayed from {runner}");

    // A stops (SIGTERM): its cameras go to B at once, not after the lease.
    // SAFETY: kill(2) on the child this test started.
    assert_eq!(unsafe { libc::kill(a.child.id() as i32, libc::SIGTERM) }, 0);
    let stopped = Instant::now();
    assert!(a.child.wait().unwrap().success(), "A's exit after SIGTERM");
    placed_as(&on_b, &[(&b.base, 4)], Duration::from_secs(12)).await;
    eprintln!(
        "A stopped: B runs all 4 cameras {:?} after the signal",
        stopped.elapsed()
    );

    // A new node C gets its share from B.
    let c = node(&dir.path().join("c"), &pg.url, &key).await;
    let on_c = Api::login(&c.base).await;
    let took = placed_as(
        &on_c,
        &[(&b.base, 2), (&c.base, 2)],
        Duration::from_secs(40),
    )
    .await;
    eprintln!("C joined: two per node after {took:?}");

    // B dies (SIGKILL): C takes its cameras once B's leases run out (15 s).
    let mut b = b;
    b.child.kill().unwrap();
    b.child.wait().unwrap();
    let took = placed_as(&on_c, &[(&c.base, 4)], Duration::from_secs(40)).await;
    eprintln!("B killed: C runs all 4 cameras after {took:?}");
    // B renewed its leases at most five seconds before it died: they hold ten more.
    assert!(
        took >= Duration::from_secs(9),
        "taken before B's leases ran out ({took:?}): a live holder's camera would run twice"
    );
    drop(pg);
}
