//! The automatic decision: what the document and the selfie found, against the rules. Pure, so
//! every rule is tested on its own.
//!
//! - `rejected` when any of: the zone fails its check digits (unless `on_mrz_check_failed` is
//!   `review`), the document expired before today, the selfie is not live (`spoof_suspected`),
//!   the selfie does not match the portrait by more than the review margin (`face_mismatch`);
//! - else `needs_review` when any of: no zone or an unreadable one (`no_mrz`,
//!   `mrz_unreadable`), no expiry date in the zone (`expiry_unknown`), the zone's names or
//!   dates not printed on the page (`visual_zone_mismatch`), the match within the margin below
//!   the threshold (`face_match_uncertain`), no face compared (`face_not_compared`: a
//!   challenge session that failed before a usable frame), a failing zone under the `review`
//!   policy;
//! - else `approved`. Every reason found is listed, rejecting ones first.

use crate::config::MrzPolicy;
use serde::{Deserialize, Serialize};

/// Where a case stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    InProgress,
    Approved,
    Rejected,
    NeedsReview,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::InProgress => "in_progress",
            Status::Approved => "approved",
            Status::Rejected => "rejected",
            Status::NeedsReview => "needs_review",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        Some(match s {
            "in_progress" => Status::InProgress,
            "approved" => Status::Approved,
            "rejected" => Status::Rejected,
            "needs_review" => Status::NeedsReview,
            _ => return None,
        })
    }
}

/// What the checks found, as the decision needs it.
#[derive(Debug, Clone)]
pub struct Findings<'a> {
    /// The zone's error code when it did not verify (`no_mrz`, `mrz_unreadable`,
    /// `mrz_check_failed`).
    pub mrz_error: Option<&'a str>,
    /// The zone's expiry date, YYYY-MM-DD.
    pub expiry_date: Option<&'a str>,
    /// Zone fields the printed text did not show (empty when it was not read).
    pub not_printed: usize,
    pub live: bool,
    /// None when no face was compared.
    pub match_score: Option<f32>,
}

#[derive(Debug, Clone)]
pub struct Rules {
    pub on_mrz_check_failed: MrzPolicy,
    pub threshold: f32,
    pub review_match_margin: f32,
}

/// The decision and its reasons.
pub fn decide(f: &Findings, rules: &Rules, today: &str) -> (Status, Vec<String>) {
    let (mut reject, mut review) = (Vec::new(), Vec::new());
    match f.mrz_error {
        Some("mrz_check_failed") if rules.on_mrz_check_failed == MrzPolicy::Reject => {
            reject.push("mrz_check_failed")
        }
        Some(code) => review.push(match code {
            "no_mrz" => "no_mrz",
            "mrz_unreadable" => "mrz_unreadable",
            _ => "mrz_check_failed",
        }),
        None => {}
    }
    if f.mrz_error != Some("no_mrz") && f.mrz_error != Some("mrz_unreadable") {
        match f.expiry_date {
            // ISO dates compare as text.
            Some(expiry) if expiry < today => reject.push("document_expired"),
            Some(_) => {}
            None => review.push("expiry_unknown"),
        }
    }
    if f.not_printed > 0 {
        review.push("visual_zone_mismatch");
    }
    if !f.live {
        reject.push("spoof_suspected");
    }
    match f.match_score {
        Some(s) if s < rules.threshold - rules.review_match_margin => reject.push("face_mismatch"),
        Some(s) if s < rules.threshold => review.push("face_match_uncertain"),
        Some(_) => {}
        None => review.push("face_not_compared"),
    }
    let status = if !reject.is_empty() {
        Status::Rejected
    } else if !review.is_empty() {
        Status::NeedsReview
    } else {
        Status::Approved
    };
    let reasons = reject.into_iter().chain(review).map(String::from).collect();
    (status, reasons)
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULES: Rules = Rules {
        on_mrz_check_failed: MrzPolicy::Reject,
        threshold: 0.5,
        review_match_margin: 0.1,
    };

    fn clean() -> Findings<'static> {
        Findings {
            mrz_error: None,
            expiry_date: Some("2030-01-01"),
            not_printed: 0,
            live: true,
            match_score: Some(0.8),
        }
    }

    fn decided(f: Findings, rules: &Rules) -> (&'static str, Vec<String>) {
        let (s, r) = decide(&f, rules, "2026-12-03");
        (s.as_str(), r)
    }

    #[test]
    fn each_rule_on_its_own() {
        assert_eq!(decided(clean(), &RULES), ("approved", vec![]));
        let cases: Vec<(Findings, &str, &str)> = vec![
            (
                Findings {
                    mrz_error: Some("mrz_check_failed"),
                    ..clean()
                },
                "rejected",
                "mrz_check_failed",
            ),
            (
                Findings {
                    mrz_error: Some("no_mrz"),
                    expiry_date: None,
                    ..clean()
                },
                "needs_review",
                "no_mrz",
            ),
            (
                Findings {
                    mrz_error: Some("mrz_unreadable"),
                    expiry_date: None,
                    ..clean()
                },
                "needs_review",
                "mrz_unreadable",
            ),
            (
                Findings {
                    expiry_date: Some("2026-12-02"),
                    ..clean()
                },
                "rejected",
                "document_expired",
            ),
            (
                Findings {
                    expiry_date: None,
                    ..clean()
                },
                "needs_review",
                "expiry_unknown",
            ),
            (
                Findings {
                    not_printed: 2,
                    ..clean()
                },
                "needs_review",
                "visual_zone_mismatch",
            ),
            (
                Findings {
                    live: false,
                    ..clean()
                },
                "rejected",
                "spoof_suspected",
            ),
            (
                Findings {
                    match_score: Some(0.39),
                    ..clean()
                },
                "rejected",
                "face_mismatch",
            ),
            (
                Findings {
                    match_score: Some(0.45),
                    ..clean()
                },
                "needs_review",
                "face_match_uncertain",
            ),
        ];
        for (f, status, reason) in cases {
            assert_eq!(
                decided(f, &RULES),
                (status, vec![reason.to_string()]),
                "{reason}"
            );
        }
        // Expiring today is still valid.
        let today = Findings {
            expiry_date: Some("2026-12-03"),
            ..clean()
        };
        assert_eq!(decided(today, &RULES).0, "approved");
        // At the threshold exactly: a match.
        let edge = Findings {
            match_score: Some(0.5),
            ..clean()
        };
        assert_eq!(decided(edge, &RULES).0, "approved");
    }

    #[test]
    fn a_face_never_compared_is_never_approved() {
        let live = Findings {
            match_score: None,
            ..clean()
        };
        assert_eq!(
            decided(live, &RULES),
            ("needs_review", vec!["face_not_compared".to_string()])
        );
        let spoof = Findings {
            live: false,
            match_score: None,
            ..clean()
        };
        assert_eq!(decided(spoof, &RULES).0, "rejected");
    }

    #[test]
    fn rejection_wins_and_every_reason_is_listed() {
        let f = Findings {
            not_printed: 1,
            live: false,
            match_score: Some(0.45),
            ..clean()
        };
        assert_eq!(
            decided(f, &RULES),
            (
                "rejected",
                vec![
                    "spoof_suspected".to_string(),
                    "visual_zone_mismatch".to_string(),
                    "face_match_uncertain".to_string()
                ]
            )
        );
        let lenient = Rules {
            on_mrz_check_failed: MrzPolicy::Review,
            ..RULES
        };
        let f = Findings {
            mrz_error: Some("mrz_check_failed"),
            ..clean()
        };
        assert_eq!(
            decided(f, &lenient),
            ("needs_review", vec!["mrz_check_failed".to_string()])
        );
        assert_eq!(Status::parse("needs_review"), Some(Status::NeedsReview));
    }
}
