import { lazy, Suspense, useMemo, useState } from "react";
import { Link, useParams } from "react-router";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { client, unwrap, type Schemas } from "../api/client";
import { Empty, ErrorNote, Field, SelectField, Spinner, formatValue, useTitle } from "../components";
import { useWorkspace } from "./workspaces";
import type { ChartKind, ChartView } from "../charts";

export type { ChartKind, ChartView } from "../charts";

/** The interactive chart (Apache ECharts), loaded when a page first shows one. */
export const ChartBox = lazy(() => import("../charts"));

type Overview = Schemas["OverviewView"];
type Stats = Schemas["WorkItemStatsView"];
type Axis = Schemas["Axis"];
type Measure = Schemas["Measure"];
type Bucket = Schemas["Bucket"];

export const AXES: [Axis, string][] = [
  ["STATES", "State"],
  ["STATE_GROUPS", "State group"],
  ["PRIORITY", "Priority"],
  ["LABELS", "Label"],
  ["ASSIGNEES", "Assignee"],
  ["DEPARTMENTS", "Department"],
  ["PROJECTS", "Project"],
  ["CYCLES", "Cycle"],
  ["MODULES", "Module"],
  ["ESTIMATE_POINTS", "Estimate points"],
  ["CREATED_BY", "Created by"],
  ["CREATED_AT", "Created"],
  ["COMPLETED_AT", "Completed"],
  ["START_DATE", "Start date"],
  ["TARGET_DATE", "Target date"],
  ["WORK_LOGGED_BY", "Logged by"],
  ["LOGGED_AT", "Logged on"],
];
export const MEASURES: [Measure, string][] = [
  ["work_item_count", "Work items"],
  ["estimate_points", "Estimate points"],
  ["estimate_time", "Estimated time"],
  ["logged_minutes", "Logged time"],
  ["pending_count", "Pending"],
  ["in_progress_count", "In progress"],
  ["completed_count", "Completed"],
  ["overrun_minutes", "Overrun"],
];
const TIME_AXES: Axis[] = ["WORK_LOGGED_BY", "LOGGED_AT"];
const DATE_AXES: Axis[] = ["CREATED_AT", "COMPLETED_AT", "START_DATE", "TARGET_DATE", "LOGGED_AT"];


/** The chart's numbers as a table: one row per bucket, one column per group. */
export function ChartTable({ view }: { view: ChartView }) {
  const unit = view.measure.unit;
  return (
    <div className="table-scroll">
      <table aria-label="Chart data">
        <thead>
          <tr>
            <th scope="col">{view.x_name}</th>
            <th scope="col" className="num">
              {view.measure.name}
            </th>
            {view.series.map((s) => (
              <th key={s.key} scope="col" className="num">
                {s.name}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {view.data.map((r) => (
            <tr key={String(r.key)}>
              <th scope="row">{String(r.name)}</th>
              <td className="num">{formatValue(Number(r.count), unit)}</td>
              {view.series.map((s) => (
                <td key={s.key} className="num">
                  {formatValue(Number(r[s.key] ?? 0), unit)}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
        <tfoot>
          <tr>
            <th scope="row">Total</th>
            <td className="num" data-testid="chart-total">
              {formatValue(view.total, unit)}
            </td>
            {view.series.map((s) => (
              <td key={s.key} />
            ))}
          </tr>
        </tfoot>
      </table>
    </div>
  );
}

function FigureCard({ title, f, unit = "work items", note }: { title: string; f: Schemas["Figure"]; unit?: string; note?: string }) {
  return (
    <div className="figure-card" aria-label={title}>
      <span className="figure-title">{title}</span>
      <strong className="figure-value" data-testid={`figure-${title}`}>
        {formatValue(f.filter_count, unit)}
      </strong>
      <span className="muted">
        of {formatValue(f.count, unit)} {note ?? "in all"}
      </span>
    </div>
  );
}

export function OverviewCards({ o }: { o: Overview }) {
  const pct = o.estimate_minutes.filter_count > 0 ? Math.round((o.estimated_logged_minutes.filter_count / o.estimate_minutes.filter_count) * 100) : null;
  return (
    <section className="figures" aria-label="Overview">
      <FigureCard title="Work items" f={o.total_work_items} />
      <FigureCard title="Open" f={o.open_work_items} />
      <FigureCard title="Completed" f={o.completed_work_items} />
      <FigureCard title="Overdue" f={o.overdue_work_items} />
      <FigureCard title="Created in range" f={o.created_work_items} note="with any filter" />
      <FigureCard title="Completed in range" f={o.completed_in_range} note="with any filter" />
      <FigureCard title="Logged in range" f={o.logged_minutes} unit="minutes" note="ever" />
      <div className="figure-card" aria-label="Estimate vs actual">
        <span className="figure-title">Estimate vs actual</span>
        <strong className="figure-value">{pct === null ? "—" : `${pct}%`}</strong>
        <span className="muted">
          {formatValue(o.estimated_logged_minutes.filter_count, "minutes")} logged of {formatValue(o.estimate_minutes.filter_count, "minutes")} estimated
        </span>
        {pct !== null ? (
          <span className="meter" aria-hidden="true">
            <span style={{ width: `${Math.min(pct, 100)}%` }} className={pct > 100 ? "over" : ""} />
          </span>
        ) : null}
      </div>
    </section>
  );
}

export function StatsTable({ s }: { s: Stats }) {
  if (s.rows.length === 0) return null;
  return (
    <section className="card" aria-label="Work-item stats">
      <h2 className="card-title">{s.by === "PROJECTS" ? "By project" : "By assignee"}</h2>
      <div className="table-scroll">
        <table>
          <thead>
            <tr>
              <th scope="col">{s.by === "PROJECTS" ? "Project" : "Assignee"}</th>
              <th scope="col">Progress</th>
              <th scope="col" className="num">Total</th>
              <th scope="col" className="num">Started</th>
              <th scope="col" className="num">Completed</th>
              <th scope="col" className="num">Overdue</th>
              <th scope="col" className="num">Logged</th>
            </tr>
          </thead>
          <tbody>
            {s.rows.map((r) => {
              const done = r.total > 0 ? Math.round((r.completed / r.total) * 100) : 0;
              return (
                <tr key={r.key}>
                  <th scope="row">{r.name}</th>
                  <td>
                    <span className="meter" role="progressbar" aria-valuenow={done} aria-valuemin={0} aria-valuemax={100} aria-label={`${r.name} completed`}>
                      <span style={{ width: `${done}%` }} />
                    </span>
                  </td>
                  <td className="num">{r.total}</td>
                  <td className="num">{r.started}</td>
                  <td className="num">{r.completed}</td>
                  <td className="num">{r.overdue}</td>
                  <td className="num">{formatValue(r.logged_minutes, "minutes")}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </section>
  );
}

interface Spec {
  x_axis: Axis;
  group_by: Axis | "";
  y_axis: Measure;
  interval: Bucket;
  priority: string;
  state_group: string;
  created_from: string;
  created_to: string;
}

const START: Spec = { x_axis: "STATE_GROUPS", group_by: "", y_axis: "work_item_count", interval: "month", priority: "", state_group: "", created_from: "", created_to: "" };

function query(s: Spec) {
  const q: Record<string, string> = { x_axis: s.x_axis, y_axis: s.y_axis, interval: s.interval };
  if (s.group_by) q.group_by = s.group_by;
  for (const k of ["priority", "state_group", "created_from", "created_to"] as const) if (s[k]) q[k] = s[k];
  return q;
}

/** Report images drawn by the server (premium `chart_images`): locked on free, with what
 * unlocks them, never a raw 402. */
function ServerImages({ slug, pid, q, kind }: { slug: string; pid?: string; q: Record<string, string>; kind: ChartKind }) {
  const plan = useQuery({
    queryKey: ["plan", slug],
    queryFn: () => unwrap(client.GET("/api/v1/workspaces/{slug}/plan", { params: { path: { slug } } })),
  });
  const [error, setError] = useState<unknown>(null);
  const feature = plan.data?.features.find((f) => f.key === "chart_images");
  if (!feature) return null;
  const serverKind = kind === "pie" ? "donut" : kind;
  const get = async (format: "png" | "svg") => {
    setError(null);
    const query = { ...q, format, kind: serverKind, width: 1200, height: 600 };
    try {
      const blob = pid
        ? await unwrap(client.GET("/api/v1/workspaces/{slug}/projects/{project_id}/analytics/charts", { params: { path: { slug, project_id: pid }, query }, parseAs: "blob" }))
        : await unwrap(client.GET("/api/v1/workspaces/{slug}/analytics/charts", { params: { path: { slug }, query }, parseAs: "blob" }));
      const url = URL.createObjectURL(blob as Blob);
      const a = document.createElement("a");
      a.href = url;
      a.download = `report-${slug}.${format}`;
      a.click();
      URL.revokeObjectURL(url);
    } catch (e) {
      setError(e);
    }
  };
  return (
    <div className="server-images" aria-label="Report images">
      {feature.enabled ? (
        <>
          <span className="muted">Report image drawn by Keel:</span>
          <button type="button" className="secondary" onClick={() => void get("png")}>
            Report PNG
          </button>
          <button type="button" className="secondary" onClick={() => void get("svg")}>
            Report SVG
          </button>
        </>
      ) : (
        <span className="locked-note" data-testid="images-locked">
          <svg width="12" height="14" viewBox="0 0 12 14" aria-hidden="true">
            <rect x="1" y="6" width="10" height="7.5" rx="1.5" fill="currentColor" />
            <path d="M3 6V4a3 3 0 0 1 6 0v2" fill="none" stroke="currentColor" strokeWidth="1.6" />
          </svg>{" "}
          Report images drawn by the server come with premium. <Link to={`/w/${slug}/plan`}>See the plan</Link>
        </span>
      )}
      <ErrorNote error={error} />
    </div>
  );
}

/** Analytics of a workspace (`/w/:slug/analytics`) or of one project (`/w/:slug/p/:pid/analytics`). */
export function AnalyticsPage() {
  const { slug = "", pid } = useParams();
  const ws = useWorkspace(slug);
  useTitle(ws.data ? `${ws.data.name} · Analytics` : "Analytics");
  const [draft, setDraft] = useState<Spec>(START);
  const [spec, setSpec] = useState<Spec>(START);
  const [kind, setKind] = useState<ChartKind>("bar");
  const [csvError, setCsvError] = useState<unknown>(null);
  const filters = useMemo(() => {
    const f: Record<string, string> = {};
    for (const k of ["priority", "state_group", "created_from", "created_to"] as const) if (spec[k]) f[k] = spec[k];
    return f;
  }, [spec]);
  const overview = useQuery({
    queryKey: ["analytics", slug, pid, "overview", filters],
    queryFn: () =>
      pid
        ? unwrap(client.GET("/api/v1/workspaces/{slug}/projects/{project_id}/analytics", { params: { path: { slug, project_id: pid }, query: { tab: "overview", ...filters } } }))
        : unwrap(client.GET("/api/v1/workspaces/{slug}/analytics", { params: { path: { slug }, query: { tab: "overview", ...filters } } })),
  });
  const stats = useQuery({
    queryKey: ["analytics", slug, pid, "work-items", filters],
    queryFn: () =>
      pid
        ? unwrap(client.GET("/api/v1/workspaces/{slug}/projects/{project_id}/analytics", { params: { path: { slug, project_id: pid }, query: { tab: "work-items", ...filters } } }))
        : unwrap(client.GET("/api/v1/workspaces/{slug}/analytics", { params: { path: { slug }, query: { tab: "work-items", ...filters } } })),
  });
  const chartQuery = (format?: "csv") => ({ ...query(spec), ...(format ? { format } : {}) });
  // The route answers JSON, or CSV with format=csv: the JSON one is asked for here.
  const chart = useQuery({
    queryKey: ["analytics-chart", slug, pid, spec],
    queryFn: async () =>
      (pid
        ? await unwrap(client.GET("/api/v1/workspaces/{slug}/projects/{project_id}/analytics/charts", { params: { path: { slug, project_id: pid }, query: chartQuery() } }))
        : await unwrap(client.GET("/api/v1/workspaces/{slug}/analytics/charts", { params: { path: { slug }, query: chartQuery() } }))) as ChartView,
    placeholderData: keepPreviousData,
  });
  const csv = async () => {
    setCsvError(null);
    try {
      const blob = pid
        ? await unwrap(client.GET("/api/v1/workspaces/{slug}/projects/{project_id}/analytics/charts", { params: { path: { slug, project_id: pid }, query: chartQuery("csv") }, parseAs: "blob" }))
        : await unwrap(client.GET("/api/v1/workspaces/{slug}/analytics/charts", { params: { path: { slug }, query: chartQuery("csv") }, parseAs: "blob" }));
      const url = URL.createObjectURL(blob as Blob);
      const a = document.createElement("a");
      a.href = url;
      a.download = `chart-${slug}.csv`;
      a.click();
      URL.revokeObjectURL(url);
    } catch (e) {
      setCsvError(e);
    }
  };
  const timeAxis = TIME_AXES.includes(draft.x_axis) || (draft.group_by !== "" && TIME_AXES.includes(draft.group_by));
  const set = (patch: Partial<Spec>) => {
    const next = { ...draft, ...patch };
    // The time axes count work logs: only logged time measures them.
    if (TIME_AXES.includes(next.x_axis) || (next.group_by !== "" && TIME_AXES.includes(next.group_by))) next.y_axis = "logged_minutes";
    if (next.group_by === next.x_axis) next.group_by = "";
    setDraft(next);
  };
  const dated = DATE_AXES.includes(draft.x_axis) || (draft.group_by !== "" && DATE_AXES.includes(draft.group_by));
  const v = chart.data;
  const empty = v && v.total === 0 && v.data.every((r) => Number(r.count) === 0);
  return (
    <>
      <header className="page-head">
        <div>
          <p className="eyebrow">
            {ws.data?.name ?? "…"}
            {pid ? (
              <>
                {" "}
                / <Link to={`/w/${slug}/p/${pid}`}>Project</Link>
              </>
            ) : null}
          </p>
          <h1>Analytics</h1>
        </div>
      </header>
      <ErrorNote error={overview.error} retry={() => void overview.refetch()} />
      {overview.isPending ? <Spinner label="Loading figures" /> : null}
      {overview.data && "total_work_items" in overview.data ? <OverviewCards o={overview.data} /> : null}
      <section className="card" aria-label="Chart builder">
        <form
          className="filters chart-form"
          onSubmit={(e) => {
            e.preventDefault();
            setSpec(draft);
          }}
        >
          <SelectField label="X axis" value={draft.x_axis} onChange={(e) => set({ x_axis: e.target.value as Axis })}>
            {AXES.map(([k, n]) => (
              <option key={k} value={k}>
                {n}
              </option>
            ))}
          </SelectField>
          <SelectField label="Group by" value={draft.group_by} onChange={(e) => set({ group_by: e.target.value as Axis | "" })}>
            <option value="">No grouping</option>
            {AXES.filter(([k]) => k !== draft.x_axis).map(([k, n]) => (
              <option key={k} value={k}>
                {n}
              </option>
            ))}
          </SelectField>
          <SelectField label="Measure" value={draft.y_axis} onChange={(e) => set({ y_axis: e.target.value as Measure })}>
            {MEASURES.filter(([k]) => !timeAxis || k === "logged_minutes").map(([k, n]) => (
              <option key={k} value={k}>
                {n}
              </option>
            ))}
          </SelectField>
          {dated ? (
            <SelectField label="Interval" value={draft.interval} onChange={(e) => set({ interval: e.target.value as Bucket })}>
              <option value="day">Day</option>
              <option value="week">Week</option>
              <option value="month">Month</option>
              <option value="year">Year</option>
            </SelectField>
          ) : null}
          <SelectField label="Priority" value={draft.priority} onChange={(e) => set({ priority: e.target.value })}>
            <option value="">Any priority</option>
            <option value="urgent">Urgent</option>
            <option value="urgent,high">Urgent or high</option>
            <option value="medium,low">Medium or low</option>
          </SelectField>
          <SelectField label="State" value={draft.state_group} onChange={(e) => set({ state_group: e.target.value })}>
            <option value="">Any state</option>
            <option value="backlog,unstarted,started">Open</option>
            <option value="started">Started</option>
            <option value="completed">Completed</option>
          </SelectField>
          <Field label="Created from" type="date" value={draft.created_from} onChange={(e) => set({ created_from: e.target.value })} />
          <Field label="Created to" type="date" value={draft.created_to} onChange={(e) => set({ created_to: e.target.value })} />
          <button type="submit">Show</button>
        </form>
        <div className="chart-kinds" role="radiogroup" aria-label="Chart type">
          {(["bar", "stacked", "line", "area", "pie"] as ChartKind[]).map((k) => (
            <label key={k} className={kind === k ? "chip on" : "chip"}>
              <input type="radio" name="kind" value={k} checked={kind === k} onChange={() => setKind(k)} />
              {k === "bar" ? "Bars" : k === "stacked" ? "Stacked" : k === "line" ? "Line" : k === "area" ? "Area" : "Donut"}
            </label>
          ))}
          <button type="button" className="secondary" onClick={() => void csv()}>
            CSV
          </button>
        </div>
        <ErrorNote error={chart.error ?? csvError} retry={() => void chart.refetch()} />
        {chart.isPending ? <Spinner label="Drawing the chart" /> : null}
        {v && empty ? (
          <Empty title="Nothing to chart">No work items match these filters.</Empty>
        ) : v ? (
          <>
            <p className="muted" role="status" data-testid="chart-summary">
              {v.measure.name} by {v.x_name.toLowerCase()}
              {v.group_by ? `, grouped` : ""}: {formatValue(v.total, v.measure.unit)}
            </p>
            <Suspense fallback={<Spinner label="Loading the chart" />}>
              <ChartBox view={v} kind={kind} label={`${v.measure.name} by ${v.x_name}`} exportName={`chart-${slug}`} />
            </Suspense>
            <ServerImages slug={slug} pid={pid} q={query(spec)} kind={kind} />
            <ChartTable view={v} />
          </>
        ) : null}
      </section>
      <ErrorNote error={stats.error} retry={() => void stats.refetch()} />
      {stats.data && "rows" in stats.data ? <StatsTable s={stats.data} /> : null}
    </>
  );
}
