//! The reputation formula: a pure function of a provider's indexed history and the reference hour.
//! Documented, with worked examples, in `docs/reputation.md`; the tests below are those examples.
//!
//! Every input is chain data: outcome counts per UTC day and heartbeat-covered seconds per hour. The
//! reference time `as_of` is the block time of the newest indexed slot, truncated to the hour, so two
//! indexers at the same slot compute the same scores whatever their batch boundaries were.

/// Recent events weigh more: an event's weight halves every this many days.
pub const HALF_LIFE_DAYS: f64 = 30.0;
/// Days of history read (weights beyond it are below 2^-12).
pub const HISTORY_DAYS: i64 = 365;
/// The Wilson bound's z (95% one-sided lower bound on a two-sided 95% interval).
pub const WILSON_Z: f64 = 1.96;
/// A provider reaches full tenure credit after this many days on the network.
pub const FULL_TENURE_DAYS: f64 = 30.0;
/// Each (decayed) fraud halves the score.
pub const FRAUD_FACTOR: f64 = 0.5;
/// Each (decayed) other slash (no-show, abandon) multiplies the score by this.
pub const SLASH_FACTOR: f64 = 0.8;

/// Weights of the components; they sum to one.
pub const W_COMPLETION: f64 = 0.40;
pub const W_VERIFICATION: f64 = 0.25;
pub const W_UPTIME: f64 = 0.25;
pub const W_TENURE: f64 = 0.10;
/// What a component with no history yet counts as.
pub const NEUTRAL: f64 = 0.5;

pub const DAY: i64 = 86_400;
pub const HOUR: i64 = 3_600;

/// One provider's outcomes on one UTC day (`day` = unix seconds / 86,400).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DayOutcomes {
    pub day: i64,
    pub completed: i64,
    pub failed: i64,
    pub verified_pass: i64,
    pub verified_fail: i64,
    pub no_shows: i64,
    pub abandons: i64,
    pub frauds: i64,
    pub slashes: i64,
}

/// Everything the score is computed from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Inputs {
    /// The reference hour (unix seconds, a multiple of 3,600).
    pub as_of: i64,
    pub registered_at: i64,
    /// Days within [`HISTORY_DAYS`] of `as_of`.
    pub days: Vec<DayOutcomes>,
    /// Heartbeat-covered seconds in the complete hours of [`uptime_window`] for 7 and 30 days.
    pub online_7d: i64,
    pub online_30d: i64,
}

/// The score and its components, as stored and served. Rates are basis points, decayed counts
/// thousandths.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Reputation {
    pub as_of: i64,
    pub score_bps: i64,
    pub completed_milli: i64,
    pub failed_milli: i64,
    /// Wilson lower bound of the decayed completion rate; `None` before the first settled job.
    pub completion_bps: Option<i64>,
    pub verified_pass_milli: i64,
    pub verified_fail_milli: i64,
    /// Laplace-smoothed verification pass rate: (pass + 1) / (pass + fail + 2).
    pub verification_bps: i64,
    /// Heartbeat-covered share of the complete hours since registration, over 7 and 30 days;
    /// `None` before the first complete hour.
    pub uptime_7d_bps: Option<i64>,
    pub uptime_30d_bps: Option<i64>,
    pub tenure_days: i64,
    /// Undecayed totals, for display.
    pub no_shows: i64,
    pub abandons: i64,
    pub frauds: i64,
    pub slashes: i64,
    /// The multiplier frauds and slashes apply.
    pub penalty_bps: i64,
}

/// The hour containing `t`.
pub fn hour_of(t: i64) -> i64 {
    t.div_euclid(HOUR) * HOUR
}

/// The complete hours an uptime window over `days` days covers: from the later of `as_of - days`
/// and the first whole hour after registration, to `as_of`. Returns `(start, seconds)`.
pub fn uptime_window(as_of: i64, registered_at: i64, days: i64) -> (i64, i64) {
    let first_whole_hour = hour_of(registered_at + HOUR - 1);
    let start = (as_of - days * DAY).max(first_whole_hour);
    (start, (as_of - start).max(0))
}

/// The Wilson score interval's lower bound for `successes` of `n` (which may be fractional).
pub fn wilson_lower_bound(successes: f64, n: f64) -> f64 {
    if n <= 0.0 {
        return 0.0;
    }
    let z2 = WILSON_Z * WILSON_Z;
    let p = successes / n;
    let centre = p + z2 / (2.0 * n);
    let spread = WILSON_Z * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    ((centre - spread) / (1.0 + z2 / n)).clamp(0.0, 1.0)
}

fn bps(x: f64) -> i64 {
    (x * 10_000.0).round() as i64
}

fn milli(x: f64) -> i64 {
    (x * 1_000.0).round() as i64
}

/// The weight of an event on `day` seen from `as_of`: 2^(−age in whole days / half-life).
pub fn weight(as_of: i64, day: i64) -> f64 {
    let age = (as_of.div_euclid(DAY) - day).max(0);
    (-(age as f64) / HALF_LIFE_DAYS).exp2()
}

pub fn compute(inputs: &Inputs) -> Reputation {
    let mut completed = 0.0;
    let mut failed = 0.0;
    let mut pass = 0.0;
    let mut fail = 0.0;
    let mut frauds = 0.0;
    let mut other_slashes = 0.0;
    let mut totals = DayOutcomes::default();
    for d in &inputs.days {
        let w = weight(inputs.as_of, d.day);
        completed += w * d.completed as f64;
        failed += w * d.failed as f64;
        pass += w * d.verified_pass as f64;
        fail += w * d.verified_fail as f64;
        frauds += w * d.frauds as f64;
        other_slashes += w * (d.slashes - d.frauds).max(0) as f64;
        totals.no_shows += d.no_shows;
        totals.abandons += d.abandons;
        totals.frauds += d.frauds;
        totals.slashes += d.slashes;
    }
    let settled = completed + failed;
    let completion = (settled > 0.0).then(|| wilson_lower_bound(completed, settled));
    let verification = (pass + 1.0) / (pass + fail + 2.0);
    let uptime = |online: i64, days: i64| {
        let (_, seconds) = uptime_window(inputs.as_of, inputs.registered_at, days);
        (seconds > 0).then(|| (online as f64 / seconds as f64).clamp(0.0, 1.0))
    };
    let uptime_7d = uptime(inputs.online_7d, 7);
    let uptime_30d = uptime(inputs.online_30d, 30);
    let age = (inputs.as_of - inputs.registered_at).max(0);
    let tenure = (age as f64 / (FULL_TENURE_DAYS * DAY as f64)).min(1.0);
    let penalty = FRAUD_FACTOR.powf(frauds) * SLASH_FACTOR.powf(other_slashes);
    let base = W_COMPLETION * completion.unwrap_or(NEUTRAL)
        + W_VERIFICATION * verification
        + W_UPTIME * uptime_7d.unwrap_or(NEUTRAL)
        + W_TENURE * tenure;
    Reputation {
        as_of: inputs.as_of,
        score_bps: bps(base * penalty),
        completed_milli: milli(completed),
        failed_milli: milli(failed),
        completion_bps: completion.map(bps),
        verified_pass_milli: milli(pass),
        verified_fail_milli: milli(fail),
        verification_bps: bps(verification),
        uptime_7d_bps: uptime_7d.map(bps),
        uptime_30d_bps: uptime_30d.map(bps),
        tenure_days: age / DAY,
        no_shows: totals.no_shows,
        abandons: totals.abandons,
        frauds: totals.frauds,
        slashes: totals.slashes,
        penalty_bps: bps(penalty),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-01-01T00:00:00Z, a Thursday.
    const T0: i64 = 1_767_225_600;

    fn day(t: i64) -> i64 {
        t.div_euclid(DAY)
    }

    #[test]
    fn wilson_matches_hand_computed_values() {
        // p = 1, n = 1: (1 + 1.9208 − 1.96·√0.9604) / (1 + 3.8416) = 1 / 4.8416.
        assert_eq!(bps(wilson_lower_bound(1.0, 1.0)), 2065);
        // p = 0.9, n = 10: (0.9 + 0.19208 − 1.96·√(0.009 + 0.009604)) / 1.38416 = 0.824744 / 1.38416.
        assert_eq!(bps(wilson_lower_bound(9.0, 10.0)), 5958);
        // p = 0: the bound is 0 whatever n.
        assert_eq!(wilson_lower_bound(0.0, 5.0), 0.0);
        assert_eq!(wilson_lower_bound(0.0, 0.0), 0.0);
    }

    #[test]
    fn weights_halve_every_thirty_days_and_ignore_the_hour() {
        assert_eq!(weight(T0 + 23 * HOUR, day(T0)), 1.0);
        assert_eq!(weight(T0 + 30 * DAY, day(T0)), 0.5);
        assert_eq!(weight(T0 + 60 * DAY, day(T0)), 0.25);
        // A day after the reference (an event later in the reference's own hour) counts fully.
        assert_eq!(weight(T0, day(T0) + 1), 1.0);
    }

    #[test]
    fn uptime_counts_whole_hours_since_registration() {
        // Registered at 10:20: the window starts at 11:00; at 15:00 it is 4 hours long.
        let registered = T0 + 10 * HOUR + 20 * 60;
        assert_eq!(
            uptime_window(T0 + 15 * HOUR, registered, 7),
            (T0 + 11 * HOUR, 4 * HOUR)
        );
        // Within the first partial hour there is no window yet.
        assert_eq!(uptime_window(T0 + 10 * HOUR, registered, 7).1, 0);
        // Long after registration, the window is the full 7 days.
        assert_eq!(
            uptime_window(T0 + 40 * DAY, registered, 7),
            (T0 + 33 * DAY, 7 * DAY)
        );
    }

    #[test]
    fn a_new_provider_scores_the_neutral_components() {
        let r = compute(&Inputs {
            as_of: T0,
            registered_at: T0,
            ..Inputs::default()
        });
        // 0.40·0.5 + 0.25·(1/2) + 0.25·0.5 + 0.10·0 = 0.45.
        assert_eq!(r.score_bps, 4_500);
        assert_eq!(r.completion_bps, None);
        assert_eq!(r.verification_bps, 5_000);
        assert_eq!(r.uptime_7d_bps, None);
        assert_eq!(r.penalty_bps, 10_000);
    }

    #[test]
    fn a_reliable_provider_scores_every_component() {
        // Registered 40 days ago; 9 jobs completed today and 1 failed today, 3 verified passes,
        // online 126 of the last 168 hours and the whole of the 30-day window except 10%.
        let as_of = T0 + 40 * DAY;
        let r = compute(&Inputs {
            as_of,
            registered_at: T0,
            days: vec![DayOutcomes {
                day: day(as_of),
                completed: 9,
                failed: 1,
                verified_pass: 3,
                ..DayOutcomes::default()
            }],
            online_7d: 126 * HOUR,
            online_30d: 27 * DAY,
        });
        assert_eq!(r.completion_bps, Some(5_958));
        // (3 + 1) / (3 + 0 + 2) = 0.8.
        assert_eq!(r.verification_bps, 8_000);
        assert_eq!(r.uptime_7d_bps, Some(7_500));
        assert_eq!(r.uptime_30d_bps, Some(9_000));
        assert_eq!(r.tenure_days, 40);
        // 0.40·0.595844 + 0.25·0.8 + 0.25·0.75 + 0.10·1 = 0.725838.
        assert_eq!(r.score_bps, 7_258);
    }

    #[test]
    fn old_outcomes_weigh_less() {
        // One failure 60 days ago (weight 0.25) and one completion today (weight 1).
        let as_of = T0 + 60 * DAY;
        let r = compute(&Inputs {
            as_of,
            registered_at: T0,
            days: vec![
                DayOutcomes {
                    day: day(T0),
                    failed: 1,
                    ..DayOutcomes::default()
                },
                DayOutcomes {
                    day: day(as_of),
                    completed: 1,
                    ..DayOutcomes::default()
                },
            ],
            ..Inputs::default()
        });
        assert_eq!(r.completed_milli, 1_000);
        assert_eq!(r.failed_milli, 250);
        assert_eq!(r.completion_bps, Some(bps(wilson_lower_bound(1.0, 1.25))));
    }

    #[test]
    fn fraud_halves_and_other_slashes_cut_a_fifth() {
        let as_of = T0 + 10 * DAY;
        let outcomes = |frauds, slashes| Inputs {
            as_of,
            registered_at: T0,
            days: vec![DayOutcomes {
                day: day(as_of),
                completed: 2,
                failed: frauds,
                verified_fail: frauds,
                frauds,
                slashes,
                ..DayOutcomes::default()
            }],
            ..Inputs::default()
        };
        let fraud = compute(&outcomes(1, 1));
        assert_eq!(fraud.penalty_bps, 5_000);
        assert_eq!(fraud.frauds, 1);
        let no_show = compute(&outcomes(0, 1));
        assert_eq!(no_show.penalty_bps, 8_000);
        let clean = compute(&outcomes(0, 0));
        assert!(fraud.score_bps < no_show.score_bps && no_show.score_bps < clean.score_bps);
        // A fraud 30 days old weighs half: penalty 0.5^0.5.
        let old = compute(&Inputs {
            as_of: as_of + 30 * DAY,
            ..outcomes(1, 1)
        });
        assert_eq!(old.penalty_bps, 7_071);
    }
}
