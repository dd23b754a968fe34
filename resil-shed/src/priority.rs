//! How much a request matters, after Google SRE's criticality levels.
//!
//! When a service is overloaded it must refuse something; priorities say
//! what. The four levels are SRE's: a `CriticalPlus` request is never shed
//! while a less critical one is admitted in its place, and each level can be
//! guaranteed a share of the limit against the levels below it.

/// A request's criticality, most critical first.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum Priority {
    /// Serving it matters more than anything: user-visible, no retry possible.
    CriticalPlus = 0,
    /// The default for production traffic.
    #[default]
    Critical = 1,
    /// Work that can be retried later (batch that someone waits on).
    SheddablePlus = 2,
    /// Work that can be dropped (speculative, best effort).
    Sheddable = 3,
}

impl Priority {
    /// Every level, most critical first.
    pub const ALL: [Priority; 4] = [
        Priority::CriticalPlus,
        Priority::Critical,
        Priority::SheddablePlus,
        Priority::Sheddable,
    ];

    /// The level's index: 0 for the most critical.
    pub const fn index(self) -> usize {
        self as usize
    }

    /// As reported in events: 0 for the most critical.
    pub const fn level(self) -> u8 {
        self as u8
    }
}
