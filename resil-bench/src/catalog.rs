//! The rows of the table, and the one macro that turns the list in
//! `lib.rs` into the catalogue, the criterion registrations and the
//! instruction-count functions.

use crate::Operation;

/// Who an implementation is, for the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// resil's own implementation: the left-hand column.
    Resil,
    /// A peer crate doing the same work: the best one is the right-hand column.
    Peer,
    /// A floor to compare against (the bare call, one atomic, a clock read);
    /// shown in the full table, never chosen as the best peer.
    Baseline,
}

/// One implementation of a row's operation.
#[derive(Clone, Copy, Debug)]
pub struct Impl {
    /// Its name in benchmark ids (`breaker_rejected/resil`).
    pub name: &'static str,
    /// Its name in the table, with the configuration that matters.
    pub label: &'static str,
    /// Whose it is.
    pub role: Role,
}

/// One row of the table: an operation and who performs it.
#[derive(Clone, Copy, Debug)]
pub struct Row {
    /// The criterion group and instruction-count prefix.
    pub id: &'static str,
    /// What the table says.
    pub title: &'static str,
    /// Threads running the operation on one shared object at once.
    pub threads: u32,
    /// The implementations, resil's first.
    pub impls: &'static [Impl],
}

impl Row {
    /// The benchmark id of `imp` in this row: `row/impl`.
    pub fn id_of(&self, imp: &Impl) -> String {
        format!("{}/{}", self.id, imp.name)
    }
}

/// An operation the instruction-count harness can run.
#[derive(Clone, Copy, Debug)]
pub struct Measured {
    /// `row/impl`, as in [`Row::id_of`].
    pub id: &'static str,
    /// The demangled path of the one function callgrind counts inside
    /// (`--toggle-collect`): the loop over the operation, and nothing else.
    pub function: &'static str,
    /// Builds the operation (not counted), then runs it `n` times inside
    /// [`function`](Self::function).
    pub run: fn(u64),
}

/// Runs an operation `n` times: one of the [`instr`](crate::instr)
/// functions.
pub type Measure<O> = fn(&mut O, u64);

/// What the criterion benchmarks implement to see every operation.
///
/// Each operation comes with its `measure` function, the loop that
/// callgrind counts in: criterion times that same loop, so the two columns
/// of the table describe the same machine code, not two compilations of it
/// that the inliner may have treated differently.
pub trait Visitor {
    /// An operation run by one thread.
    fn single<O: Operation>(&mut self, row: &'static Row, imp: &'static Impl, measure: Measure<O>);

    /// An operation run by two threads at once, each on its own clone of
    /// one `O::new()` (the clones share the breaker, as clones of a
    /// breaker handle do in a server), each in `measure`.
    fn two_threads<O: Operation + Clone + Send>(
        &mut self,
        row: &'static Row,
        imp: &'static Impl,
        measure: Measure<O>,
    );
}

/// A goal from the benchmarks issue, checked in the report.
#[derive(Clone, Copy, Debug)]
pub struct Target {
    /// The row whose resil figure it bounds.
    pub row: &'static str,
    /// At most this many instructions per operation for resil...
    pub max_instructions: f64,
    /// ...counted over the row's baseline (the bare call) rather than from zero.
    pub over_baseline: bool,
    /// The goal as the issue words it.
    pub text: &'static str,
}

/// The instruction-count goals (the "Targets"); the two-thread goal
/// (resil's throughput at least the best peer's) is checked on every
/// two-thread row.
pub const TARGETS: &[Target] = &[
    Target {
        row: "breaker_success_count",
        max_instructions: 40.0,
        over_baseline: false,
        text: "breaker closed success, count window: <= 40 instr",
    },
    Target {
        row: "breaker_success_time",
        max_instructions: 80.0,
        over_baseline: false,
        text: "breaker closed success, time window: <= 80 instr",
    },
    Target {
        row: "breaker_rejected",
        max_instructions: 40.0,
        over_baseline: false,
        text: "breaker rejection when open: <= 40 instr",
    },
    Target {
        row: "retry_blocking",
        max_instructions: 20.0,
        over_baseline: true,
        text: "retry success on the first attempt, blocking: <= 20 instr over the bare call",
    },
    Target {
        row: "delay_jitter",
        max_instructions: 40.0,
        over_baseline: false,
        text: "next backoff delay with jitter: <= 40 instr",
    },
    Target {
        row: "limiter_fixed",
        max_instructions: 40.0,
        over_baseline: false,
        text: "limiter try_acquire + release, fixed limit: <= 40 instr",
    },
];

/// Expands the list of operations (see `lib.rs`) into [`ROWS`](crate::ROWS),
/// [`visit`](crate::visit) and the [`instr`](crate::instr) module.
///
/// Each row is `id "title" { impl "label" Role => Type, ... }`; types are
/// written from the crate root (`crate::breaker::...`) because they are
/// named from inside generated modules.
macro_rules! operations {
    (
        single {
            $( $row:ident $title:literal {
                $( $imp:ident $label:literal $role:ident => $ty:ty ),* $(,)?
            } )*
        }
        two_threads {
            $( $row2:ident $title2:literal {
                $( $imp2:ident $label2:literal $role2:ident => $ty2:ty ),* $(,)?
            } )*
        }
    ) => {
        /// Every row of the table, in order: single-threaded rows, then
        /// two-thread rows.
        pub const ROWS: &[Row] = &[
            $( Row {
                id: stringify!($row),
                title: $title,
                threads: 1,
                impls: &[ $( Impl {
                    name: stringify!($imp),
                    label: $label,
                    role: Role::$role,
                } ),* ],
            }, )*
            $( Row {
                id: stringify!($row2),
                title: $title2,
                threads: 2,
                impls: &[ $( Impl {
                    name: stringify!($imp2),
                    label: $label2,
                    role: Role::$role2,
                } ),* ],
            }, )*
        ];

        /// Shows every operation to `visitor`, in table order, with the
        /// function that runs it `n` times.
        pub fn visit<V: Visitor>(visitor: &mut V) {
            let mut rows = ROWS.iter();
            $(
                let row = rows.next().expect(concat!("a row for ", stringify!($row)));
                let mut impls = row.impls.iter();
                $(
                    let imp = impls.next().expect(stringify!($imp));
                    visitor.single::<$ty>(row, imp, instr::$row::$imp::measure);
                )*
            )*
            $(
                let row = rows.next().expect(concat!("a row for ", stringify!($row2)));
                let mut impls = row.impls.iter();
                $(
                    let imp = impls.next().expect(stringify!($imp2));
                    visitor.two_threads::<$ty2>(row, imp, instr::$row2::$imp2::measure);
                )*
            )*
        }

        /// The measuring loops. For each operation, one `#[inline(never)]`
        /// function, `resil_bench::instr::<row>::<impl>::measure`, that runs
        /// it `n` times and does nothing else. Criterion times it;
        /// callgrind counts inside it only (`--toggle-collect`), at two
        /// values of `n`, and the difference divided by the difference of
        /// `n` is the cost of one operation: the set-up, the call and the
        /// first run's one-off work (lazy statics, thread-locals) cancel
        /// out.
        pub mod instr {
            use crate::Operation as _;

            /// Keeps `id` (each function's own) in the function's code.
            ///
            /// Two operations on the same type (`Success<ResilCount>` and
            /// `Success<ResilTime>` wrap the same `CircuitBreaker`) compile to
            /// the same machine code, and rustc's function merging then
            /// makes one function an alias of the other: callgrind sees one
            /// address under one name, and the other name counts nothing.
            /// A distinct constant per function keeps every body distinct.
            #[inline(always)]
            fn distinct(id: &'static str) {
                core::hint::black_box(id);
            }

            $(
                #[doc = concat!("`", stringify!($row), "`: ", $title)]
                pub mod $row {
                    $(
                        #[doc = concat!("`", stringify!($row), "/", stringify!($imp), "`: ", $label)]
                        pub mod $imp {
                            use super::super::distinct;
                            use crate::Operation as _;

                            /// Runs the operation `n` times: the function callgrind counts in.
                            #[inline(never)]
                            pub fn measure(op: &mut $ty, n: u64) {
                                // Once per call, not per iteration: makes each
                                // function's code unique (see `distinct`).
                                distinct(concat!(stringify!($row), "/", stringify!($imp)));
                                for _ in 0..n {
                                    let _ = core::hint::black_box(op.run());
                                }
                            }
                        }
                    )*
                }
            )*

            // The two-thread rows' loops, one per thread; callgrind does not
            // count them (it runs threads one at a time), criterion times them.
            $(
                #[doc = concat!("`", stringify!($row2), "`: ", $title2)]
                pub mod $row2 {
                    $(
                        #[doc = concat!("`", stringify!($row2), "/", stringify!($imp2), "`: ", $label2)]
                        pub mod $imp2 {
                            use super::super::distinct;
                            use crate::Operation as _;

                            /// Runs the operation `n` times on one of the threads.
                            #[inline(never)]
                            pub fn measure(op: &mut $ty2, n: u64) {
                                distinct(concat!(stringify!($row2), "/", stringify!($imp2)));
                                for _ in 0..n {
                                    let _ = core::hint::black_box(op.run());
                                }
                            }
                        }
                    )*
                }
            )*

            /// Every operation the harness can count, by id.
            pub const MEASURED: &[crate::Measured] = &[
                $( $( crate::Measured {
                    id: concat!(stringify!($row), "/", stringify!($imp)),
                    function: concat!(
                        "resil_bench::instr::", stringify!($row), "::", stringify!($imp), "::measure"
                    ),
                    run: |n| {
                        let mut op = <$ty>::new();
                        $row::$imp::measure(&mut op, n);
                    },
                }, )* )*
            ];
        }
    };
}

pub(crate) use operations;
