//! Passive liveness on the dev spoof set, and active challenge sessions driven by sequences
//! built from real photos: LFW's Billy_Crystal has open eyes (0005), shut eyes (0002) and a
//! head turned to his right (0006; mirrored, to his left), all facing the camera otherwise.

mod common;

use faceprint::liveness::{
    ActiveConfig, ActiveLivenessSession, Challenge, FailureReason, LivenessEvent, SessionStatus,
};
use faceprint::{ErrorCode, Image};
use rand::SeedableRng;

fn lfw(name: &str, n: u32) -> Image {
    let p = common::data_dir()
        .unwrap()
        .join(format!("lfw/images/{name}/{name}_{n:04}.jpg"));
    common::engine().open(p).unwrap()
}

fn mirrored(img: &Image) -> Image {
    let w = img.width() as usize;
    let rgb: Vec<u8> = img
        .as_rgb()
        .chunks_exact(w * 3)
        .flat_map(|row| {
            row.chunks_exact(3)
                .rev()
                .flatten()
                .copied()
                .collect::<Vec<_>>()
        })
        .collect();
    Image::from_rgb(img.width(), img.height(), rgb).unwrap()
}

struct Actor {
    open: Image,
    shut: Image,
    right: Image,
    left: Image,
}

fn billy() -> Actor {
    let right = lfw("Billy_Crystal", 6);
    Actor {
        open: lfw("Billy_Crystal", 5),
        shut: lfw("Billy_Crystal", 2),
        left: mirrored(&right),
        right,
    }
}

/// The frames that answer `c`.
fn answer(a: &Actor, c: Challenge) -> Vec<&Image> {
    match c {
        Challenge::Blink => vec![&a.open, &a.shut, &a.open],
        Challenge::TurnLeft => vec![&a.open, &a.left],
        Challenge::TurnRight => vec![&a.open, &a.right],
        other => panic!("the test actor cannot do {other:?}"),
    }
}

fn config() -> ActiveConfig {
    ActiveConfig {
        pool: vec![Challenge::Blink, Challenge::TurnLeft, Challenge::TurnRight],
        count: 3,
        ..ActiveConfig::default()
    }
}

/// Feeds `frames` 200 ms apart from `t0`, stopping when the session ends.
fn run(
    s: &mut ActiveLivenessSession,
    nonce: &str,
    t0: u64,
    frames: &[&Image],
) -> Vec<LivenessEvent> {
    let e = common::engine();
    let mut events = Vec::new();
    for (i, f) in frames.iter().enumerate() {
        let r = s.feed(e, nonce, t0 + 200 * (i as u64 + 1), f).unwrap();
        events.extend(r.events);
        if r.status != SessionStatus::InProgress {
            break;
        }
    }
    events
}

fn sequence<'a>(a: &'a Actor, challenges: &[Challenge]) -> Vec<&'a Image> {
    challenges.iter().flat_map(|&c| answer(a, c)).collect()
}

#[test]
fn passive_liveness_separates_the_dev_spoof_set() {
    with_data!();
    let e = common::engine();
    let score_dir = |dir: &str| -> Vec<(String, f32)> {
        let mut files: Vec<_> = std::fs::read_dir(common::dev(dir))
            .unwrap()
            .map(|f| f.unwrap().path())
            .collect();
        files.sort();
        files
            .iter()
            .map(|p| {
                let l = e.liveness(&e.open(p).unwrap()).unwrap();
                (p.display().to_string(), l.score)
            })
            .collect()
    };
    let live = score_dir("spoof/live");
    let attack = score_dir("spoof/attack");
    let t = faceprint::liveness::DEFAULT_THRESHOLD;
    let accepted: Vec<_> = attack.iter().filter(|a| a.1 >= t).collect();
    assert!(accepted.is_empty(), "attacks passed: {accepted:?}");
    let rejected = live.iter().filter(|l| l.1 < t).count();
    let bpcer = rejected as f64 / live.len() as f64;
    assert!(bpcer <= 0.10, "BPCER {bpcer}: {live:?}");
}

#[test]
fn a_correct_answer_passes_with_events_in_order() {
    with_data!();
    let e = common::engine();
    let a = billy();
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let mut s = ActiveLivenessSession::start_with_rng(config(), 1_000, &mut rng).unwrap();
    let challenges = s.challenges().to_vec();
    assert_eq!(challenges.len(), 3);
    let nonce = s.nonce().to_string();
    assert_eq!(nonce.len(), 32);
    let events = run(&mut s, &nonce, 1_000, &sequence(&a, &challenges));
    assert_eq!(s.status(), SessionStatus::Passed, "{events:#?}");
    let passed: Vec<Challenge> = events
        .iter()
        .filter_map(|ev| match ev {
            LivenessEvent::ChallengePassed { challenge, .. } => Some(*challenge),
            _ => None,
        })
        .collect();
    assert_eq!(passed, challenges);
    assert!(matches!(
        events.first(),
        Some(LivenessEvent::Instruction { index: 0, .. })
    ));
    assert!(
        matches!(events.last(), Some(LivenessEvent::Passed { passive_score: Some(p) }) if *p > 0.64)
    );
    // A finished session takes no more frames.
    let err = s.feed(e, &nonce, 60_000, &a.open).unwrap_err();
    assert_eq!(err.code(), ErrorCode::SessionFinished);
}

#[test]
fn the_state_survives_a_round_trip_through_json_mid_session() {
    with_data!();
    let a = billy();
    let mut rng = rand::rngs::StdRng::seed_from_u64(11);
    let mut s = ActiveLivenessSession::start_with_rng(config(), 0, &mut rng).unwrap();
    let frames = sequence(&a, s.challenges());
    let nonce = s.nonce().to_string();
    let (first, rest) = frames.split_at(2);
    run(&mut s, &nonce, 0, first);
    let json = serde_json::to_string(&s).unwrap();
    let mut restored: ActiveLivenessSession = serde_json::from_str(&json).unwrap();
    assert_eq!(restored, s);
    run(&mut restored, &nonce, 400, rest);
    assert_eq!(restored.status(), SessionStatus::Passed);
}

#[test]
fn the_wrong_order_fails() {
    with_data!();
    let a = billy();
    let cfg = ActiveConfig {
        pool: vec![Challenge::TurnLeft, Challenge::TurnRight],
        count: 2,
        ..ActiveConfig::default()
    };
    // Both orders the session can ask for, each answered the other way round.
    let mut rng = rand::rngs::StdRng::seed_from_u64(5);
    let mut seen = std::collections::HashSet::new();
    while seen.len() < 2 {
        let mut s = ActiveLivenessSession::start_with_rng(cfg.clone(), 0, &mut rng).unwrap();
        let mut order = s.challenges().to_vec();
        if !seen.insert(order.clone()) {
            continue;
        }
        order.reverse();
        let nonce = s.nonce().to_string();
        let events = run(&mut s, &nonce, 0, &sequence(&a, &order));
        assert_eq!(s.failure(), Some(FailureReason::WrongAction), "{events:#?}");
    }
}

#[test]
fn doing_nothing_times_out() {
    with_data!();
    let e = common::engine();
    let a = billy();
    let cfg = ActiveConfig {
        pool: vec![Challenge::TurnLeft],
        count: 1,
        challenge_timeout_ms: 3_000,
        ..ActiveConfig::default()
    };
    let mut s = ActiveLivenessSession::start(cfg.clone(), 0).unwrap();
    let nonce = s.nonce().to_string();
    for t in [500, 1_500, 2_500] {
        let r = s.feed(e, &nonce, t, &a.open).unwrap();
        assert_eq!(r.status, SessionStatus::InProgress);
        assert!(r.face_detected);
    }
    let r = s.feed(e, &nonce, 3_500, &a.open).unwrap();
    assert_eq!(r.failure, Some(FailureReason::ChallengeTimeout));
    // The overall deadline applies even while each challenge is on time.
    let cfg = ActiveConfig {
        session_timeout_ms: 2_000,
        ..cfg
    };
    let mut s = ActiveLivenessSession::start(cfg, 0).unwrap();
    let nonce = s.nonce().to_string();
    let r = s.feed(e, &nonce, 2_001, &a.open).unwrap();
    assert_eq!(r.failure, Some(FailureReason::Timeout));
}

#[test]
fn another_person_mid_session_fails() {
    with_data!();
    let a = billy();
    let mut rng = rand::rngs::StdRng::seed_from_u64(3);
    let mut s = ActiveLivenessSession::start_with_rng(config(), 0, &mut rng).unwrap();
    let nonce = s.nonce().to_string();
    let stranger = lfw("Barbara_Brezigar", 2);
    let events = run(&mut s, &nonce, 0, &[&a.open, &a.open, &stranger]);
    assert_eq!(
        s.failure(),
        Some(FailureReason::IdentityChanged),
        "{events:#?}"
    );
}

#[test]
fn frames_from_another_session_are_refused() {
    with_data!();
    let a = billy();
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let mut first = ActiveLivenessSession::start_with_rng(config(), 0, &mut rng).unwrap();
    let recorded = sequence(&a, first.challenges());
    let old_nonce = first.nonce().to_string();
    run(&mut first, &old_nonce, 0, &recorded);
    assert_eq!(first.status(), SessionStatus::Passed);

    // The recording, with its own nonce, sent to a new session: refused outright.
    let mut second = ActiveLivenessSession::start_with_rng(config(), 10_000, &mut rng).unwrap();
    assert_ne!(second.nonce(), old_nonce);
    run(&mut second, &old_nonce, 10_000, &recorded);
    assert_eq!(second.failure(), Some(FailureReason::NonceMismatch));

    // Re-labelled with the new nonce: it answers the old challenges, not the new ones.
    let mut third = loop {
        let s = ActiveLivenessSession::start_with_rng(config(), 20_000, &mut rng).unwrap();
        if s.challenges() != first.challenges() {
            break s;
        }
    };
    let nonce = third.nonce().to_string();
    run(&mut third, &nonce, 20_000, &recorded);
    assert_ne!(third.status(), SessionStatus::Passed);

    // With its original timestamps (before the session began): out of order.
    let mut fourth = ActiveLivenessSession::start_with_rng(config(), 30_000, &mut rng).unwrap();
    let nonce = fourth.nonce().to_string();
    run(&mut fourth, &nonce, 0, &recorded);
    assert_eq!(fourth.failure(), Some(FailureReason::FrameOutOfOrder));
}

#[test]
fn passive_liveness_runs_on_session_frames_and_flags_a_print() {
    with_data!();
    let e = common::engine();
    // A print held up to the camera, then tilted: the pose moves, passive liveness does not
    // believe it. One-challenge session answered by the print alone.
    let print = e
        .open(common::dev("spoof/attack/attack_print_image_F1.jpg"))
        .unwrap();
    let cfg = ActiveConfig {
        pool: vec![Challenge::Blink],
        count: 1,
        ..ActiveConfig::default()
    };
    let mut s = ActiveLivenessSession::start(cfg, 0).unwrap();
    let nonce = s.nonce().to_string();
    let r = s.feed(e, &nonce, 100, &print).unwrap();
    let l = r.liveness.expect("passive runs on every frame");
    assert!(!l.live, "{l:?}");
}
