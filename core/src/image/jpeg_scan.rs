//! Does a JPEG's scan data hold every row its frame header declares? The decoder does not say:
//! when the data ends early it invents the missing rows (and allocates for them). For the
//! common case, a baseline frame with one scan over all its components, the Huffman codes are
//! walked without decoding any pixel, counting the MCUs actually present; other frames get a
//! bound instead (every block takes at least two bits: a DC code and an end-of-block code).
//! Anything this walk does not understand is left to the decoder: it only ever reports
//! truncation it has counted.

use crate::error::{Error, Result};

/// A canonical Huffman table (JPEG spec F.2.2.3): per code length, the largest code, and the
/// index of the first symbol of that length.
struct Table {
    max_code: [i32; 17],
    min_code: [i32; 17],
    first_symbol: [usize; 17],
    symbols: Vec<u8>,
}

impl Table {
    fn new(counts: &[u8], symbols: &[u8]) -> Table {
        let mut t = Table {
            max_code: [-1; 17],
            min_code: [0; 17],
            first_symbol: [0; 17],
            symbols: symbols.to_vec(),
        };
        let (mut code, mut k) = (0i32, 0usize);
        for len in 1..=16 {
            let n = counts[len - 1] as usize;
            if n > 0 {
                t.first_symbol[len] = k;
                t.min_code[len] = code;
                code += n as i32;
                k += n;
                t.max_code[len] = code - 1;
            }
            code <<= 1;
        }
        t
    }

    fn decode(&self, bits: &mut Bits<'_>) -> Option<u8> {
        let mut code = bits.bit() as i32;
        for len in 1..=16 {
            if code <= self.max_code[len] {
                let i = self.first_symbol[len] + (code - self.min_code[len]) as usize;
                return self.symbols.get(i).copied();
            }
            code = (code << 1) | bits.bit() as i32;
        }
        None
    }
}

/// Entropy-coded bits: 0xFF00 is a data byte 0xFF; the end marker (or the end of the file)
/// ends the data, and reads past it set `ended` and give zeros. Any other marker sets
/// `surprise` too: what follows is not a short file. RSTn markers are met only at restart
/// intervals, through [`Bits::restart`].
struct Bits<'a> {
    b: &'a [u8],
    at: usize,
    byte: u8,
    left: u8,
    ended: bool,
    /// A marker where none belongs (an RSTn off its interval): corrupt, not short.
    surprise: bool,
}

impl Bits<'_> {
    fn bit(&mut self) -> u8 {
        if self.left == 0 {
            match (self.b.get(self.at), self.b.get(self.at + 1)) {
                (Some(0xFF), Some(0x00)) => {
                    self.byte = 0xFF;
                    self.at += 2;
                }
                // The end marker, or the end of the file: the data is over.
                (Some(0xFF), Some(0xD9)) | (Some(0xFF), None) | (None, _) => {
                    self.ended = true;
                    return 0;
                }
                // Any other marker inside the data: corrupt (or another scan), not short.
                (Some(0xFF), _) => {
                    self.surprise = true;
                    self.ended = true;
                    return 0;
                }
                (Some(&x), _) => {
                    self.byte = x;
                    self.at += 1;
                }
            }
            self.left = 8;
        }
        self.left -= 1;
        (self.byte >> self.left) & 1
    }

    fn skip(&mut self, n: u8) {
        for _ in 0..n {
            self.bit();
        }
    }

    /// At a restart interval: drop the partial byte and step over the RSTn marker. No marker
    /// there is the end of the data only if the end marker is; otherwise the file is corrupt.
    fn restart(&mut self) {
        self.left = 0;
        match (self.b.get(self.at), self.b.get(self.at + 1)) {
            (Some(0xFF), Some(0xD0..=0xD7)) => self.at += 2,
            (Some(0xFF), Some(0xD9)) | (None, _) => self.ended = true,
            _ => {
                self.surprise = true;
                self.ended = true;
            }
        }
    }
}

/// A scan: (frame component index, DC table, AC table) per member, and where its data starts.
type Scan = (Vec<(usize, usize, usize)>, usize);

struct Component {
    id: u8,
    h: u64,
    v: u64,
}

/// `Err(ImageTruncated)` when the scan data cannot hold the frame; `Ok` otherwise, and
/// whenever the file is something this check does not walk. `Ok(true)`: every MCU of the
/// frame was counted in its scan data (the pixels are all there).
pub(super) fn check(b: &[u8]) -> Result<bool> {
    let be16 = |at: usize| {
        b.get(at..at + 2)
            .map(|x| u16::from_be_bytes([x[0], x[1]]) as usize)
    };
    let mut tables: [[Option<Table>; 4]; 2] = Default::default();
    let mut restart_interval = 0u64;
    let mut frame: Option<(u64, u64, Vec<Component>, bool)> = None;
    let mut scans: Vec<Scan> = Vec::new();
    let mut entropy_bytes = 0u64;
    let mut counted = false;
    let mut i = 2;
    while i + 1 < b.len() {
        if b[i] != 0xFF {
            return Ok(false);
        }
        let marker = b[i + 1];
        match marker {
            0xFF => {
                i += 1;
                continue;
            }
            0xD9 => break,
            0x01 | 0xD0..=0xD8 => {
                i += 2;
                continue;
            }
            _ => {}
        }
        let Some(len) = be16(i + 2) else {
            return Ok(false);
        };
        let seg = i + 4;
        let Some(body) = b.get(seg..(seg + len).saturating_sub(2).max(seg)) else {
            return Ok(false);
        };
        match marker {
            0xC0..=0xC3 | 0xC5..=0xC7 | 0xC9..=0xCB | 0xCD..=0xCF => {
                let (Some(h), Some(w), Some(&n)) = (be16(seg + 1), be16(seg + 3), body.get(5))
                else {
                    return Ok(false);
                };
                let mut comps = Vec::new();
                for c in 0..n as usize {
                    let (Some(&id), Some(&hv)) = (body.get(6 + 3 * c), body.get(7 + 3 * c)) else {
                        return Ok(false);
                    };
                    comps.push(Component {
                        id,
                        h: (hv >> 4).max(1) as u64,
                        v: (hv & 15).max(1) as u64,
                    });
                }
                frame = Some((w as u64, h as u64, comps, matches!(marker, 0xC0 | 0xC1)));
            }
            0xC4 => {
                let mut at = 0;
                while at + 17 <= body.len() {
                    let (class, id) = ((body[at] >> 4) as usize, (body[at] & 15) as usize);
                    let counts = &body[at + 1..at + 17];
                    let n: usize = counts.iter().map(|&c| c as usize).sum();
                    let Some(symbols) = body.get(at + 17..at + 17 + n) else {
                        return Ok(false);
                    };
                    if class > 1 || id > 3 {
                        return Ok(false);
                    }
                    tables[class][id] = Some(Table::new(counts, symbols));
                    at += 17 + n;
                }
            }
            0xDD => restart_interval = be16(seg).unwrap_or(0) as u64,
            0xDA => {
                let Some((_, _, comps, _)) = &frame else {
                    return Ok(false);
                };
                let Some(&ns) = body.first() else {
                    return Ok(false);
                };
                let mut members = Vec::new();
                for c in 0..ns as usize {
                    let (Some(&id), Some(&t)) = (body.get(1 + 2 * c), body.get(2 + 2 * c)) else {
                        return Ok(false);
                    };
                    let Some(index) = comps.iter().position(|x| x.id == id) else {
                        return Ok(false);
                    };
                    members.push((index, (t >> 4) as usize & 3, (t & 15) as usize & 3));
                }
                scans.push((members, seg + len - 2));
            }
            _ => {}
        }
        i = seg + len - 2;
        if marker == 0xDA {
            // Entropy-coded data runs to the next marker other than a stuffed 0xFF00 or RSTn.
            let start = i;
            while i + 1 < b.len() && (b[i] != 0xFF || matches!(b[i + 1], 0x00 | 0xD0..=0xD7)) {
                i += 1;
            }
            entropy_bytes += (i - start) as u64;
            if scans.len() == 1 && frame.as_ref().is_some_and(|f| f.3) {
                // Count before a later DHT could replace the tables this scan used.
                counted = count_mcus(
                    b,
                    &scans[0],
                    frame.as_ref().map(|f| (f.0, f.1, &f.2)).unwrap(),
                    &tables,
                    restart_interval,
                )?;
            }
        }
    }
    let Some((w, h, comps, true)) = frame else {
        return Ok(false);
    };
    if counted {
        return Ok(true);
    }
    let (hmax, vmax) = comps
        .iter()
        .fold((1, 1), |(a, b), c| (a.max(c.h), b.max(c.v)));
    let blocks: u64 = comps
        .iter()
        .map(|c| (w * c.h).div_ceil(hmax).div_ceil(8) * (h * c.v).div_ceil(vmax).div_ceil(8))
        .sum();
    if entropy_bytes * 8 < 2 * blocks {
        return Err(Error::ImageTruncated(format!(
            "the JPEG header declares {w}x{h} pixels ({blocks} blocks), more than its \
             {entropy_bytes} bytes of scan data can hold"
        )));
    }
    Ok(false)
}

/// Walks the first scan of a baseline frame when it covers every component, counting the
/// complete MCUs; fewer than the frame needs is truncation. `Ok(true)`: all were counted.
fn count_mcus(
    b: &[u8],
    (members, start): &Scan,
    (w, h, comps): (u64, u64, &Vec<Component>),
    tables: &[[Option<Table>; 4]; 2],
    restart_interval: u64,
) -> Result<bool> {
    if members.len() != comps.len() || w == 0 || h == 0 {
        return Ok(false);
    }
    let (hmax, vmax) = comps
        .iter()
        .fold((1, 1), |(a, b), c| (a.max(c.h), b.max(c.v)));
    // A single-component scan codes its blocks one by one, not in MCUs of the sampling factors.
    let (mcu_w, mcu_h, units): (u64, u64, Vec<(usize, usize, u64)>) = if members.len() == 1 {
        let c = &comps[members[0].0];
        let (bw, bh) = ((w * c.h).div_ceil(hmax), (h * c.v).div_ceil(vmax));
        (
            bw.div_ceil(8),
            bh.div_ceil(8),
            vec![(members[0].1, members[0].2, 1)],
        )
    } else {
        (
            w.div_ceil(8 * hmax),
            h.div_ceil(8 * vmax),
            members
                .iter()
                .map(|&(ci, dc, ac)| (dc, ac, comps[ci].h * comps[ci].v))
                .collect(),
        )
    };
    let mut coders = Vec::new();
    for &(dc, ac, n) in &units {
        let (Some(dc), Some(ac)) = (&tables[0][dc], &tables[1][ac]) else {
            return Ok(false);
        };
        coders.push((dc, ac, n));
    }
    let total = mcu_w * mcu_h;
    let mut bits = Bits {
        b,
        at: *start,
        byte: 0,
        left: 0,
        ended: false,
        surprise: false,
    };
    let mut complete = 0u64;
    'mcus: while complete < total {
        if restart_interval > 0 && complete > 0 && complete % restart_interval == 0 {
            bits.restart();
        }
        for &(dc, ac, n) in &coders {
            for _ in 0..n {
                let Some(size) = dc.decode(&mut bits) else {
                    return Ok(false);
                };
                if size > 16 {
                    return Ok(false);
                }
                bits.skip(size);
                let mut k = 1;
                while k < 64 {
                    let Some(rs) = ac.decode(&mut bits) else {
                        return Ok(false);
                    };
                    let (run, size) = (rs >> 4, rs & 15);
                    if size == 0 {
                        if run != 15 {
                            break;
                        }
                        k += 16;
                        continue;
                    }
                    k += run as usize;
                    bits.skip(size);
                    k += 1;
                }
                if k > 64 {
                    return Ok(false); // corrupt, not short: the decoder's to judge
                }
                if bits.ended {
                    break 'mcus;
                }
            }
        }
        complete += 1;
    }
    if complete < total && !bits.surprise {
        let rows = (complete / mcu_w) * (h.div_ceil(mcu_h));
        return Err(Error::ImageTruncated(format!(
            "JPEG scan data ends after about {rows} of the {h} rows its header declares"
        )));
    }
    Ok(complete == total)
}
