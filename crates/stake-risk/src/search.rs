//! The exact searches over operator sets `B`, as one branch-and-bound with three objectives.
//!
//! For a fixed `B`, `Sat(B)` — every service `B` corrupts — is the best `A` for each objective, so
//! every search runs over `B` alone. Operators are decided in order of decreasing stake; each
//! decision updates, per service, the stake included (`inc`) and still undecided (`rem`), so a node
//! knows which services are corrupted (`inc ≥ t`) and which can still be (`inc + rem ≥ t`).

use crate::{big, Attack, Coalition, GammaSlack, Graph};
use stake_math::U256;

/// The search state over a subgraph: the candidate services and the operators to decide.
struct Ctx<'g> {
    g: &'g Graph,
    /// Operators in decision order.
    ops: Vec<usize>,
    /// Candidate services (graph indices).
    svcs: Vec<usize>,
    /// Local service indices of each decision position.
    op_svcs: Vec<Vec<usize>>,
    t: Vec<U256>,
    pi: Vec<U256>,
    inc: Vec<U256>,
    rem: Vec<U256>,
    alive: Vec<bool>,
    sat: Vec<bool>,
    pi_alive: U256,
    pi_sat: U256,
    sum_inc: U256,
    rem_total: U256,
    chosen: Vec<bool>,
}

impl<'g> Ctx<'g> {
    /// `svcs`: candidate services; `all_ops`: decide every remaining operator, not only those
    /// securing a candidate.
    fn new(g: &'g Graph, removed: &[bool], svcs: Vec<usize>, all_ops: bool) -> Ctx<'g> {
        let n = g.stakes.len();
        let mut local = vec![usize::MAX; g.services.len()];
        for (i, s) in svcs.iter().enumerate() {
            local[*s] = i;
        }
        let mut ops: Vec<usize> = (0..n)
            .filter(|v| !removed[*v])
            .filter(|v| all_ops || g.services_of(*v).iter().any(|s| local[*s] != usize::MAX))
            .collect();
        ops.sort_by(|a, b| g.stakes[*b].cmp(&g.stakes[*a]).then(a.cmp(b)));
        let op_svcs: Vec<Vec<usize>> = ops
            .iter()
            .map(|v| {
                g.services_of(*v)
                    .iter()
                    .filter(|s| local[**s] != usize::MAX)
                    .map(|s| local[*s])
                    .collect()
            })
            .collect();
        let t: Vec<U256> = svcs.iter().map(|s| g.threshold_stake(*s, removed)).collect();
        let pi: Vec<U256> = svcs.iter().map(|s| g.services[*s].profit).collect();
        let mut rem = vec![U256::ZERO; svcs.len()];
        for (i, v) in ops.iter().enumerate() {
            for &s in &op_svcs[i] {
                rem[s] = rem[s].saturating_add(g.stakes[*v]);
            }
        }
        let sat: Vec<bool> = t.iter().map(|t| *t == U256::ZERO).collect();
        let pi_sat = (0..svcs.len())
            .filter(|s| sat[*s])
            .fold(U256::ZERO, |a, s| a.saturating_add(pi[s]));
        let pi_alive = pi.iter().fold(U256::ZERO, |a, p| a.saturating_add(*p));
        let rem_total = ops.iter().fold(U256::ZERO, |a, v| a.saturating_add(g.stakes[*v]));
        Ctx {
            g,
            chosen: vec![false; ops.len()],
            ops,
            alive: vec![true; svcs.len()],
            svcs,
            op_svcs,
            inc: vec![U256::ZERO; t.len()],
            t,
            pi,
            rem,
            sat,
            pi_alive,
            pi_sat,
            sum_inc: U256::ZERO,
            rem_total,
        }
    }

    fn stake(&self, i: usize) -> U256 {
        self.g.stakes[self.ops[i]]
    }

    /// Whether including operator `i` can corrupt a service not corrupted yet.
    fn helps(&self, i: usize) -> bool {
        self.op_svcs[i].iter().any(|s| self.alive[*s] && !self.sat[*s])
    }

    /// The smallest stake still missing from a corruptible, uncorrupted service.
    fn min_deficit(&self) -> Option<U256> {
        (0..self.t.len())
            .filter(|s| self.alive[*s] && !self.sat[*s])
            .map(|s| self.t[s] - self.inc[s])
            .min()
    }

    fn include(&mut self, i: usize) -> Vec<usize> {
        let st = self.stake(i);
        self.sum_inc = self.sum_inc.saturating_add(st);
        self.rem_total -= st;
        self.chosen[i] = true;
        let mut newly = Vec::new();
        for k in 0..self.op_svcs[i].len() {
            let s = self.op_svcs[i][k];
            self.rem[s] -= st;
            self.inc[s] = self.inc[s].saturating_add(st);
            if !self.sat[s] && self.inc[s] >= self.t[s] {
                self.sat[s] = true;
                self.pi_sat = self.pi_sat.saturating_add(self.pi[s]);
                newly.push(s);
            }
        }
        newly
    }

    fn undo_include(&mut self, i: usize, newly: Vec<usize>) {
        let st = self.stake(i);
        self.sum_inc -= st;
        self.rem_total = self.rem_total.saturating_add(st);
        self.chosen[i] = false;
        for s in newly {
            self.sat[s] = false;
            self.pi_sat -= self.pi[s];
        }
        for k in 0..self.op_svcs[i].len() {
            let s = self.op_svcs[i][k];
            self.rem[s] = self.rem[s].saturating_add(st);
            self.inc[s] -= st;
        }
    }

    fn exclude(&mut self, i: usize) -> Vec<usize> {
        let st = self.stake(i);
        self.rem_total -= st;
        let mut dead = Vec::new();
        for k in 0..self.op_svcs[i].len() {
            let s = self.op_svcs[i][k];
            self.rem[s] -= st;
            if self.alive[s] && self.inc[s].saturating_add(self.rem[s]) < self.t[s] {
                self.alive[s] = false;
                self.pi_alive -= self.pi[s];
                dead.push(s);
            }
        }
        dead
    }

    fn undo_exclude(&mut self, i: usize, dead: Vec<usize>) {
        let st = self.stake(i);
        self.rem_total = self.rem_total.saturating_add(st);
        for s in dead {
            self.alive[s] = true;
            self.pi_alive = self.pi_alive.saturating_add(self.pi[s]);
        }
        for k in 0..self.op_svcs[i].len() {
            let s = self.op_svcs[i][k];
            self.rem[s] = self.rem[s].saturating_add(st);
        }
    }

    fn coalition(&self) -> Coalition {
        let mut operators: Vec<usize> = (0..self.ops.len())
            .filter(|i| self.chosen[*i])
            .map(|i| self.ops[i])
            .collect();
        operators.sort_unstable();
        let mut services: Vec<usize> = (0..self.svcs.len())
            .filter(|s| self.sat[*s])
            .map(|s| self.svcs[s])
            .collect();
        services.sort_unstable();
        Coalition { services, operators }
    }
}

/// What a search maximises or minimises.
trait Objective {
    /// Whether no node below can beat the best found.
    fn prune(&self, c: &Ctx) -> bool;
    /// Records the node's `B` if it is better.
    fn visit(&mut self, c: &Ctx);
    /// Whether including an operator that corrupts nothing new can still help.
    fn wants_every_operator(&self) -> bool {
        false
    }
}

fn dfs<O: Objective>(c: &mut Ctx, pos: usize, o: &mut O) {
    o.visit(c);
    if pos == c.ops.len() || o.prune(c) {
        return;
    }
    if o.wants_every_operator() || c.helps(pos) {
        let newly = c.include(pos);
        dfs(c, pos + 1, o);
        c.undo_include(pos, newly);
    }
    let dead = c.exclude(pos);
    dfs(c, pos + 1, o);
    c.undo_exclude(pos, dead);
}

/// Services that can be in a profitable attack: a service whose corruption alone costs at least
/// the total profit of the candidates cannot, and removing it lowers the total — to a fixed point.
fn candidates(g: &Graph, removed: &[bool]) -> Vec<usize> {
    let mut svcs: Vec<usize> = (0..g.services.len()).collect();
    loop {
        let total = svcs
            .iter()
            .fold(U256::ZERO, |a, s| a.saturating_add(g.services[*s].profit));
        let keep: Vec<usize> = svcs
            .iter()
            .copied()
            .filter(|s| g.threshold_stake(*s, removed) < total)
            .collect();
        if keep.len() == svcs.len() {
            return svcs;
        }
        svcs = keep;
    }
}

struct MaxProfit {
    best: U256,
    found: Option<Coalition>,
}

impl Objective for MaxProfit {
    fn prune(&self, c: &Ctx) -> bool {
        let with_more = match c.min_deficit() {
            Some(d) => c.pi_alive.saturating_sub(d),
            None => U256::ZERO,
        };
        c.pi_sat.max(with_more).saturating_sub(c.sum_inc) <= self.best
    }
    fn visit(&mut self, c: &Ctx) {
        if c.pi_sat > c.sum_inc && c.pi_sat - c.sum_inc > self.best {
            self.best = c.pi_sat - c.sum_inc;
            self.found = Some(c.coalition());
        }
    }
}

/// The most profitable attack on the graph without `removed`, thresholds against the remaining
/// stake; the min-cut closure when every threshold is 100 %.
pub(crate) fn best_attack(g: &Graph, removed: &[bool]) -> Option<Attack> {
    let svcs = candidates(g, removed);
    if svcs.is_empty() {
        return None;
    }
    let wad = stake_math::WAD;
    let found = if svcs.iter().all(|s| g.services[*s].threshold_wad == wad) {
        crate::flow::max_closure(g, removed, &svcs)
    } else {
        let mut c = Ctx::new(g, removed, svcs, false);
        let mut o = MaxProfit {
            best: U256::ZERO,
            found: None,
        };
        dfs(&mut c, 0, &mut o);
        o.found
    }?;
    let profit = found
        .services
        .iter()
        .fold(U256::ZERO, |a, s| a.saturating_add(g.services[*s].profit))
        .saturating_sub(g.stake_of(&found.operators));
    (profit > U256::ZERO).then_some(Attack {
        profit,
        coalition: found,
    })
}

struct MaxStake {
    best: Option<U256>,
    found: Option<Coalition>,
}

impl Objective for MaxStake {
    fn prune(&self, c: &Ctx) -> bool {
        if c.pi_alive == U256::ZERO {
            return true;
        }
        let cap = (c.sum_inc.saturating_add(c.rem_total)).min(c.pi_alive - U256::ONE);
        self.best.is_some_and(|b| cap <= b) || cap < c.sum_inc
    }
    fn visit(&mut self, c: &Ctx) {
        if c.pi_sat > c.sum_inc && self.best.is_none_or(|b| c.sum_inc > b) {
            self.best = Some(c.sum_inc);
            self.found = Some(c.coalition());
        }
    }
    fn wants_every_operator(&self) -> bool {
        true
    }
}

/// The attack losing the most stake on the graph without `removed` (any operator may join `B`
/// while the coalition still profits).
pub(crate) fn max_attack_stake(g: &Graph, removed: &[bool]) -> Option<Coalition> {
    let svcs = candidates(g, removed);
    if svcs.is_empty() {
        return None;
    }
    let mut c = Ctx::new(g, removed, svcs, true);
    let mut o = MaxStake {
        best: None,
        found: None,
    };
    dfs(&mut c, 0, &mut o);
    o.found
}

struct MinRatio {
    /// Best (σ(B), π(Sat(B))).
    best: (U256, U256),
    found: Option<Coalition>,
}

impl MinRatio {
    /// a/b < c/d, exactly.
    fn less(a: U256, b: U256, c: U256, d: U256) -> bool {
        big(a) * big(d) < big(c) * big(b)
    }
}

impl Objective for MinRatio {
    fn prune(&self, c: &Ctx) -> bool {
        if c.pi_alive == U256::ZERO {
            return true;
        }
        let extra = if c.pi_sat == U256::ZERO {
            c.min_deficit().unwrap_or(U256::ZERO)
        } else {
            U256::ZERO
        };
        // σ can only grow and π is at most the corruptible profit.
        let lb = c.sum_inc.saturating_add(extra);
        !Self::less(lb, c.pi_alive, self.best.0, self.best.1)
    }
    fn visit(&mut self, c: &Ctx) {
        if c.pi_sat > U256::ZERO && Self::less(c.sum_inc, c.pi_sat, self.best.0, self.best.1) {
            self.best = (c.sum_inc, c.pi_sat);
            self.found = Some(c.coalition());
        }
    }
}

/// `min_B σ(B)/π(Sat(B))` over services with `π > 0`: γ-slack + 1.
pub(crate) fn min_ratio(g: &Graph, removed: &[bool]) -> Option<GammaSlack> {
    let svcs: Vec<usize> = (0..g.services.len())
        .filter(|s| g.services[*s].profit > U256::ZERO)
        .collect();
    if svcs.is_empty() {
        return None;
    }
    let mut c = Ctx::new(g, removed, svcs, false);
    // Start from B = every operator: it corrupts every service.
    let all: Vec<usize> = c.ops.clone();
    let start = (g.stake_of(&all), c.pi_alive);
    let mut start_coalition = Coalition {
        services: c.svcs.clone(),
        operators: all,
    };
    start_coalition.operators.sort_unstable();
    let mut o = MinRatio {
        best: start,
        found: None,
    };
    dfs(&mut c, 0, &mut o);
    let coalition = o.found.unwrap_or(start_coalition);
    Some(GammaSlack {
        cost: o.best.0,
        profit: o.best.1,
        coalition,
    })
}

struct MinCover {
    best: U256,
}

impl Objective for MinCover {
    fn prune(&self, c: &Ctx) -> bool {
        c.sum_inc >= self.best || !c.alive[0] || c.sat[0]
    }
    fn visit(&mut self, c: &Ctx) {
        if c.sat[0] && c.sum_inc < self.best {
            self.best = c.sum_inc;
        }
    }
}

/// Cost of corruption of one service: the cheapest `σ(B)` meeting its threshold alone.
pub(crate) fn cheapest_cover(g: &Graph, s: usize, removed: &[bool]) -> U256 {
    let mut c = Ctx::new(g, removed, vec![s], false);
    let mut o = MinCover { best: c.rem_total };
    dfs(&mut c, 0, &mut o);
    o.best
}
