//! Benchmarks live in `benches/` (criterion) and `src/bin/` (pipeline comparison).
