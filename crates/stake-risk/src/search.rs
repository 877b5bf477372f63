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
    /// Decision positions of each local service's operators.
    svc_ops: Vec<Vec<usize>>,
    /// Scratch: per decision position, how many uncorrupted corruptible services it serves.
    deg: Vec<u32>,
    /// Nodes visited, and the most allowed (`u64::MAX`: no limit).
    nodes: u64,
    budget: u64,
}

impl<'g> Ctx<'g> {
    /// `svcs`: the candidate services; the operators decided are those securing one of them.
    fn new(g: &'g Graph, removed: &[bool], svcs: Vec<usize>) -> Ctx<'g> {
        let n = g.stakes.len();
        let mut local = vec![usize::MAX; g.services.len()];
        for (i, s) in svcs.iter().enumerate() {
            local[*s] = i;
        }
        let mut ops: Vec<usize> = (0..n)
            .filter(|v| !removed[*v])
            .filter(|v| g.services_of(*v).iter().any(|s| local[*s] != usize::MAX))
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
        let op_count = ops.len();
        let mut svc_ops = vec![Vec::new(); svcs.len()];
        for (i, ss) in op_svcs.iter().enumerate() {
            for &s in ss {
                svc_ops[s].push(i);
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
            deg: vec![0; op_count],
            svc_ops,
            nodes: 0,
            budget: u64::MAX,
        }
    }

    /// An upper bound on the profit still to gain, by splitting each undecided operator's stake
    /// evenly over the uncorrupted services it could help corrupt (a Lagrangian bound): a service
    /// newly corrupted costs at least its deficit over the largest split among its operators, so
    /// it adds at most `max(0, π_s − ⌊deficit / max degree⌋)`.
    ///
    /// In weighted units: profits count `q` each, stake `p` each (`p = q = 1` for attacks).
    fn split_bound(&mut self, from: usize, p: U256, q: U256) -> U256 {
        let open: Vec<usize> = (0..self.t.len()).filter(|s| self.alive[*s] && !self.sat[*s]).collect();
        for &s in &open {
            for &i in &self.svc_ops[s] {
                if i >= from {
                    self.deg[i] += 1;
                }
            }
        }
        let mut gain = U256::ZERO;
        for &s in &open {
            let maxdeg = self.svc_ops[s]
                .iter()
                .filter(|i| **i >= from)
                .map(|i| self.deg[*i])
                .max()
                .unwrap_or(1)
                .max(1);
            let share = (self.t[s] - self.inc[s]) / U256::from(maxdeg);
            gain = gain.saturating_add((q.saturating_mul(self.pi[s])).saturating_sub(p.saturating_mul(share)));
        }
        for &s in &open {
            for &i in &self.svc_ops[s] {
                self.deg[i] = 0;
            }
        }
        gain
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
    /// Whether no node below can beat the best found (`pos`: the next decision).
    fn prune(&self, c: &mut Ctx, pos: usize) -> bool;
    /// Records the node's `B` if it is better.
    fn visit(&mut self, c: &Ctx);
    /// Whether including the operator at decision `i` can help.
    fn may_include(&self, c: &Ctx, i: usize) -> bool {
        c.helps(i)
    }
}

/// A search stopped at its node budget: the answer is unknown, never guessed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Exhausted(pub(crate) u64);

fn run<O: Objective>(c: &mut Ctx, o: &mut O, budget: u64) -> Result<(), Exhausted> {
    c.budget = budget;
    dfs(c, 0, o);
    if c.nodes > c.budget {
        return Err(Exhausted(c.nodes));
    }
    Ok(())
}

fn dfs<O: Objective>(c: &mut Ctx, pos: usize, o: &mut O) {
    c.nodes += 1;
    o.visit(c);
    if pos == c.ops.len() || c.nodes > c.budget || o.prune(c, pos) {
        return;
    }
    if o.may_include(c, pos) {
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
/// In weighted units (`p` per unit of stake, `q` per unit of profit): `p·t_s ≥ q·Π` excludes `s`.
fn candidates(g: &Graph, removed: &[bool], from: Vec<usize>, p: U256, q: U256) -> Vec<usize> {
    let mut svcs = from;
    loop {
        let total = svcs
            .iter()
            .fold(U256::ZERO, |a, s| a.saturating_add(g.services[*s].profit));
        let keep: Vec<usize> = svcs
            .iter()
            .copied()
            .filter(|s| p.saturating_mul(g.threshold_stake(*s, removed)) < q.saturating_mul(total))
            .collect();
        if keep.len() == svcs.len() {
            return svcs;
        }
        svcs = keep;
    }
}

/// Maximises `q·π(Sat(B)) − p·σ(B)` (strictly positive): `p = q = 1` is the best attack; other
/// weights are a Dinkelbach step of the γ-slack ratio.
struct MaxProfit {
    p: U256,
    q: U256,
    best: U256,
    found: Option<Coalition>,
}

impl Objective for MaxProfit {
    fn prune(&self, c: &mut Ctx, pos: usize) -> bool {
        let (p, q) = (self.p, self.q);
        let cost = p.saturating_mul(c.sum_inc);
        let with_more = match c.min_deficit() {
            Some(d) => q.saturating_mul(c.pi_alive).saturating_sub(p.saturating_mul(d)),
            None => U256::ZERO,
        };
        let sat = q.saturating_mul(c.pi_sat);
        if sat.max(with_more).saturating_sub(cost) <= self.best {
            return true;
        }
        let split = sat.saturating_add(c.split_bound(pos, p, q));
        split.saturating_sub(cost) <= self.best
    }
    fn visit(&mut self, c: &Ctx) {
        let (gain, cost) = (self.q.saturating_mul(c.pi_sat), self.p.saturating_mul(c.sum_inc));
        if gain > cost && gain - cost > self.best {
            self.best = gain - cost;
            self.found = Some(c.coalition());
        }
    }
}

/// The most profitable attack on the graph without `removed`, thresholds against the remaining
/// stake; the min-cut closure when every threshold is 100 %.
pub(crate) fn best_attack(g: &Graph, removed: &[bool], budget: u64) -> Result<Option<Attack>, Exhausted> {
    let svcs = candidates(g, removed, (0..g.services.len()).collect(), U256::ONE, U256::ONE);
    if svcs.is_empty() {
        return Ok(None);
    }
    let wad = stake_math::WAD;
    let found = if svcs.iter().all(|s| g.services[*s].threshold_wad == wad) {
        crate::flow::max_closure(g, removed, &svcs)
    } else {
        let mut c = Ctx::new(g, removed, svcs);
        let mut o = MaxProfit {
            p: U256::ONE,
            q: U256::ONE,
            best: U256::ZERO,
            found: None,
        };
        run(&mut c, &mut o, budget)?;
        o.found
    };
    let Some(found) = found else {
        return Ok(None);
    };
    let profit = found
        .services
        .iter()
        .fold(U256::ZERO, |a, s| a.saturating_add(g.services[*s].profit))
        .saturating_sub(g.stake_of(&found.operators));
    Ok((profit > U256::ZERO).then_some(Attack {
        profit,
        coalition: found,
    }))
}

struct MaxStake {
    best: Option<U256>,
    found: Option<Coalition>,
}

impl Objective for MaxStake {
    fn prune(&self, c: &mut Ctx, _pos: usize) -> bool {
        if c.pi_alive == U256::ZERO {
            return true;
        }
        let cap = (c.sum_inc.saturating_add(c.rem_total)).min(c.pi_alive - U256::ONE);
        self.best.is_some_and(|b| cap <= b) || cap < c.sum_inc
    }
    fn visit(&mut self, c: &Ctx) {
        // Only operators securing a corrupted service can be slashed for it: B ⊆ N(A).
        let within = (0..c.ops.len())
            .filter(|i| c.chosen[*i])
            .all(|i| c.op_svcs[i].iter().any(|s| c.sat[*s]));
        if c.pi_sat > c.sum_inc && self.best.is_none_or(|b| c.sum_inc > b) && within {
            self.best = Some(c.sum_inc);
            self.found = Some(c.coalition());
        }
    }
    fn may_include(&self, c: &Ctx, i: usize) -> bool {
        c.op_svcs[i].iter().any(|s| c.alive[*s])
    }
}

/// The attack losing the most stake on the graph without `removed`: any operators securing the
/// corrupted services may join `B` while the coalition still profits.
pub(crate) fn max_attack_stake(g: &Graph, removed: &[bool], budget: u64) -> Result<Option<Coalition>, Exhausted> {
    let svcs = candidates(g, removed, (0..g.services.len()).collect(), U256::ONE, U256::ONE);
    if svcs.is_empty() {
        return Ok(None);
    }
    let mut c = Ctx::new(g, removed, svcs);
    let mut o = MaxStake {
        best: None,
        found: None,
    };
    run(&mut c, &mut o, budget)?;
    Ok(o.found)
}

/// `min_B σ(B)/π(Sat(B))` over services with `π > 0` — γ-slack + 1 — by Dinkelbach's method:
/// from the ratio `σ*/π*` of a known `B`, find the `B` maximising `σ*·π(Sat(B)) − π*·σ(B)`; if it
/// is positive its ratio is smaller, so repeat from it; if no `B` is, `σ*/π*` is the minimum. Each
/// step is the exact best-attack search with weights, so the answer is exact.
pub(crate) fn min_ratio(g: &Graph, removed: &[bool], budget: u64) -> Result<Option<GammaSlack>, Exhausted> {
    let positive: Vec<usize> = (0..g.services.len())
        .filter(|s| g.services[*s].profit > U256::ZERO)
        .collect();
    if positive.is_empty() {
        return Ok(None);
    }
    // Start from every operator securing them: it corrupts every one.
    let start = Ctx::new(g, removed, positive.clone());
    let mut operators = start.ops.clone();
    operators.sort_unstable();
    let mut best = GammaSlack {
        cost: g.stake_of(&operators),
        profit: start.pi_alive,
        coalition: Coalition {
            services: positive.clone(),
            operators,
        },
    };
    let mut spent = 0u64;
    loop {
        // r = σ*/π*: maximise σ*·π(Sat(B)) − π*·σ(B), positive iff σ(B)/π(Sat(B)) < r.
        let (p, q) = (best.profit, best.cost);
        let svcs = candidates(g, removed, positive.clone(), p, q);
        if svcs.is_empty() {
            return Ok(Some(best));
        }
        let mut c = Ctx::new(g, removed, svcs);
        let mut o = MaxProfit {
            p,
            q,
            best: U256::ZERO,
            found: None,
        };
        let left = budget.saturating_sub(spent);
        let r = run(&mut c, &mut o, left);
        spent = spent.saturating_add(c.nodes);
        r.map_err(|_| Exhausted(spent))?;
        let Some(found) = o.found else {
            return Ok(Some(best));
        };
        let cost = g.stake_of(&found.operators);
        let profit = found
            .services
            .iter()
            .fold(U256::ZERO, |a, s| a.saturating_add(g.services[*s].profit));
        // Strictly smaller ratio, or the search is done.
        if big(cost) * big(best.profit) >= big(best.cost) * big(profit) {
            return Ok(Some(best));
        }
        best = GammaSlack {
            cost,
            profit,
            coalition: found,
        };
    }
}

struct MinCover {
    best: U256,
}

impl Objective for MinCover {
    fn prune(&self, c: &mut Ctx, _pos: usize) -> bool {
        c.sum_inc >= self.best || !c.alive[0] || c.sat[0]
    }
    fn visit(&mut self, c: &Ctx) {
        if c.sat[0] && c.sum_inc < self.best {
            self.best = c.sum_inc;
        }
    }
}

/// Cost of corruption of one service: the cheapest `σ(B)` meeting its threshold alone.
pub(crate) fn cheapest_cover(g: &Graph, s: usize, removed: &[bool], budget: u64) -> Result<U256, Exhausted> {
    let mut c = Ctx::new(g, removed, vec![s]);
    let mut o = MinCover { best: c.rem_total };
    run(&mut c, &mut o, budget)?;
    Ok(o.best)
}
