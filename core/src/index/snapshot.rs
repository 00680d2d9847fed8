//! What a collection's saved search index holds: its HNSW graph and, per node, the id of the
//! template it stands for. No vector is saved: on load the vectors come from the store (the
//! source of truth), joined by template id, so a stale snapshot can only miss or add nodes,
//! never give a score that is not the stored template's.

use super::hnsw::{HnswGraph, Reader};
use crate::error::{Error, Result};

const MAGIC: &[u8; 8] = b"FPHNSW01";

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Snapshot {
    pub model_id: String,
    pub dim: usize,
    /// The store's change sequence for the collection when the snapshot was taken.
    pub change_seq: u64,
    /// Node `i` of the graph is template `template_ids[i]`.
    pub template_ids: Vec<String>,
    pub graph: HnswGraph,
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u16).to_le_bytes());
    out.extend_from_slice(s.as_bytes());
}

fn get_str(r: &mut Reader<'_>) -> Result<String> {
    let n = r.u16()? as usize;
    String::from_utf8(r.take(n)?.to_vec())
        .map_err(|_| Error::StoreCorrupt("index snapshot: an id is not UTF-8".into()))
}

impl Snapshot {
    pub fn encode(&self) -> Result<Vec<u8>> {
        if let Some(long) = self
            .template_ids
            .iter()
            .chain(std::iter::once(&self.model_id))
            .find(|s| s.len() > u16::MAX as usize)
        {
            return Err(Error::InvalidArgument(format!(
                "an id of {} bytes is too long for an index snapshot",
                long.len()
            )));
        }
        let mut out = Vec::with_capacity(64 + self.template_ids.len() * 34);
        out.extend_from_slice(MAGIC);
        put_str(&mut out, &self.model_id);
        out.extend_from_slice(&(self.dim as u32).to_le_bytes());
        out.extend_from_slice(&self.change_seq.to_le_bytes());
        out.extend_from_slice(&(self.template_ids.len() as u32).to_le_bytes());
        for id in &self.template_ids {
            put_str(&mut out, id);
        }
        self.graph.encode(&mut out);
        Ok(out)
    }

    /// Reads a snapshot; anything malformed is `store_corrupt` (never a panic).
    pub fn decode(bytes: &[u8]) -> Result<Snapshot> {
        let mut r = Reader(bytes);
        if r.take(MAGIC.len())? != MAGIC {
            return Err(Error::StoreCorrupt(
                "index snapshot: not a Faceprint HNSW snapshot (or another version)".into(),
            ));
        }
        let model_id = get_str(&mut r)?;
        let dim = r.u32()? as usize;
        let change_seq = r.u64()?;
        let n = r.u32()? as usize;
        // Each id takes at least its two length bytes: refuse a count the data cannot hold
        // before allocating for it.
        if n > r.0.len() / 2 {
            return Err(Error::StoreCorrupt(format!(
                "index snapshot: {n} ids cannot fit in {} bytes",
                r.0.len()
            )));
        }
        let mut template_ids = Vec::with_capacity(n);
        for _ in 0..n {
            template_ids.push(get_str(&mut r)?);
        }
        let graph = HnswGraph::decode(r.0)?;
        if graph.len() != n {
            return Err(Error::StoreCorrupt(format!(
                "index snapshot: {n} template ids for a graph of {} nodes",
                graph.len()
            )));
        }
        Ok(Snapshot {
            model_id,
            dim,
            change_seq,
            template_ids,
            graph,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::{HnswConfig, HnswIndex};

    #[test]
    fn a_snapshot_reads_back_as_written_and_a_cut_one_is_refused() {
        let mut h = HnswIndex::new(4, HnswConfig::default());
        let vectors: Vec<Vec<f32>> = (0..50)
            .map(|i| {
                let a = i as f32 * 0.37;
                vec![a.cos(), a.sin(), 0.5, -0.25]
            })
            .collect();
        let items: Vec<(u64, &[f32])> = vectors
            .iter()
            .enumerate()
            .map(|(k, v)| (k as u64, v.as_slice()))
            .collect();
        h.extend_parallel(&items).unwrap();
        let (keys, graph) = h.export();
        let snap = Snapshot {
            model_id: "omz-reid-0095".into(),
            dim: 4,
            change_seq: 77,
            template_ids: keys.iter().map(|k| format!("t{k}")).collect(),
            graph,
        };
        let bytes = snap.encode().unwrap();
        assert_eq!(Snapshot::decode(&bytes).unwrap(), snap);
        for cut in 0..bytes.len() {
            let e = Snapshot::decode(&bytes[..cut]).unwrap_err();
            assert_eq!(e.code(), crate::ErrorCode::StoreCorrupt, "cut at {cut}");
        }
        let mut wrong = bytes.clone();
        wrong[0] = b'X';
        assert!(Snapshot::decode(&wrong)
            .unwrap_err()
            .to_string()
            .contains("not a Faceprint HNSW snapshot"));
    }
}
