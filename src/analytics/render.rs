//! Charts drawn on the server with plotters, to SVG and PNG: bar, stacked and grouped bar,
//! line, area, donut and a single number, from the same `ChartView` the UI draws. The font
//! (Keel Sans, `assets/fonts/`: DejaVu Sans with the CJK of Droid Sans Fallback and the
//! Hangul of NanumGothic merged in) is built into the binary and measured with ab_glyph, so
//! a chart's bytes are the same on every machine. Labels are cut to the room they have (with
//! "…"), turned upright when many, thinned when even that would overlap; series past the
//! legend's room are counted ("+3 more").
//!
//! The bitmap backend draws one glyph per character, left to right, so a PNG's labels are
//! first put in the order they are seen: Arabic letters joined into their presentation forms
//! (ar-reshaper) and right-to-left runs reordered by the Unicode bidi algorithm
//! (unicode-bidi). An SVG keeps the text as written: the browser shapes and orders it.

use std::sync::Once;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::FontTransform;

use super::ChartView;
use crate::error::AppError;

/// How the chart is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Bar,
    Stacked,
    Grouped,
    Line,
    Area,
    Donut,
    Number,
}

impl Kind {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "bar" => Self::Bar,
            "stacked" => Self::Stacked,
            "grouped" => Self::Grouped,
            "line" => Self::Line,
            "area" => Self::Area,
            "donut" | "pie" => Self::Donut,
            "number" => Self::Number,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Theme {
    Light,
    Dark,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Svg,
    Png,
}

#[derive(Debug, Clone, Copy)]
pub struct Spec {
    pub kind: Kind,
    pub format: Format,
    pub width: u32,
    pub height: u32,
    pub theme: Theme,
}

/// The family plotters registers and an SVG names (with fallbacks for a viewer without it).
pub const FONT: &str = "Keel Sans, DejaVu Sans, sans-serif";
static FONT_BYTES: &[u8] = include_bytes!("../../assets/fonts/KeelSans.ttf");

fn fonts() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The font is part of the binary: registering it cannot fail but on a broken build.
        if plotters::style::register_font(FONT, FontStyle::Normal, FONT_BYTES).is_err() {
            tracing::error!("the chart font could not be read");
        }
    });
}

/// Series colours (a 12-colour palette readable on light and dark), and "other" in grey.
const PALETTE: [(u8, u8, u8); 12] = [
    (63, 118, 255),
    (240, 140, 0),
    (46, 160, 67),
    (214, 51, 108),
    (121, 80, 242),
    (21, 170, 191),
    (245, 159, 0),
    (134, 142, 150),
    (230, 73, 128),
    (64, 192, 87),
    (250, 82, 82),
    (92, 124, 250),
];

struct Colors {
    bg: RGBColor,
    text: RGBColor,
    muted: RGBColor,
    grid: RGBColor,
}

fn colors(t: Theme) -> Colors {
    match t {
        Theme::Light => Colors {
            bg: RGBColor(255, 255, 255),
            text: RGBColor(28, 32, 36),
            muted: RGBColor(96, 100, 108),
            grid: RGBColor(223, 225, 230),
        },
        Theme::Dark => Colors {
            bg: RGBColor(26, 29, 33),
            text: RGBColor(230, 232, 235),
            muted: RGBColor(155, 161, 168),
            grid: RGBColor(44, 48, 54),
        },
    }
}

fn series_color(i: usize, key: &str) -> RGBColor {
    if key == "other" || key == "none" {
        return RGBColor(150, 150, 150);
    }
    let (r, g, b) = PALETTE[i % PALETTE.len()];
    RGBColor(r, g, b)
}

/// Draws `view` as `spec` asks; SVG text or PNG bytes.
pub fn render(view: &ChartView, spec: Spec) -> Result<Vec<u8>, AppError> {
    fonts();
    let size = (spec.width, spec.height);
    match spec.format {
        Format::Svg => {
            let mut out = String::new();
            {
                let root = SVGBackend::with_string(&mut out, size).into_drawing_area();
                draw(&root, view, spec).map_err(draw_error)?;
                root.present().map_err(draw_error)?;
            }
            Ok(out.into_bytes())
        }
        Format::Png => {
            let mut buf = vec![0u8; spec.width as usize * spec.height as usize * 3];
            {
                let root = BitMapBackend::with_buffer(&mut buf, size).into_drawing_area();
                draw(&root, view, spec).map_err(draw_error)?;
                root.present().map_err(draw_error)?;
            }
            let mut png = Vec::new();
            {
                let mut enc = png::Encoder::new(&mut png, spec.width, spec.height);
                enc.set_color(png::ColorType::Rgb);
                enc.set_depth(png::BitDepth::Eight);
                enc.set_compression(png::Compression::Fast);
                let mut w = enc
                    .write_header()
                    .map_err(|e| AppError::internal(format!("png: {e}")))?;
                w.write_image_data(&buf)
                    .map_err(|e| AppError::internal(format!("png: {e}")))?;
            }
            Ok(png)
        }
    }
}

fn draw_error<E: std::fmt::Debug>(e: E) -> AppError {
    AppError::internal(format!("chart drawing: {e:?}"))
}

type Res = Result<(), Box<dyn std::error::Error>>;

fn style<'a>(px: u32, c: &'a RGBColor) -> TextStyle<'a> {
    TextStyle::from((FONT, px as f64).into_font()).color(c)
}

/// Arabic letters to their joined forms (the Allah ligature off: the font lacks U+FDF2).
static RESHAPER: std::sync::LazyLock<ar_reshaper::ArabicReshaper> = std::sync::LazyLock::new(|| {
    let mut config = ar_reshaper::ReshaperConfig::default();
    config.update_ligature(ar_reshaper::prelude::LigatureNames::ARABIC_LIGATURE_ALLAH, false);
    ar_reshaper::ArabicReshaper::new(config)
});

/// `text` as ar-reshaper can take it: without the zero-width joiner (see `visual`).
fn joinable(text: &str) -> String {
    text.chars().filter(|c| *c != '\u{200D}').collect()
}

/// `text` (as written) in the order a glyph-by-glyph backend must draw it: unchanged when it
/// has no right-to-left letter; else Arabic joined (the Allah ligature off: the font lacks
/// U+FDF2, while the Lam-Alef forms are in it), then each paragraph reordered for display.
pub fn visual(text: &str) -> String {
    use unicode_bidi::{bidi_class, BidiClass, BidiInfo};
    if !text
        .chars()
        .any(|c| matches!(bidi_class(c), BidiClass::R | BidiClass::AL))
    {
        return text.to_string();
    }
    // ar-reshaper 1.5 finds ligatures by character position in the text with the joiner
    // (U+200D) still in it but out of its letters, and indexes past them: a label with a ZWJ
    // and a Lam-Alef panicked (found by the test below). The joiner goes first; should the
    // crate panic on another input, the label is drawn unjoined rather than failing the chart.
    let text = joinable(text);
    let shaped = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| RESHAPER.reshape(&text)))
        .unwrap_or_else(|_| text.clone());
    let info = BidiInfo::new(&shaped, None);
    info.paragraphs
        .iter()
        .map(|p| info.reorder_line(p, p.range.clone()))
        .collect()
}

/// How labels reach the backend: reordered for a PNG, as written for an SVG.
#[derive(Clone, Copy)]
struct Shaping(bool);

impl Shaping {
    fn of(spec: Spec) -> Self {
        Self(spec.format == Format::Png)
    }
    fn apply(self, text: &str) -> String {
        if self.0 {
            visual(text)
        } else {
            text.to_string()
        }
    }
}

/// `text` cut with "…" to at most `max` pixels wide in `s`, ready to draw. It is cut in the
/// order it is written (a right-to-left label loses its end, not its start) and measured as
/// it is drawn.
fn fit<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    text: &str,
    s: &TextStyle<'_>,
    max: u32,
    shaping: Shaping,
) -> String {
    let width = |t: &str| area.estimate_text_size(t, s).map_or(0, |(w, _)| w);
    let whole = shaping.apply(text);
    if width(&whole) <= max {
        return whole;
    }
    let chars: Vec<char> = text.chars().collect();
    let cut = |n: usize| shaping.apply(&(chars[..n].iter().collect::<String>() + "…"));
    let (mut lo, mut hi) = (0usize, chars.len());
    while lo < hi {
        let mid = (lo + hi).div_ceil(2);
        if width(&cut(mid)) <= max {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    cut(lo)
}

/// A value as the chart's unit shows it: minutes as hours, counts grouped by thousands.
pub fn format_value(v: f64, unit: &str) -> String {
    if unit == "minutes" {
        let h = v / 60.0;
        return if h.abs() >= 10.0 || h.fract() == 0.0 {
            format!("{h:.0}h")
        } else {
            format!("{h:.1}h")
        };
    }
    if v.abs() >= 10_000.0 {
        format!("{:.0}k", v / 1000.0)
    } else if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

/// Round tick steps from `lo` to `hi`, about five of them.
fn ticks(lo: f64, hi: f64) -> (f64, f64, f64) {
    let span = (hi - lo).max(1.0);
    let raw = span / 5.0;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag)
        .max(1.0);
    ((lo / step).floor() * step, (hi / step).ceil() * step, step)
}

struct Data {
    names: Vec<String>,
    /// Per series (one when ungrouped): key, name, values per category.
    series: Vec<(String, String, Vec<f64>)>,
    totals: Vec<f64>,
}

fn data(view: &ChartView) -> Data {
    let names = view
        .data
        .iter()
        .map(|r| r.get("name").and_then(|v| v.as_str()).unwrap_or("").to_string())
        .collect();
    let num =
        |r: &serde_json::Map<String, serde_json::Value>, k: &str| r.get(k).and_then(|v| v.as_f64()).unwrap_or(0.0);
    let totals = view.data.iter().map(|r| num(r, "count")).collect();
    let series = if view.series.is_empty() {
        vec![(
            "count".to_string(),
            view.measure.name.to_string(),
            view.data.iter().map(|r| num(r, "count")).collect(),
        )]
    } else {
        view.series
            .iter()
            .map(|s| {
                (
                    s.key.clone(),
                    s.name.clone(),
                    view.data.iter().map(|r| num(r, &s.key)).collect(),
                )
            })
            .collect()
    };
    Data { names, series, totals }
}

fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, view: &ChartView, spec: Spec) -> Res
where
    DB::ErrorType: 'static,
{
    let c = colors(spec.theme);
    root.fill(&c.bg)?;
    let (w, h) = (spec.width as i32, spec.height as i32);
    let title_px = (spec.height / 24).clamp(12, 22);
    let label_px = (spec.height / 40).clamp(10, 14);
    let pad = 14;
    let title = format!("{} by {}", view.measure.name, view.x_name.to_lowercase());
    let ts = style(title_px, &c.text);
    let shaping = Shaping::of(spec);
    root.draw_text(&fit(root, &title, &ts, (w - 2 * pad) as u32, shaping), &ts, (pad, pad))?;
    let d = data(view);
    let top = pad + title_px as i32 + 10;
    if spec.kind == Kind::Number {
        let big = style((spec.height / 4).clamp(18, 160), &c.text);
        let text = format_value(view.total as f64, view.measure.unit);
        let big = big.pos(Pos::new(HPos::Center, VPos::Center));
        root.draw_text(&text, &big, (w / 2, (top + h) / 2))?;
        let unit = style(label_px + 2, &c.muted).pos(Pos::new(HPos::Center, VPos::Top));
        root.draw_text(
            view.measure.unit,
            &unit,
            (w / 2, (top + h) / 2 + (spec.height / 8) as i32),
        )?;
        return Ok(());
    }
    if d.names.is_empty() {
        let s = style(label_px + 2, &c.muted).pos(Pos::new(HPos::Center, VPos::Center));
        root.draw_text("Nothing to chart", &s, (w / 2, h / 2))?;
        return Ok(());
    }
    // The legend: series (or, for a donut, the categories) in rows at the bottom.
    let legend: Vec<(String, RGBColor)> = if spec.kind == Kind::Donut {
        d.names
            .iter()
            .enumerate()
            .map(|(i, n)| {
                (
                    n.clone(),
                    series_color(i, view.data[i].get("key").and_then(|k| k.as_str()).unwrap_or("")),
                )
            })
            .collect()
    } else if view.series.is_empty() {
        Vec::new()
    } else {
        d.series
            .iter()
            .enumerate()
            .map(|(i, (k, n, _))| (n.clone(), series_color(i, k)))
            .collect()
    };
    let ls = style(label_px, &c.muted);
    let row_h = label_px as i32 + 8;
    let max_rows = 3;
    let mut rows: Vec<Vec<(String, RGBColor, i32)>> = Vec::new();
    let mut shown = 0;
    {
        let mut x = pad;
        let mut row = Vec::new();
        for (name, color) in &legend {
            let text = fit(root, name, &ls, 160, shaping);
            let tw = root.estimate_text_size(&text, &ls).map_or(0, |(w, _)| w as i32);
            let item = 14 + tw + 16;
            if x + item > w - pad && !row.is_empty() {
                rows.push(std::mem::take(&mut row));
                x = pad;
                if rows.len() == max_rows {
                    break;
                }
            }
            row.push((text, *color, x));
            x += item;
            shown += 1;
        }
        if !row.is_empty() && rows.len() < max_rows {
            rows.push(row);
        }
    }
    let legend_h = rows.len() as i32 * row_h;
    for (ri, row) in rows.iter().enumerate() {
        let y = h - pad - legend_h + ri as i32 * row_h;
        for (text, color, x) in row {
            root.draw(&Rectangle::new([(*x, y + 2), (*x + 10, y + 12)], color.filled()))?;
            root.draw_text(text, &ls, (*x + 14, y))?;
        }
    }
    let more = legend.len().saturating_sub(shown);
    if more > 0 {
        let s = ls.pos(Pos::new(HPos::Right, VPos::Top));
        root.draw_text(&format!("+{more} more"), &s, (w - pad, h - pad - row_h))?;
    }
    let bottom = h - pad - legend_h - if legend_h > 0 { 8 } else { 0 };
    if spec.kind == Kind::Donut {
        let cx = w / 2;
        let cy = (top + bottom) / 2;
        let r = (((bottom - top).min(w - 2 * pad)) / 2 - 4).max(10) as f64;
        let sizes: Vec<f64> = d.totals.iter().map(|v| v.max(0.0)).collect();
        if sizes.iter().sum::<f64>() <= 0.0 {
            let s = style(label_px + 2, &c.muted).pos(Pos::new(HPos::Center, VPos::Center));
            root.draw_text("Nothing to chart", &s, (cx, cy))?;
            return Ok(());
        }
        let cols: Vec<RGBColor> = legend.iter().map(|(_, c)| *c).collect();
        let labels: Vec<String> = vec![String::new(); sizes.len()];
        let center = (cx, cy);
        let mut pie = Pie::new(&center, &r, &sizes, &cols, &labels);
        pie.donut_hole(r * 0.55);
        pie.label_style(style(1, &c.bg));
        root.draw(&pie)?;
        let total = style((r / 4.0).clamp(12.0, 48.0) as u32, &c.text).pos(Pos::new(HPos::Center, VPos::Center));
        root.draw_text(&format_value(view.total as f64, view.measure.unit), &total, (cx, cy))?;
        return Ok(());
    }
    // Axes: the value range over what is drawn (stacks sum; bars and lines per series).
    let n = d.names.len();
    let stacked = matches!(spec.kind, Kind::Stacked | Kind::Area) && d.series.len() > 1;
    let (mut lo, mut hi) = (0.0f64, 0.0f64);
    for i in 0..n {
        if stacked {
            let pos: f64 = d.series.iter().map(|s| s.2[i].max(0.0)).sum();
            let neg: f64 = d.series.iter().map(|s| s.2[i].min(0.0)).sum();
            hi = hi.max(pos);
            lo = lo.min(neg);
        } else {
            for s in &d.series {
                hi = hi.max(s.2[i]);
                lo = lo.min(s.2[i]);
            }
        }
    }
    let (lo, hi, step) = ticks(lo, hi);
    let ys = style(label_px, &c.muted);
    let tick_labels: Vec<(f64, String)> = {
        let mut v = Vec::new();
        let mut t = lo;
        while t <= hi + step / 2.0 && v.len() < 50 {
            v.push((t, format_value(t, view.measure.unit)));
            t += step;
        }
        v
    };
    let axis_w = tick_labels
        .iter()
        .map(|(_, s)| root.estimate_text_size(s, &ys).map_or(0, |(w, _)| w as i32))
        .max()
        .unwrap_or(0)
        + 10;
    let left = pad + axis_w;
    let right = w - pad;
    let band = ((right - left) as f64 / n as f64).max(1.0);
    // Category labels: across if they fit, else upright (cut to a third of the height),
    // and only every k-th when even upright ones would overlap.
    let xs = style(label_px, &c.muted);
    let shown: Vec<String> = d.names.iter().map(|n| shaping.apply(n)).collect();
    let across = shown
        .iter()
        .all(|name| root.estimate_text_size(name, &xs).map_or(0.0, |(w, _)| w as f64) <= band - 6.0);
    let upright_room = ((bottom - top) / 3).max(30) as u32;
    let label_h = if across {
        label_px as i32 + 8
    } else {
        d.names
            .iter()
            .map(|name| {
                root.estimate_text_size(&fit(root, name, &xs, upright_room, shaping), &xs)
                    .map_or(0, |(w, _)| w as i32)
            })
            .max()
            .unwrap_or(0)
            + 8
    };
    let plot_bottom = bottom - label_h;
    let plot_top = top + 6;
    let y_of = |v: f64| plot_bottom - (((v - lo) / (hi - lo).max(1e-9)) * (plot_bottom - plot_top) as f64) as i32;
    for (t, s) in &tick_labels {
        let y = y_of(*t);
        root.draw(&PathElement::new(vec![(left, y), (right, y)], c.grid.stroke_width(1)))?;
        let st = ys.pos(Pos::new(HPos::Right, VPos::Center));
        root.draw_text(s, &st, (left - 6, y))?;
    }
    let every = if across {
        1
    } else {
        ((label_px as f64 + 4.0) / band).ceil().max(1.0) as usize
    };
    for (i, name) in d.names.iter().enumerate() {
        if i % every != 0 {
            continue;
        }
        let x = left + (band * (i as f64 + 0.5)) as i32;
        if across {
            let st = xs.pos(Pos::new(HPos::Center, VPos::Top));
            root.draw_text(&shown[i], &st, (x, plot_bottom + 6))?;
        } else {
            let text = fit(root, name, &xs, upright_room, shaping);
            let st = xs
                .transform(FontTransform::Rotate270)
                .pos(Pos::new(HPos::Right, VPos::Center));
            root.draw_text(&text, &st, (x, plot_bottom + 6))?;
        }
    }
    let zero = y_of(0.0);
    match spec.kind {
        Kind::Line | Kind::Area => {
            let mut base = vec![0.0f64; n];
            for (si, (key, _, vals)) in d.series.iter().enumerate() {
                let color = series_color(si, key);
                let pts: Vec<(i32, i32)> = (0..n)
                    .map(|i| {
                        let v = if stacked { base[i] + vals[i] } else { vals[i] };
                        (left + (band * (i as f64 + 0.5)) as i32, y_of(v))
                    })
                    .collect();
                if spec.kind == Kind::Area {
                    let mut poly = pts.clone();
                    for i in (0..n).rev() {
                        let b = if stacked { base[i] } else { 0.0 };
                        poly.push((left + (band * (i as f64 + 0.5)) as i32, y_of(b)));
                    }
                    root.draw(&Polygon::new(poly, color.mix(0.35).filled()))?;
                }
                root.draw(&PathElement::new(pts.clone(), color.stroke_width(2)))?;
                if n <= 60 {
                    for p in &pts {
                        root.draw(&Circle::new(*p, 2, color.filled()))?;
                    }
                }
                if stacked {
                    for i in 0..n {
                        base[i] += vals[i];
                    }
                }
            }
        }
        _ => {
            let grouped = spec.kind == Kind::Grouped && d.series.len() > 1;
            let stack = !grouped && d.series.len() > 1;
            let bar_w = (band * 0.72).max(1.0);
            for i in 0..n {
                let x0 = left as f64 + band * i as f64 + (band - bar_w) / 2.0;
                let (mut up, mut down) = (0.0f64, 0.0f64);
                for (si, (key, _, vals)) in d.series.iter().enumerate() {
                    let v = vals[i];
                    if v == 0.0 {
                        continue;
                    }
                    let color = series_color(si, key);
                    let (a, b, bx0, bx1) = if grouped {
                        let sw = bar_w / d.series.len() as f64;
                        (0.0, v, x0 + sw * si as f64, x0 + sw * (si as f64 + 1.0))
                    } else if stack {
                        if v >= 0.0 {
                            up += v;
                            (up - v, up, x0, x0 + bar_w)
                        } else {
                            down += v;
                            (down - v, down, x0, x0 + bar_w)
                        }
                    } else {
                        (0.0, v, x0, x0 + bar_w)
                    };
                    let (ya, yb) = (y_of(a), y_of(b));
                    let (xa, xb) = (bx0 as i32, (bx1 as i32).max(bx0 as i32 + 1));
                    root.draw(&Rectangle::new([(xa, ya.min(yb)), (xb, ya.max(yb))], color.filled()))?;
                }
            }
        }
    }
    root.draw(&PathElement::new(
        vec![(left, zero), (right, zero)],
        c.muted.stroke_width(1),
    ))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    //! Every kind in both themes, with long, non-Latin and many labels, against reference
    //! images in `tests/fixtures/charts/` (within a tolerance); every SVG parsed as XML.
    //! `KEEL_UPDATE_CHART_REFERENCES=1 cargo test -p keel --lib render` writes them anew.
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::collections::BTreeMap;
    use std::path::PathBuf;

    use super::*;
    use crate::analytics::{Axis, Bucket, Measure, MeasureView, SeriesView};

    fn view(names: &[&str], series: &[&str], x: Axis) -> ChartView {
        let data = names
            .iter()
            .enumerate()
            .map(|(i, n)| {
                let mut m = serde_json::Map::new();
                m.insert("key".into(), format!("k{i}").into());
                m.insert("name".into(), (*n).into());
                let mut total = 0;
                for (j, s) in series.iter().enumerate() {
                    let v = ((i * 7 + j * 5) % 11 + 1) as i64;
                    total += v;
                    m.insert(format!("s{j}"), v.into());
                    let _ = s;
                }
                if series.is_empty() {
                    total = ((i * 7) % 13 + 2) as i64;
                }
                m.insert("count".into(), total.into());
                m
            })
            .collect();
        let series: Vec<SeriesView> = series
            .iter()
            .enumerate()
            .map(|(j, s)| SeriesView {
                key: format!("s{j}"),
                name: (*s).into(),
            })
            .collect();
        ChartView {
            x_axis: Some(x),
            group_by: (!series.is_empty()).then_some(Axis::Priority),
            y_axis: Measure::WorkItemCount,
            measure: MeasureView {
                key: Measure::WorkItemCount,
                name: "Work items",
                unit: "work items",
            },
            interval: x.is_date().then_some(Bucket::Month),
            data,
            schema: series
                .iter()
                .map(|s| (s.key.clone(), s.name.clone()))
                .collect::<BTreeMap<_, _>>(),
            series,
            total: 120,
            x_name: "Label".into(),
        }
    }

    /// Labels in the scripts a team writes in: Chinese, Japanese, Korean, Arabic, Persian,
    /// Hebrew, and a left-to-right label with a right-to-left name in it.
    const SCRIPTS: [&str; 7] = [
        "设计评审",
        "認証システム",
        "한국어 라벨",
        "تصميم الواجهة",
        "طراحی رابط کاربری",
        "עיצוב ממשק",
        "Sprint 3 – خطة",
    ];

    fn cases() -> Vec<(&'static str, ChartView, Kind)> {
        let twelve = [
            "Alpha", "Beta", "Gamma", "Delta", "Epsilon", "Zeta", "Eta", "Theta", "Iota", "Kappa", "Lambda", "Mu",
        ];
        let long = [
            "A label that is far too long to fit below its bar at all",
            "Ещё одна очень длинная метка на кириллице",
            "Ελληνικά",
            "שלום",
            "short",
        ];
        let many: Vec<String> = (0..120).map(|i| format!("Assignee number {i}")).collect();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        let months = ["2026-01", "2026-02", "2026-03", "2026-04", "2026-05", "2026-06"];
        vec![
            ("bar", view(&twelve[..6], &[], Axis::Labels), Kind::Bar),
            ("stacked-12", view(&twelve[..8], &twelve, Axis::Labels), Kind::Stacked),
            ("grouped", view(&twelve[..5], &twelve[..3], Axis::Labels), Kind::Grouped),
            ("line", view(&months, &twelve[..3], Axis::CreatedAt), Kind::Line),
            ("area", view(&months, &twelve[..3], Axis::CreatedAt), Kind::Area),
            ("donut", view(&twelve[..7], &[], Axis::Labels), Kind::Donut),
            ("number", view(&twelve[..3], &[], Axis::Labels), Kind::Number),
            ("long-labels", view(&long, &[], Axis::Labels), Kind::Bar),
            ("many-labels", view(&many, &[], Axis::Assignees), Kind::Bar),
            ("scripts", view(&SCRIPTS, &[], Axis::Labels), Kind::Bar),
            ("scripts-legend", view(&SCRIPTS, &[], Axis::Labels), Kind::Donut),
            ("empty", view(&[], &[], Axis::Labels), Kind::Bar),
        ]
    }

    fn dir() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/charts")
    }

    fn decode(bytes: &[u8]) -> (u32, u32, Vec<u8>) {
        let d = png::Decoder::new(bytes);
        let mut r = d.read_info().unwrap();
        let mut buf = vec![0; r.output_buffer_size()];
        let info = r.next_frame(&mut buf).unwrap();
        buf.truncate(info.buffer_size());
        (info.width, info.height, buf)
    }

    #[test]
    fn every_kind_matches_its_reference_image_and_every_svg_parses() {
        let update = std::env::var("KEEL_UPDATE_CHART_REFERENCES").is_ok();
        std::fs::create_dir_all(dir()).unwrap();
        for (name, v, kind) in cases() {
            for (theme, tname) in [(Theme::Light, "light"), (Theme::Dark, "dark")] {
                let spec = Spec {
                    kind,
                    format: Format::Png,
                    width: 640,
                    height: 360,
                    theme,
                };
                let png = render(&v, spec).unwrap();
                let path = dir().join(format!("{name}-{tname}.png"));
                if update {
                    std::fs::write(&path, &png).unwrap();
                }
                let (w, h, got) = decode(&png);
                assert_eq!((w, h), (640, 360));
                let (rw, rh, want) =
                    decode(&std::fs::read(&path).unwrap_or_else(|_| panic!("{} missing", path.display())));
                assert_eq!((rw, rh), (w, h), "{name}");
                // Within a tolerance: at most 0.5% of the bytes differ by more than 48.
                let off = got.iter().zip(&want).filter(|(a, b)| a.abs_diff(**b) > 48).count();
                assert!(
                    off * 200 <= got.len(),
                    "{name} {tname}: {off} of {} bytes differ",
                    got.len()
                );
                let svg = render(
                    &v,
                    Spec {
                        format: Format::Svg,
                        ..spec
                    },
                )
                .unwrap();
                let text = String::from_utf8(svg).unwrap();
                let doc = roxmltree::Document::parse(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
                assert_eq!(doc.root_element().tag_name().name(), "svg");
            }
        }
    }

    /// The texts an SVG draws.
    fn texts(svg: &str) -> Vec<String> {
        let doc = roxmltree::Document::parse(svg).unwrap();
        doc.descendants()
            .filter(|n| n.has_tag_name("text"))
            .map(|n| n.text().unwrap_or("").trim().to_string())
            .collect()
    }

    #[test]
    fn an_image_is_not_a_blank_one_and_its_labels_are_cut_to_fit() {
        let v = view(
            &["A label that is far too long to fit below its bar at all"; 3],
            &[],
            Axis::Labels,
        );
        let spec = Spec {
            kind: Kind::Bar,
            format: Format::Svg,
            width: 400,
            height: 300,
            theme: Theme::Light,
        };
        let svg = String::from_utf8(render(&v, spec).unwrap()).unwrap();
        let labels = texts(&svg);
        assert!(
            labels.iter().any(|t| t.ends_with('…')),
            "long labels end in an ellipsis: {labels:?}"
        );
        assert!(!labels.iter().any(|t| t.ends_with("at all")), "no label is drawn whole");
        let (_, _, px) = decode(
            &render(
                &v,
                Spec {
                    format: Format::Png,
                    ..spec
                },
            )
            .unwrap(),
        );
        let distinct: std::collections::HashSet<&[u8]> = px.chunks(3).collect();
        assert!(distinct.len() > 8, "the image has bars, text and a grid");
        // Twelve series, every one in the legend or counted.
        let twelve: Vec<String> = (0..12).map(|i| format!("Series {i}")).collect();
        let t: Vec<&str> = twelve.iter().map(String::as_str).collect();
        let v = view(&["a", "b"], &t, Axis::Labels);
        let svg = String::from_utf8(
            render(
                &v,
                Spec {
                    kind: Kind::Stacked,
                    width: 300,
                    ..spec
                },
            )
            .unwrap(),
        )
        .unwrap();
        let labels = texts(&svg);
        let shown = (0..12).filter(|i| labels.contains(&format!("Series {i}"))).count();
        let more = labels.iter().any(|t| t.ends_with(" more"));
        assert!(shown == 12 || more, "{shown} shown, no count of the rest");
    }

    #[test]
    fn the_font_has_a_glyph_for_every_character_a_label_draws() {
        use ab_glyph::Font;
        let font = ab_glyph::FontRef::try_from_slice(FONT_BYTES).unwrap();
        let latin = ["Ещё одна метка", "Ελληνικά", "A label … +3 more", "Work items by label"];
        for label in SCRIPTS.iter().chain(&latin) {
            for text in [label.to_string(), visual(label), visual(&format!("{label}…"))] {
                let missing: Vec<String> = text
                    .chars()
                    .filter(|c| font.glyph_id(*c).0 == 0)
                    .map(|c| format!("U+{:04X}", c as u32))
                    .collect();
                assert!(missing.is_empty(), "{label:?} ({text:?}) lacks {missing:?}");
            }
        }
    }

    #[test]
    fn right_to_left_labels_are_joined_and_put_in_display_order_for_a_bitmap() {
        // Latin (and CJK) text is left as written.
        assert_eq!(visual("Design review"), "Design review");
        assert_eq!(visual("设计评审"), "设计评审");
        // Hebrew letters do not join: display order is the reverse of the written one.
        assert_eq!(visual("שלום"), "םולש");
        // Arabic: every letter becomes a presentation form (joined), in display order.
        let salam = visual("سلام");
        assert!(
            salam.chars().all(|c| ('\u{FB50}'..='\u{FEFF}').contains(&c)),
            "{salam:?} holds only presentation forms"
        );
        // سـ (initial seen) then the Lam-Alef ligature then final Mim; drawn right to left.
        assert_eq!(salam, "\u{FEE1}\u{FEFC}\u{FEB3}");
        // A left-to-right label keeps its Latin start; the Arabic run within it is reversed.
        let mixed = visual("Sprint 3 – خطة");
        assert!(mixed.starts_with("Sprint 3 – "), "{mixed:?}");
        assert_eq!(mixed.chars().count(), "Sprint 3 – خطة".chars().count());
        // An SVG keeps the text as written (the browser shapes it).
        assert_eq!(Shaping(false).apply("שלום"), "שלום");
    }

    #[test]
    fn shaping_any_mix_of_scripts_never_panics_and_keeps_latin_and_digits() {
        // Arabic letters, harakat, tatweel, Lam-Alef, ZWJ/ZWNJ, Hebrew, bidi controls,
        // digits, Latin, CJK and spaces, in every order a seeded generator makes.
        let pool: Vec<char> = "سلامبتثجحخدذرزشصضطظعغفقكلمنهوي\u{064B}\u{064E}\u{0651}\u{0640}لا\u{200D}\u{200C}שלוםעברית\u{202E}\u{202C}\u{2067}\u{2069}0123abcZ设计 …"
            .chars()
            .collect();
        let mut seed = 11u64;
        for _ in 0..5_000 {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let len = (seed >> 58) as usize;
            let text: String = (0..len)
                .map(|k| pool[((seed >> (k % 40)) as usize + k * 7) % pool.len()])
                .collect();
            // The crate itself does not panic on what `visual` hands it (its net is for what
            // no test found).
            let joined = joinable(&text);
            assert!(
                std::panic::catch_unwind(|| RESHAPER.reshape(&joined)).is_ok(),
                "ar-reshaper panicked on {joined:?}"
            );
            let shown = visual(&text);
            for c in text.chars().filter(|c| c.is_ascii_alphanumeric()) {
                assert!(shown.contains(c), "{text:?} lost {c:?}: {shown:?}");
            }
        }
    }

    #[test]
    fn a_right_to_left_label_is_cut_at_its_end_which_is_drawn_on_the_left() {
        fonts();
        let mut out = String::new();
        let root = SVGBackend::with_string(&mut out, (400, 300)).into_drawing_area();
        let s = style(12, &RGBColor(0, 0, 0));
        let label = "עיצוב ממשק המשתמש החדש של מערכת ההרשאות";
        let cut = fit(&root, label, &s, 80, Shaping(true));
        assert!(cut.starts_with('…'), "{cut:?}: the ellipsis stands on the left");
        // What is left is the label's written start, reversed.
        let kept: String = cut.chars().skip(1).collect::<Vec<_>>().into_iter().rev().collect();
        assert!(label.starts_with(&kept) && !kept.is_empty(), "{kept:?}");
        let width = root.estimate_text_size(&cut, &s).unwrap().0;
        assert!(width <= 80, "{width} px");
    }
}
