//! Behaviour every [`TemplateStore`] must have; each implementation's tests run it.

use super::*;
use crate::ErrorCode;

fn template(model: &str, v: Vec<f32>) -> NewTemplate {
    NewTemplate {
        embedding: Embedding::new(model, v).unwrap(),
        model_version: "1".into(),
        quality: Some(0.8),
        source: Some("test".into()),
    }
}

pub(crate) fn run(store: &dyn TemplateStore) {
    let c = store.ensure_collection("staff", "m", 3).unwrap();
    assert_eq!((c.model_id.as_str(), c.dim), ("m", 3));
    assert_eq!(
        store.ensure_collection("staff", "m", 3).unwrap(),
        c,
        "idempotent"
    );
    assert_eq!(
        store
            .ensure_collection("staff", "other", 3)
            .unwrap_err()
            .code(),
        ErrorCode::ModelMismatch
    );
    assert_eq!(
        store.collection("nope").unwrap_err().code(),
        ErrorCode::NotFound
    );
    assert_eq!(
        store.ensure_collection("", "m", 3).unwrap_err().code(),
        ErrorCode::InvalidArgument
    );

    let meta = serde_json::json!({"team": "blue"});
    let s = store
        .upsert_subject("staff", "bob", Some("Bob"), Some(&meta))
        .unwrap();
    assert_eq!(
        (
            s.display_name.as_deref(),
            &s.metadata,
            s.disabled,
            s.templates
        ),
        (Some("Bob"), &meta, false, 0)
    );
    store.upsert_subject("staff", "alice", None, None).unwrap();
    // None keeps the current values.
    let s = store.upsert_subject("staff", "bob", None, None).unwrap();
    assert_eq!(s.display_name.as_deref(), Some("Bob"));
    assert_eq!(
        store
            .upsert_subject("missing", "x", None, None)
            .unwrap_err()
            .code(),
        ErrorCode::NotFound
    );

    let ids = store
        .add_templates(
            "staff",
            "bob",
            &[
                template("m", vec![1.0, 0.0, 0.0]),
                template("m", vec![0.0, 1.0, 0.0]),
            ],
        )
        .unwrap();
    assert_eq!(ids.len(), 2);
    assert_ne!(ids[0], ids[1]);
    // Wrong model, wrong dimension, unknown subject: refused, nothing written.
    let e = store.add_templates(
        "staff",
        "bob",
        &[
            template("m", vec![1.0, 0.0, 0.0]),
            template("x", vec![1.0, 0.0, 0.0]),
        ],
    );
    assert_eq!(e.unwrap_err().code(), ErrorCode::ModelMismatch);
    let e = store.add_templates("staff", "bob", &[template("m", vec![1.0, 0.0])]);
    assert_eq!(e.unwrap_err().code(), ErrorCode::InvalidEmbedding);
    let e = store.add_templates("staff", "nobody", &[template("m", vec![1.0, 0.0, 0.0])]);
    assert_eq!(e.unwrap_err().code(), ErrorCode::NotFound);

    let t = store.templates("staff", "bob").unwrap();
    assert_eq!(t.len(), 2);
    assert_eq!(store.subject("staff", "bob").unwrap().templates, 2);
    assert_eq!(t.iter().map(|t| t.embedding.vector()[0]).sum::<f32>(), 1.0);
    assert!(t
        .iter()
        .all(|t| t.subject == "bob" && t.quality == Some(0.8)));
    assert_eq!(store.all_templates("staff").unwrap().templates.len(), 2);

    // One template goes; the subject keeps the other, then none, and stays.
    let extra = store
        .add_templates("staff", "bob", &[template("m", vec![0.0, 0.0, 1.0])])
        .unwrap();
    assert_eq!(store.template_subject("staff", &extra[0]).unwrap(), "bob");
    assert_eq!(
        store
            .template("staff", &extra[0])
            .unwrap()
            .embedding
            .vector()[2],
        1.0
    );
    assert_eq!(store.delete_template("staff", &extra[0]).unwrap(), "bob");
    assert_eq!(
        store.template("staff", &extra[0]).unwrap_err().code(),
        ErrorCode::NotFound
    );
    assert_eq!(store.templates("staff", "bob").unwrap().len(), 2);
    assert_eq!(store.subject("staff", "bob").unwrap().templates, 2);
    assert_eq!(
        store
            .delete_template("staff", &extra[0])
            .unwrap_err()
            .code(),
        ErrorCode::NotFound
    );
    assert_eq!(
        store
            .delete_template("missing", &ids[0])
            .unwrap_err()
            .code(),
        ErrorCode::NotFound
    );

    let page: Vec<String> = store
        .list_subjects("staff", 0, 10)
        .unwrap()
        .into_iter()
        .map(|s| s.external_id)
        .collect();
    assert_eq!(page, vec!["alice", "bob"]);
    assert_eq!(
        store.list_subjects("staff", 1, 10).unwrap()[0].external_id,
        "bob"
    );
    assert!(store.list_subjects("staff", 2, 10).unwrap().is_empty());

    store.set_disabled("staff", "bob", true).unwrap();
    assert!(store.subject("staff", "bob").unwrap().disabled);
    assert_eq!(
        store
            .set_disabled("staff", "ghost", true)
            .unwrap_err()
            .code(),
        ErrorCode::NotFound
    );

    store.delete_subject("staff", "bob").unwrap();
    assert_eq!(
        store.subject("staff", "bob").unwrap_err().code(),
        ErrorCode::NotFound
    );
    assert_eq!(
        store.templates("staff", "bob").unwrap_err().code(),
        ErrorCode::NotFound
    );
    assert_eq!(
        store.delete_subject("staff", "bob").unwrap_err().code(),
        ErrorCode::NotFound
    );
    assert!(store.all_templates("staff").unwrap().templates.is_empty());

    for (i, action) in [AuditAction::Enroll, AuditAction::Verify]
        .into_iter()
        .enumerate()
    {
        store
            .record_audit(&AuditEvent {
                at: i as i64,
                action,
                collection: Some("staff".into()),
                subject: Some("bob".into()),
                outcome: "ok".into(),
                score: Some(0.5),
                latency_ms: Some(1.5),
                actor: Some("tester".into()),
            })
            .unwrap();
    }
    let a = store.audit(Some("staff"), 10).unwrap();
    assert_eq!(a.len(), 2);
    assert_eq!(a[0].action, AuditAction::Verify, "newest first");
    assert_eq!(store.audit(Some("other"), 10).unwrap().len(), 0);
    assert_eq!(store.audit(None, 1).unwrap().len(), 1);
}
