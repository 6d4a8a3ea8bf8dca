import { useState, type FormEvent } from "react";
import { Link, useParams } from "react-router";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { client, unwrap, type Schemas } from "../api/client";
import { fieldsOf } from "../api/errors";
import { Empty, ErrorNote, Field, SelectField, Spinner, formatDate, formatValue, useTitle } from "../components";
import { useWorkspace } from "./workspaces";

export type Metric = Schemas["MetricView"];

const STATUS: Record<string, string> = {
  normal: "On track",
  warning: "Warning",
  critical: "Critical",
  no_data: "No data",
  pending: "Not computed yet",
  unresolved: "Does not resolve",
  restricted: "Restricted",
  disabled: "Disabled",
};

/** A metric's number as its format shows it: a share with "%", minutes as hours. */
export function formatMetric(v: number, format: string, unit: string): string {
  if (format === "percentage") return `${v.toLocaleString(undefined, { maximumFractionDigits: 1 })}%`;
  if (format === "duration") return formatValue(v, "minutes");
  return `${v.toLocaleString(undefined, { maximumFractionDigits: 2 })}${unit ? ` ${unit}` : ""}`;
}

const bad = (m: Metric) => (m.direction === "below" ? "≤" : "≥");

/**
 * One metric as a card (seed 004): its value large, coloured by its status, the change
 * against the previous period (or refresh), progress toward its target, its levels, and
 * when it was computed. Admins compute it again from the card.
 */
export function MetricCard({ m, onRefresh, refreshing }: { m: Metric; onRefresh?: () => void; refreshing?: boolean }) {
  const shown = m.value != null;
  const up = (m.change ?? 0) > 0;
  const target = m.target_value;
  const pct = shown && target ? Math.max(0, Math.min(100, (m.value! / target) * 100)) : null;
  return (
    <article className={`metric-card status-${m.status}`} aria-label={m.name} data-testid={`metric-${m.name}`} data-status={m.status}>
      <header className="metric-head">
        <span className="metric-name">{m.name}</span>
        <span className={`badge metric-status ${m.status}`}>{STATUS[m.status] ?? m.status}</span>
      </header>
      <strong className="metric-value" data-testid="metric-value">
        {shown ? formatMetric(m.value!, m.format, m.unit) : "—"}
      </strong>
      {m.change != null && m.change !== 0 ? (
        <span className={`metric-change ${up === (m.direction === "below") ? "good" : "bad"}`}>
          <span aria-hidden="true">{up ? "▲" : "▼"} </span>
          {up ? "up" : "down"} {formatMetric(Math.abs(m.change), m.format === "percentage" ? "number" : m.format, m.format === "percentage" ? "points" : m.unit)}{" "}
          {m.compared_to === "previous_period" ? "on the period before" : "since the last refresh"}
        </span>
      ) : m.change === 0 ? (
        <span className="metric-change muted">no change {m.compared_to === "previous_period" ? "on the period before" : "since the last refresh"}</span>
      ) : null}
      {pct != null ? (
        <div className="metric-target">
          <span className="meter" role="progressbar" aria-label={`${m.name} toward its target`} aria-valuenow={Math.round(pct)} aria-valuemin={0} aria-valuemax={100}>
            <span style={{ width: `${pct}%` }} />
          </span>
          <span className="muted">target {formatMetric(target!, m.format, m.unit)}</span>
        </div>
      ) : null}
      {m.warning_threshold != null || m.critical_threshold != null ? (
        <p className="muted metric-levels">
          {m.warning_threshold != null ? `warning ${bad(m)} ${formatMetric(m.warning_threshold, m.format, m.unit)}` : ""}
          {m.warning_threshold != null && m.critical_threshold != null ? " · " : ""}
          {m.critical_threshold != null ? `critical ${bad(m)} ${formatMetric(m.critical_threshold, m.format, m.unit)}` : ""}
          {m.thresholds_locked ? " (premium: not applied)" : ""}
        </p>
      ) : null}
      {m.message ? <p className="metric-message">{m.message}</p> : null}
      {m.scope === "public_projects" ? <p className="muted metric-message">Counts the public projects: you are not in every private one.</p> : null}
      <footer className="metric-foot muted">
        <span>{m.computed_at ? `computed ${formatDate(m.computed_at)}` : "not computed yet"}</span>
        {onRefresh ? (
          <button type="button" className="link" disabled={refreshing} onClick={onRefresh} aria-label={`Refresh ${m.name}`}>
            Refresh
          </button>
        ) : null}
      </footer>
    </article>
  );
}

const MEASURES: [string, string][] = [
  ["work_item_count", "Work items"],
  ["pending_count", "Pending work items"],
  ["in_progress_count", "Work items in progress"],
  ["completed_count", "Completed work items"],
  ["estimate_points", "Estimate points"],
  ["estimate_time", "Estimated time"],
  ["logged_minutes", "Logged time"],
  ["overrun_minutes", "Overrun"],
];
const PERIODS: [string, string][] = [
  ["", "All time"],
  ["today", "Today"],
  ["this_week", "This week"],
  ["this_month", "This month"],
  ["this_quarter", "This quarter"],
  ["this_year", "This year"],
  ["last_7_days", "The last 7 days"],
  ["last_30_days", "The last 30 days"],
  ["last_90_days", "The last 90 days"],
];
const PERIOD_FIELDS: [string, string][] = [
  ["created", "made"],
  ["completed", "completed"],
  ["logged", "logged (time)"],
  ["target", "due"],
  ["start", "started"],
];

type Draft = {
  name: string;
  category: string;
  measure: string;
  per: string;
  period: string;
  period_field: string;
  priority: string;
  state_group: string;
  project: string;
  format: string;
  unit: string;
  target: string;
  warning: string;
  critical: string;
  direction: string;
  refresh: string;
};

function draftOf(m: Metric | null): Draft {
  const q = (m?.query ?? {}) as { measure?: string; per?: string; period?: string; period_field?: string; filters?: Record<string, string> };
  const num = (v: number | null | undefined) => (v == null ? "" : String(v));
  return {
    name: m?.name ?? "",
    category: m?.category ?? "operational",
    measure: q.measure ?? "work_item_count",
    per: q.per ?? "",
    period: q.period ?? "",
    period_field: q.period_field ?? "created",
    priority: q.filters?.priority ?? "",
    state_group: q.filters?.state_group ?? "",
    project: q.filters?.project ?? "",
    format: m?.format ?? "number",
    unit: m?.unit ?? "",
    target: num(m?.target_value),
    warning: num(m?.warning_threshold),
    critical: num(m?.critical_threshold),
    direction: m?.direction ?? "above",
    refresh: String(m?.refresh_seconds ?? 300),
  };
}

/** Makes or changes a workspace's metric: what it counts, how it shows, and its levels
 * (premium: locked on a free workspace, saying so). */
function MetricForm({ slug, metric, thresholdsAllowed, onDone }: { slug: string; metric: Metric | null; thresholdsAllowed: boolean; onDone: () => void }) {
  const qc = useQueryClient();
  const [d, setD] = useState<Draft>(() => draftOf(metric));
  const set = (k: keyof Draft) => (e: { target: { value: string } }) => setD({ ...d, [k]: e.target.value });
  const projects = useQuery({
    queryKey: ["projects", slug, "all"],
    queryFn: () => unwrap(client.GET("/api/v1/workspaces/{slug}/projects", { params: { path: { slug }, query: { per_page: 500 } } })),
  });
  // A query the form does not draw (staff, or written through the API with more filters)
  // is kept as it is, but for the keys the form edits.
  const original = (metric?.query ?? null) as { source?: string; filters?: Record<string, unknown> } | null;
  const staff = original?.source === "staff";
  const save = useMutation({
    mutationFn: () => {
      const filters: Record<string, unknown> = { ...(original?.filters ?? {}) };
      for (const [k, v] of [["priority", d.priority], ["state_group", d.state_group], ["project", d.project]] as const) {
        if (v) filters[k] = v;
        else delete filters[k];
      }
      const query: Record<string, unknown> = staff ? { ...original } : { ...(original ?? {}), measure: d.measure, filters };
      if (!staff) {
        if (d.per) query.per = d.per;
        else delete query.per;
        if (d.period) {
          query.period = d.period;
          query.period_field = d.period_field;
        } else {
          delete query.period;
          delete query.period_field;
        }
      }
      const n = (s: string) => (s.trim() === "" ? null : Number(s));
      const body = {
        name: d.name,
        category: d.category,
        // The schema types a free-form object as one of nothing; the server checks it.
        query: query as never,
        format: d.per ? "percentage" : d.format,
        unit: d.unit,
        target_value: n(d.target),
        direction: d.direction,
        refresh_seconds: Number(d.refresh),
        ...(thresholdsAllowed ? { warning_threshold: n(d.warning), critical_threshold: n(d.critical) } : {}),
      };
      return metric
        ? unwrap(client.PATCH("/api/v1/workspaces/{slug}/metrics/{metric_id}", { params: { path: { slug, metric_id: metric.id } }, body }))
        : unwrap(client.POST("/api/v1/workspaces/{slug}/metrics", { params: { path: { slug } }, body }));
    },
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: ["metrics", slug] });
      onDone();
    },
  });
  const errs = fieldsOf(save.error);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    save.mutate();
  };
  return (
    <form className="card metric-form" onSubmit={submit} aria-label={metric ? `Edit ${metric.name}` : "New metric"}>
      <h2 className="card-title">{metric ? `Edit ${metric.name}` : "New metric"}</h2>
      <div className="form-grid">
        <Field label="Name" value={d.name} onChange={set("name")} error={errs.name} required maxLength={100} />
        <SelectField label="Category" value={d.category} onChange={set("category")} error={errs.category}>
          {["operational", "productivity", "time", "quality", "people"].map((c) => (
            <option key={c} value={c}>
              {c}
            </option>
          ))}
        </SelectField>
        {staff ? (
          <p className="muted">Counts staff records by status{original && "department" in original ? " and department" : ""}: its query is kept as it is.</p>
        ) : (
          <>
        <SelectField label="Counts" value={d.measure} onChange={set("measure")}>
          {MEASURES.map(([k, n]) => (
            <option key={k} value={k}>
              {n}
            </option>
          ))}
        </SelectField>
        <SelectField label="Out of (a share)" value={d.per} onChange={set("per")}>
          <option value="">— (a plain number)</option>
          {MEASURES.map(([k, n]) => (
            <option key={k} value={k}>
              {n}
            </option>
          ))}
        </SelectField>
        <SelectField label="Period" value={d.period} onChange={set("period")}>
          {PERIODS.map(([k, n]) => (
            <option key={k} value={k}>
              {n}
            </option>
          ))}
        </SelectField>
        {d.period ? (
          <SelectField label="Of the work items" value={d.period_field} onChange={set("period_field")}>
            {PERIOD_FIELDS.map(([k, n]) => (
              <option key={k} value={k}>
                {n} in the period
              </option>
            ))}
          </SelectField>
        ) : null}
        <SelectField label="Priority" value={d.priority} onChange={set("priority")}>
          <option value="">Any priority</option>
          {["urgent", "high", "medium", "low", "none"].map((p) => (
            <option key={p} value={p}>
              {p}
            </option>
          ))}
        </SelectField>
        <SelectField label="State" value={d.state_group} onChange={set("state_group")}>
          <option value="">Any state</option>
          <option value="backlog,unstarted,started">Open (not completed nor cancelled)</option>
          <option value="started">Started</option>
          <option value="completed">Completed</option>
          <option value="cancelled">Cancelled</option>
        </SelectField>
        <SelectField label="Project" value={d.project} onChange={set("project")}>
          <option value="">Every project</option>
          {(projects.data?.items ?? []).map((p) => (
            <option key={p.id} value={p.id}>
              {p.name}
            </option>
          ))}
        </SelectField>
          </>
        )}
        {d.per ? null : (
          <SelectField label="Format" value={d.format} onChange={set("format")} error={errs.format}>
            <option value="number">Number</option>
            <option value="duration">Duration (of minutes)</option>
            <option value="percentage">Percentage</option>
          </SelectField>
        )}
        <Field label="Unit" value={d.unit} onChange={set("unit")} error={errs.unit} maxLength={20} hint="Shown after the number, e.g. pts" />
        <Field label="Target" type="number" step="any" value={d.target} onChange={set("target")} error={errs.target_value} />
        <SelectField label="Worse when it is" value={d.direction} onChange={set("direction")}>
          <option value="above">higher (at or above a level)</option>
          <option value="below">lower (at or below a level)</option>
        </SelectField>
        <Field
          label="Warning at"
          type="number"
          step="any"
          value={d.warning}
          onChange={set("warning")}
          error={errs.warning_threshold}
          disabled={!thresholdsAllowed}
          hint={thresholdsAllowed ? undefined : "Levels come with the premium plan"}
        />
        <Field
          label="Critical at"
          type="number"
          step="any"
          value={d.critical}
          onChange={set("critical")}
          error={errs.critical_threshold}
          disabled={!thresholdsAllowed}
          hint={thresholdsAllowed ? undefined : "Levels come with the premium plan"}
        />
        <Field label="Refresh every (seconds)" type="number" min={60} max={86400} value={d.refresh} onChange={set("refresh")} error={errs.refresh_seconds} />
      </div>
      {Object.entries(errs)
        .filter(([k]) => !["name", "category", "format", "unit", "target_value", "warning_threshold", "critical_threshold", "refresh_seconds"].includes(k))
        .map(([k, v]) => (
          <p key={k} className="field-error" role="alert">
            {k === "query" ? v : `${k}: ${v}`}
          </p>
        ))}
      <ErrorNote error={save.error && Object.keys(errs).length === 0 ? save.error : null} />
      <div className="row">
        <button type="button" onClick={onDone}>
          Cancel
        </button>
        <button type="submit" className="primary" disabled={save.isPending}>
          {metric ? "Save metric" : "Create metric"}
        </button>
      </div>
    </form>
  );
}

/** The workspace's metrics as cards coloured by status; admins make, change, refresh and
 * delete their own (Keel's system metrics are read-only). */
export function MetricsPage() {
  const { slug = "" } = useParams();
  const ws = useWorkspace(slug);
  const qc = useQueryClient();
  useTitle(ws.data ? `${ws.data.name} · Metrics` : "Metrics");
  const admin = ws.data?.role === "owner" || ws.data?.role === "admin";
  const metrics = useQuery({
    queryKey: ["metrics", slug],
    refetchInterval: 60_000,
    queryFn: () => unwrap(client.GET("/api/v1/workspaces/{slug}/metrics", { params: { path: { slug } } })),
  });
  const plan = useQuery({
    queryKey: ["plan", slug],
    queryFn: () => unwrap(client.GET("/api/v1/workspaces/{slug}/plan", { params: { path: { slug } } })),
  });
  const thresholdsAllowed = plan.data?.features.find((f) => f.key === "metric_thresholds")?.enabled ?? false;
  const [editing, setEditing] = useState<Metric | "new" | null>(null);
  const refresh = useMutation({
    mutationFn: (id: string) => unwrap(client.POST("/api/v1/workspaces/{slug}/metrics/{metric_id}/refresh", { params: { path: { slug, metric_id: id } } })),
    onSuccess: (m) => qc.setQueryData(["metrics", slug], (old: Metric[] | undefined) => old?.map((x) => (x.id === m.id ? m : x))),
  });
  const remove = useMutation({
    mutationFn: (id: string) => unwrap(client.DELETE("/api/v1/workspaces/{slug}/metrics/{metric_id}", { params: { path: { slug, metric_id: id } } })),
    onSuccess: () => void qc.invalidateQueries({ queryKey: ["metrics", slug] }),
  });
  const groups = new Map<string, Metric[]>();
  for (const m of metrics.data ?? []) groups.set(m.category, [...(groups.get(m.category) ?? []), m]);
  return (
    <div className="page">
      <header className="page-head">
        <div>
          <p className="eyebrow">{ws.data?.name ?? "…"}</p>
          <h1>Metrics</h1>
        </div>
        <div className="row">
          <Link to={`/w/${slug}/dashboards`}>All dashboards</Link>
          {admin && editing === null ? (
            <button type="button" className="primary" onClick={() => setEditing("new")}>
              New metric
            </button>
          ) : null}
        </div>
      </header>
      {!thresholdsAllowed && plan.data ? (
        <p className="locked-note" data-testid="thresholds-locked">
          Warning and critical levels, and the status they colour, come with the premium plan. <Link to={`/w/${slug}/plan`}>See the plan</Link>
        </p>
      ) : null}
      {editing !== null ? (
        <MetricForm key={editing === "new" ? "new" : editing.id} slug={slug} metric={editing === "new" ? null : editing} thresholdsAllowed={thresholdsAllowed} onDone={() => setEditing(null)} />
      ) : null}
      <ErrorNote error={refresh.error ?? remove.error} />
      {metrics.isPending ? <Spinner label="Loading the metrics" /> : null}
      <ErrorNote error={metrics.error} retry={() => void metrics.refetch()} />
      {metrics.data && metrics.data.length === 0 ? <Empty title="No metrics">Make one to follow a number.</Empty> : null}
      {[...groups.entries()].map(([category, list]) => (
        <section key={category} aria-label={`${category} metrics`} className="metric-group">
          <h2 className="metric-group-title">{category}</h2>
          <div className="metric-grid">
            {list.map((m) => (
              <div key={m.id} className="metric-cell">
                <MetricCard m={m} onRefresh={admin ? () => refresh.mutate(m.id) : undefined} refreshing={refresh.isPending} />
                {m.can_edit ? (
                  <div className="row metric-actions">
                    <button type="button" className="link" onClick={() => setEditing(m)} aria-label={`Edit ${m.name}`}>
                      Edit
                    </button>
                    <button
                      type="button"
                      className="link danger"
                      aria-label={`Delete ${m.name}`}
                      onClick={() => {
                        if (window.confirm(`Delete the metric ${m.name}?`)) remove.mutate(m.id);
                      }}
                    >
                      Delete
                    </button>
                  </div>
                ) : null}
              </div>
            ))}
          </div>
        </section>
      ))}
    </div>
  );
}
