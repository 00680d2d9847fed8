//! The machine-readable zone of ICAO 9303 documents: TD1 (ID cards, 3x30), TD2 (2x36), TD3
//! (passports, 2x44) and machine-readable visas MRV-A (2x44) and MRV-B (2x36).
//!
//! [`Mrz::parse`] takes the zone's lines as OCR read them and:
//! 1. cleans them: upper case, no spaces, `«` as `<<`, any other character outside A–Z 0–9 `<`
//!    as `<` (none of those can be in a zone);
//! 2. fits each line to the format's width: extra fillers dropped; fillers OCR missed put back
//!    at the end, or inside a run of fillers when that makes more check digits pass;
//! 3. verifies every check digit and the composite;
//! 4. repairs common OCR confusions (O/0, I/1, B/8, S/5, Z/2, G/6, D/0, K for `<`…) in a field
//!    whose check digit fails, by the type of character its position must hold, **only** when
//!    exactly one repair makes that check digit pass, and, where the format has a composite
//!    check digit, only if the composite passes after all repairs (otherwise every repair is
//!    undone). Names carry no check digit: they are never repaired.

use serde::{Deserialize, Serialize};

/// The layout of a machine-readable zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MrzFormat {
    /// ID cards: three lines of 30.
    Td1,
    /// Two lines of 36 (older ID cards).
    Td2,
    /// Passports: two lines of 44.
    Td3,
    /// Full-page visas: two lines of 44, no composite check digit.
    MrvA,
    /// Small visas: two lines of 36, no composite check digit.
    MrvB,
}

impl MrzFormat {
    /// Lines of the zone.
    pub fn lines(self) -> usize {
        match self {
            MrzFormat::Td1 => 3,
            _ => 2,
        }
    }

    /// Characters per line.
    pub fn width(self) -> usize {
        match self {
            MrzFormat::Td1 => 30,
            MrzFormat::Td2 | MrzFormat::MrvB => 36,
            MrzFormat::Td3 | MrzFormat::MrvA => 44,
        }
    }

    /// `td1`, `td2`, `td3`, `mrv_a`, `mrv_b`.
    pub fn as_str(self) -> &'static str {
        match self {
            MrzFormat::Td1 => "td1",
            MrzFormat::Td2 => "td2",
            MrzFormat::Td3 => "td3",
            MrzFormat::MrvA => "mrv_a",
            MrzFormat::MrvB => "mrv_b",
        }
    }
}

/// One check digit of the zone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckDigit {
    /// `document_number`, `birth_date`, `expiry_date`, `optional_data` or `composite`.
    pub field: String,
    /// The digit printed (after any repair).
    pub found: char,
    /// The digit the data gives.
    pub expected: char,
    /// `found` agrees with the data.
    pub valid: bool,
}

/// A change made to what OCR read, and why it is trusted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Repair {
    /// Line (0-based) and column (0-based, in the fitted line).
    pub line: usize,
    /// Column of the change.
    pub column: usize,
    /// What OCR read there (empty for an inserted filler).
    pub from: String,
    /// What it is now.
    pub to: String,
    /// The field whose check digit confirmed it.
    pub field: String,
}

/// A parsed machine-readable zone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Mrz {
    /// The layout.
    pub format: MrzFormat,
    /// `P`, `I`, `ID`, `V`, `AC`… (fillers removed).
    pub document_type: String,
    /// Issuing state or organisation (ICAO three-letter code, e.g. `UTO`, `D`).
    pub issuing_state: String,
    /// Primary identifier (words separated by spaces).
    pub surname: String,
    /// Secondary identifier (words separated by spaces).
    pub given_names: String,
    /// Document number (fillers removed; a TD1 number longer than nine characters whole).
    pub document_number: String,
    /// Nationality (three-letter code).
    pub nationality: String,
    /// Date of birth `YYYY-MM-DD` (None when the zone's date is not a date; an unknown day or
    /// month, printed as `<<`, is also None).
    pub birth_date: Option<String>,
    /// `M`, `F` or `X` (unspecified).
    pub sex: String,
    /// Date of expiry `YYYY-MM-DD`.
    pub expiry_date: Option<String>,
    /// Optional data (the personal number of a passport), fillers removed.
    pub optional_data: String,
    /// TD1's second optional field.
    pub optional_data_2: Option<String>,
    /// Every check digit of the format, in the order of the zone.
    pub checks: Vec<CheckDigit>,
    /// All check digits pass.
    pub valid: bool,
    /// The lines after cleaning, fitting and repair.
    pub lines: Vec<String>,
    /// The lines as given.
    pub raw_lines: Vec<String>,
    /// What was changed beyond cleaning and end padding.
    pub repairs: Vec<Repair>,
}

/// The value of a zone character in a check-digit sum (`<` is 0).
fn value(c: u8) -> Option<u32> {
    match c {
        b'0'..=b'9' => Some(u32::from(c - b'0')),
        b'A'..=b'Z' => Some(u32::from(c - b'A') + 10),
        b'<' => Some(0),
        _ => None,
    }
}

/// The ICAO 9303 check digit of `data` (weights 7, 3, 1 repeating, modulo 10).
pub fn check_digit(data: &str) -> Option<char> {
    let mut sum = 0;
    for (i, c) in data.bytes().enumerate() {
        sum += value(c)? * [7, 3, 1][i % 3];
    }
    char::from_digit(sum % 10, 10)
}

/// What a position of the zone must hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    /// Digits (dates, check digits).
    Digit,
    /// Letters, digits, fillers (document numbers, optional data).
    Alnum,
    /// Anything (names, codes): never repaired.
    Free,
}

/// A run of characters on one line: `(line, start, end)`, end exclusive.
type Span = (usize, usize, usize);

/// A check digit: its field, the data it covers, where the digit is.
struct Check {
    field: &'static str,
    data: &'static [Span],
    digit: (usize, usize),
    class: Class,
}

struct Layout {
    checks: &'static [Check],
    composite: Option<Check>,
}

const TD3_CHECKS: &[Check] = &[
    Check {
        field: "document_number",
        data: &[(1, 0, 9)],
        digit: (1, 9),
        class: Class::Alnum,
    },
    Check {
        field: "birth_date",
        data: &[(1, 13, 19)],
        digit: (1, 19),
        class: Class::Digit,
    },
    Check {
        field: "expiry_date",
        data: &[(1, 21, 27)],
        digit: (1, 27),
        class: Class::Digit,
    },
    Check {
        field: "optional_data",
        data: &[(1, 28, 42)],
        digit: (1, 42),
        class: Class::Alnum,
    },
];
const TD2_CHECKS: &[Check] = &[
    Check {
        field: "document_number",
        data: &[(1, 0, 9)],
        digit: (1, 9),
        class: Class::Alnum,
    },
    Check {
        field: "birth_date",
        data: &[(1, 13, 19)],
        digit: (1, 19),
        class: Class::Digit,
    },
    Check {
        field: "expiry_date",
        data: &[(1, 21, 27)],
        digit: (1, 27),
        class: Class::Digit,
    },
];
const TD1_CHECKS: &[Check] = &[
    Check {
        field: "document_number",
        data: &[(0, 5, 14)],
        digit: (0, 14),
        class: Class::Alnum,
    },
    Check {
        field: "birth_date",
        data: &[(1, 0, 6)],
        digit: (1, 6),
        class: Class::Digit,
    },
    Check {
        field: "expiry_date",
        data: &[(1, 8, 14)],
        digit: (1, 14),
        class: Class::Digit,
    },
];

fn layout(format: MrzFormat) -> Layout {
    match format {
        MrzFormat::Td3 => Layout {
            checks: TD3_CHECKS,
            composite: Some(Check {
                field: "composite",
                data: &[(1, 0, 10), (1, 13, 20), (1, 21, 43)],
                digit: (1, 43),
                class: Class::Alnum,
            }),
        },
        MrzFormat::Td2 => Layout {
            checks: TD2_CHECKS,
            composite: Some(Check {
                field: "composite",
                data: &[(1, 0, 10), (1, 13, 20), (1, 21, 35)],
                digit: (1, 35),
                class: Class::Alnum,
            }),
        },
        MrzFormat::Td1 => Layout {
            checks: TD1_CHECKS,
            composite: Some(Check {
                field: "composite",
                data: &[(0, 5, 30), (1, 0, 7), (1, 8, 15), (1, 18, 29)],
                digit: (1, 29),
                class: Class::Alnum,
            }),
        },
        MrzFormat::MrvA | MrzFormat::MrvB => Layout {
            checks: TD2_CHECKS,
            composite: None,
        },
    }
}

/// The class of each position of the checked fields (everything else is `Free`).
fn classes(format: MrzFormat) -> Vec<Vec<Class>> {
    let mut c = vec![vec![Class::Free; format.width()]; format.lines()];
    for check in layout(format).checks {
        for &(l, s, e) in check.data {
            for x in &mut c[l][s..e] {
                *x = check.class;
            }
        }
        c[check.digit.0][check.digit.1] = Class::Digit;
    }
    if let Some(k) = layout(format).composite {
        c[k.digit.0][k.digit.1] = Class::Digit;
    }
    c
}

/// What OCR may have read instead of the right character, for a position of `class`.
fn alternatives(class: Class, c: u8) -> &'static [u8] {
    match (class, c) {
        (Class::Digit, b'O' | b'D' | b'Q' | b'U') => b"0",
        (Class::Digit, b'I' | b'L' | b'T') => b"1",
        (Class::Digit, b'Z') => b"2",
        (Class::Digit, b'A') => b"4",
        (Class::Digit, b'S') => b"5",
        (Class::Digit, b'G') => b"6",
        (Class::Digit, b'B') => b"8",
        (Class::Alnum, b'O' | b'D' | b'Q') => b"0",
        (Class::Alnum, b'0') => b"OD",
        (Class::Alnum, b'I' | b'L') => b"1",
        (Class::Alnum, b'1') => b"I",
        (Class::Alnum, b'Z') => b"2",
        (Class::Alnum, b'2') => b"Z",
        (Class::Alnum, b'S') => b"5",
        (Class::Alnum, b'5') => b"S",
        (Class::Alnum, b'G') => b"6",
        (Class::Alnum, b'6') => b"G",
        (Class::Alnum, b'B') => b"8",
        (Class::Alnum, b'8') => b"B",
        (Class::Alnum, b'K') => b"<",
        _ => b"",
    }
}

/// Upper case, no spaces, `«` as `<<`, anything outside the zone's alphabet as `<`.
fn clean(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    for c in line.chars() {
        match c {
            c if c.is_whitespace() => {}
            '«' => out.push_str("<<"),
            c if c.is_ascii_alphanumeric() => out.push(c.to_ascii_uppercase()),
            _ => out.push('<'),
        }
    }
    out
}

fn check_passes(lines: &[Vec<u8>], check: &Check) -> (char, char, bool) {
    let fits = |l: usize, e: usize| lines.get(l).is_some_and(|line| line.len() >= e);
    if !check.data.iter().all(|&(l, _, e)| fits(l, e)) || !fits(check.digit.0, check.digit.1 + 1) {
        return ('?', '?', false);
    }
    let mut data: String = check
        .data
        .iter()
        .map(|&(l, s, e)| String::from_utf8_lossy(&lines[l][s..e]).into_owned())
        .collect();
    let mut found = lines[check.digit.0][check.digit.1] as char;
    // TD1 with a document number longer than nine: `<` in the digit's place, the rest of the
    // number and then its check digit open the optional data.
    if check.digit == (0, 14) && found == '<' {
        let rest: Vec<u8> = lines[0][15..]
            .iter()
            .take_while(|&&b| b != b'<')
            .copied()
            .collect();
        if let Some((&digit, head)) = rest.split_last().filter(|(_, h)| !h.is_empty()) {
            data.push_str(&String::from_utf8_lossy(head));
            found = digit as char;
        }
    }
    let expected = check_digit(&data).unwrap_or('?');
    // An empty optional field may carry `<` for its check digit.
    let empty_optional = check.field == "optional_data" && data.bytes().all(|b| b == b'<');
    let valid = found == expected || (empty_optional && found == '<');
    (found, expected, valid)
}

fn passing(format: MrzFormat, lines: &[Vec<u8>]) -> usize {
    let l = layout(format);
    l.checks
        .iter()
        .chain(l.composite.as_ref())
        .filter(|c| check_passes(lines, c).2)
        .count()
}

/// Picks the format from the lines' count, width and first letter.
fn detect_format(lines: &[String]) -> Option<MrzFormat> {
    let widest = lines.iter().map(String::len).max()?;
    match lines.len() {
        3 => Some(MrzFormat::Td1),
        2 => {
            let visa = lines[0].starts_with('V');
            Some(match (widest >= 40, visa) {
                (true, true) => MrzFormat::MrvA,
                (true, false) => MrzFormat::Td3,
                (false, true) => MrzFormat::MrvB,
                (false, false) => MrzFormat::Td2,
            })
        }
        _ => None,
    }
}

/// Shortens a line to `width`: fillers at the end first, then from the longest run of
/// fillers, then characters at the end.
fn shorten(mut line: Vec<u8>, width: usize) -> Vec<u8> {
    while line.len() > width {
        if line.last() == Some(&b'<') {
            line.pop();
            continue;
        }
        match longest_filler_run(&line) {
            Some((start, len)) if len > 1 => {
                line.remove(start);
            }
            _ => {
                line.truncate(width);
            }
        }
    }
    line
}

fn longest_filler_run(line: &[u8]) -> Option<(usize, usize)> {
    let mut best: Option<(usize, usize)> = None;
    let mut i = 0;
    while i < line.len() {
        if line[i] == b'<' {
            let start = i;
            while i < line.len() && line[i] == b'<' {
                i += 1;
            }
            if best.map_or(true, |(_, l)| i - start > l) {
                best = Some((start, i - start));
            }
        } else {
            i += 1;
        }
    }
    best
}

/// Lengthens line `n`, read as `raw` (shorter than the width), in `lines` (every line already
/// at the width, `n` padded at the end): fillers stay at the end unless putting them inside a
/// run of fillers makes strictly more check digits pass (then that is a repair).
fn lengthen(
    format: MrzFormat,
    lines: &mut [Vec<u8>],
    n: usize,
    raw: &[u8],
    repairs: &mut Vec<Repair>,
) {
    let width = format.width();
    let missing = width - raw.len();
    let mut best = (lines[n].clone(), None);
    let mut best_score = passing(format, lines);
    let mut i = 0;
    while i < raw.len() {
        if raw[i] != b'<' {
            i += 1;
            continue;
        }
        let start = i;
        while i < raw.len() && raw[i] == b'<' {
            i += 1;
        }
        if i == raw.len() {
            break;
        }
        // Insert the missing fillers at the end of this inner run.
        let mut cand = raw[..i].to_vec();
        cand.extend(std::iter::repeat(b'<').take(missing));
        cand.extend_from_slice(&raw[i..]);
        let mut trial = lines.to_vec();
        trial[n] = cand.clone();
        let score = passing(format, &trial);
        if score > best_score {
            best_score = score;
            best = (cand, Some(start.max(i)));
        }
    }
    if let Some(at) = best.1 {
        for k in 0..missing {
            repairs.push(Repair {
                line: n,
                column: at + k,
                from: String::new(),
                to: "<".into(),
                field: "fillers".into(),
            });
        }
    }
    lines[n] = best.0;
}

/// Tries to make `check` pass by changing one, then two, confusable characters of its data and
/// digit; answers the repairs when exactly one way does it. A way counts only if every other
/// check digit over a changed character passes too (the composite alone does not repair a
/// document number whose own digit still fails). When several ways remain, the composite
/// (which weighs the same characters differently) may single one out.
fn repair_check(
    lines: &[Vec<u8>],
    check: &Check,
    others: &[&Check],
    composite: Option<&Check>,
    classes: &[Vec<Class>],
) -> Option<Vec<(usize, usize, u8)>> {
    let mut positions: Vec<(usize, usize)> = check
        .data
        .iter()
        .flat_map(|&(l, s, e)| (s..e).map(move |x| (l, x)))
        .collect();
    positions.push(check.digit);
    let options: Vec<(usize, usize, u8)> = positions
        .iter()
        .flat_map(|&(l, x)| {
            let class = if (l, x) == check.digit {
                Class::Digit
            } else {
                classes[l][x]
            };
            alternatives(class, lines[l][x])
                .iter()
                .map(move |&to| (l, x, to))
        })
        .collect();
    let changed = |changes: &[(usize, usize, u8)]| {
        let mut t = lines.to_vec();
        for &(l, x, to) in changes {
            t[l][x] = to;
        }
        t
    };
    let covers = |c: &Check, (l, x): (usize, usize)| {
        c.digit == (l, x)
            || c.data
                .iter()
                .any(|&(cl, s, e)| cl == l && (s..e).contains(&x))
    };
    let apply = |changes: &[(usize, usize, u8)]| {
        let t = changed(changes);
        check_passes(&t, check).2
            && others.iter().all(|o| {
                !changes.iter().any(|&(l, x, _)| covers(o, (l, x))) || check_passes(&t, o).2
            })
    };
    for size in 1..=2 {
        let mut found: Vec<Vec<(usize, usize, u8)>> = Vec::new();
        if size == 1 {
            for o in &options {
                if apply(&[*o]) {
                    found.push(vec![*o]);
                }
            }
        } else {
            for (i, a) in options.iter().enumerate() {
                for b in &options[i + 1..] {
                    if (a.0, a.1) != (b.0, b.1) && apply(&[*a, *b]) {
                        found.push(vec![*a, *b]);
                    }
                }
            }
        }
        if found.len() > 1 {
            if let Some(k) = composite.filter(|k| k.field != check.field) {
                found.retain(|f| check_passes(&changed(f), k).2);
            }
        }
        match found.len() {
            0 => continue,
            1 => return found.pop(),
            // Several repairs would do: none is confirmed.
            _ => return None,
        }
    }
    None
}

fn text(lines: &[Vec<u8>], (l, s, e): Span) -> String {
    String::from_utf8_lossy(&lines[l][s..e]).into_owned()
}

fn unfill(s: &str) -> String {
    s.trim_end_matches('<').replace('<', " ").trim().to_string()
}

/// The primary and secondary identifiers of a name field.
fn names(field: &str) -> (String, String) {
    let field = field.trim_end_matches('<');
    match field.split_once("<<") {
        Some((surname, given)) => (unfill(surname), unfill(given)),
        None => (unfill(field), String::new()),
    }
}

/// The current year (UTC).
fn this_year() -> i64 {
    let days = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64 / 86_400);
    // Civil year from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    yoe + era * 400 + i64::from(m <= 2)
}

/// `YYMMDD` as `YYYY-MM-DD`; a birth date is in the past (a year after this one's two digits
/// is 19xx), an expiry within 50 years of this year.
fn date(yymmdd: &str, birth: bool) -> Option<String> {
    if yymmdd.len() != 6 || !yymmdd.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let yy: i64 = yymmdd[0..2].parse().ok()?;
    let mm: u32 = yymmdd[2..4].parse().ok()?;
    let dd: u32 = yymmdd[4..6].parse().ok()?;
    if !(1..=12).contains(&mm) || !(1..=31).contains(&dd) {
        return None;
    }
    let now = this_year();
    let century = now - now % 100;
    let mut year = century + yy;
    if birth && year > now {
        year -= 100;
    }
    // An expiry is within 50 years of now, either way (a card that expired in 1994 reads 94).
    if !birth && year > now + 50 {
        year -= 100;
    }
    if !birth && year < now - 50 {
        year += 100;
    }
    Some(format!("{year:04}-{mm:02}-{dd:02}"))
}

impl Mrz {
    /// Parses the zone from its lines as read (2 or 3 lines; see the module's description of
    /// the cleaning, fitting and repair). None when the lines fit no format.
    pub fn parse<S: AsRef<str>>(raw_lines: &[S]) -> Option<Mrz> {
        let raw: Vec<String> = raw_lines.iter().map(|l| l.as_ref().to_string()).collect();
        let cleaned: Vec<String> = raw
            .iter()
            .map(|l| clean(l))
            .filter(|l| !l.is_empty())
            .collect();
        let format = detect_format(&cleaned)?;
        let width = format.width();
        let mut lines: Vec<Vec<u8>> = cleaned
            .iter()
            .map(|l| shorten(l.as_bytes().to_vec(), width))
            .collect();
        let mut repairs = Vec::new();
        // Every line padded at the end first, so each short line's filler placement is
        // judged against complete lines.
        let short: Vec<(usize, Vec<u8>)> = lines
            .iter()
            .enumerate()
            .filter(|(_, l)| l.len() < width)
            .map(|(n, l)| (n, l.clone()))
            .collect();
        for l in &mut lines {
            l.resize(width, b'<');
        }
        for (n, raw) in short {
            lengthen(format, &mut lines, n, &raw, &mut repairs);
        }
        let classes = classes(format);
        let layout = layout(format);
        let before = lines.clone();
        let mut field_repairs = Vec::new();
        for check in layout.checks.iter().chain(layout.composite.as_ref()) {
            if check_passes(&lines, check).2 {
                continue;
            }
            let others: Vec<&Check> = layout
                .checks
                .iter()
                .filter(|o| o.field != check.field && check.field == "composite")
                .collect();
            if let Some(changes) =
                repair_check(&lines, check, &others, layout.composite.as_ref(), &classes)
            {
                for (l, x, to) in changes {
                    field_repairs.push(Repair {
                        line: l,
                        column: x,
                        from: (lines[l][x] as char).to_string(),
                        to: (to as char).to_string(),
                        field: check.field.into(),
                    });
                    lines[l][x] = to;
                }
            }
        }
        // The composite covers every checked field: a repair it does not agree with is undone.
        if let Some(composite) = &layout.composite {
            if !field_repairs.is_empty() && !check_passes(&lines, composite).2 {
                lines = before;
                field_repairs.clear();
            }
        }
        repairs.extend(field_repairs);
        let checks: Vec<CheckDigit> = layout
            .checks
            .iter()
            .chain(layout.composite.as_ref())
            .map(|c| {
                let (found, expected, valid) = check_passes(&lines, c);
                CheckDigit {
                    field: c.field.into(),
                    found,
                    expected,
                    valid,
                }
            })
            .collect();
        Some(Self::fields(format, &lines, raw, checks, repairs))
    }

    fn fields(
        format: MrzFormat,
        lines: &[Vec<u8>],
        raw_lines: Vec<String>,
        checks: Vec<CheckDigit>,
        repairs: Vec<Repair>,
    ) -> Mrz {
        let t = |span: Span| text(lines, span);
        let w = format.width();
        let (document_number, birth, sex, expiry, nationality, optional, optional_2, name_line) =
            match format {
                MrzFormat::Td1 => {
                    // A number longer than nine characters: `<` where its check digit would
                    // be, the rest and its check digit at the start of the optional data.
                    let mut number = unfill(&t((0, 5, 14)));
                    let mut optional = t((0, 15, 30));
                    if lines[0][14] == b'<' {
                        let rest = optional.trim_end_matches('<');
                        if let Some(head) = rest.split('<').next().filter(|h| h.len() > 1) {
                            number.push_str(&head[..head.len() - 1]);
                            optional = optional[head.len()..].to_string();
                        }
                    }
                    (
                        number,
                        t((1, 0, 6)),
                        t((1, 7, 8)),
                        t((1, 8, 14)),
                        t((1, 15, 18)),
                        unfill(&optional),
                        Some(unfill(&t((1, 18, 29)))),
                        2,
                    )
                }
                _ => {
                    let optional_end = match format {
                        MrzFormat::Td3 => 42,
                        MrzFormat::Td2 => 35,
                        _ => w,
                    };
                    (
                        unfill(&t((1, 0, 9))),
                        t((1, 13, 19)),
                        t((1, 20, 21)),
                        t((1, 21, 27)),
                        t((1, 10, 13)),
                        unfill(&t((1, 28, optional_end))),
                        None,
                        0,
                    )
                }
            };
        let name_start = if format == MrzFormat::Td1 { 0 } else { 5 };
        let (surname, given_names) = names(&t((name_line, name_start, w)));
        Mrz {
            format,
            document_type: unfill(&t((0, 0, 2))),
            issuing_state: unfill(&t((0, 2, 5))),
            surname,
            given_names,
            document_number,
            nationality: unfill(&nationality),
            birth_date: date(&birth, true),
            sex: match sex.as_str() {
                "M" | "F" => sex,
                _ => "X".into(),
            },
            expiry_date: date(&expiry, false),
            optional_data: optional,
            optional_data_2: optional_2,
            valid: checks.iter().all(|c| c.valid),
            checks,
            lines: lines
                .iter()
                .map(|l| String::from_utf8_lossy(l).into_owned())
                .collect(),
            raw_lines,
            repairs,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The specimens of ICAO Doc 9303 (the fictional state of Utopia).
    const TD3: [&str; 2] = [
        "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
        "L898902C36UTO7408122F1204159ZE184226B<<<<<10",
    ];
    const TD2: [&str; 2] = [
        "I<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<",
        "D231458907UTO7408122F1204159<<<<<<<6",
    ];
    const TD1: [&str; 3] = [
        "I<UTOD231458907<<<<<<<<<<<<<<<",
        "7408122F1204159UTO<<<<<<<<<<<6",
        "ERIKSSON<<ANNA<MARIA<<<<<<<<<<",
    ];
    const MRV_A: [&str; 2] = [
        "V<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
        "L8988901C4XXX4009078F96121096ZE184226B<<<<<<",
    ];
    const MRV_B: [&str; 2] = [
        "V<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<",
        "L8988901C4XXX4009078F9612109<<<<<<<<",
    ];

    fn parse(lines: &[&str]) -> Mrz {
        Mrz::parse(lines).expect("a zone")
    }

    #[test]
    fn check_digits_follow_the_7_3_1_rule() {
        assert_eq!(check_digit("L898902C3"), Some('6'));
        assert_eq!(check_digit("740812"), Some('2'));
        assert_eq!(check_digit("120415"), Some('9'));
        assert_eq!(check_digit("D23145890"), Some('7'));
        assert_eq!(check_digit("a"), None);
    }

    #[test]
    fn every_specimen_parses_with_every_digit_valid() {
        for (lines, format) in [
            (&TD3[..], MrzFormat::Td3),
            (&TD2[..], MrzFormat::Td2),
            (&TD1[..], MrzFormat::Td1),
            (&MRV_A[..], MrzFormat::MrvA),
            (&MRV_B[..], MrzFormat::MrvB),
        ] {
            let m = parse(lines);
            assert_eq!(m.format, format);
            assert!(m.valid, "{format:?}: {:?}", m.checks);
            assert!(m.repairs.is_empty(), "{:?}", m.repairs);
            assert_eq!(
                (m.surname.as_str(), m.given_names.as_str()),
                ("ERIKSSON", "ANNA MARIA")
            );
            assert_eq!(m.issuing_state, "UTO");
            assert_eq!(
                m.birth_date.as_deref(),
                Some(match format {
                    MrzFormat::MrvA | MrzFormat::MrvB => "1940-09-07",
                    _ => "1974-08-12",
                })
            );
            assert_eq!(m.sex, "F");
        }
        let p = parse(&TD3);
        assert_eq!(p.document_type, "P");
        assert_eq!(p.document_number, "L898902C3");
        assert_eq!(p.nationality, "UTO");
        assert_eq!(p.expiry_date.as_deref(), Some("2012-04-15"));
        assert_eq!(p.optional_data, "ZE184226B");
        assert_eq!(p.checks.len(), 5);
        let id = parse(&TD1);
        assert_eq!(id.document_number, "D23145890");
        assert_eq!(date("941101", false).as_deref(), Some("1994-11-01"));
        assert_eq!(date("300101", false).as_deref(), Some("2030-01-01"));
        assert_eq!(date("491004", true).as_deref(), Some("1949-10-04"));
        assert_eq!(id.checks.len(), 4);
        assert_eq!(parse(&MRV_B).checks.len(), 3);
    }

    #[test]
    fn confusions_are_repaired_only_when_a_check_digit_confirms_them() {
        // O for 0 in the birth date, S for 5 in the expiry's check digit field, I for 1.
        let m = parse(&[TD3[0], "L898902C36UTO74O8122F12O4159ZE184226B<<<<<10"]);
        assert!(m.valid, "{:?}", m.checks);
        assert_eq!(m.lines[1], TD3[1]);
        assert_eq!(m.repairs.len(), 2, "{:?}", m.repairs);
        assert!(m.repairs.iter().all(|r| r.from == "O" && r.to == "0"));
        // A misread digit that is a digit (3 for 8) has no confusable to try: not repaired,
        // reported.
        let m = parse(&[TD3[0], "L898902C36UTO7403122F1204159ZE184226B<<<<<10"]);
        assert!(!m.valid);
        assert!(m.repairs.is_empty());
        let failed: Vec<&str> = m
            .checks
            .iter()
            .filter(|c| !c.valid)
            .map(|c| c.field.as_str())
            .collect();
        assert_eq!(failed, ["birth_date", "composite"]);
        // Names are never repaired.
        let m = parse(&["P<UTOER1KSSON<<ANNA<MAR1A<<<<<<<<<<<<<<<<<<<", TD3[1]]);
        assert!(m.valid);
        assert_eq!(m.surname, "ER1KSSON");
        assert!(m.repairs.is_empty());
    }

    #[test]
    fn a_repair_the_composite_disagrees_with_is_undone() {
        // O for 0 in the birth date: one repair passes its digit, but the composite (printed
        // 1 instead of 0) refuses the whole, so nothing is changed.
        let m = parse(&[TD3[0], "L898902C36UTO74O8122F1204159ZE184226B<<<<<11"]);
        assert!(m.repairs.is_empty(), "{:?}", m.repairs);
        assert!(!m.valid);
        assert_eq!(m.birth_date, None);
    }

    #[test]
    fn a_long_td1_document_number_continues_in_the_optional_data() {
        let number = "D231458907349";
        let d = check_digit(number).unwrap();
        let l0 = format!("I<UTO{}<{}{d}<<<<<<<<<<", &number[..9], &number[9..]);
        let l1 = "7408122F1204159UTO<<<<<<<<<<<";
        let composite = check_digit(&format!(
            "{}{}{}{}",
            &l0[5..30],
            &l1[0..7],
            &l1[8..15],
            &l1[18..29]
        ))
        .unwrap();
        let l1 = format!("{l1}{composite}");
        let m = parse(&[l0.as_str(), l1.as_str(), TD1[2]]);
        assert!(m.valid, "{:?}", m.checks);
        assert_eq!(m.document_number, number);
        assert_eq!(m.optional_data, "");
    }

    #[test]
    fn any_lines_parse_or_are_refused_without_panicking() {
        // Lines of every length around the formats' widths, from zone characters and noise.
        let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789<<<<<<< .,(";
        let mut seed = 12345u64;
        let mut next = move || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) as usize
        };
        for _ in 0..3000 {
            let count = 1 + next() % 4;
            let lines: Vec<String> = (0..count)
                .map(|_| {
                    let len = next() % 52;
                    (0..len)
                        .map(|_| alphabet[next() % alphabet.len()] as char)
                        .collect()
                })
                .collect();
            if let Some(m) = Mrz::parse(&lines) {
                assert_eq!(m.lines.len(), m.format.lines());
                assert!(m.lines.iter().all(|l| l.len() == m.format.width()));
            }
        }
    }

    #[test]
    fn an_ambiguous_repair_is_not_made() {
        // B for 8 in the document number: 8->B at column 1 passes both the number's digit and
        // the composite as well as B->8 at column 3 (the composite weighs those columns as
        // the number's digit does), so neither is confirmed.
        let m = parse(&[TD3[0], "L89B902C36UTO7408122F1204159ZE184226B<<<<<10"]);
        assert!(m.repairs.is_empty(), "{:?}", m.repairs);
        assert_eq!(m.document_number, "L89B902C3");
        assert!(!m.checks[0].valid);
    }

    #[test]
    fn lines_are_cleaned_and_fitted_to_the_format() {
        // Spaces, lower case, «, a bracket for a filler, trailing fillers missing.
        let m = parse(&[
            "p<uto eriksson«anna(maria",
            "L898902C36UTO7408122F1204159ZE184226B<<<<<10<<<",
        ]);
        assert_eq!(m.format, MrzFormat::Td3);
        assert!(m.valid, "{:?}", m.checks);
        assert_eq!(m.lines, TD3);
        assert_eq!(m.given_names, "ANNA MARIA");
        // A filler missed inside the optional data: put back where the digits agree.
        let m = parse(&[TD3[0], "L898902C36UTO7408122F1204159ZE184226B<<<<10"]);
        assert!(m.valid, "{:?}", m.checks);
        assert_eq!(m.lines[1], TD3[1]);
        assert_eq!(m.repairs.len(), 1);
        assert_eq!(m.repairs[0].field, "fillers");
        assert!(Mrz::parse(&["just one line"]).is_none());
    }
}
