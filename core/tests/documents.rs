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

/// The dev documents that show the holder's face (the Spanish card is its back; the British
/// page's photo is pixelated out).
const WITH_PORTRAIT: &[&str] = &[
    "100_pass-cze.jpg",
    "100_pass-fin.png",
    "100_pass-isl.png",
    "100_pass-lux.jpg",
    "100_pass-uto.jpg",
    "100_visa-usa.jpg",
    "25_pass-uto.jpg",
    "33_id-usa.jpg",
    "79_pass-can.jpg",
    "98_pass-nld.jpg",
    "passport-td2.jpg",
    "passport-td3.jpg",
];

#[test]
fn the_portrait_is_found_in_every_orientation_of_the_page() {
    with_data!();
    let e = engine();
    let (mut right, mut total) = (0, 0);
    println!("document           0    90   180  270  (orientation found, score)");
    for file in WITH_PORTRAIT {
        let page = e.open(dev(&format!("documents/{file}"))).unwrap();
        let mut row = Vec::new();
        let mut upright_centre = None;
        for turns in 0..4u32 {
            total += 1;
            let turned = page.rotated(turns);
            let start = Instant::now();
            let found = e.document_portrait(&turned);
            let ms = start.elapsed().as_millis();
            match found {
                Ok(p) => {
                    let want = (4 - turns) % 4 * 90;
                    let b = &p.face.bbox;
                    let centre = ((b.x1 + b.x2) / 2.0, (b.y1 + b.y2) / 2.0);
                    // The same face: its centre, turned back, where the upright page has it.
                    let same_place = match (turns, upright_centre) {
                        (0, _) => {
                            upright_centre = Some(centre);
                            true
                        }
                        (_, Some((ux, uy))) => {
                            let (w, h) = (page.width() as f32, page.height() as f32);
                            let (x, y) = centre;
                            let (bx, by) = match turns {
                                1 => (y, h - x),
                                2 => (w - x, h - y),
                                _ => (w - y, x),
                            };
                            (bx - ux).abs() < 0.1 * w && (by - uy).abs() < 0.1 * h
                        }
                        _ => false,
                    };
                    let ok = p.orientation_degrees == want && same_place;
                    if ok {
                        right += 1;
                    }
                    row.push(format!(
                        "{}{} {:.2} {ms}ms",
                        p.orientation_degrees,
                        if ok { "" } else { "!" },
                        p.face.score
                    ));
                }
                Err(err) => row.push(format!("{}", err.code())),
            }
        }
        println!("{file:<18} {}", row.join("  "));
    }
    let rate = right as f64 / total as f64;
    println!(
        "portrait found upright-corrected in {right}/{total} page orientations ({:.1} %)",
        rate * 100.0
    );
    assert!(rate >= 0.9, "{right}/{total}");
}

#[test]
fn portraits_of_one_specimen_person_match_and_others_do_not() {
    with_data!();
    let e = engine();
    // The ICAO "Utopia" specimen's holder is on four of them; every other document shows
    // someone else.
    let utopia = [
        "100_pass-uto.jpg",
        "25_pass-uto.jpg",
        "passport-td2.jpg",
        "passport-td3.jpg",
    ];
    let embedded: Vec<(&str, faceprint::Embedding)> = WITH_PORTRAIT
        .iter()
        .map(|file| {
            let page = e.open(dev(&format!("documents/{file}"))).unwrap();
            let p = e.document_portrait(&page).unwrap();
            (*file, e.embed_portrait(&page, &p).unwrap())
        })
        .collect();
    let (mut same, mut different) = (Vec::new(), Vec::new());
    for (i, (a, ea)) in embedded.iter().enumerate() {
        for (b, eb) in &embedded[i + 1..] {
            let score = e.compare(ea, eb, None).unwrap().score;
            if utopia.contains(a) && utopia.contains(b) {
                same.push((score, *a, *b));
            } else {
                different.push((score, *a, *b));
            }
        }
    }
    same.sort_by(|x, y| x.0.total_cmp(&y.0));
    different.sort_by(|x, y| y.0.total_cmp(&x.0));
    println!("same specimen person ({} pairs):", same.len());
    for (s, a, b) in &same {
        println!("  {s:.3}  {a} ~ {b}");
    }
    println!(
        "different people ({} pairs), highest first:",
        different.len()
    );
    for (s, a, b) in different.iter().take(8) {
        println!("  {s:.3}  {a} ~ {b}");
    }
    // Selfie-like photos of other people (the dev faces and portraits) against every
    // document portrait: the impostor side of a selfie check.
    let mut selfies = Vec::new();
    for dir in ["faces/named", "faces/test", "faces/train", "portraits"] {
        let Ok(entries) = std::fs::read_dir(dev(dir)) else {
            continue;
        };
        for entry in entries.flatten() {
            if entry.path().is_dir() {
                continue;
            }
            let Ok(img) = e.open(entry.path()) else {
                continue;
            };
            if let Ok(f) = e.extract_largest(&img) {
                selfies.push(f.embedding);
            }
        }
    }
    let highest_selfie = selfies
        .iter()
        .flat_map(|s| {
            embedded
                .iter()
                .map(|(_, d)| e.compare(s, d, None).unwrap().score)
        })
        .fold(f32::MIN, f32::max);
    println!(
        "{} photos of other people against the {} portraits: highest {highest_selfie:.3}",
        selfies.len(),
        embedded.len()
    );
    assert!(highest_selfie < faceprint::document::DOCUMENT_THRESHOLD);
    let lowest_same = same[0].0;
    let highest_different = different[0].0;
    println!("lowest same {lowest_same:.3}, highest different {highest_different:.3}, document threshold {}", faceprint::document::DOCUMENT_THRESHOLD);
    assert!(lowest_same >= faceprint::document::DOCUMENT_THRESHOLD);
    assert!(highest_different < faceprint::document::DOCUMENT_THRESHOLD);
}

#[test]
fn a_page_reads_as_a_document_with_its_errors_by_code() {
    with_data!();
    let e = engine();
    use faceprint::ErrorCode;
    // A passport turned a quarter: the portrait sets the orientation, the zone is read upright.
    let page = e
        .open(dev("documents/passport-td3.jpg"))
        .unwrap()
        .rotated(1);
    let d = e.read_document(&page).unwrap();
    assert_eq!(d.orientation_degrees, 270);
    assert!(d.portrait.is_some());
    let mrz = d.verified_mrz().expect("every digit passes");
    assert_eq!(
        (mrz.surname.as_str(), mrz.document_number.as_str()),
        ("ERIKSSON", "L898902C3")
    );
    // Printed with an invalid check digit: mrz_check_failed, the fields still there.
    let d = e
        .read_document(&e.open(dev("documents/33_id-usa.jpg")).unwrap())
        .unwrap();
    let err = d.verified_mrz().unwrap_err();
    assert_eq!(err.code(), ErrorCode::MrzCheckFailed, "{err}");
    assert!(err.to_string().contains("document_number"), "{err}");
    match err {
        faceprint::Error::MrzCheckFailed(m) => {
            assert_eq!(m.birth_date.as_deref(), Some("1949-10-04"));
            assert!(!m.checks[0].valid && m.checks[1].valid);
        }
        other => panic!("{other}"),
    }
    // A face and no zone: a document without its zone.
    let d = e
        .read_document(&e.open(dev("faces/named/obama_obama.jpg")).unwrap())
        .unwrap();
    assert!(d.mrz.is_none() && d.portrait.is_some());
    assert_eq!(d.verified_mrz().unwrap_err().code(), ErrorCode::NoMrz);
    // Neither: not a document. (A dog's head scores 0.85 upright: that photo is a "document"
    // with a portrait and no zone, refused as no_mrz; a face floor above it would lose pale
    // printed portraits.)
    for file in ["if_view.jpg", "skimage_coffee.png"] {
        let img = e.open(dev(&format!("hard/non_face/{file}"))).unwrap();
        match e.read_document(&img) {
            Err(err) => assert_eq!(err.code(), ErrorCode::NoDocument, "{file}: {err}"),
            Ok(d) => panic!(
                "{file}: {:?} {:?}",
                d.orientation_degrees,
                d.portrait.map(|p| p.face.score)
            ),
        }
    }
    assert_eq!(ErrorCode::NoDocument.number(), 80);
    assert_eq!(ErrorCode::MrzCheckFailed.as_str(), "mrz_check_failed");
}

#[test]
fn a_sideways_page_without_a_portrait_is_turned_by_its_zone() {
    with_data!();
    let e = engine();
    // The British page shows no face the detector takes: only the zone can say which way up.
    let page = e.open(dev("documents/27_pass-gbr.jpg")).unwrap();
    assert!(e.document_portrait(&page).is_err());
    for turns in [1u32, 2, 3] {
        let d = e.read_document(&page.rotated(turns)).unwrap();
        assert_eq!(d.orientation_degrees, (4 - turns) * 90, "turned {turns}");
        assert_eq!(d.mrz.expect("a zone").document_number, "107182890");
    }
}

#[test]
fn the_visual_zone_holds_the_zone_s_names_and_dates() {
    with_data!();
    let e = engine();
    let truths = truths();
    let options = faceprint::document::DocumentOptions { visual_zone: true };
    let (mut looked, mut found) = (0, 0);
    println!("document           surname given number birth expiry  lines");
    for t in truths.iter().filter(|t| t.digits_valid) {
        let page = e.open(dev(&format!("documents/{}", t.file))).unwrap();
        let d = e.read_document_with(&page, &options).unwrap();
        let v = d.visual_zone.expect("asked for");
        assert!(
            v.lines.iter().all(|l| !l.text.contains('<')),
            "{}: zone lines left in the visual zone",
            t.file
        );
        let mark = |field: &str| match v.checks.iter().find(|c| c.field == field) {
            Some(c) if c.found => "yes",
            Some(_) => "no",
            None => "-",
        };
        println!(
            "{:<18} {:<7} {:<5} {:<6} {:<5} {:<6}  {}",
            t.file,
            mark("surname"),
            mark("given_names"),
            mark("document_number"),
            mark("birth_date"),
            mark("expiry_date"),
            v.lines.len()
        );
        looked += v.checks.len();
        found += v.checks.iter().filter(|c| c.found).count();
        if t.file == "passport-td3.jpg" {
            // The ICAO specimen prints every one of them plainly.
            assert!(v.agrees(), "{:#?}", v.checks);
            let expiry = v.checks.iter().find(|c| c.field == "expiry_date").unwrap();
            assert_eq!(expiry.mrz, "2012-04-15");
        }
        // Another holder's fields are not on this page.
        let stranger = truths.iter().find(|o| o.file == "79_pass-can.jpg").unwrap();
        if t.file != stranger.file {
            let other = e.read_visual_zone(&page, Some(&stranger.mrz)).unwrap();
            let wrong: Vec<_> = other.checks.iter().filter(|c| c.found).collect();
            assert!(wrong.is_empty(), "{}: {wrong:?}", t.file);
        }
    }
    println!("zone fields found printed in the visual zone: {found}/{looked}");
    assert!(found * 10 >= looked * 6, "{found}/{looked}");
}

#[test]
fn a_selfie_matches_the_document_portrait_of_its_person_only() {
    with_data!();
    let e = engine();
    use faceprint::ErrorCode;
    let page = e.open(dev("documents/passport-td3.jpg")).unwrap();
    // The specimen holder's photo from another document stands in for her selfie.
    let same = e.open(dev("documents/25_pass-uto.jpg")).unwrap();
    let m = e.match_document(&page, &same).unwrap();
    assert!(m.matched && m.score >= m.threshold, "{}", m.score);
    assert_eq!(m.threshold, faceprint::document::DOCUMENT_THRESHOLD);
    let other = e.open(dev("faces/named/obama_obama.jpg")).unwrap();
    let m = e.match_document(&page, &other).unwrap();
    assert!(!m.matched, "{}", m.score);
    // A page without a portrait, a selfie without a face.
    let no_portrait = e.open(dev("documents/27_pass-gbr.jpg")).unwrap();
    let err = e.match_document(&no_portrait, &other).unwrap_err();
    assert_eq!(err.code(), ErrorCode::NoPortrait, "{err}");
    assert_eq!(ErrorCode::NoPortrait.number(), 84);
    let faceless = e.open(dev("hard/non_face/skimage_coffee.png")).unwrap();
    let err = e.match_document(&page, &faceless).unwrap_err();
    assert_eq!(err.code(), ErrorCode::NoFace, "{err}");
}
