//! Maximum-weight closure by minimum cut (Picard 1976), for networks whose thresholds are all
//! 100 %: corrupting `s` then needs every operator of `N(s)`, so the best attack maximises
//! `π(A) − σ(∪_{s∈A} N(s))` — a project-selection problem. Source → service (capacity `π_s`),
//! service → each of its operators (unbounded), operator → sink (`σ_v`); the best profit is
//! `Σπ − mincut` and the source side of the cut is the coalition. Dinic's algorithm, exact in
//! 256-bit integers.

use crate::{Coalition, Graph};
use stake_math::U256;
use std::collections::VecDeque;

struct Edge {
    to: usize,
    cap: U256,
}

struct Net {
    edges: Vec<Edge>,
    adj: Vec<Vec<usize>>,
}

impl Net {
    fn new(n: usize) -> Net {
        Net {
            edges: Vec::new(),
            adj: vec![Vec::new(); n],
        }
    }

    fn add(&mut self, a: usize, b: usize, cap: U256) {
        self.adj[a].push(self.edges.len());
        self.edges.push(Edge { to: b, cap });
        self.adj[b].push(self.edges.len());
        self.edges.push(Edge { to: a, cap: U256::ZERO });
    }

    fn levels(&self, s: usize) -> Vec<Option<usize>> {
        let mut level = vec![None; self.adj.len()];
        level[s] = Some(0);
        let mut q = VecDeque::from([s]);
        while let Some(u) = q.pop_front() {
            for &e in &self.adj[u] {
                let Edge { to, cap } = self.edges[e];
                if cap > U256::ZERO && level[to].is_none() {
                    level[to] = level[u].map(|l| l + 1);
                    q.push_back(to);
                }
            }
        }
        level
    }

    fn push(&mut self, u: usize, t: usize, f: U256, level: &[Option<usize>], it: &mut [usize]) -> U256 {
        if u == t {
            return f;
        }
        while it[u] < self.adj[u].len() {
            let e = self.adj[u][it[u]];
            let Edge { to, cap } = self.edges[e];
            if cap > U256::ZERO && level[to] == level[u].map(|l| l + 1) {
                let d = self.push(to, t, f.min(cap), level, it);
                if d > U256::ZERO {
                    self.edges[e].cap -= d;
                    self.edges[e ^ 1].cap = self.edges[e ^ 1].cap.saturating_add(d);
                    return d;
                }
            }
            it[u] += 1;
        }
        U256::ZERO
    }

    fn max_flow(&mut self, s: usize, t: usize) {
        loop {
            let level = self.levels(s);
            if level[t].is_none() {
                return;
            }
            let mut it = vec![0; self.adj.len()];
            while self.push(s, t, U256::MAX, &level, &mut it) > U256::ZERO {}
        }
    }
}

/// The maximum-weight closure over the candidate services, on the graph without `removed`.
pub(crate) fn max_closure(g: &Graph, removed: &[bool], svcs: &[usize]) -> Option<Coalition> {
    let n_ops = g.stakes().len();
    let (src, sink) = (svcs.len() + n_ops, svcs.len() + n_ops + 1);
    let mut net = Net::new(svcs.len() + n_ops + 2);
    // "Unbounded": more than every stake together.
    let inf = g.stakes().iter().fold(U256::ONE, |a, s| a.saturating_add(*s));
    let mut used = vec![false; n_ops];
    for (i, &s) in svcs.iter().enumerate() {
        net.add(src, i, g.services()[s].profit);
        for &v in &g.services()[s].operators {
            if !removed[v] {
                net.add(i, svcs.len() + v, inf);
                used[v] = true;
            }
        }
    }
    for v in (0..n_ops).filter(|v| used[*v]) {
        net.add(svcs.len() + v, sink, g.stakes()[v]);
    }
    net.max_flow(src, sink);
    let side = net.levels(src);
    let services: Vec<usize> = (0..svcs.len())
        .filter(|i| side[*i].is_some())
        .map(|i| svcs[i])
        .collect();
    let operators: Vec<usize> = (0..n_ops)
        .filter(|v| used[*v] && side[svcs.len() + v].is_some())
        .collect();
    let mut services = services;
    services.sort_unstable();
    (!services.is_empty()).then_some(Coalition { services, operators })
}
