//! Lease Blob and Lease Container: one state machine for both, over the stored lease.
//!
//! Nothing runs when a lease expires or a break period ends: the stored lease keeps its end
//! time and `Lease::at` says what it means now, so expiry holds across restarts.

use rusqlite::params;
use time::{Duration, OffsetDateTime};

use crate::blobs::{find_blob, lease_state_to_i64, upsert_blob};
use crate::codec::time_to_i64;
use crate::conditions::check;
use crate::containers::load_container;
use crate::tags::check_tags;
use crate::{
    Access, Conditions, Lease, LeaseAction, LeaseOutcome, LeaseState, Refusal, Result, Store,
    StoreError, StoredLeaseState,
};

fn refuse<T>(r: Refusal) -> Result<T> {
    Err(StoreError::Refused(r))
}

fn same_id(lease: &Lease, id: &str) -> bool {
    lease
        .id
        .as_deref()
        .is_some_and(|l| l.eq_ignore_ascii_case(id))
}

fn held(id: String, duration: i64, now: OffsetDateTime) -> Lease {
    Lease {
        state: StoredLeaseState::Leased,
        id: Some(id),
        duration: Some(duration),
        until: (duration >= 0).then(|| now + Duration::seconds(duration)),
    }
}

/// The lease after `action` at `now`, and the seconds a break leaves; or Azure's refusal. The
/// table is the REST reference's "Lease Blob" outcomes by state.
pub(crate) fn transition(
    lease: &Lease,
    action: LeaseAction,
    now: OffsetDateTime,
) -> Result<(Lease, Option<i64>)> {
    use LeaseState::*;
    let state = lease.at(now);
    match action {
        LeaseAction::Acquire { duration, proposed } => match state {
            Available | Expired | Broken => Ok((held(proposed, duration, now), None)),
            // Acquiring the lease one holds again takes the new duration.
            Leased if same_id(lease, &proposed) => Ok((held(proposed, duration, now), None)),
            Leased => refuse(Refusal::LeaseAlreadyPresent),
            Breaking if same_id(lease, &proposed) => {
                refuse(Refusal::LeaseIsBreakingAndCannotBeAcquired)
            }
            Breaking => refuse(Refusal::LeaseAlreadyPresent),
        },
        LeaseAction::Renew { id } => match state {
            _ if !same_id(lease, &id) => refuse(Refusal::LeaseIdMismatchWithLeaseOperation),
            Available => refuse(Refusal::LeaseIdMismatchWithLeaseOperation),
            // An expired lease nobody took since can be renewed by its holder.
            Leased | Expired => {
                let duration = lease.duration.unwrap_or(-1);
                Ok((held(id, duration, now), None))
            }
            Breaking | Broken => refuse(Refusal::LeaseIsBrokenAndCannotBeRenewed),
        },
        LeaseAction::Change { id, proposed } => match state {
            Leased if same_id(lease, &id) || same_id(lease, &proposed) => {
                let mut next = lease.clone();
                next.id = Some(proposed);
                Ok((next, None))
            }
            Leased => refuse(Refusal::LeaseIdMismatchWithLeaseOperation),
            Breaking if same_id(lease, &id) => refuse(Refusal::LeaseIsBreakingAndCannotBeChanged),
            Breaking => refuse(Refusal::LeaseIdMismatchWithLeaseOperation),
            Available | Expired | Broken => refuse(Refusal::LeaseNotPresentWithLeaseOperation),
        },
        LeaseAction::Release { id } => match state {
            Available => refuse(Refusal::LeaseIdMismatchWithLeaseOperation),
            _ if !same_id(lease, &id) => refuse(Refusal::LeaseIdMismatchWithLeaseOperation),
            _ => Ok((Lease::default(), None)),
        },
        LeaseAction::Break { period } => {
            let broken = |lease: &Lease| Lease {
                state: StoredLeaseState::Broken,
                id: lease.id.clone(),
                duration: None,
                until: None,
            };
            match state {
                Available => refuse(Refusal::LeaseNotPresentWithLeaseOperation),
                Expired | Broken => Ok((broken(lease), Some(0))),
                Leased | Breaking => {
                    // What is left: of a fixed lease, its time; of a break, the break; an
                    // infinite lease breaks at once unless a period is given.
                    let left = lease
                        .until
                        .map(|u| ((u - now).whole_milliseconds().max(0) as i64 + 999) / 1000);
                    let seconds = match (period, left) {
                        (Some(p), Some(l)) => p.min(l),
                        (Some(p), None) => p,
                        (None, Some(l)) => l,
                        (None, None) => 0,
                    };
                    if seconds == 0 {
                        return Ok((broken(lease), Some(0)));
                    }
                    let next = Lease {
                        state: StoredLeaseState::Breaking,
                        id: lease.id.clone(),
                        duration: None,
                        until: Some(now + Duration::seconds(seconds)),
                    };
                    Ok((next, Some(seconds)))
                }
            }
        }
    }
}

fn outcome(
    lease: &Lease,
    break_seconds: Option<i64>,
    etag: String,
    last_modified: OffsetDateTime,
) -> LeaseOutcome {
    LeaseOutcome {
        etag,
        last_modified,
        id: match break_seconds {
            None => lease.id.clone(),
            Some(_) => None,
        },
        break_seconds,
    }
}

impl Store {
    /// Lease Blob. The blob's ETag and Last-Modified do not change: a lease is not a write of
    /// the blob.
    pub fn lease_blob(
        &self,
        account: &str,
        container: &str,
        blob: &str,
        action: LeaseAction,
        cond: &Conditions,
    ) -> Result<LeaseOutcome> {
        let (account, container, blob, cond) = (
            account.to_owned(),
            container.to_owned(),
            blob.to_owned(),
            cond.clone(),
        );
        self.core().writer.submit(Vec::new(), move |c| {
            let cont = load_container(c, &account, &container)?;
            let row = find_blob(c, cont.id, &blob)?
                .filter(|b| b.committed)
                .ok_or(StoreError::BlobNotFound)?;
            check(
                &cond,
                Some((&row.props.etag, row.props.last_modified)),
                Access::Write,
            )?;
            check_tags(c, Some(row.id), &cond)?;
            let now = OffsetDateTime::now_utc();
            let (lease, break_seconds) = transition(&row.props.lease, action, now)?;
            let mut props = row.props;
            props.lease = lease;
            upsert_blob(c, cont.id, Some(row.id), true, &props)?;
            Ok(outcome(
                &props.lease,
                break_seconds,
                props.etag,
                props.last_modified,
            ))
        })
    }

    /// Lease Container; as for blobs, the container's ETag and Last-Modified stay.
    pub fn lease_container(
        &self,
        account: &str,
        container: &str,
        action: LeaseAction,
        cond: &Conditions,
    ) -> Result<LeaseOutcome> {
        let (account, container, cond) = (account.to_owned(), container.to_owned(), cond.clone());
        self.core().writer.submit(Vec::new(), move |c| {
            let row = load_container(c, &account, &container)?;
            check(
                &cond,
                Some((&row.props.etag, row.props.last_modified)),
                Access::Write,
            )?;
            let now = OffsetDateTime::now_utc();
            let (lease, break_seconds) = transition(&row.props.lease, action, now)?;
            c.prepare_cached(
                "UPDATE containers SET lease_state = ?2, lease_id = ?3, lease_duration = ?4,
                 lease_until = ?5 WHERE id = ?1",
            )?
            .execute(params![
                row.id,
                lease_state_to_i64(lease.state),
                lease.id,
                lease.duration,
                lease.until.map(time_to_i64)
            ])?;
            Ok(outcome(
                &lease,
                break_seconds,
                row.props.etag,
                row.props.last_modified,
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const T0: OffsetDateTime = datetime!(2026-01-01 00:00:00 UTC);
    const A: &str = "a0000000-0000-0000-0000-000000000001";
    const B: &str = "b0000000-0000-0000-0000-000000000002";

    fn acquire(duration: i64, id: &str) -> LeaseAction {
        LeaseAction::Acquire {
            duration,
            proposed: id.into(),
        }
    }

    fn code(r: Result<(Lease, Option<i64>)>) -> Option<Refusal> {
        match r {
            Ok(_) => None,
            Err(StoreError::Refused(r)) => Some(r),
            Err(e) => panic!("{e}"),
        }
    }

    fn leased(duration: i64) -> Lease {
        transition(&Lease::default(), acquire(duration, A), T0)
            .unwrap()
            .0
    }

    #[test]
    fn a_fixed_lease_expires_without_a_timer_and_is_free_again() {
        let l = leased(15);
        assert_eq!(l.at(T0 + Duration::seconds(14)), LeaseState::Leased);
        assert_eq!(l.at(T0 + Duration::seconds(15)), LeaseState::Expired);
        let later = T0 + Duration::seconds(16);
        let (l2, _) = transition(&l, acquire(-1, B), later).unwrap();
        assert_eq!(l2.at(later + Duration::days(400)), LeaseState::Leased);
        assert_eq!(l2.id.as_deref(), Some(B));
    }

    #[test]
    fn acquire_renew_change_release_follow_azure() {
        let l = leased(60);
        assert_eq!(
            code(transition(&l, acquire(60, B), T0)),
            Some(Refusal::LeaseAlreadyPresent)
        );
        assert_eq!(code(transition(&l, acquire(30, A), T0)), None);
        let renew = |id: &str| LeaseAction::Renew { id: id.into() };
        assert_eq!(
            code(transition(&l, renew(B), T0)),
            Some(Refusal::LeaseIdMismatchWithLeaseOperation)
        );
        // The holder renews an expired lease that nobody took.
        let (r, _) = transition(&l, renew(A), T0 + Duration::seconds(90)).unwrap();
        assert_eq!(r.at(T0 + Duration::seconds(120)), LeaseState::Leased);
        let change = LeaseAction::Change {
            id: A.into(),
            proposed: B.into(),
        };
        let (c, _) = transition(&l, change, T0).unwrap();
        assert_eq!(c.id.as_deref(), Some(B));
        assert_eq!(
            code(transition(
                &Lease::default(),
                LeaseAction::Release { id: A.into() },
                T0
            )),
            Some(Refusal::LeaseIdMismatchWithLeaseOperation)
        );
        let (free, _) = transition(&l, LeaseAction::Release { id: A.into() }, T0).unwrap();
        assert_eq!(free.at(T0), LeaseState::Available);
    }

    #[test]
    fn breaks_take_the_shorter_of_the_period_and_what_is_left() {
        // An infinite lease breaks at once by default.
        let (b, left) = transition(&leased(-1), LeaseAction::Break { period: None }, T0).unwrap();
        assert_eq!((b.at(T0), left), (LeaseState::Broken, Some(0)));
        // A fixed one runs out its time, or the period if shorter.
        let (b, left) = transition(&leased(60), LeaseAction::Break { period: None }, T0).unwrap();
        assert_eq!((b.at(T0), left), (LeaseState::Breaking, Some(60)));
        let (b, left) =
            transition(&leased(60), LeaseAction::Break { period: Some(10) }, T0).unwrap();
        assert_eq!(left, Some(10));
        assert_eq!(b.at(T0 + Duration::seconds(10)), LeaseState::Broken);
        assert_eq!(
            code(transition(&b, acquire(15, A), T0)),
            Some(Refusal::LeaseIsBreakingAndCannotBeAcquired)
        );
        assert_eq!(
            code(transition(&b, LeaseAction::Renew { id: A.into() }, T0)),
            Some(Refusal::LeaseIsBrokenAndCannotBeRenewed)
        );
        // Once broken, anyone may acquire.
        let after = T0 + Duration::seconds(11);
        assert_eq!(code(transition(&b, acquire(15, B), after)), None);
        assert_eq!(
            code(transition(
                &Lease::default(),
                LeaseAction::Break { period: None },
                T0
            )),
            Some(Refusal::LeaseNotPresentWithLeaseOperation)
        );
    }
}
