//! Counters and histograms counted per thread and summed on scrape, for what every review
//! bumps: shared atomics (and prometheus-client's histogram mutex) would bounce their cache
//! lines between the worker threads on every review. Their label sets are closed
//! ([`Indexed`]), so a count is a slot in a table, found without hashing or locking.

use std::marker::PhantomData;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric, NoLabelSet};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::ConstCounter;

/// A label set whose every combination has an index below `COUNT`.
pub trait Indexed: EncodeLabelSet + std::fmt::Debug + Send + Sync + 'static {
    /// How many combinations there are.
    const COUNT: usize;
    /// This combination's index.
    fn index(&self) -> usize;
    /// The combination at an index.
    fn at(index: usize) -> Self;
}

/// A label set of [`LabelValue`](crate::labels::LabelValue)s, with its [`Indexed`] impl.
macro_rules! indexed_labels {
    ($(#[$doc:meta])* $name:ident { $($field:ident: $ty:ty),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, prometheus_client::encoding::EncodeLabelSet)]
        pub struct $name {
            $(
                #[allow(missing_docs)]
                pub $field: $ty,
            )+
        }

        impl $crate::metrics::sharded::Indexed for $name {
            const COUNT: usize = 1 $(* <$ty as $crate::labels::LabelValue>::COUNT)+;

            fn index(&self) -> usize {
                let mut index = 0;
                $(
                    index = index * <$ty as $crate::labels::LabelValue>::COUNT
                        + $crate::labels::LabelValue::index(self.$field);
                )+
                index
            }

            fn at(index: usize) -> Self {
                let mut through = 1;
                $(
                    through *= <$ty as $crate::labels::LabelValue>::COUNT;
                    let $field = <$ty as $crate::labels::LabelValue>::at(
                        (index / (Self::COUNT / through))
                            % <$ty as $crate::labels::LabelValue>::COUNT,
                    );
                )+
                Self { $($field),+ }
            }
        }
    };
}
pub(crate) use indexed_labels;

/// Shards: a power of two, at least the number of worker threads one expects.
const SHARDS: usize = 8;

/// This thread's shard, handed out round-robin on first use.
fn shard_index() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    thread_local! {
        static INDEX: usize = NEXT.fetch_add(1, Ordering::Relaxed) % SHARDS;
    }
    INDEX.with(|i| *i)
}

/// One thread's slots, on cache lines of its own.
#[repr(align(128))]
#[derive(Debug)]
struct Shard(Box<[AtomicU64]>);

impl Shard {
    fn new(slots: usize) -> Self {
        Self((0..slots).map(|_| AtomicU64::new(0)).collect())
    }

    fn add(&self, slot: usize, value: u64) {
        if let Some(counter) = self.0.get(slot) {
            counter.fetch_add(value, Ordering::Relaxed);
        }
    }
}

/// `slots` counts per shard, summed across shards.
#[derive(Debug)]
struct Table {
    shards: Box<[Shard]>,
}

impl Table {
    fn new(slots: usize) -> Self {
        Self {
            shards: (0..SHARDS).map(|_| Shard::new(slots)).collect(),
        }
    }

    fn mine(&self) -> Option<&Shard> {
        self.shards.get(shard_index())
    }

    fn sum(&self, slot: usize) -> u64 {
        self.shards
            .iter()
            .filter_map(|shard| shard.0.get(slot))
            .map(|a| a.load(Ordering::Relaxed))
            .fold(0u64, u64::wrapping_add)
    }
}

/// A counter family over a closed label set.
#[derive(Debug)]
pub struct Counters<L> {
    name: &'static str,
    help: &'static str,
    table: Table,
    labels: PhantomData<fn() -> L>,
}

impl<L: Indexed> Counters<L> {
    /// A family named `name` (the registry adds its prefix and `_total`).
    pub fn new(name: &'static str, help: &'static str) -> Self {
        Self {
            name,
            help,
            table: Table::new(L::COUNT),
            labels: PhantomData,
        }
    }

    /// Adds one to the counter of these labels.
    pub fn inc(&self, labels: &L) {
        if let Some(shard) = self.table.mine() {
            shard.add(labels.index(), 1);
        }
    }
}

impl<L: Indexed> Collector for Counters<L> {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let mut family =
            encoder.encode_descriptor(self.name, self.help, None, MetricType::Counter)?;
        for slot in 0..L::COUNT {
            let count = self.table.sum(slot);
            if count > 0 {
                ConstCounter::new(count).encode(family.encode_family(&L::at(slot))?)?;
            }
        }
        Ok(())
    }
}

/// A histogram family of durations over a closed label set, in seconds.
#[derive(Debug)]
pub struct Histograms<L> {
    name: &'static str,
    help: &'static str,
    bounds: &'static [f64],
    bounds_ns: Box<[u64]>,
    /// Per label set: bucket counts (not cumulative, `+Inf` last), the count, the sum in ns.
    table: Table,
    labels: PhantomData<fn() -> L>,
}

impl<L: Indexed> Histograms<L> {
    /// A family named `name` with these bucket bounds, in seconds.
    pub fn new(name: &'static str, help: &'static str, bounds: &'static [f64]) -> Self {
        Self {
            name,
            help,
            bounds,
            bounds_ns: bounds.iter().map(|s| (s * 1e9) as u64).collect(),
            table: Table::new(L::COUNT * Self::width(bounds)),
            labels: PhantomData,
        }
    }

    /// Slots per label set: the buckets, `+Inf`, the count and the sum.
    fn width(bounds: &[f64]) -> usize {
        bounds.len() + 3
    }

    /// Records one duration.
    pub fn observe(&self, labels: &L, duration: Duration) {
        let Some(shard) = self.table.mine() else {
            return;
        };
        let ns = u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX);
        let bucket = self
            .bounds_ns
            .iter()
            .position(|bound| ns <= *bound)
            .unwrap_or(self.bounds.len());
        let base = labels.index() * Self::width(self.bounds);
        shard.add(base + bucket, 1);
        shard.add(base + self.bounds.len() + 1, 1);
        shard.add(base + self.bounds.len() + 2, ns);
    }
}

impl<L: Indexed> Collector for Histograms<L> {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let mut family =
            encoder.encode_descriptor(self.name, self.help, None, MetricType::Histogram)?;
        let width = Self::width(self.bounds);
        for labels in 0..L::COUNT {
            let slot = |i: usize| self.table.sum(labels * width + i);
            let buckets: Vec<(f64, u64)> = self
                .bounds
                .iter()
                .copied()
                .chain([f64::INFINITY])
                .enumerate()
                .map(|(i, bound)| (bound, slot(i)))
                .collect();
            let count = slot(self.bounds.len() + 1);
            let sum = slot(self.bounds.len() + 2) as f64 / 1e9;
            family
                .encode_family(&L::at(labels))?
                .encode_histogram::<NoLabelSet>(sum, count, &buckets, None)?;
        }
        Ok(())
    }
}
