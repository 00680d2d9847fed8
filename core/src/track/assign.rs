//! Minimum-cost assignment (the Hungarian method with potentials, O(n²·m)): which detection
//! continues which track when several faces are close together.

/// For a `rows × cols` cost matrix (row-major), the column given to each row (None when there
/// are more rows than columns and the row got none), with the total cost minimal.
pub(crate) fn min_cost_assignment(cost: &[f64], rows: usize, cols: usize) -> Vec<Option<usize>> {
    debug_assert_eq!(cost.len(), rows * cols);
    if rows == 0 || cols == 0 {
        return vec![None; rows];
    }
    // The method wants rows <= cols: solve the transpose otherwise.
    if rows > cols {
        let t: Vec<f64> = (0..cols)
            .flat_map(|c| (0..rows).map(move |r| (r, c)))
            .map(|(r, c)| cost[r * cols + c])
            .collect();
        let by_col = min_cost_assignment(&t, cols, rows);
        let mut out = vec![None; rows];
        for (c, r) in by_col.into_iter().enumerate() {
            if let Some(r) = r {
                out[r] = Some(c);
            }
        }
        return out;
    }
    let (n, m) = (rows, cols);
    let at = |r: usize, c: usize| cost[(r - 1) * m + (c - 1)];
    // 1-based: column 0 is the virtual start; owner[c] is the row holding column c.
    let mut u = vec![0.0f64; n + 1];
    let mut v = vec![0.0f64; m + 1];
    let mut owner = vec![0usize; m + 1];
    let mut way = vec![0usize; m + 1];
    for row in 1..=n {
        owner[0] = row;
        let mut c0 = 0;
        let mut min_to = vec![f64::INFINITY; m + 1];
        let mut used = vec![false; m + 1];
        loop {
            used[c0] = true;
            let r0 = owner[c0];
            let mut delta = f64::INFINITY;
            let mut c1 = 0;
            for c in 1..=m {
                if !used[c] {
                    let reduced = at(r0, c) - u[r0] - v[c];
                    if reduced < min_to[c] {
                        min_to[c] = reduced;
                        way[c] = c0;
                    }
                    if min_to[c] < delta {
                        delta = min_to[c];
                        c1 = c;
                    }
                }
            }
            for c in 0..=m {
                if used[c] {
                    u[owner[c]] += delta;
                    v[c] -= delta;
                } else {
                    min_to[c] -= delta;
                }
            }
            c0 = c1;
            if owner[c0] == 0 {
                break;
            }
        }
        // Walk the augmenting path back to the start.
        loop {
            let c1 = way[c0];
            owner[c0] = owner[c1];
            c0 = c1;
            if c0 == 0 {
                break;
            }
        }
    }
    let mut out = vec![None; n];
    for c in 1..=m {
        if owner[c] > 0 {
            out[owner[c] - 1] = Some(c - 1);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn total(cost: &[f64], cols: usize, a: &[Option<usize>]) -> f64 {
        a.iter()
            .enumerate()
            .filter_map(|(r, c)| c.map(|c| cost[r * cols + c]))
            .sum()
    }

    /// Every assignment of `rows` rows into `cols` columns, the cheapest total.
    fn brute(cost: &[f64], rows: usize, cols: usize) -> f64 {
        fn go(r: usize, rows: usize, cols: usize, cost: &[f64], used: &mut Vec<bool>) -> f64 {
            if r == rows {
                return 0.0;
            }
            let mut best = f64::INFINITY;
            let free = used.iter().filter(|u| !**u).count();
            if rows - r > free {
                // More rows than columns left: this row may stay unassigned.
                best = go(r + 1, rows, cols, cost, used);
            }
            for c in 0..cols {
                if !used[c] {
                    used[c] = true;
                    best = best.min(cost[r * cols + c] + go(r + 1, rows, cols, cost, used));
                    used[c] = false;
                }
            }
            best
        }
        go(0, rows, cols, cost, &mut vec![false; cols])
    }

    #[test]
    fn greedy_is_not_optimal_but_this_is() {
        // Greedy takes (0,0) at 0.1 and leaves row 1 the 0.95; the optimum pairs crosswise.
        let cost = [0.1, 0.2, 0.15, 0.95];
        assert_eq!(min_cost_assignment(&cost, 2, 2), vec![Some(1), Some(0)]);
    }

    #[test]
    fn matches_brute_force_on_rectangular_matrices() {
        let mut seed = 0x9e3779b97f4a7c15u64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % 1000) as f64 / 1000.0
        };
        for (rows, cols) in [(1, 1), (2, 3), (3, 2), (4, 4), (5, 3), (3, 6), (6, 6)] {
            for _ in 0..20 {
                let cost: Vec<f64> = (0..rows * cols).map(|_| next()).collect();
                let a = min_cost_assignment(&cost, rows, cols);
                let assigned = a.iter().flatten().count();
                assert_eq!(assigned, rows.min(cols));
                let mut cols_used: Vec<usize> = a.iter().flatten().copied().collect();
                cols_used.sort_unstable();
                cols_used.dedup();
                assert_eq!(cols_used.len(), assigned, "a column given twice: {a:?}");
                let best = brute(&cost, rows, cols);
                assert!(
                    (total(&cost, cols, &a) - best).abs() < 1e-9,
                    "{rows}x{cols}: {a:?}"
                );
            }
        }
        assert_eq!(min_cost_assignment(&[], 0, 3), Vec::<Option<usize>>::new());
        assert_eq!(min_cost_assignment(&[], 2, 0), vec![None, None]);
    }
}
