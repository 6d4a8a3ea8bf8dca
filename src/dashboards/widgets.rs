//! The widget types: one registry (seed 002's component library) with each type's name, its
//! grid size and the fields of its config. A new type is an entry here and an arm in
//! `Dashboards::widget_data`; the API serves the list (`GET /api/v1/dashboard-widget-types`)
//! and the UI builds its editor from it.

use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

use crate::error::AppError;

/// One field of a widget type's config.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
pub struct ConfigField {
    pub key: &'static str,
    /// `axis`, `measure`, `interval`, `chart_kind`, `ids`, `date`, `text`, `choice`, `number`,
    /// `metric` (a metric's id).
    pub kind: &'static str,
    pub required: bool,
    /// The values a `choice` takes.
    pub values: &'static [&'static str],
    pub description: &'static str,
}

/// A kind of widget.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
pub struct WidgetType {
    pub key: &'static str,
    pub name: &'static str,
    pub description: &'static str,
    /// The size a new widget of this type takes on the grid.
    pub default_w: i64,
    pub default_h: i64,
    /// Whether it takes the chart builder's filters (layered over the dashboard's).
    pub filters: bool,
    pub fields: &'static [ConfigField],
}

const fn field(key: &'static str, kind: &'static str, required: bool, description: &'static str) -> ConfigField {
    ConfigField {
        key,
        kind,
        required,
        values: &[],
        description,
    }
}

const CHART_FIELDS: &[ConfigField] = &[
    field("x_axis", "axis", true, "What the x axis counts by"),
    field("group_by", "axis", false, "What each bucket is split by"),
    field("y_axis", "measure", false, "The measure (work items by default)"),
    field("interval", "interval", false, "Date buckets: day, week, month or year"),
    field("limit", "number", false, "At most this many buckets; the rest as other"),
];

pub const WIDGET_TYPES: &[WidgetType] = &[
    WidgetType {
        key: "chart",
        name: "Chart",
        description: "Any chart of the chart builder: bars, stacked, lines, areas, donuts",
        default_w: 12,
        default_h: 8,
        filters: true,
        fields: CHART_FIELDS,
    },
    WidgetType {
        key: "number",
        name: "Number",
        description: "One measure over the filtered work items or time, as a big number",
        default_w: 6,
        default_h: 4,
        filters: true,
        fields: &[field("y_axis", "measure", false, "The measure (work items by default)")],
    },
    WidgetType {
        key: "overview",
        name: "Overview figures",
        description: "Total, open, completed, overdue, created and completed, logged against estimate",
        default_w: 24,
        default_h: 4,
        filters: true,
        fields: &[
            field(
                "from",
                "date",
                false,
                "The range's first day (30 days up to today by default)",
            ),
            field("to", "date", false, "The range's last day"),
        ],
    },
    WidgetType {
        key: "project_stats",
        name: "Project stats",
        description: "Each project's work items by state group, with progress",
        default_w: 12,
        default_h: 8,
        filters: true,
        fields: &[],
    },
    WidgetType {
        key: "time_summary",
        name: "Time summary",
        description: "Time logged by member, project or department over a range",
        default_w: 12,
        default_h: 8,
        filters: false,
        fields: &[
            ConfigField {
                key: "by",
                kind: "choice",
                required: false,
                values: &["member", "project", "department"],
                description: "Whose time the rows are (member by default)",
            },
            field(
                "from",
                "date",
                false,
                "The range's first day (the 30 days up to today by default)",
            ),
            field("to", "date", false, "The range's last day"),
        ],
    },
    WidgetType {
        key: "metric",
        name: "Metric",
        description: "A metric's value with its change and target, coloured by its thresholds",
        default_w: 6,
        default_h: 5,
        filters: false,
        fields: &[field("metric", "metric", true, "The metric (an id of GET …/metrics)")],
    },
    WidgetType {
        key: "text",
        name: "Text note",
        description: "A note in plain text",
        default_w: 8,
        default_h: 4,
        filters: false,
        fields: &[field("text", "text", true, "The note (at most 5,000 characters)")],
    },
];

pub fn widget_type(key: &str) -> Option<&'static WidgetType> {
    WIDGET_TYPES.iter().find(|t| t.key == key)
}

pub fn keys() -> String {
    WIDGET_TYPES.iter().map(|t| t.key).collect::<Vec<_>>().join(", ")
}

/// The longest text note.
pub const MAX_NOTE: usize = 5_000;

/// A config split in two: the type's own fields, and the chart builder's filters.
pub type Split = (Map<String, Value>, Map<String, Value>);

/// Splits a widget's config into its own fields and the chart builder's filters, refusing
/// keys that are neither.
pub fn split(t: &WidgetType, config: &Map<String, Value>) -> Result<Split, AppError> {
    let mut own = Map::new();
    let mut filters = Map::new();
    for (k, v) in config {
        if t.fields.iter().any(|f| f.key == k) {
            own.insert(k.clone(), v.clone());
        } else if t.filters && super::FILTER_KEYS.contains(&k.as_str()) {
            filters.insert(k.clone(), v.clone());
        } else {
            return Err(AppError::field(
                "config",
                format!("{k:.40} is not a setting of a {} widget", t.key),
            ));
        }
    }
    Ok((own, filters))
}

/// Checks a widget's config as its data would read it: the chart builder's own checks for
/// axes, measures and filters, the registry's for the rest.
pub fn check_config(t: &WidgetType, config: &Map<String, Value>) -> Result<(), AppError> {
    let (own, filters) = split(t, config)?;
    for f in t.fields {
        if f.required && own.get(f.key).is_none_or(Value::is_null) {
            return Err(AppError::field(
                "config",
                format!("{} is required for a {} widget", f.key, t.key),
            ));
        }
        if let (Some(v), true) = (own.get(f.key), !f.values.is_empty()) {
            if !v.as_str().is_some_and(|s| f.values.contains(&s)) {
                return Err(AppError::field(
                    "config",
                    format!("{} must be one of: {}", f.key, f.values.join(", ")),
                ));
            }
        }
    }
    let filters = super::filter_params(&filters)?;
    match t.key {
        "chart" => {
            let chart = super::chart_params(&own)?;
            crate::analytics::check_params(&chart, &filters)
        }
        "number" => {
            let mut chart = super::chart_params(&own)?;
            chart.x_axis = Some("PROJECTS".into());
            crate::analytics::check_params(&chart, &filters)
        }
        "overview" | "time_summary" => {
            let s = |k: &str| own.get(k).and_then(Value::as_str);
            if own.iter().any(|(k, v)| (k == "from" || k == "to") && !v.is_string()) {
                return Err(AppError::field("config", "from and to are dates YYYY-MM-DD"));
            }
            crate::timetrack::Range::parse(s("from"), s("to"), None)?;
            crate::analytics::check_filters(&filters)
        }
        "project_stats" => crate::analytics::check_filters(&filters),
        "metric" => match own.get("metric").and_then(Value::as_str) {
            Some(id)
                if (1..=64).contains(&id.len())
                    && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') =>
            {
                Ok(())
            }
            _ => Err(AppError::field("config", "metric must be a metric's id")),
        },
        "text" => match own.get("text").and_then(Value::as_str) {
            Some(s) if s.chars().count() <= MAX_NOTE => Ok(()),
            Some(_) => Err(AppError::field(
                "config",
                format!("text must be at most {MAX_NOTE} characters"),
            )),
            None => Err(AppError::field("config", "text must be a string")),
        },
        other => Err(AppError::internal(format!("no checks for widget type {other}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_type_has_a_size_that_fits_the_grid_and_distinct_keys() {
        let mut seen = std::collections::HashSet::new();
        for t in WIDGET_TYPES {
            assert!(seen.insert(t.key), "{} twice", t.key);
            assert!(
                (1..=super::super::records::GRID_COLUMNS).contains(&t.default_w),
                "{}",
                t.key
            );
            assert!(t.default_h >= 1, "{}", t.key);
        }
    }

    #[test]
    fn configs_are_held_to_the_chart_builders_checks() {
        let obj = |v: Value| v.as_object().unwrap().clone();
        let chart = widget_type("chart").unwrap();
        check_config(
            chart,
            &obj(serde_json::json!({"x_axis": "PRIORITY", "priority": "urgent"})),
        )
        .unwrap();
        for bad in [
            serde_json::json!({}),
            serde_json::json!({"x_axis": "NOPE"}),
            serde_json::json!({"x_axis": "LABELS", "group_by": "LABELS"}),
            serde_json::json!({"x_axis": "PRIORITY", "drop_table": "x"}),
            serde_json::json!({"x_axis": "PRIORITY", "priority": "sometimes"}),
            serde_json::json!({"x_axis": 7}),
        ] {
            assert!(check_config(chart, &obj(bad.clone())).is_err(), "{bad}");
        }
        let text = widget_type("text").unwrap();
        check_config(text, &obj(serde_json::json!({"text": "hello"}))).unwrap();
        assert!(check_config(text, &obj(serde_json::json!({"text": "x".repeat(MAX_NOTE + 1)}))).is_err());
        assert!(check_config(text, &obj(serde_json::json!({"text": "x", "priority": "urgent"}))).is_err());
        let time = widget_type("time_summary").unwrap();
        check_config(time, &obj(serde_json::json!({"by": "department"}))).unwrap();
        assert!(check_config(time, &obj(serde_json::json!({"by": "planet"}))).is_err());
        assert!(check_config(time, &obj(serde_json::json!({"from": "2026-13-01"}))).is_err());
    }
}
