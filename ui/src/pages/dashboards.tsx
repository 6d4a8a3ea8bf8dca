import { Suspense, useState, type KeyboardEvent } from "react";
import { Link, useNavigate, useParams } from "react-router";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { GridLayout, noCompactor, useContainerWidth, type Layout, type LayoutItem } from "react-grid-layout";
import "react-grid-layout/css/styles.css";
import { client, unwrap, type Schemas } from "../api/client";
import { Empty, ErrorNote, Spinner, formatDate, formatValue, useTitle } from "../components";
import { ChartBox, OverviewCards, StatsTable, type ChartKind, type ChartView } from "./analytics";

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
    case "text":
      return <p className="widget-text">{String(data.text ?? "")}</p>;
    default:
      return <p className="muted">This Keel does not draw {w.widget_type} widgets.</p>;
  }
}

type Position = Widget["position"];

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

/** A dashboard's widgets on the 24-column grid, where their positions put them. */
function Grid({ d, data }: { d: Dashboard; data: WidgetData[] | undefined }) {
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
          <h2 className="card-title">{w.title}</h2>
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
  useTitle(dash.data ? dash.data.name : "Dashboards");
  if (list.isPending) return <Spinner label="Loading dashboards" />;
  if (list.isError) return <ErrorNote error={list.error} retry={() => void list.refetch()} />;
  const premium = plan.data?.features.find((f) => f.key === "dashboards")?.enabled ?? false;
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
      </header>
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
              <button type="button" onClick={() => setEditing(true)}>
                Arrange widgets
              </button>
            ) : null}
            <button type="button" aria-expanded={history} onClick={() => setHistory(!history)}>
              Layout history
            </button>
          </div>
          {history ? <LayoutHistory key={dash.data.updated_at} d={dash.data} onRestored={() => setEditing(false)} /> : null}
          {editing ? <EditGrid key={dash.data.id} d={dash.data} onDone={() => setEditing(false)} /> : <Grid d={dash.data} data={data.data?.widgets} />}
        </>
      ) : (
        <Spinner label="Loading the dashboard" />
      )}
    </div>
  );
}
