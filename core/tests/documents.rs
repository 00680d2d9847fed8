//! The machine-readable zone of every dev document, read with PP-OCR and parsed, against the
//! zones read by eye (`fixtures/documents_mrz.txt`): of the documents whose printed check
//! digits are valid, at least 90 % must pass every check digit with the checked fields equal
//! to the truth; a document printed with invalid digits must never come out valid (no repair
//! that a check digit does not confirm).

mod common;

use common::{dev, engine};
use faceprint::document::Mrz;
use std::time::Instant;

struct Truth {
    file: String,
    digits_valid: bool,
    mrz: Mrz,
}

fn truths() -> Vec<Truth> {
    let text = include_str!("fixtures/documents_mrz.txt");
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            let lines: Vec<&str> = f[2].split('|').collect();
            let mrz = Mrz::parse(&lines).expect("the truth parses");
            assert!(mrz.repairs.is_empty(), "{}: the truth needed repairs", f[0]);
            assert_eq!(mrz.valid, f[1] == "valid", "{}: the truth's digits", f[0]);
            Truth {
                file: f[0].into(),
                digits_valid: f[1] == "valid",
                mrz,
            }
        })
        .collect()
}

/// The fields the check digits cover.
fn checked(m: &Mrz) -> (String, Option<String>, Option<String>, String) {
    (
        m.document_number.clone(),
        m.birth_date.clone(),
        m.expiry_date.clone(),
        m.optional_data.clone(),
    )
}

#[test]
fn the_zones_of_the_dev_documents_read_with_every_check_digit() {
    with_data!();
    let e = engine();
    let truths = truths();
    let (mut eligible, mut passed) = (0, 0);
    println!("document           located format digits  repairs  ms   outcome");
    for t in &truths {
        let image = e.open(dev(&format!("documents/{}", t.file))).unwrap();
        let start = Instant::now();
        let read = e.read_mrz(&image).unwrap();
        let ms = start.elapsed().as_millis();
        let (located, format, digits, repairs) = match &read {
            Some(m) => (
                "yes",
                m.format.as_str(),
                format!(
                    "{}/{}",
                    m.checks.iter().filter(|c| c.valid).count(),
                    m.checks.len()
                ),
                m.repairs.len(),
            ),
            None => ("no", "-", "-".into(), 0),
        };
        let outcome = match &read {
            Some(m) if m.valid && checked(m) == checked(&t.mrz) && m.format == t.mrz.format => {
                "all digits pass, fields right"
            }
            Some(m) if m.valid => "VALID BUT WRONG",
            _ if !t.digits_valid => "invalid digits printed (expected)",
            _ => "failed",
        };
        println!(
            "{:<18} {located:<7} {format:<6} {digits:<7} {repairs:<7} {ms:<4} {outcome}",
            t.file
        );
        if let Some(m) = &read {
            // A valid reading must be the right one; invalid printed digits never come out valid.
            if m.valid {
                assert!(
                    t.digits_valid,
                    "{}: invalid printed digits came out valid",
                    t.file
                );
                assert_eq!(checked(m), checked(&t.mrz), "{}", t.file);
            }
        }
        if t.digits_valid {
            eligible += 1;
            if read.as_ref().is_some_and(|m| m.valid) {
                passed += 1;
            }
        }
    }
    let rate = passed as f64 / eligible as f64;
    println!(
        "{passed}/{eligible} documents with valid printed digits pass every check digit ({:.1} %)",
        rate * 100.0
    );
    assert!(rate >= 0.9, "{passed}/{eligible}");
}
