import { Suspense, useEffect, useState, type FormEvent, type KeyboardEvent } from "react";
import { Link, useNavigate, useParams } from "react-router";
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { GridLayout, noCompactor, useContainerWidth, type Layout, type LayoutItem } from "react-grid-layout";
import "react-grid-layout/css/styles.css";
import { ApiError, client, unwrap, type Schemas } from "../api/client";
import { fieldsOf } from "../api/errors";
import { Empty, ErrorNote, Field, SelectField, Spinner, formatDate, formatValue, useTitle } from "../components";
import { AXES, ChartBox, MEASURES, OverviewCards, StatsTable, type ChartKind, type ChartView } from "./analytics";
import { MetricCard, type Metric } from "./metrics";
import { useWorkspace } from "./workspaces";

type Dashboard = Schemas["DashboardView"];
type Widget = Schemas["WidgetView"];
type WidgetData = Schemas["WidgetData"];

/** Pixels of one grid row and of the gap between cells; the grid has 24 columns (Grafana's convention). */
const ROW = 36;
const GAP = 12;
const COLS = 24;

function chartKind(w: Widget, view: ChartView): ChartKind {
  switch (w.chart_type) {
    case "donut":
      return "pie";
    case "line":
    case "area":
    case "bar":
    case "stacked":
      return w.chart_type;
    default:
      return view.group_by ? "stacked" : view.interval ? "line" : "bar";
  }
}

interface TimeRow {
  name?: string;
  minutes: number;
}

/** Time by member, project or department: one bar per row, scaled to the largest. */
function TimeBars({ data }: { data: { by: string; total_minutes: number; rows: TimeRow[] } }) {
  const rows = data.rows;
  if (rows.length === 0) return <p className="muted">No time logged in the range.</p>;
  const max = Math.max(...rows.map((r) => r.minutes), 1);
  return (
    <ul className="time-bars" aria-label={`Time by ${data.by}`}>
      {rows.map((r, i) => (
        <li key={i}>
          <span className="time-bar-name">{r.name ?? "—"}</span>
          <span className="meter" aria-hidden="true">
            <span style={{ width: `${Math.round((r.minutes / max) * 100)}%` }} />
          </span>
          <span className="num">{formatValue(r.minutes, "minutes")}</span>
        </li>
      ))}
    </ul>
  );
}

function WidgetBody({ w, d }: { w: Widget; d: WidgetData | undefined }) {
  if (!d) return <Spinner label="Loading the widget" />;
  if (d.status === "restricted")
    return (
      <p className="locked-note" data-testid="widget-restricted">
        {d.message}
      </p>
    );
  if (d.status === "error") return <p className="error-note">{d.message}</p>;
  const data = d.data as Record<string, unknown>;
  switch (w.widget_type) {
    case "chart": {
      const view = data as unknown as ChartView;
      return (
        <>
          <span className="muted" data-testid="widget-total">
            {formatValue(view.total, view.measure.unit)}
            {view.measure.unit === "minutes" ? "" : ` ${view.measure.unit}`} in all
          </span>
          <Suspense fallback={<Spinner label="Loading the chart" />}>
            <ChartBox view={view} kind={chartKind(w, view)} label={w.title} exportName={w.title} />
          </Suspense>
        </>
      );
    }
    case "number": {
      const m = data.measure as { unit: string; name: string };
      if (typeof data.value !== "number" || !m) return <p className="muted">No value.</p>;
      return (
        <div className="widget-number">
          <strong data-testid={`number-${w.title}`}>{formatValue(data.value as number, m.unit)}</strong>
          <span className="muted">{m.name}</span>
        </div>
      );
    }
    case "overview":
      return <OverviewCards o={data as unknown as Schemas["OverviewView"]} />;
    case "project_stats":
      return <StatsTable s={data as unknown as Schemas["WorkItemStatsView"]} />;
    case "time_summary":
      return <TimeBars data={data as never} />;
    case "metric":
      return <MetricCard m={data as unknown as Metric} />;
    case "text":
      return <p className="widget-text">{String(data.text ?? "")}</p>;
    default:
      return <p className="muted">This Keel does not draw {w.widget_type} widgets.</p>;
  }
}

type Position = Widget["position"];
type WidgetType = Schemas["WidgetType"];
type ConfigField = WidgetType["fields"][number];

const CHART_TYPES: [string, string][] = [
  ["", "As the data suggests"],
  ["bar", "Bars"],
  ["stacked", "Stacked bars"],
  ["line", "Line"],
  ["area", "Area"],
  ["donut", "Donut"],
];
const INTERVALS = ["day", "week", "month", "year"];

/** One field of a widget type's config, drawn from the registry's description of it. */
function ConfigInput({ f, value, set, metrics }: { f: ConfigField; value: string; set: (v: string) => void; metrics: { id: string; name: string }[] }) {
  const label = `${f.key.replace(/_/g, " ").replace(/^./, (c) => c.toUpperCase())}${f.required ? "" : " (optional)"}`;
  const opt = (pairs: [string, string][], none?: string) => (
    <>
      {none !== undefined ? <option value="">{none}</option> : null}
      {pairs.map(([k, n]) => (
        <option key={k} value={k}>
          {n}
        </option>
      ))}
    </>
  );
  const onChange = (e: { target: { value: string } }) => set(e.target.value);
  switch (f.kind) {
    case "axis":
      return (
        <SelectField label={label} value={value} onChange={onChange} title={f.description}>
          {opt(AXES, f.required ? undefined : "—")}
        </SelectField>
      );
    case "measure":
      return (
        <SelectField label={label} value={value} onChange={onChange} title={f.description}>
          {opt(MEASURES, "Work items (the default)")}
        </SelectField>
      );
    case "interval":
      return (
        <SelectField label={label} value={value} onChange={onChange} title={f.description}>
          {opt(INTERVALS.map((i) => [i, i]), "month (the default)")}
        </SelectField>
      );
    case "choice":
      return (
        <SelectField label={label} value={value} onChange={onChange} title={f.description}>
          {opt(f.values.map((v) => [v, v]), "the default")}
        </SelectField>
      );
    case "metric":
      return (
        <SelectField label={label} value={value} onChange={onChange} title={f.description}>
          {opt(metrics.map((m) => [m.id, m.name]), "Pick a metric")}
        </SelectField>
      );
    case "date":
      return <Field label={label} type="date" value={value} onChange={onChange} hint={f.description} />;
    case "number":
      return <Field label={label} type="number" min={1} value={value} onChange={onChange} hint={f.description} />;
    case "text":
      return (
        <div className="field">
          <label htmlFor={`cfg-${f.key}`}>{label}</label>
          <textarea id={`cfg-${f.key}`} value={value} onChange={onChange} maxLength={5000} rows={4} />
        </div>
      );
    default:
      return <Field label={label} value={value} onChange={onChange} hint={f.description} />;
  }
}

/**
 * Adds a widget, or changes one: its type from the registry (`GET /dashboard-widget-types`),
 * its title, its type's settings and how a chart draws, with a live preview of its data as
 * the server computes it (nothing is written until it is saved).
 */
function WidgetEditor({ d, widget, onDone }: { d: Dashboard; widget: Widget | null; onDone: () => void }) {
  const { slug = "" } = useParams();
  const qc = useQueryClient();
  const types = useQuery({ queryKey: ["widget-types"], queryFn: () => unwrap(client.GET("/api/v1/dashboard-widget-types")) });
  const metrics = useQuery({
    queryKey: ["metrics", slug],
    queryFn: () => unwrap(client.GET("/api/v1/workspaces/{slug}/metrics", { params: { path: { slug } } })),
  });
  const [kind, setKind] = useState(widget?.widget_type ?? "chart");
  const [title, setTitle] = useState(widget?.title ?? "");
  const [config, setConfig] = useState<Record<string, string>>(() =>
    Object.fromEntries(Object.entries((widget?.config ?? { x_axis: "PRIORITY" }) as Record<string, unknown>).map(([k, v]) => [k, String(v)])),
  );
  const [chartType, setChartType] = useState(widget?.chart_type ?? "");
  const t = types.data?.find((x) => x.key === kind);
  // The config as the server takes it: only the type's fields (and the filters it keeps), numbers as numbers.
  const body = (() => {
    const c: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(config)) {
      const f = t?.fields.find((x) => x.key === k);
      if (v === "") continue;
      if (f) c[k] = f.kind === "number" ? Number(v) : v;
      // Before the registry has loaded, the draft as it is (its keys are the type's own).
      else if (!t || t.filters) c[k] = v;
    }
    return { widget_type: kind, title: title || undefined, config: c, chart_type: kind === "chart" && chartType ? chartType : null };
  })();
  // The preview asks again a moment after the last change (not for the title, drawn here).
  const next = JSON.stringify({ ...body, title: undefined });
  const [wanted, setWanted] = useState(next);
  useEffect(() => {
    const t = setTimeout(() => setWanted(next), 300);
    return () => clearTimeout(t);
  }, [next]);
  const preview = useQuery({
    queryKey: ["widget-preview", slug, d.id, wanted],
    enabled: !!t,
    placeholderData: keepPreviousData,
    retry: false,
    queryFn: () =>
      unwrap(
        client.POST("/api/v1/workspaces/{slug}/dashboards/{dashboard_id}/widgets/preview", {
          params: { path: { slug, dashboard_id: d.id } },
          body: JSON.parse(wanted) as never,
        }),
      ),
  });
  const save = useMutation({
    mutationFn: () => {
      if (widget)
        return unwrap(
          client.PATCH("/api/v1/workspaces/{slug}/dashboards/{dashboard_id}/widgets/{widget_id}", {
            params: { path: { slug, dashboard_id: d.id, widget_id: widget.id } },
            // The schema types a free-form object as one of nothing; the server checks it.
            body: { title: body.title ?? t?.name, config: body.config as never, chart_type: body.chart_type },
          }),
        );
      return unwrap(client.POST("/api/v1/workspaces/{slug}/dashboards/{dashboard_id}/widgets", { params: { path: { slug, dashboard_id: d.id } }, body: { ...body, config: body.config as never } }));
    },
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: ["dashboard", slug, d.id] });
      void qc.invalidateQueries({ queryKey: ["dashboard-data", slug, d.id] });
      onDone();
    },
  });
  const errs = fieldsOf(save.error);
  const pick = (k: string) => {
    setKind(k);
    const nt = types.data?.find((x) => x.key === k);
    // A chart needs its x axis; other types start empty.
    setConfig(k === "chart" ? { x_axis: "PRIORITY" } : nt?.fields.some((f) => f.key === "text") ? { text: "" } : {});
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    save.mutate();
  };
  const fake: Widget = {
    id: "preview",
    dashboard_id: d.id,
    widget_type: kind,
    title: title || t?.name || kind,
    config: body.config as Widget["config"],
    position: { x: 0, y: 0, w: t?.default_w ?? 12, h: t?.default_h ?? 8 },
    sort_order: 0,
    refresh_seconds: 300,
    is_visible: true,
    chart_type: body.chart_type,
    updated_at: "",
  };
  return (
    <form className="card widget-editor" aria-label={widget ? `Edit ${widget.title}` : "Add a widget"} onSubmit={submit}>
      <h2 className="card-title">{widget ? `Edit ${widget.title}` : "Add a widget"}</h2>
      <div className="widget-editor-body">
        <div className="widget-editor-form">
          {widget ? null : (
            <fieldset className="widget-types">
              <legend>Type</legend>
              {(types.data ?? []).map((x) => (
                <label key={x.key} className={`widget-type${x.key === kind ? " picked" : ""}`} title={x.description}>
                  <input type="radio" name="widget-type" value={x.key} checked={x.key === kind} onChange={() => pick(x.key)} />
                  <strong>{x.name}</strong>
                  <span className="muted">{x.description}</span>
                </label>
              ))}
            </fieldset>
          )}
          <Field label="Title" value={title} onChange={(e) => setTitle(e.target.value)} placeholder={t?.name} maxLength={255} error={errs.title} />
          {(t?.fields ?? []).map((f) => (
            <ConfigInput key={`${kind}-${f.key}`} f={f} value={config[f.key] ?? ""} set={(v) => setConfig({ ...config, [f.key]: v })} metrics={metrics.data ?? []} />
          ))}
          {t?.filters ? (
            <>
              <SelectField label="Priority filter" value={config.priority ?? ""} onChange={(e) => setConfig({ ...config, priority: e.target.value })}>
                <option value="">Any priority</option>
                {["urgent", "high", "medium", "low", "none"].map((p) => (
                  <option key={p} value={p}>
                    {p}
                  </option>
                ))}
              </SelectField>
              <SelectField label="State filter" value={config.state_group ?? ""} onChange={(e) => setConfig({ ...config, state_group: e.target.value })}>
                <option value="">Any state</option>
                <option value="backlog,unstarted,started">Open</option>
                <option value="started">Started</option>
                <option value="completed">Completed</option>
              </SelectField>
            </>
          ) : null}
          {kind === "chart" ? (
            <SelectField label="Drawn as" value={chartType} onChange={(e) => setChartType(e.target.value)}>
              {CHART_TYPES.map(([k, n]) => (
                <option key={k} value={k}>
                  {n}
                </option>
              ))}
            </SelectField>
          ) : null}
          {errs.config ? <p className="field-error">{errs.config}</p> : null}
          <ErrorNote error={save.error && Object.keys(errs).length === 0 ? save.error : null} />
          <div className="row">
            <button type="button" onClick={onDone}>
              Cancel
            </button>
            <button type="submit" className="primary" disabled={save.isPending}>
              {widget ? "Save widget" : "Add widget"}
            </button>
          </div>
        </div>
        <section className="card dash-widget widget-preview" aria-label="Preview" data-testid="widget-preview">
          <h3 className="card-title">{fake.title}</h3>
          <div className="dash-widget-body">
            {preview.isError ? (
              <p className="error-note">{fieldsOf(preview.error).config ?? (preview.error as Error).message}</p>
            ) : (
              // The last answer stays on screen while the next loads, but only for the same type.
              <WidgetBody w={fake} d={preview.data?.widget_type === kind ? preview.data : undefined} />
            )}
          </div>
        </section>
      </div>
    </form>
  );
}

/** Moves (arrows) or resizes (Shift and arrows) a widget by one cell, inside the grid. */
function nudge(p: Position, key: string, resize: boolean): Position | null {
  const steps: Record<string, [number, number]> = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };
  const d = steps[key];
  if (!d) return null;
  const [dx, dy] = d;
  if (resize) {
    const w = Math.min(Math.max(1, p.w + dx), COLS - p.x);
    const h = Math.min(Math.max(1, p.h + dy), 100);
    return { ...p, w, h };
  }
  return { ...p, x: Math.min(Math.max(0, p.x + dx), COLS - p.w), y: Math.max(0, p.y + dy) };
}

/**
 * The grid being arranged: widgets dragged by their title bar and resized by their corner
 * (react-grid-layout), or moved with the arrow keys on the title bar (Shift resizes). Nothing
 * is written until the layout is saved; saving keeps a version to restore.
 */
function EditGrid({ d, onDone }: { d: Dashboard; onDone: () => void }) {
  const { slug = "" } = useParams();
  const qc = useQueryClient();
  const widgets = (d.widgets ?? []).filter((w) => w.is_visible);
  const [items, setItems] = useState<Layout>(() => widgets.map((w) => ({ i: w.id, ...w.position })));
  const { width, containerRef, mounted } = useContainerWidth();
  const save = useMutation({
    mutationFn: () => {
      const moved = items
        .map((it) => ({ id: it.i, position: { x: it.x, y: it.y, w: it.w, h: it.h } }))
        .filter((m) => {
          const p = widgets.find((w) => w.id === m.id)?.position;
          return p && (p.x !== m.position.x || p.y !== m.position.y || p.w !== m.position.w || p.h !== m.position.h);
        });
      return unwrap(
        client.PUT("/api/v1/workspaces/{slug}/dashboards/{dashboard_id}/layout", {
          params: { path: { slug, dashboard_id: d.id } },
          body: { widgets: moved },
        }),
      );
    },
    onSuccess: (saved) => {
      qc.setQueryData(["dashboard", slug, d.id], saved);
      void qc.invalidateQueries({ queryKey: ["dashboard-layouts", slug, d.id] });
      onDone();
    },
  });
  const onKey = (e: KeyboardEvent, id: string) => {
    if (!nudge({ x: 0, y: 0, w: 1, h: 1 }, e.key, e.shiftKey)) return;
    e.preventDefault();
    const resize = e.shiftKey;
    const key = e.key;
    setItems((cur) =>
      cur.map((x) => {
        const next = x.i === id ? nudge(x, key, resize) : null;
        return next ? { ...x, ...next } : x;
      }),
    );
  };
  return (
    <>
      <div className="row dash-edit-bar" role="toolbar" aria-label="Arranging the dashboard">
        <span className="muted">Drag a widget by its title, resize it by its corner, or focus its title and use the arrow keys (Shift resizes).</span>
        <button type="button" onClick={onDone}>
          Cancel
        </button>
        <button type="button" className="primary" disabled={save.isPending} onClick={() => save.mutate()}>
          Save layout
        </button>
      </div>
      <ErrorNote error={save.error} />
      <div ref={containerRef} className="dash-rgl" data-testid="dash-edit-grid">
        {mounted ? (
          <GridLayout
            width={width}
            // Where the page shows them: nothing moves that nobody moved (no compaction), and no
            // widget grows past what the server keeps (100 rows).
            layout={items.map((it) => ({ ...it, maxH: 100 }))}
            compactor={noCompactor}
            gridConfig={{ cols: COLS, rowHeight: ROW, margin: [GAP, GAP], containerPadding: [0, 0] }}
            dragConfig={{ enabled: true, handle: ".dash-widget-handle" }}
            resizeConfig={{ enabled: true, handles: ["se"] }}
            onLayoutChange={(l: Layout) => setItems(l.map((it: LayoutItem) => ({ i: it.i, x: it.x, y: it.y, w: it.w, h: it.h })))}
          >
            {widgets.map((w) => (
              <section key={w.id} className="card dash-widget editing" aria-label={w.title} data-testid={`edit-${w.widget_type}`}>
                <h2
                  className="card-title dash-widget-handle"
                  tabIndex={0}
                  aria-describedby="dash-keys"
                  onKeyDown={(e) => onKey(e, w.id)}
                  data-testid={`handle-${w.title}`}
                >
                  <span aria-hidden="true">⠿ </span>
                  {w.title}
                </h2>
                <p className="muted dash-widget-size" data-testid={`size-${w.title}`}>
                  {(() => {
                    const it = items.find((x) => x.i === w.id);
                    return it ? `${it.w} × ${it.h} at column ${it.x + 1}, row ${it.y + 1}` : "";
                  })()}
                </p>
              </section>
            ))}
          </GridLayout>
        ) : null}
      </div>
      <p id="dash-keys" className="sr-only">
        Arrow keys move the widget one cell; Shift and the arrow keys resize it.
      </p>
    </>
  );
}

/** The dashboard's kept layouts, newest first, each one restorable. */
function LayoutHistory({ d, onRestored }: { d: Dashboard; onRestored: () => void }) {
  const { slug = "" } = useParams();
  const qc = useQueryClient();
  const layouts = useQuery({
    queryKey: ["dashboard-layouts", slug, d.id],
    queryFn: () => unwrap(client.GET("/api/v1/workspaces/{slug}/dashboards/{dashboard_id}/layouts", { params: { path: { slug, dashboard_id: d.id } } })),
  });
  const restore = useMutation({
    mutationFn: (layout: string) =>
      unwrap(
        client.POST("/api/v1/workspaces/{slug}/dashboards/{dashboard_id}/layouts/{layout_id}/restore", {
          params: { path: { slug, dashboard_id: d.id, layout_id: layout } },
        }),
      ),
    onSuccess: (saved) => {
      qc.setQueryData(["dashboard", slug, d.id], saved);
      void qc.invalidateQueries({ queryKey: ["dashboard-layouts", slug, d.id] });
      onRestored();
    },
  });
  // A version is current when every widget sits where it put it (a widget added, moved or
  // deleted since makes none current).
  const isCurrent = (p: Record<string, Position>) => {
    const ws = d.widgets ?? [];
    return ws.length === Object.keys(p).length && ws.every((w) => {
      const q = p[w.id];
      return q && q.x === w.position.x && q.y === w.position.y && q.w === w.position.w && q.h === w.position.h;
    });
  };
  if (layouts.isPending) return <Spinner label="Loading the layouts" />;
  if (layouts.isError) return <ErrorNote error={layouts.error} retry={() => void layouts.refetch()} />;
  return (
    <section className="card" aria-label="Layout history">
      <h2 className="card-title">Layout history</h2>
      <ErrorNote error={restore.error} />
      {layouts.data.length === 0 ? (
        <p className="muted">No layout saved yet: arrange the widgets and save, and each saved layout is kept here.</p>
      ) : (
        <ol className="layout-history">
          {layouts.data.map((l) => (
            <li key={l.id} data-testid={`layout-v${l.version}`}>
              <span className="layout-thumb" aria-hidden="true">
                {Object.values(l.positions as Record<string, Position>).map((p, k) => (
                  <span key={k} style={{ left: `${(p.x / COLS) * 100}%`, width: `${(p.w / COLS) * 100}%`, top: p.y * 3, height: p.h * 3 }} />
                ))}
              </span>
              <span>
                <strong>Version {l.version}</strong> <span className="muted">{l.note}</span>
                <br />
                <span className="muted">{formatDate(l.created_at)}</span>
              </span>
              {isCurrent(l.positions as Record<string, Position>) ? (
                <span className="badge">current</span>
              ) : (
                <button type="button" disabled={!d.can_edit || restore.isPending} onClick={() => restore.mutate(l.id)}>
                  Restore version {l.version}
                </button>
              )}
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}

/** The caller's own choices about the dashboard: a favourite, and the one they open first. */
function Choices({ d }: { d: Dashboard }) {
  const { slug = "" } = useParams();
  const qc = useQueryClient();
  const choose = useMutation({
    mutationFn: ({ what, on }: { what: "favorite" | "my-default"; on: boolean }) => {
      const params = { params: { path: { slug, dashboard_id: d.id } } };
      if (what === "favorite")
        return unwrap(on ? client.PUT("/api/v1/workspaces/{slug}/dashboards/{dashboard_id}/favorite", params) : client.DELETE("/api/v1/workspaces/{slug}/dashboards/{dashboard_id}/favorite", params));
      return unwrap(on ? client.PUT("/api/v1/workspaces/{slug}/dashboards/{dashboard_id}/my-default", params) : client.DELETE("/api/v1/workspaces/{slug}/dashboards/{dashboard_id}/my-default", params));
    },
    onSuccess: (v) => {
      qc.setQueryData(["dashboard", slug, d.id], (old: Dashboard | undefined) => (old ? { ...old, is_favorite: v.is_favorite, is_my_default: v.is_my_default } : v));
      void qc.invalidateQueries({ queryKey: ["dashboards", slug] });
    },
  });
  return (
    <div className="row dash-choices">
      <button
        type="button"
        className="icon-text"
        aria-pressed={d.is_favorite}
        disabled={choose.isPending}
        onClick={() => choose.mutate({ what: "favorite", on: !d.is_favorite })}
        title={d.is_favorite ? "Take off your favourites" : "Add to your favourites"}
      >
        <span aria-hidden="true">{d.is_favorite ? "★" : "☆"}</span> Favourite
      </button>
      <button type="button" aria-pressed={d.is_my_default} disabled={choose.isPending} onClick={() => choose.mutate({ what: "my-default", on: !d.is_my_default })}>
        {d.is_my_default ? "Opens first for you" : "Open this first"}
      </button>
      <ErrorNote error={choose.error} />
    </div>
  );
}

/** Export (a JSON file of the dashboard) and import (a new dashboard from one), premium. An
 * import with problems lists each with where it is, and makes nothing. */
function Transfer({ d, slug }: { d: Dashboard; slug: string }) {
  const qc = useQueryClient();
  const nav = useNavigate();
  const exp = useMutation({
    mutationFn: () => unwrap(client.GET("/api/v1/workspaces/{slug}/dashboards/{dashboard_id}/export", { params: { path: { slug, dashboard_id: d.id } } })),
    onSuccess: (doc) => {
      const url = URL.createObjectURL(new Blob([JSON.stringify(doc, null, 2)], { type: "application/json" }));
      const a = document.createElement("a");
      a.href = url;
      a.download = `${d.name.replace(/[^\p{L}\p{N}]+/gu, "-").replace(/^-|-$/g, "") || "dashboard"}.keel-dashboard.json`;
      document.body.append(a);
      a.click();
      a.remove();
      // Revoked once the download has taken it (at once, some browsers would cancel it).
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
    },
  });
  const imp = useMutation({
    mutationFn: async (file: File) => {
      let document: unknown;
      try {
        document = JSON.parse(await file.text());
      } catch {
        throw new ApiError(422, "import_unreadable", "That file is not JSON: export a dashboard to get one.");
      }
      return unwrap(client.POST("/api/v1/workspaces/{slug}/dashboards/import", { params: { path: { slug } }, body: { document: document as never } }));
    },
    onSuccess: (made) => {
      void qc.invalidateQueries({ queryKey: ["dashboards", slug] });
      nav(`/w/${slug}/dashboards/${made.id}`);
    },
  });
  const problems = imp.error instanceof ApiError ? imp.error.rows : [];
  return (
    <>
      <button type="button" disabled={exp.isPending} onClick={() => exp.mutate()}>
        Export
      </button>
      <label className="button">
        Import…
        <input
          type="file"
          accept="application/json,.json"
          className="sr-only"
          aria-label="Import a dashboard"
          onChange={(e) => {
            const f = e.target.files?.[0];
            e.target.value = "";
            if (f) imp.mutate(f);
          }}
        />
      </label>
      <ErrorNote error={exp.error} />
      {imp.error ? (
        <div role="alert" className="error-note import-problems" data-testid="import-problems">
          <p>{(imp.error as Error).message}</p>
          {problems.length > 0 ? (
            <ul>
              {problems.map((p, i) => (
                <li key={i}>
                  <code>{p.column}</code>: {p.message}
                </li>
              ))}
            </ul>
          ) : null}
        </div>
      ) : null}
    </>
  );
}

/** Makes a dashboard: one's own, or (admins) shared with the workspace. Premium. */
function NewDashboard({ slug, admin, onDone }: { slug: string; admin: boolean; onDone: (id?: string) => void }) {
  const qc = useQueryClient();
  const [name, setName] = useState("");
  const [shared, setShared] = useState(false);
  const make = useMutation({
    mutationFn: () => unwrap(client.POST("/api/v1/workspaces/{slug}/dashboards", { params: { path: { slug } }, body: { name, is_shared: shared } })),
    onSuccess: (d) => {
      void qc.invalidateQueries({ queryKey: ["dashboards", slug] });
      onDone(d.id);
    },
  });
  const errs = fieldsOf(make.error);
  return (
    <form
      className="card row new-dashboard"
      aria-label="New dashboard"
      onSubmit={(e) => {
        e.preventDefault();
        make.mutate();
      }}
    >
      <Field label="Name" value={name} onChange={(e) => setName(e.target.value)} error={errs.name} required maxLength={255} />
      {admin ? (
        <label className="check">
          <input type="checkbox" checked={shared} onChange={(e) => setShared(e.target.checked)} /> Shared with the workspace
        </label>
      ) : null}
      <button type="button" onClick={() => onDone()}>
        Cancel
      </button>
      <button type="submit" className="primary" disabled={make.isPending}>
        Create dashboard
      </button>
      <ErrorNote error={make.error && Object.keys(errs).length === 0 ? make.error : null} />
    </form>
  );
}

/** A dashboard's widgets on the 24-column grid, where their positions put them. */
function Grid({ d, data, onEdit }: { d: Dashboard; data: WidgetData[] | undefined; onEdit?: (w: Widget) => void }) {
  const { slug = "" } = useParams();
  const qc = useQueryClient();
  const remove = useMutation({
    mutationFn: (id: string) => unwrap(client.DELETE("/api/v1/workspaces/{slug}/dashboards/{dashboard_id}/widgets/{widget_id}", { params: { path: { slug, dashboard_id: d.id, widget_id: id } } })),
    onSuccess: () => void qc.invalidateQueries({ queryKey: ["dashboard", slug, d.id] }),
  });
  const widgets = (d.widgets ?? []).filter((w) => w.is_visible);
  if (widgets.length === 0) return <Empty title="No widgets yet">This dashboard has nothing on it.</Empty>;
  return (
    <div className="dash-grid" style={{ gridAutoRows: `${ROW}px` }} aria-label={`${d.name} widgets`}>
      {widgets.map((w) => (
        <section
          key={w.id}
          className="card dash-widget"
          aria-label={w.title}
          data-testid={`widget-${w.widget_type}`}
          style={{ gridColumn: `${w.position.x + 1} / span ${w.position.w}`, gridRow: `${w.position.y + 1} / span ${w.position.h}` }}
        >
          <div className="dash-widget-head">
            <h2 className="card-title">{w.title}</h2>
            {onEdit ? (
              <span className="dash-widget-tools">
                <button type="button" className="link" aria-label={`Edit ${w.title}`} onClick={() => onEdit(w)}>
                  Edit
                </button>
                <button
                  type="button"
                  className="link danger"
                  aria-label={`Remove ${w.title}`}
                  disabled={remove.isPending}
                  onClick={() => {
                    if (window.confirm(`Remove the widget ${w.title}?`)) remove.mutate(w.id);
                  }}
                >
                  Remove
                </button>
              </span>
            ) : null}
          </div>
          <div className="dash-widget-body">
            <WidgetBody w={w} d={data?.find((x) => x.widget_id === w.id)} />
          </div>
        </section>
      ))}
    </div>
  );
}

export function DashboardsPage() {
  const { slug = "", id } = useParams();
  const nav = useNavigate();
  const list = useQuery({
    queryKey: ["dashboards", slug],
    queryFn: () => unwrap(client.GET("/api/v1/workspaces/{slug}/dashboards", { params: { path: { slug } } })),
  });
  const current = id ?? list.data?.[0]?.id;
  const dash = useQuery({
    queryKey: ["dashboard", slug, current],
    enabled: !!current,
    queryFn: () => unwrap(client.GET("/api/v1/workspaces/{slug}/dashboards/{dashboard_id}", { params: { path: { slug, dashboard_id: current! } } })),
  });
  const data = useQuery({
    queryKey: ["dashboard-data", slug, current],
    enabled: !!current,
    // The shortest refresh rate of its widgets (60 s at least, as the server holds them).
    refetchInterval: () => Math.max(60, Math.min(...(dash.data?.widgets ?? []).map((w) => w.refresh_seconds), 300)) * 1000,
    queryFn: () => unwrap(client.GET("/api/v1/workspaces/{slug}/dashboards/{dashboard_id}/data", { params: { path: { slug, dashboard_id: current! } } })),
  });
  const plan = useQuery({
    queryKey: ["plan", slug],
    queryFn: () => unwrap(client.GET("/api/v1/workspaces/{slug}/plan", { params: { path: { slug } } })),
  });
  const [editing, setEditing] = useState(false);
  const [history, setHistory] = useState(false);
  const [widgetEditor, setWidgetEditor] = useState<Widget | "new" | null>(null);
  const [making, setMaking] = useState(false);
  // An editor open on one dashboard does not follow to another.
  useEffect(() => {
    setWidgetEditor(null);
    setEditing(false);
  }, [current]);
  const ws = useWorkspace(slug);
  useTitle(dash.data ? dash.data.name : "Dashboards");
  if (list.isPending) return <Spinner label="Loading dashboards" />;
  if (list.isError) return <ErrorNote error={list.error} retry={() => void list.refetch()} />;
  const premium = plan.data?.features.find((f) => f.key === "dashboards")?.enabled ?? false;
  const exportable = plan.data?.features.find((f) => f.key === "dashboard_export")?.enabled ?? false;
  return (
    <div className="page">
      <header className="page-head">
        <h1>Dashboards</h1>
        <label className="dash-pick">
          <span className="sr-only">Dashboard</span>
          <select value={current ?? ""} onChange={(e) => nav(`/w/${slug}/dashboards/${e.target.value}`)} aria-label="Dashboard">
            {list.data.map((d) => (
              <option key={d.id} value={d.id}>
                {d.is_favorite ? "★ " : ""}
                {d.name}
                {d.is_my_default ? " (my default)" : d.is_default ? " (default)" : d.is_shared ? " (shared)" : ""}
              </option>
            ))}
          </select>
        </label>
        {dash.data ? <Choices d={dash.data} /> : null}
        {premium && !making ? (
          <button type="button" onClick={() => setMaking(true)}>
            New dashboard
          </button>
        ) : null}
      </header>
      {making ? (
        <NewDashboard
          slug={slug}
          admin={ws.data?.role === "owner" || ws.data?.role === "admin"}
          onDone={(id) => {
            setMaking(false);
            if (id) nav(`/w/${slug}/dashboards/${id}`);
          }}
        />
      ) : null}
      {!premium ? (
        <p className="locked-note" data-testid="dashboards-locked">
          More dashboards, shared or your own, come with the premium plan. <Link to={`/w/${slug}/plan`}>See the plan</Link>
        </p>
      ) : null}
      {dash.data?.locked ? (
        <p className="locked-note" data-testid="dashboard-read-only">
          Read-only: this dashboard needs the premium plan to change. <Link to={`/w/${slug}/plan`}>See the plan</Link>
        </p>
      ) : null}
      {dash.isError ? <ErrorNote error={dash.error} retry={() => void dash.refetch()} /> : null}
      {data.isError ? <ErrorNote error={data.error} retry={() => void data.refetch()} /> : null}
      {dash.data ? (
        <>
          <div className="row dash-bar">
            {dash.data.description ? <p className="muted">{dash.data.description}</p> : <span />}
            {dash.data.can_edit && !editing ? (
              <span className="row">
                <button type="button" onClick={() => setWidgetEditor("new")}>
                  Add widget
                </button>
                <button type="button" onClick={() => setEditing(true)}>
                  Arrange widgets
                </button>
              </span>
            ) : null}
            <button type="button" aria-expanded={history} onClick={() => setHistory(!history)}>
              Layout history
            </button>
            {exportable ? <Transfer key={dash.data.id} d={dash.data} slug={slug} /> : null}
          </div>
          {history ? <LayoutHistory key={dash.data.updated_at} d={dash.data} onRestored={() => setEditing(false)} /> : null}
          {widgetEditor !== null ? (
            <WidgetEditor key={widgetEditor === "new" ? "new" : widgetEditor.id} d={dash.data} widget={widgetEditor === "new" ? null : widgetEditor} onDone={() => setWidgetEditor(null)} />
          ) : null}
          {editing ? (
            <EditGrid key={dash.data.id} d={dash.data} onDone={() => setEditing(false)} />
          ) : (
            <Grid d={dash.data} data={data.data?.widgets} onEdit={dash.data.can_edit ? (w) => setWidgetEditor(w) : undefined} />
          )}
        </>
      ) : (
        <Spinner label="Loading the dashboard" />
      )}
    </div>
  );
}
