//! Staff files: the CSV export, and the parse of an import (CSV as spreadsheets write it,
//! or JSON) into rows of named cells. What the cells must hold is checked by the import
//! (`import.rs`) with the record's own rules.

use std::collections::BTreeMap;

use super::store::StaffRow;
use crate::error::AppError;
use crate::timetrack::csv_safe;

/// The columns of an export, which an import reads back (by name, in any order):
/// `department` is the department's code, `name` is only read by people.
pub const COLUMNS: [&str; 12] = [
    "staff_id",
    "email",
    "name",
    "department",
    "position",
    "job_grade",
    "phone",
    "date_of_joining",
    "date_of_leaving",
    "employment_status",
    "is_department_manager",
    "notes",
];

/// Columns an import must have.
pub const REQUIRED: [&str; 2] = ["staff_id", "email"];

/// Rows an import takes at most.
pub const MAX_ROWS: usize = 20_000;

/// The export: one row per record, each cell neutralised against formula injection.
pub fn write_staff(rows: &[StaffRow]) -> Result<Vec<u8>, AppError> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let internal = |e: csv::Error| AppError::Internal(anyhow::Error::new(e).context("csv"));
    w.write_record(COLUMNS).map_err(internal)?;
    for r in rows {
        let cells = [
            r.staff_id.as_str(),
            &r.email,
            &r.display_name,
            r.department_code.as_deref().unwrap_or(""),
            &r.position,
            &r.job_grade,
            &r.phone,
            r.date_of_joining.as_deref().unwrap_or(""),
            r.date_of_leaving.as_deref().unwrap_or(""),
            &r.employment_status,
            if r.is_department_manager { "true" } else { "false" },
            &r.notes,
        ];
        w.write_record(cells.iter().map(|c| csv_safe(c))).map_err(internal)?;
    }
    w.into_inner()
        .map_err(|e| AppError::Internal(anyhow::anyhow!("csv: {e}")))
}

/// One data row of an import: its number as a spreadsheet shows it (the header is row 1)
/// and its cells by column name (only the file's columns).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub row: usize,
    pub cells: BTreeMap<String, String>,
}

/// What an import file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Json,
}

fn unreadable(msg: impl Into<String>) -> AppError {
    AppError::refused_status(415, "import_unreadable", msg)
}

/// The file's format: as asked, else from its content type, else from its first character.
pub fn format_of(asked: Option<&str>, content_type: Option<&str>, body: &str) -> Result<Format, AppError> {
    match asked {
        Some("csv") => return Ok(Format::Csv),
        Some("json") => return Ok(Format::Json),
        Some(other) => {
            return Err(AppError::field(
                "format",
                format!("must be csv or json, not {other:.20}"),
            ))
        }
        None => {}
    }
    let ct = content_type.unwrap_or("").to_ascii_lowercase();
    if ct.starts_with("application/json") {
        return Ok(Format::Json);
    }
    if ct.starts_with("text/csv") || ct.starts_with("application/vnd.ms-excel") {
        return Ok(Format::Csv);
    }
    match body.trim_start().chars().next() {
        Some('[' | '{') => Ok(Format::Json),
        _ => Ok(Format::Csv),
    }
}

/// The body as text: UTF-8, with or without a byte-order mark. Anything else (a binary
/// file, a spreadsheet's native format, another encoding) is refused with a clear code.
pub fn text_of(body: &[u8]) -> Result<&str, AppError> {
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    if body.starts_with(b"PK\x03\x04") || body.starts_with(b"\xD0\xCF\x11\xE0") {
        return Err(unreadable(
            "this is a spreadsheet file, not CSV: save it as \"CSV UTF-8\" and import that",
        ));
    }
    let text = std::str::from_utf8(body)
        .map_err(|_| unreadable("the file is not UTF-8 text: save it as \"CSV UTF-8\" (or JSON) and import that"))?;
    if text.contains('\0') {
        return Err(unreadable("the file is binary, not CSV or JSON"));
    }
    if text.trim().is_empty() {
        return Err(unreadable("the file is empty"));
    }
    Ok(text)
}

fn too_large(n: usize) -> AppError {
    AppError::refused_status(
        413,
        "import_too_large",
        format!("an import takes at most {MAX_ROWS} rows; this file has more than {n}"),
    )
}

/// The delimiter a spreadsheet used: the one of `,` `;` and tab that the header line
/// (outside quotes) holds most of.
fn delimiter(text: &str) -> u8 {
    let mut quoted = false;
    let mut counts = [0usize; 3];
    for ch in text.chars() {
        match ch {
            '"' => quoted = !quoted,
            '\n' | '\r' if !quoted => break,
            ',' if !quoted => counts[0] += 1,
            ';' if !quoted => counts[1] += 1,
            '\t' if !quoted => counts[2] += 1,
            _ => {}
        }
    }
    let best = (0..3).max_by_key(|&i| (counts[i], 2 - i)).unwrap_or(0);
    [b',', b';', b'\t'][best]
}

/// A cell as the export wrote it: the apostrophe that kept a spreadsheet from reading it
/// as a formula is taken off again.
pub fn cell_value(c: &str) -> &str {
    match c.strip_prefix('\'') {
        Some(rest) if rest.starts_with(['=', '+', '-', '@', '\t', '\r']) => rest,
        _ => c,
    }
}

/// A header cell as a column name: trimmed, lower case, spaces as `_`.
fn column_name(h: &str) -> String {
    h.trim().to_lowercase().replace([' ', '-'], "_")
}

/// Checks the header: every column known, none twice, the required ones there.
fn check_header(names: &[String]) -> Result<(), AppError> {
    let mut c = crate::error::Checks::new();
    for (i, n) in names.iter().enumerate() {
        if !COLUMNS.contains(&n.as_str()) {
            c.add(
                &format!("column {}", i + 1),
                format!("unknown column {n:.40}; the columns are {}", COLUMNS.join(", ")),
            );
        } else if names[..i].contains(n) {
            c.add(&format!("column {}", i + 1), format!("{n} appears twice"));
        }
    }
    for r in REQUIRED {
        if !names.iter().any(|n| n == r) {
            c.add(r, "is a required column");
        }
    }
    c.finish()
}

/// Reads CSV: header row first, any of the three delimiters, quoted cells with newlines.
pub fn parse_csv(text: &str) -> Result<Vec<Row>, AppError> {
    let mut r = csv::ReaderBuilder::new()
        .delimiter(delimiter(text))
        .flexible(false)
        .trim(csv::Trim::None)
        .from_reader(text.as_bytes());
    let bad = |e: csv::Error| {
        let at = e.position().map_or(String::new(), |p| format!(" (row {})", p.line()));
        unreadable(format!("the file is not valid CSV{at}: {}", e.kind_message()))
    };
    let names: Vec<String> = r.headers().map_err(bad)?.iter().map(column_name).collect();
    check_header(&names)?;
    let mut rows = Vec::new();
    for (i, rec) in r.records().enumerate() {
        let rec = rec.map_err(bad)?;
        // A spreadsheet's trailing empty lines are no rows.
        if rec.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        if rows.len() == MAX_ROWS {
            return Err(too_large(MAX_ROWS));
        }
        // As a spreadsheet numbers rows: the header is 1, a cell's newlines start no row.
        let row = i + 2;
        let cells = names.iter().cloned().zip(rec.iter().map(str::to_string)).collect();
        rows.push(Row { row, cells });
    }
    Ok(rows)
}

trait KindMessage {
    fn kind_message(&self) -> String;
}

impl KindMessage for csv::Error {
    fn kind_message(&self) -> String {
        match self.kind() {
            csv::ErrorKind::UnequalLengths { expected_len, len, .. } => {
                format!("a row has {len} cells where the header has {expected_len}")
            }
            csv::ErrorKind::Utf8 { .. } => "a cell is not UTF-8".into(),
            _ => "it cannot be read".into(),
        }
    }
}

/// Reads JSON: an array of objects (or `{"rows": [...]}`) whose keys are the columns and
/// whose values are strings, numbers, booleans or null.
pub fn parse_json(text: &str) -> Result<Vec<Row>, AppError> {
    let v: serde_json::Value =
        serde_json::from_str(text).map_err(|e| unreadable(format!("the file is not valid JSON: {e}")))?;
    let items = match v {
        serde_json::Value::Array(a) => a,
        serde_json::Value::Object(mut o) => match o.remove("rows") {
            Some(serde_json::Value::Array(a)) => a,
            _ => {
                return Err(unreadable(
                    "a JSON import is an array of rows, or an object with \"rows\"",
                ))
            }
        },
        _ => {
            return Err(unreadable(
                "a JSON import is an array of rows, or an object with \"rows\"",
            ))
        }
    };
    if items.len() > MAX_ROWS {
        return Err(too_large(MAX_ROWS));
    }
    let mut names: Vec<String> = Vec::new();
    let mut rows = Vec::with_capacity(items.len());
    for (i, item) in items.into_iter().enumerate() {
        let serde_json::Value::Object(o) = item else {
            return Err(unreadable(format!("row {} is not an object", i + 2)));
        };
        let mut cells = BTreeMap::new();
        for (k, v) in o {
            let k = column_name(&k);
            if !names.contains(&k) {
                names.push(k.clone());
            }
            let cell = match v {
                serde_json::Value::Null => String::new(),
                serde_json::Value::String(s) => s,
                serde_json::Value::Bool(b) => b.to_string(),
                serde_json::Value::Number(n) => n.to_string(),
                _ => {
                    return Err(unreadable(format!(
                        "row {}: {k} must be text, a number or a boolean",
                        i + 2
                    )))
                }
            };
            cells.insert(k, cell);
        }
        rows.push(Row { row: i + 2, cells });
    }
    check_header(&names)?;
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spreadsheet_csv_is_read_with_its_bom_semicolons_and_quoted_newlines() {
        let file =
            "\u{feff}Staff ID;Email;Notes\r\nE1;a@x.io;\"two\r\nlines; and a semicolon\"\r\nE2;b@x.io;\r\n;;\r\n";
        let text = text_of(file.as_bytes()).unwrap();
        let rows = parse_csv(text).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].cells["staff_id"], "E1");
        assert_eq!(rows[0].cells["notes"], "two\r\nlines; and a semicolon");
        // Row numbers are the spreadsheet's: a quoted newline starts no row.
        assert_eq!((rows[0].row, rows[1].row), (2, 3));
        let plain = parse_csv("staff_id,email\nE1,a@x.io\nE2,b@x.io\n").unwrap();
        assert_eq!((plain[0].row, plain[1].row), (2, 3));
        assert_eq!(delimiter("a,b;c;d\n"), b';');
        assert_eq!(delimiter("a\tb\tc\n"), b'\t');
        assert_eq!(delimiter("\"a;b\",c\n"), b',');
    }

    #[test]
    fn files_that_are_not_csv_or_json_get_a_clear_code() {
        for body in [&b"PK\x03\x04rest"[..], b"\xff\xfe\x00a", b"a,b\0", b"   "] {
            let e = text_of(body).and_then(parse_csv).unwrap_err();
            assert_eq!(e.status_and_code(), (415, "import_unreadable"), "{body:?}");
        }
        let e = parse_csv("staff_id,email,salary\nE1,a@x.io,1\n").unwrap_err();
        assert_eq!(e.status_and_code().1, "validation_failed");
        let e = parse_csv("email\na@x.io\n").unwrap_err();
        assert!(format!("{:?}", e.body().error.fields).contains("staff_id"), "{e:?}");
        let e = parse_csv("staff_id,email\nE1,a@x.io,extra\n").unwrap_err();
        assert_eq!(e.status_and_code().1, "import_unreadable");
        assert_eq!(
            parse_json("{\"rows\": 3}").unwrap_err().status_and_code().1,
            "import_unreadable"
        );
        let rows = parse_json(r#"[{"staff_id": "E1", "email": "a@x.io", "is_department_manager": true}]"#).unwrap();
        assert_eq!(rows[0].cells["is_department_manager"], "true");
    }

    #[test]
    fn exported_cells_cannot_start_a_formula() {
        let row = StaffRow {
            id: "w:u".into(),
            workspace_id: "w".into(),
            user_id: "u".into(),
            display_name: "=HYPERLINK(\"http://x\")".into(),
            email: "a@x.io".into(),
            staff_id: "E1".into(),
            department_id: None,
            department_name: Some("Sales".into()),
            department_code: Some("+SALES".into()),
            position: "@lead".into(),
            date_of_joining: None,
            date_of_leaving: None,
            employment_status: "active".into(),
            is_department_manager: false,
            phone: "-1".into(),
            job_grade: String::new(),
            notes: "line\nbreak".into(),
            created_at: String::new(),
            updated_at: String::new(),
        };
        let out = String::from_utf8(write_staff(&[row]).unwrap()).unwrap();
        let mut r = csv::Reader::from_reader(out.as_bytes());
        let rec = r.records().next().unwrap().unwrap();
        for cell in rec.iter() {
            assert!(!cell.starts_with(['=', '+', '-', '@']), "{cell}");
        }
        assert_eq!(&rec[2], "'=HYPERLINK(\"http://x\")");
        assert_eq!(&rec[11], "line\nbreak");
    }
}
