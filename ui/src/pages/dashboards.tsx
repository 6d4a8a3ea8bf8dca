import { Suspense } from "react";
import { Link, useNavigate, useParams } from "react-router";
import { useQuery } from "@tanstack/react-query";
import { client, unwrap, type Schemas } from "../api/client";
import { Empty, ErrorNote, Spinner, formatValue, useTitle } from "../components";
import { ChartBox, OverviewCards, StatsTable, type ChartKind, type ChartView } from "./analytics";

type Dashboard = Schemas["DashboardView"];
type Widget = Schemas["WidgetView"];
type WidgetData = Schemas["WidgetData"];

/** Pixels of one grid row; the grid has 24 columns (Grafana's convention). */
const ROW = 36;

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
                {d.name}
                {d.is_default ? " (default)" : d.is_shared ? " (shared)" : ""}
              </option>
            ))}
          </select>
        </label>
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
          {dash.data.description ? <p className="muted">{dash.data.description}</p> : null}
          <Grid d={dash.data} data={data.data?.widgets} />
        </>
      ) : (
        <Spinner label="Loading the dashboard" />
      )}
    </div>
  );
}
