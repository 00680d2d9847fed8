//! The visual zone: the printed text of the page outside the machine-readable zone, and the
//! zone's names, number and dates looked for in it. Names carry no check digit in the zone,
//! so this is the only check they get.
//!
//! Printed names are compared after ICAO 9303's transliteration (upper case, diacritics
//! dropped; Ä, Ö, Ü, Å either as one letter or as AE, OE, UE, AA; Þ as TH, ß as SS…), a word
//! of five letters or more allowed one OCR error, and the last word of a name the zone cut
//! short (its name field full) matched as a prefix. Dates are found as day-month-year (month
//! as a number or a name, in English, French, Spanish, German or Italian, `12 AUG/AOUT 74`),
//! year-month-day, or month-day-year, with two- or four-digit years.

use super::mrz::{Mrz, MrzFormat};
use super::ocr::TextLine;
use serde::{Deserialize, Serialize};

/// What the page says outside its machine-readable zone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VisualZone {
    /// The text lines outside the machine-readable zone, top to bottom, boxes in the pixels of
    /// the upright page (the page turned by the reading's `orientation_degrees`).
    pub lines: Vec<TextLine>,
    /// The zone's surname, given names, document number, birth and expiry dates looked for in
    /// those lines (empty without a zone).
    pub checks: Vec<VisualCheck>,
}

/// One field of the machine-readable zone looked for in the visual zone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VisualCheck {
    /// `surname`, `given_names`, `document_number`, `birth_date` or `expiry_date`.
    pub field: String,
    /// The value in the machine-readable zone.
    pub mrz: String,
    /// The value is printed in the visual zone too.
    pub found: bool,
    /// The visual line(s) where it was found.
    pub text: Option<String>,
}

impl VisualZone {
    /// Every field that was looked for was found.
    pub fn agrees(&self) -> bool {
        self.checks.iter().all(|c| c.found)
    }
}

/// A line of the machine-readable zone (or a piece of one) rather than of the visual zone.
pub(crate) fn is_zone_text(text: &str) -> bool {
    text.contains('<') || text.contains('«')
}

/// Looks for the zone's fields in the visual lines.
pub(crate) fn cross_check(m: &Mrz, lines: &[TextLine]) -> Vec<VisualCheck> {
    let words: Vec<Vec<(String, String)>> = lines.iter().map(|l| folded_words(&l.text)).collect();
    let mut checks = Vec::new();
    let cut_short = name_field_full(m);
    for (field, name) in [("surname", &m.surname), ("given_names", &m.given_names)] {
        if name.trim().is_empty() {
            continue;
        }
        let wanted: Vec<&str> = name.split_whitespace().collect();
        let mut where_found = Vec::new();
        let found = wanted.iter().enumerate().all(|(i, w)| {
            let prefix_ok = cut_short && i + 1 == wanted.len();
            let hit = words
                .iter()
                .position(|line| line.iter().any(|v| word_matches(w, v, prefix_ok)));
            if let Some(l) = hit {
                if !where_found.contains(&l) {
                    where_found.push(l);
                }
            }
            hit.is_some()
        });
        checks.push(check(field, name, found, &where_found, lines));
    }
    if !m.document_number.is_empty() {
        let hit: Vec<usize> = lines
            .iter()
            .enumerate()
            .filter(|(_, l)| {
                let compact: String = l
                    .text
                    .chars()
                    .filter(|c| !c.is_whitespace())
                    .collect::<String>()
                    .to_uppercase();
                compact.contains(&m.document_number)
            })
            .map(|(i, _)| i)
            .take(1)
            .collect();
        checks.push(check(
            "document_number",
            &m.document_number,
            !hit.is_empty(),
            &hit,
            lines,
        ));
    }
    // A date is looked for in each line, then across each line and the next (OCR cuts
    // `01 JAN 85` into two lines now and then).
    let dates: Vec<Vec<Date>> = lines.iter().map(|l| dates_in(&l.text)).collect();
    let across: Vec<Vec<Date>> = lines
        .windows(2)
        .map(|w| dates_in(&format!("{} {}", w[0].text, w[1].text)))
        .collect();
    for (field, value) in [
        ("birth_date", &m.birth_date),
        ("expiry_date", &m.expiry_date),
    ] {
        let Some(iso) = value else { continue };
        let Some(want) = Date::from_iso(iso) else {
            continue;
        };
        let holds = |ds: &Vec<Date>| ds.iter().any(|d| d.same_as(&want));
        let hit: Vec<usize> = match dates.iter().position(holds) {
            Some(i) => vec![i],
            None => across
                .iter()
                .position(holds)
                .map_or_else(Vec::new, |i| vec![i, i + 1]),
        };
        checks.push(check(field, iso, !hit.is_empty(), &hit, lines));
    }
    checks
}

fn check(field: &str, mrz: &str, found: bool, at: &[usize], lines: &[TextLine]) -> VisualCheck {
    VisualCheck {
        field: field.into(),
        mrz: mrz.into(),
        found,
        text: found.then(|| {
            at.iter()
                .map(|&i| lines[i].text.trim())
                .collect::<Vec<_>>()
                .join(" / ")
        }),
    }
}

/// The zone's name field has no filler left: the last name may have been cut short.
fn name_field_full(m: &Mrz) -> bool {
    let line = match m.format {
        MrzFormat::Td1 => m.lines.get(2),
        _ => m.lines.first(),
    };
    line.is_some_and(|l| l.ends_with(|c: char| c.is_ascii_alphabetic()))
}

/// A zone word against a printed word (in its short and long transliterations).
fn word_matches(zone: &str, printed: &(String, String), prefix_ok: bool) -> bool {
    [&printed.0, &printed.1].iter().any(|p| {
        p.as_str() == zone
            || (prefix_ok && zone.len() >= 3 && p.starts_with(zone))
            || (zone.len() >= 5 && within_one_edit(zone, p))
    })
}

fn within_one_edit(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len().abs_diff(b.len()) > 1 {
        return false;
    }
    let prefix = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let suffix = a[prefix..]
        .iter()
        .rev()
        .zip(b[prefix..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    // What is left in each after the common ends: at most one character.
    a.len() - prefix - suffix <= 1 && b.len() - prefix - suffix <= 1
}

/// The words of a printed line in ICAO transliteration: (short, long) forms, e.g. MÜLLER gives
/// (MULLER, MUELLER). Digits stay in words: OCR reads an O as 0 now and then.
fn folded_words(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let (mut short, mut long) = (String::new(), String::new());
    for c in text.chars().flat_map(char::to_uppercase) {
        let digit = c.is_ascii_digit().then(|| {
            let i = (c as u8 - b'0') as usize;
            (&"0123456789"[i..i + 1], &"0123456789"[i..i + 1])
        });
        match transliterate(c).or(digit) {
            Some((s, l)) => {
                short.push_str(s);
                long.push_str(l);
            }
            None => {
                if !short.is_empty() {
                    out.push((std::mem::take(&mut short), std::mem::take(&mut long)));
                }
            }
        }
    }
    if !short.is_empty() {
        out.push((short, long));
    }
    out
}

/// An upper-case letter as ICAO 9303 writes it in a zone (short and long form); None for
/// anything that is not a letter.
fn transliterate(c: char) -> Option<(&'static str, &'static str)> {
    const LETTERS: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    if c.is_ascii_uppercase() {
        let i = (c as u8 - b'A') as usize;
        let s = &LETTERS[i..i + 1];
        return Some((s, s));
    }
    let both = |s: &'static str| Some((s, s));
    match c {
        'Ä' => Some(("A", "AE")),
        'Ö' => Some(("O", "OE")),
        'Ü' => Some(("U", "UE")),
        'Å' => Some(("A", "AA")),
        'Æ' => both("AE"),
        'Ø' | 'Œ' => both("OE"),
        'Þ' => both("TH"),
        'ß' | 'ẞ' => both("SS"),
        'Ĳ' => both("IJ"),
        'À' | 'Á' | 'Â' | 'Ã' | 'Ā' | 'Ă' | 'Ą' => both("A"),
        'Ç' | 'Ć' | 'Ĉ' | 'Ċ' | 'Č' => both("C"),
        'Ď' | 'Đ' | 'Ð' => both("D"),
        'È' | 'É' | 'Ê' | 'Ë' | 'Ē' | 'Ĕ' | 'Ė' | 'Ę' | 'Ě' => both("E"),
        'Ĝ' | 'Ğ' | 'Ġ' | 'Ģ' => both("G"),
        'Ĥ' | 'Ħ' => both("H"),
        'Ì' | 'Í' | 'Î' | 'Ï' | 'Ĩ' | 'Ī' | 'Ĭ' | 'Į' | 'İ' => both("I"),
        'Ĵ' => both("J"),
        'Ķ' => both("K"),
        'Ĺ' | 'Ļ' | 'Ľ' | 'Ŀ' | 'Ł' => both("L"),
        'Ñ' | 'Ń' | 'Ņ' | 'Ň' => both("N"),
        'Ò' | 'Ó' | 'Ô' | 'Õ' | 'Ō' | 'Ŏ' | 'Ő' => both("O"),
        'Ŕ' | 'Ŗ' | 'Ř' => both("R"),
        'Ś' | 'Ŝ' | 'Ş' | 'Š' => both("S"),
        'Ţ' | 'Ť' | 'Ŧ' => both("T"),
        'Ù' | 'Ú' | 'Û' | 'Ũ' | 'Ū' | 'Ŭ' | 'Ů' | 'Ű' | 'Ų' => both("U"),
        'Ŵ' => both("W"),
        'Ý' | 'Ÿ' | 'Ŷ' => both("Y"),
        'Ź' | 'Ż' | 'Ž' => both("Z"),
        _ => None,
    }
}

/// A printed date; `year` is two digits when the page prints two.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Date {
    year: u32,
    four_digit: bool,
    month: u32,
    day: u32,
}

impl Date {
    fn from_iso(iso: &str) -> Option<Date> {
        let mut it = iso.split('-').map(|p| p.parse::<u32>().ok());
        let (year, month, day) = (it.next()??, it.next()??, it.next()??);
        // The zone holds two digits of the year (its century is a guess): compare those.
        Some(Date {
            year,
            four_digit: false,
            month,
            day,
        })
    }

    fn new(day: u32, month: u32, year: &str) -> Option<Date> {
        let y: u32 = year.parse().ok()?;
        let ok = (1..=31).contains(&day)
            && (1..=12).contains(&month)
            && (year.len() == 2 || (year.len() == 4 && (1850..=2200).contains(&y)));
        ok.then_some(Date {
            year: y,
            four_digit: year.len() == 4,
            month,
            day,
        })
    }

    /// Same day; a two-digit year agrees with a four-digit one of the same century's end.
    fn same_as(&self, other: &Date) -> bool {
        let years = if self.four_digit && other.four_digit {
            self.year == other.year
        } else {
            self.year % 100 == other.year % 100
        };
        years && self.month == other.month && self.day == other.day
    }
}

/// Month names and abbreviations (upper case, diacritics dropped).
const MONTHS: &[(&str, u32)] = &[
    ("JAN", 1),
    ("JANV", 1),
    ("JANUARY", 1),
    ("JANVIER", 1),
    ("ENE", 1),
    ("ENERO", 1),
    ("GEN", 1),
    ("FEB", 2),
    ("FEBR", 2),
    ("FEBRUARY", 2),
    ("FEV", 2),
    ("FEVR", 2),
    ("FEVRIER", 2),
    ("MAR", 3),
    ("MARS", 3),
    ("MARCH", 3),
    ("MRZ", 3),
    ("MAERZ", 3),
    ("APR", 4),
    ("APRIL", 4),
    ("AVR", 4),
    ("AVRIL", 4),
    ("ABR", 4),
    ("MAY", 5),
    ("MAI", 5),
    ("MAG", 5),
    ("MAYO", 5),
    ("JUN", 6),
    ("JUNE", 6),
    ("JUIN", 6),
    ("GIU", 6),
    ("JUNI", 6),
    ("JUL", 7),
    ("JULY", 7),
    ("JUIL", 7),
    ("JUILLET", 7),
    ("LUG", 7),
    ("JULI", 7),
    ("AUG", 8),
    ("AUGUST", 8),
    ("AOUT", 8),
    ("AOU", 8),
    ("AGO", 8),
    ("SEP", 9),
    ("SEPT", 9),
    ("SEPTEMBER", 9),
    ("SET", 9),
    ("OCT", 10),
    ("OCTOBER", 10),
    ("OKT", 10),
    ("OTT", 10),
    ("NOV", 11),
    ("NOVEMBER", 11),
    ("DEC", 12),
    ("DECEMBER", 12),
    ("DEZ", 12),
    ("DIC", 12),
];

enum Token {
    Number(String),
    Month(u32),
    Word,
}

/// Every date printed in a line.
fn dates_in(text: &str) -> Vec<Date> {
    let mut tokens: Vec<Token> = Vec::new();
    let push_word = |w: &str, tokens: &mut Vec<Token>| {
        if w.is_empty() {
            return;
        }
        match MONTHS.iter().find(|(name, _)| *name == w) {
            // `AUG/AOUT`: one month in two languages; OCR reads that slash as 7 or 1 at times.
            Some(&(_, m)) => {
                let n = tokens.len();
                let slash_read_as_digit = n >= 2
                    && matches!(&tokens[n - 1], Token::Number(d) if d == "7" || d == "1")
                    && matches!(tokens[n - 2], Token::Month(p) if p == m);
                if slash_read_as_digit {
                    tokens.pop();
                }
                if !matches!(tokens.last(), Some(Token::Month(p)) if *p == m) {
                    tokens.push(Token::Month(m));
                }
            }
            None => tokens.push(Token::Word),
        }
    };
    let (mut word, mut number) = (String::new(), String::new());
    for c in text.chars().flat_map(char::to_uppercase) {
        if c.is_ascii_digit() {
            push_word(&std::mem::take(&mut word), &mut tokens);
            number.push(c);
            continue;
        }
        if !number.is_empty() {
            tokens.push(Token::Number(std::mem::take(&mut number)));
        }
        match transliterate(c) {
            Some((s, _)) => word.push_str(s),
            None => push_word(&std::mem::take(&mut word), &mut tokens),
        }
    }
    push_word(&word, &mut tokens);
    if !number.is_empty() {
        tokens.push(Token::Number(number));
    }
    let small = |t: &Token| match t {
        Token::Number(n) if n.len() <= 2 => n.parse::<u32>().ok(),
        _ => None,
    };
    let year = |t: &Token| match t {
        Token::Number(n) if n.len() == 2 || n.len() == 4 => Some(n.clone()),
        _ => None,
    };
    let month = |t: &Token| match t {
        Token::Month(m) => Some(*m),
        t => small(t),
    };
    let mut out = Vec::new();
    for w in tokens.windows(3) {
        // Day month year, and month day year with a numeric month.
        if let (Some(d), Some(m), Some(y)) = (small(&w[0]), month(&w[1]), year(&w[2])) {
            out.extend(Date::new(d, m, &y));
            if let Token::Number(_) = w[1] {
                out.extend(Date::new(m, d, &y));
            }
        }
        // Year month day.
        if let (Token::Number(y), Some(m), Some(d)) = (&w[0], month(&w[1]), small(&w[2])) {
            if y.len() == 4 {
                out.extend(Date::new(d, m, y));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::BoundingBox;

    fn line(text: &str) -> TextLine {
        TextLine {
            text: text.into(),
            confidence: 0.9,
            bbox: BoundingBox {
                x1: 0.0,
                y1: 0.0,
                x2: 1.0,
                y2: 1.0,
            },
        }
    }

    #[test]
    fn dates_in_the_forms_documents_print() {
        let d = |t: &str| dates_in(t);
        let aug12 = Date::from_iso("1974-08-12").unwrap();
        for t in [
            "12 AUG/AOÛT 74",
            "12.08.1974",
            "12/08/74",
            "1974-08-12",
            "Date of birth 12 Aug 1974",
            "08/12/1974",
            "12 AGO 1974",
        ] {
            assert!(d(t).iter().any(|x| x.same_as(&aug12)), "{t}: {:?}", d(t));
        }
        for t in [
            "12 08",
            "32.08.1974",
            "12.13.1974",
            "MARIA 12 74",
            "L898902C3",
        ] {
            assert!(!d(t).iter().any(|x| x.same_as(&aug12)), "{t}: {:?}", d(t));
        }
        // OCR's slash as a digit between a month's two names.
        let jan1 = Date::from_iso("1985-01-01").unwrap();
        assert!(d("01JAN7JAN 85").iter().any(|x| x.same_as(&jan1)));
        // The zone's year is two digits: the printed century cannot contradict it.
        assert!(d("01.01.1911")
            .iter()
            .any(|x| x.same_as(&Date::from_iso("2011-01-01").unwrap())));
    }

    #[test]
    fn names_after_transliteration_and_one_ocr_error() {
        let words = |t: &str| folded_words(t);
        let any = |zone: &str, t: &str, prefix: bool| {
            words(t).iter().any(|w| word_matches(zone, w, prefix))
        };
        assert!(any("MUELLER", "Müller", false));
        assert!(any("MULLER", "MÜLLER", false));
        assert!(any("THURIDUR", "Þuríður", false));
        assert!(
            any("ERIKSSON", "ERIKSS0N", false),
            "one OCR error in a long word"
        );
        assert!(
            !any("ANNA", "ANNE", false),
            "short words must agree exactly"
        );
        assert!(!any("ERIKSSON", "ERIKSEN", false));
        assert!(any("KRZYSZTOFOWIC", "KRZYSZTOFOWICZOWNA", true));
        assert!(!any("KRZYSZTOFOWIC", "KRZYSZTOFOWICZOWNA", false));
    }

    #[test]
    fn the_specimen_passport_cross_checks() {
        let m = Mrz::parse(&[
            "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
            "L898902C36UTO7408122F1204159ZE184226B<<<<<10",
        ])
        .unwrap();
        let lines = [
            line("PASSPORT PASSEPORT"),
            line("ERIKSSON"),
            line("ANNA MARIA"),
            line("L898902C3"),
            line("12 AUG/AOUT 74"),
            line("15 APR/AVR 12"),
        ];
        let checks = cross_check(&m, &lines);
        let found: Vec<(&str, bool)> = checks.iter().map(|c| (c.field.as_str(), c.found)).collect();
        assert_eq!(
            found,
            [
                ("surname", true),
                ("given_names", true),
                ("document_number", true),
                ("birth_date", true),
                ("expiry_date", true)
            ]
        );
        assert_eq!(checks[4].text.as_deref(), Some("15 APR/AVR 12"));
        // Another holder's page.
        let other = [line("MARTIN"), line("SARAH"), line("01 JAN 85")];
        let checks = cross_check(&m, &other);
        assert!(checks.iter().all(|c| !c.found && c.text.is_none()));
    }
}
