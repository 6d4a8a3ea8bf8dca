//! Record types: each domain declares its tables in its own `records.rs` with `table!`,
//! once — document kind, shape and typed columns — and gets from that one declaration the
//! table's spec (`SPEC`, listed in `TABLES`, which the projection, sync, rebuild and the
//! tests read) and one typed constant per field. Writes name fields by those constants
//! (`departments::name.to("Sales")`), so a misspelt field or a number written into a text
//! column does not compile, and `Edit` refuses a field of another table.

use std::marker::PhantomData;

use super::Val;

/// The column types a field can have (the marker of `Field`).
pub mod col {
    /// A text column (`TEXT`): ids, names, dates, JSON.
    #[derive(Debug, Clone, Copy)]
    pub struct Text;
    /// An integer column (`INTEGER`): numbers and flags.
    #[derive(Debug, Clone, Copy)]
    pub struct Int;
}

/// Values that may be written into a column of type `C`. `Val` fits any column: for code
/// that copies a value it already holds typed by the spec (`Change`'s fields).
pub trait Fits<C>: Into<Val> {}
impl Fits<col::Text> for &str {}
impl Fits<col::Text> for String {}
impl Fits<col::Text> for &String {}
impl Fits<col::Text> for Option<String> {}
impl Fits<col::Text> for Option<&str> {}
impl Fits<col::Text> for Option<&String> {}
impl Fits<col::Int> for i64 {}
impl Fits<col::Int> for bool {}
impl Fits<col::Int> for Option<i64> {}
impl Fits<col::Int> for Option<bool> {}
impl<C> Fits<C> for Val {}

/// One field of a record type, of column type `C`.
pub struct Field<C> {
    pub table: &'static str,
    pub name: &'static str,
    col: PhantomData<fn() -> C>,
}

impl<C> Clone for Field<C> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<C> Copy for Field<C> {}

impl<C> Field<C> {
    /// For `table!` only: a field is one of its table's columns because the macro made
    /// both from one declaration.
    pub(crate) const fn new(table: &'static str, name: &'static str) -> Self {
        Self {
            table,
            name,
            col: PhantomData,
        }
    }
    /// This field set to `v`, as an `Edit` takes it.
    pub fn to(self, v: impl Fits<C>) -> Set {
        Set {
            table: self.table,
            name: self.name,
            val: v.into(),
        }
    }
    /// This field emptied (`NULL`).
    pub fn null(self) -> Set {
        self.to(Val::Null)
    }
}

/// A field of one table set to a value: what `Edit` writes. Made only by a `Field` (typed),
/// or by `TableSpec::set` for code generic over tables (checked against the spec's columns).
#[derive(Debug, Clone, PartialEq)]
pub struct Set {
    table: &'static str,
    name: &'static str,
    val: Val,
}

impl Set {
    pub fn table(&self) -> &'static str {
        self.table
    }
    pub fn name(&self) -> &'static str {
        self.name
    }
    pub fn val(&self) -> &Val {
        &self.val
    }
}

impl super::TableSpec {
    /// Field `name` of this table set to `v`; `None` when the table has no such column. For
    /// code that goes over every table (sync tests, the fuzzer); a domain names its fields.
    pub fn set(&'static self, name: &str, v: Val) -> Option<Set> {
        let (name, _) = self.cols.iter().find(|(n, _)| *n == name)?;
        Some(Set {
            table: self.name,
            name,
            val: v,
        })
    }

    /// The four fields every record has, for a record created now by `by` (none for Keel's
    /// own records): created and updated now, not deleted.
    pub fn base(&'static self, now: &str, by: Option<&str>) -> [Set; 4] {
        let set = |name, val| Set {
            table: self.name,
            name,
            val,
        };
        [
            set("created_at", Val::from(now)),
            set("updated_at", Val::from(now)),
            set("created_by", Val::from(by)),
            set("deleted_at", Val::Null),
        ]
    }
}

/// Declares the record types of a domain: for each, a module named after its table with
/// `SPEC` (its `TableSpec`: document kind, shape, the columns in order, then the four every
/// record has) and one `Field` constant per column, those four included.
///
/// ```ignore
/// crate::docs::table! {
///     /// A department.
///     pub mod departments in Workspace as Fields {
///         workspace_id: Text,
///         name: Text,
///         sort_order: Int,
///     }
/// }
/// ```
macro_rules! table {
    ($(
        $(#[$meta:meta])*
        $vis:vis mod $table:ident in $kind:ident as $shape:ident {
            $($field:ident : $col:ident),* $(,)?
        }
    )*) => {$(
        $(#[$meta])*
        #[allow(non_upper_case_globals)]
        $vis mod $table {
            use $crate::docs::record::{col, Field};
            use $crate::docs::{Col, DocKind, Shape, TableSpec};
            /// The table's spec: `TABLES` lists it.
            pub const SPEC: &TableSpec = &TableSpec {
                name: stringify!($table),
                kind: DocKind::$kind,
                shape: Shape::$shape,
                cols: &[
                    $((stringify!($field), Col::$col),)*
                    ("created_at", Col::Text),
                    ("updated_at", Col::Text),
                    ("created_by", Col::Text),
                    ("deleted_at", Col::Text),
                ],
            };
            $(pub const $field: Field<col::$col> = Field::new(stringify!($table), stringify!($field));)*
            pub const created_at: Field<col::Text> = Field::new(stringify!($table), "created_at");
            pub const updated_at: Field<col::Text> = Field::new(stringify!($table), "updated_at");
            pub const created_by: Field<col::Text> = Field::new(stringify!($table), "created_by");
            pub const deleted_at: Field<col::Text> = Field::new(stringify!($table), "deleted_at");
        }
    )*};
}
pub(crate) use table;
