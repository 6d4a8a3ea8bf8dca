import { Suspense, useState, type FormEvent } from "react";
import { Link, NavLink, useParams, useSearchParams } from "react-router";
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { client, unwrap, type Schemas } from "../api/client";
import { fieldsOf, messageOf } from "../api/errors";
import { session } from "../api/session";
import { Empty, ErrorNote, Field, Modal, SelectField, Spinner, formatDate, useTitle } from "../components";
import type { Errors } from "../validate";
import { ChartBox, type ChartView } from "./analytics";

type Issue = Schemas["IssueView"];
type State = Schemas["StateView"];
type Priority = Schemas["Priority"];
type StateGroup = Schemas["StateGroup"];

const PRIORITIES: Priority[] = ["urgent", "high", "medium", "low", "none"];
const GROUPS: StateGroup[] = ["backlog", "unstarted", "started", "completed", "cancelled"];

export function minutes(m: number | null | undefined): string {
  if (m === null || m === undefined) return "—";
  const h = Math.floor(m / 60);
  const r = m % 60;
  return h ? (r ? `${h}h ${r}m` : `${h}h`) : `${r}m`;
}

function today(): string {
  return new Date().toISOString().slice(0, 10);
}

function escapeHtml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** Plain text typed by a person, as the paragraphs of rich text. */
export function toHtml(text: string): string {
  return text
    .trim()
    .split(/\n{2,}/)
    .filter((p) => p.trim())
    .map((p) => `<p>${escapeHtml(p).replace(/\n/g, "<br>")}</p>`)
    .join("");
}

export function useProject(slug: string, pid: string) {
  return useQuery({
    queryKey: ["project", slug, pid],
    queryFn: () => unwrap(client.GET("/api/v1/workspaces/{slug}/projects/{project_id}", { params: { path: { slug, project_id: pid } } })),
  });
}

export function useStates(slug: string, pid: string) {
  return useQuery({
    queryKey: ["states", slug, pid],
    queryFn: () => unwrap(client.GET("/api/v1/workspaces/{slug}/projects/{project_id}/states", { params: { path: { slug, project_id: pid } } })),
  });
}

export function useProjectMembers(slug: string, pid: string) {
  return useQuery({
    queryKey: ["project-members", slug, pid],
    queryFn: () =>
      unwrap(
        client.GET("/api/v1/workspaces/{slug}/projects/{project_id}/members", {
          params: { path: { slug, project_id: pid }, query: { per_page: 500 } },
        }),
      ),
  });
}

export function ProjectTabs({ slug, pid }: { slug: string; pid: string }) {
  const tab = ({ isActive }: { isActive: boolean }) => (isActive ? "tab on" : "tab");
  return (
    <nav className="tabs" aria-label="Project">
      <NavLink to={`/w/${slug}/p/${pid}`} end className={tab}>
        Issues
      </NavLink>
      <NavLink to={`/w/${slug}/p/${pid}/cycles`} className={tab}>
        Cycles
      </NavLink>
      <NavLink to={`/w/${slug}/p/${pid}/modules`} className={tab}>
        Modules
      </NavLink>
      <NavLink to={`/w/${slug}/p/${pid}/views`} className={tab}>
        Views
      </NavLink>
      <NavLink to={`/w/${slug}/p/${pid}/time`} className={tab}>
        Time tracking
      </NavLink>
      <NavLink to={`/w/${slug}/p/${pid}/analytics`} className={tab}>
        Analytics
      </NavLink>
      <NavLink to={`/w/${slug}/p/${pid}/members`} className={tab}>
        Members
      </NavLink>
    </nav>
  );
}

/** A page of issues as a table. */
export function IssueTable({ slug, pid, items, states }: { slug: string; pid: string; items: Issue[]; states: State[] | undefined }) {
  return (
    <div className="table-wrap">
      <table aria-label="Issues">
        <thead>
          <tr>
            <th scope="col">Key</th>
            <th scope="col">Title</th>
            <th scope="col">State</th>
            <th scope="col">Priority</th>
            <th scope="col" className="hide-narrow">
              Logged
            </th>
          </tr>
        </thead>
        <tbody>
          {items.map((i) => (
            <tr key={i.id}>
              <td>
                <code>{i.key}</code>
              </td>
              <td>
                <Link to={`/w/${slug}/p/${pid}/issues/${i.id}`} className="strong">
                  {i.name}
                </Link>
              </td>
              <td>{stateName(states, i.state_id)}</td>
              <td>
                <span className={`prio prio-${i.priority}`}>{i.priority}</span>
              </td>
              <td className="hide-narrow">{minutes(i.logged_minutes)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function stateName(states: State[] | undefined, id: string | null | undefined): string {
  return states?.find((s) => s.id === id)?.name ?? "—";
}

// ---------------------------------------------------------------------------------------
// Issue list

export function IssueList() {
  const { slug = "", pid = "" } = useParams();
  const project = useProject(slug, pid);
  const states = useStates(slug, pid);
  const me = session.user?.id;
  useTitle(project.data ? `${project.data.identifier} · Issues` : "Issues");
  const [q, setQ] = useState("");
  const [search, setSearch] = useState("");
  const [group, setGroup] = useState<"" | StateGroup>("");
  const [priority, setPriority] = useState<"" | Priority>("");
  const [assignee, setAssignee] = useState<"" | "me" | "none">("");
  const [page, setPage] = useState(1);
  const [creating, setCreating] = useState(false);
  const [saving, setSaving] = useState(false);
  // A cycle or module opened from its page narrows the list.
  const [params] = useSearchParams();
  const cycle = params.get("cycle") ?? undefined;
  const module = params.get("module") ?? undefined;
  const query = {
    page,
    per_page: 50,
    q: search || undefined,
    state_group: group || undefined,
    priority: priority || undefined,
    assignee: assignee === "me" ? me : assignee === "none" ? "none" : undefined,
    cycle,
    module,
    order_by: "-created_at",
  };
  const list = useQuery({
    queryKey: ["issues", slug, pid, query],
    queryFn: () =>
      unwrap(client.GET("/api/v1/workspaces/{slug}/projects/{project_id}/issues", { params: { path: { slug, project_id: pid }, query } })),
  });
  const canWrite = project.data && !project.data.archived_at && (project.data.member_role === "member" || project.data.member_role === "admin" || !project.data.is_member);
  if (project.isError) return <ErrorNote error={project.error} retry={() => void project.refetch()} />;
  return (
    <>
      <header className="page-head">
        <div>
          <p className="eyebrow">
            <Link to={`/w/${slug}`}>Projects</Link> / {project.data?.identifier ?? "…"}
          </p>
          <h1>{project.data?.name ?? "Issues"}</h1>
        </div>
        <div className="row">
          {canWrite ? (
            <button type="button" onClick={() => setSaving(true)}>
              Save as view
            </button>
          ) : null}
          {canWrite ? (
            <button type="button" className="primary" onClick={() => setCreating(true)}>
              New issue
            </button>
          ) : null}
        </div>
      </header>
      <ProjectTabs slug={slug} pid={pid} />
      {cycle || module ? (
        <p className="notice">
          Showing the issues of one {cycle ? "cycle" : "module"}. <Link to={`/w/${slug}/p/${pid}`}>Show all issues</Link>
        </p>
      ) : null}
      <form
        className="filters"
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          setPage(1);
          setSearch(q.trim());
        }}
      >
        <Field label="Search" type="search" value={q} onChange={(e) => setQ(e.target.value)} placeholder="Words in titles, descriptions, comments" />
        <SelectField label="State" value={group} onChange={(e) => { setPage(1); setGroup(e.target.value as StateGroup | ""); }}>
          <option value="">Any</option>
          {GROUPS.map((g) => (
            <option key={g} value={g}>
              {g}
            </option>
          ))}
        </SelectField>
        <SelectField label="Priority" value={priority} onChange={(e) => { setPage(1); setPriority(e.target.value as Priority | ""); }}>
          <option value="">Any</option>
          {PRIORITIES.map((p) => (
            <option key={p} value={p}>
              {p}
            </option>
          ))}
        </SelectField>
        <SelectField label="Assignee" value={assignee} onChange={(e) => { setPage(1); setAssignee(e.target.value as "" | "me" | "none"); }}>
          <option value="">Anyone</option>
          <option value="me">Me</option>
          <option value="none">Unassigned</option>
        </SelectField>
        <button type="submit">Search</button>
      </form>
      {list.isPending ? <Spinner /> : null}
      <ErrorNote error={list.error} retry={() => void list.refetch()} />
      {list.data && list.data.items.length === 0 ? (
        <Empty title={search || group || priority || assignee ? "No issue matches" : "No issues yet"}>
          {canWrite && !search ? (
            <button type="button" className="primary" onClick={() => setCreating(true)}>
              Create an issue
            </button>
          ) : null}
        </Empty>
      ) : null}
      {list.data && list.data.items.length > 0 ? (
        <>
          <IssueTable slug={slug} pid={pid} items={list.data.items} states={states.data} />
          <div className="pager">
            <span className="muted">
              {list.data.total} issue{list.data.total === 1 ? "" : "s"} · page {list.data.page} of {Math.max(1, list.data.total_pages)}
            </span>
            <button type="button" disabled={page <= 1} onClick={() => setPage(page - 1)}>
              Previous
            </button>
            <button type="button" disabled={page >= list.data.total_pages} onClick={() => setPage(page + 1)}>
              Next
            </button>
          </div>
        </>
      ) : null}
      <Modal title="Save as view" open={saving} onClose={() => setSaving(false)}>
        {saving ? (
          <SaveView
            slug={slug}
            pid={pid}
            query={Object.fromEntries(
              Object.entries({ q: search, state_group: group, priority, assignee: query.assignee, cycle, module }).filter(
                (e): e is [string, string] => typeof e[1] === "string" && e[1] !== "",
              ),
            )}
            onDone={() => setSaving(false)}
          />
        ) : null}
      </Modal>
      <Modal title="New issue" open={creating} onClose={() => setCreating(false)}>
        {creating ? <IssueForm slug={slug} pid={pid} states={states.data ?? []} onDone={() => setCreating(false)} /> : null}
      </Modal>
    </>
  );
}

function SaveView({ slug, pid, query, onDone }: { slug: string; pid: string; query: Record<string, string>; onDone: () => void }) {
  const qc = useQueryClient();
  const [name, setName] = useState("");
  const [isPrivate, setPrivate] = useState(false);
  const [error, setError] = useState("");
  const save = useMutation({
    mutationFn: () =>
      unwrap(
        client.POST("/api/v1/workspaces/{slug}/projects/{project_id}/views", {
          params: { path: { slug, project_id: pid } },
          body: { name: name.trim(), query, is_private: isPrivate },
        }),
      ),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: ["views", slug, pid] });
      onDone();
    },
  });
  return (
    <form
      className="stack"
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        if (!name.trim()) {
          setError("Name the view.");
          return;
        }
        setError("");
        save.mutate();
      }}
    >
      <p className="muted">{Object.keys(query).length ? `Filters: ${Object.entries(query).map(([k, v]) => `${k} = ${v}`).join(", ")}` : "No filters: all issues."}</p>
      <Field label="View name" value={name} onChange={(e) => setName(e.target.value)} error={error || fieldsOf(save.error).name} autoFocus />
      <label className="check">
        <input type="checkbox" checked={isPrivate} onChange={(e) => setPrivate(e.target.checked)} /> Only for me
      </label>
      <ErrorNote error={save.error} />
      <div className="actions">
        <button type="submit" className="primary" disabled={save.isPending}>
          Save view
        </button>
      </div>
    </form>
  );
}

function IssueForm({ slug, pid, states, onDone }: { slug: string; pid: string; states: State[]; onDone: () => void }) {
  const qc = useQueryClient();
  const members = useProjectMembers(slug, pid);
  const [name, setName] = useState("");
  const [text, setText] = useState("");
  const [priority, setPriority] = useState<Priority>("none");
  const [stateId, setStateId] = useState("");
  const [estimate, setEstimate] = useState("");
  const [assignee, setAssignee] = useState("");
  const [errors, setErrors] = useState<Errors>({});
  const create = useMutation({
    mutationFn: () =>
      unwrap(
        client.POST("/api/v1/workspaces/{slug}/projects/{project_id}/issues", {
          params: { path: { slug, project_id: pid } },
          body: {
            name: name.trim(),
            description_html: text.trim() ? toHtml(text) : undefined,
            priority,
            state_id: stateId || undefined,
            estimate_time: estimate ? Number(estimate) : undefined,
            assignee_ids: assignee ? [assignee] : undefined,
          },
        }),
      ),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: ["issues", slug, pid] });
      onDone();
    },
    onError: (e) => setErrors(fieldsOf(e)),
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const errs: Errors = {};
    if (!name.trim()) errs.name = "Give the issue a title.";
    else if (name.trim().length > 255) errs.name = "At most 255 characters.";
    const est = Number(estimate);
    if (estimate && (!Number.isInteger(est) || est < 1 || est > 1_000_000)) errs.estimate_time = "Whole minutes, 1 to 1000000.";
    setErrors(errs);
    if (Object.keys(errs).length === 0) create.mutate();
  };
  return (
    <form onSubmit={submit} noValidate className="stack">
      <Field label="Title" value={name} onChange={(e) => setName(e.target.value)} error={errors.name} autoFocus required />
      <div className="field">
        <label htmlFor="issue-description">Description</label>
        <textarea id="issue-description" rows={4} value={text} onChange={(e) => setText(e.target.value)} />
        {errors.description_html ? <p className="field-error">{errors.description_html}</p> : null}
      </div>
      <div className="row">
        <SelectField label="State" value={stateId} onChange={(e) => setStateId(e.target.value)} error={errors.state_id}>
          <option value="">Default</option>
          {states.map((s) => (
            <option key={s.id} value={s.id}>
              {s.name}
            </option>
          ))}
        </SelectField>
        <SelectField label="Priority" value={priority} onChange={(e) => setPriority(e.target.value as Priority)}>
          {PRIORITIES.map((p) => (
            <option key={p} value={p}>
              {p}
            </option>
          ))}
        </SelectField>
      </div>
      <div className="row">
        <SelectField label="Assignee" value={assignee} onChange={(e) => setAssignee(e.target.value)} error={errors.assignee_ids}>
          <option value="">Nobody</option>
          {members.data?.items.map((m) => (
            <option key={m.user_id} value={m.user_id}>
              {m.display_name}
            </option>
          ))}
        </SelectField>
        <Field label="Estimate (minutes)" inputMode="numeric" value={estimate} onChange={(e) => setEstimate(e.target.value)} error={errors.estimate_time} />
      </div>
      <ErrorNote error={create.error} />
      <div className="actions">
        <button type="submit" className="primary" disabled={create.isPending}>
          {create.isPending ? "Creating…" : "Create issue"}
        </button>
      </div>
    </form>
  );
}

// ---------------------------------------------------------------------------------------
// One issue: fields, time, comments, activity

export function IssueDetail() {
  const { slug = "", pid = "", iid = "" } = useParams();
  const qc = useQueryClient();
  const project = useProject(slug, pid);
  const states = useStates(slug, pid);
  const issue = useQuery({
    queryKey: ["issue", slug, pid, iid],
    queryFn: () =>
      unwrap(client.GET("/api/v1/workspaces/{slug}/projects/{project_id}/issues/{issue_id}", { params: { path: { slug, project_id: pid, issue_id: iid } } })),
  });
  useTitle(issue.data ? `${issue.data.key} ${issue.data.name}` : "Issue");
  const update = useMutation({
    mutationFn: (body: Schemas["IssueBody"]) =>
      unwrap(
        client.PATCH("/api/v1/workspaces/{slug}/projects/{project_id}/issues/{issue_id}", {
          params: { path: { slug, project_id: pid, issue_id: iid } },
          body,
        }),
      ),
    onSuccess: (i) => {
      qc.setQueryData(["issue", slug, pid, iid], i);
      void qc.invalidateQueries({ queryKey: ["issues", slug, pid] });
      void qc.invalidateQueries({ queryKey: ["activity", iid] });
      // Cycle and module progress counts move with state, cycle and module changes.
      void qc.invalidateQueries({ queryKey: ["cycles", slug, pid] });
      void qc.invalidateQueries({ queryKey: ["modules", slug, pid] });
    },
  });
  if (issue.isPending) return <Spinner />;
  if (issue.isError) return <ErrorNote error={issue.error} retry={() => void issue.refetch()} />;
  const i = issue.data;
  const role = project.data?.member_role;
  const canLog = project.data?.is_time_tracking_enabled && (role === "member" || role === "admin");
  return (
    <>
      <header className="page-head">
        <div>
          <p className="eyebrow">
            <Link to={`/w/${slug}/p/${pid}`}>{project.data?.identifier ?? "Issues"}</Link> / <code>{i.key}</code>
          </p>
          <h1>{i.name}</h1>
        </div>
      </header>
      <div className="issue-grid">
        <section aria-label="Description" className="card">
          {i.description_html ? (
            // Sanitized by the server (no script survives) and shown under the server's CSP.
            <div className="rich" dangerouslySetInnerHTML={{ __html: i.description_html }} />
          ) : (
            <p className="muted">No description.</p>
          )}
        </section>
        <aside className="card stack" aria-label="Properties">
          <SelectField label="State" value={i.state_id ?? ""} disabled={update.isPending} onChange={(e) => update.mutate({ state_id: e.target.value })}>
            {states.data?.map((s) => (
              <option key={s.id} value={s.id}>
                {s.name}
              </option>
            ))}
          </SelectField>
          <SelectField label="Priority" value={i.priority} disabled={update.isPending} onChange={(e) => update.mutate({ priority: e.target.value as Priority })}>
            {PRIORITIES.map((p) => (
              <option key={p} value={p}>
                {p}
              </option>
            ))}
          </SelectField>
          <Assignees slug={slug} pid={pid} issue={i} disabled={update.isPending} onChange={(ids) => update.mutate({ assignee_ids: ids })} />
          <Labels slug={slug} pid={pid} issue={i} disabled={update.isPending} onChange={(ids) => update.mutate({ label_ids: ids })} />
          <Estimate value={i.estimate_time} disabled={update.isPending} onChange={(v) => update.mutate({ estimate_time: v })} />
          <PlanSelect slug={slug} pid={pid} kind="cycle" value={i.cycle_id} disabled={update.isPending} onChange={(v) => update.mutate({ cycle_id: v })} />
          <PlanSelect slug={slug} pid={pid} kind="module" value={i.module_id} disabled={update.isPending} onChange={(v) => update.mutate({ module_id: v })} />
          <p>
            <span className="muted">Completed:</span> {formatDate(i.completed_at)}
          </p>
          <ErrorNote error={update.error} />
        </aside>
      </div>
      <TimeSection slug={slug} pid={pid} issue={i} canLog={Boolean(canLog)} />
      <Comments slug={slug} pid={pid} iid={iid} />
      <Activity slug={slug} pid={pid} iid={iid} states={states.data} />
    </>
  );
}

function toggle(list: string[], id: string, on: boolean): string[] {
  return on ? [...new Set([...list, id])] : list.filter((x) => x !== id);
}

/** The ids shown as chosen: the user's pick from the click until its save settles, then the server's (so a refused change snaps back). */
function useOptimisticIds(server: string[], saving: boolean): [string[], (next: string[]) => void] {
  const [picked, setPicked] = useState<string[] | null>(null);
  const [wasSaving, setWasSaving] = useState(saving);
  if (wasSaving !== saving) {
    setWasSaving(saving);
    if (!saving) setPicked(null);
  }
  return [picked ?? server, setPicked];
}

function Assignees({ slug, pid, issue, disabled, onChange }: { slug: string; pid: string; issue: Issue; disabled: boolean; onChange: (ids: string[]) => void }) {
  const members = useProjectMembers(slug, pid);
  const [chosen, setChosen] = useOptimisticIds(issue.assignee_ids, disabled);
  const pick = (id: string, on: boolean) => {
    const next = toggle(chosen, id, on);
    setChosen(next);
    onChange(next);
  };
  return (
    <fieldset className="choices">
      <legend>Assignees</legend>
      {members.data?.items.map((m) => (
        <label key={m.user_id} className="check">
          <input
            type="checkbox"
            disabled={disabled}
            checked={chosen.includes(m.user_id)}
            onChange={(e) => pick(m.user_id, e.target.checked)}
          />{" "}
          {m.display_name}
        </label>
      ))}
    </fieldset>
  );
}

function Labels({ slug, pid, issue, disabled, onChange }: { slug: string; pid: string; issue: Issue; disabled: boolean; onChange: (ids: string[]) => void }) {
  const qc = useQueryClient();
  const labels = useQuery({
    queryKey: ["labels", slug, pid],
    queryFn: () => unwrap(client.GET("/api/v1/workspaces/{slug}/projects/{project_id}/labels", { params: { path: { slug, project_id: pid } } })),
  });
  const [name, setName] = useState("");
  const [chosen, setChosen] = useOptimisticIds(issue.label_ids, disabled);
  const pick = (id: string, on: boolean) => {
    const next = toggle(chosen, id, on);
    setChosen(next);
    onChange(next);
  };
  const create = useMutation({
    mutationFn: () => unwrap(client.POST("/api/v1/workspaces/{slug}/projects/{project_id}/labels", { params: { path: { slug, project_id: pid } }, body: { name: name.trim() } })),
    onSuccess: (l) => {
      setName("");
      void qc.invalidateQueries({ queryKey: ["labels", slug, pid] });
      pick(l.id, true);
    },
  });
  return (
    <fieldset className="choices">
      <legend>Labels</legend>
      {labels.data?.map((l) => (
        <label key={l.id} className="check">
          <input type="checkbox" disabled={disabled} checked={chosen.includes(l.id)} onChange={(e) => pick(l.id, e.target.checked)} />{" "}
          <span className="dot" style={{ background: l.color }} aria-hidden="true" /> {l.name}
        </label>
      ))}
      <form
        className="inline-form"
        onSubmit={(e) => {
          e.preventDefault();
          if (name.trim()) create.mutate();
        }}
      >
        <input aria-label="New label" placeholder="New label" value={name} onChange={(e) => setName(e.target.value)} />
        <button type="submit" disabled={create.isPending || !name.trim()}>
          Add
        </button>
      </form>
      <ErrorNote error={create.error} />
    </fieldset>
  );
}

function Estimate({ value, disabled, onChange }: { value: number | null | undefined; disabled: boolean; onChange: (v: number | null) => void }) {
  const [text, setText] = useState(value ? String(value) : "");
  const [error, setError] = useState("");
  const save = () => {
    const t = text.trim();
    const n = Number(t);
    if (t && (!Number.isInteger(n) || n < 1 || n > 1_000_000)) {
      setError("Whole minutes, 1 to 1000000.");
      return;
    }
    setError("");
    const next = t ? n : null;
    if (next !== (value ?? null)) onChange(next);
  };
  return (
    <Field
      label="Estimate (minutes)"
      inputMode="numeric"
      value={text}
      disabled={disabled}
      error={error}
      onChange={(e) => setText(e.target.value)}
      onBlur={save}
      onKeyDown={(e) => {
        if (e.key === "Enter") save();
      }}
    />
  );
}

/** The cycle or module an issue is in, chosen from the project's. */
function PlanSelect({ slug, pid, kind, value, disabled, onChange }: { slug: string; pid: string; kind: "cycle" | "module"; value: string | null | undefined; disabled: boolean; onChange: (v: string | null) => void }) {
  const list = useQuery({
    queryKey: [kind === "cycle" ? "cycles" : "modules", slug, pid],
    queryFn: async (): Promise<{ id: string; name: string }[]> =>
      kind === "cycle"
        ? unwrap(client.GET("/api/v1/workspaces/{slug}/projects/{project_id}/cycles", { params: { path: { slug, project_id: pid } } }))
        : unwrap(client.GET("/api/v1/workspaces/{slug}/projects/{project_id}/modules", { params: { path: { slug, project_id: pid } } })),
  });
  return (
    <SelectField label={kind === "cycle" ? "Cycle" : "Module"} value={value ?? ""} disabled={disabled} onChange={(e) => onChange(e.target.value || null)}>
      <option value="">None</option>
      {list.data?.map((c) => (
        <option key={c.id} value={c.id}>
          {c.name}
        </option>
      ))}
    </SelectField>
  );
}

function TimeSection({ slug, pid, issue, canLog }: { slug: string; pid: string; issue: Issue; canLog: boolean }) {
  const qc = useQueryClient();
  const path = { slug, project_id: pid, issue_id: issue.id };
  const summary = useQuery({
    queryKey: ["time", issue.id],
    enabled: canLog,
    queryFn: () => unwrap(client.GET("/api/v1/workspaces/{slug}/projects/{project_id}/issues/{issue_id}/worklogs/summary", { params: { path } })),
  });
  const logs = useQuery({
    queryKey: ["worklogs", issue.id],
    enabled: canLog,
    queryFn: () => unwrap(client.GET("/api/v1/workspaces/{slug}/projects/{project_id}/issues/{issue_id}/worklogs", { params: { path, query: { per_page: 100 } } })),
  });
  const timer = useQuery({
    queryKey: ["timer"],
    queryFn: () => unwrap(client.GET("/api/v1/users/me/timer")),
  });
  const refresh = () => {
    for (const k of [["time", issue.id], ["worklogs", issue.id], ["timer"], ["issue", slug, pid, issue.id]]) void qc.invalidateQueries({ queryKey: k });
  };
  const [duration, setDuration] = useState("");
  const [day, setDay] = useState(today());
  const [note, setNote] = useState("");
  const [errors, setErrors] = useState<Errors>({});
  const log = useMutation({
    mutationFn: () =>
      unwrap(
        client.POST("/api/v1/workspaces/{slug}/projects/{project_id}/issues/{issue_id}/worklogs", {
          params: { path },
          body: { duration_minutes: Number(duration), logged_at: day, description: note || undefined },
        }),
      ),
    onSuccess: () => {
      setDuration("");
      setNote("");
      refresh();
    },
    onError: (e) => setErrors(fieldsOf(e)),
  });
  const start = useMutation({
    mutationFn: () => unwrap(client.POST("/api/v1/workspaces/{slug}/projects/{project_id}/issues/{issue_id}/timer", { params: { path }, body: {} })),
    onSuccess: refresh,
  });
  const stop = useMutation({
    mutationFn: () => unwrap(client.POST("/api/v1/users/me/timer/stop", { body: {} })),
    onSuccess: refresh,
  });
  const discard = useMutation({
    mutationFn: () => unwrap(client.DELETE("/api/v1/users/me/timer")),
    onSuccess: refresh,
  });
  const remove = useMutation({
    mutationFn: (id: string) => unwrap(client.DELETE("/api/v1/workspaces/{slug}/projects/{project_id}/issues/{issue_id}/worklogs/{worklog_id}", { params: { path: { ...path, worklog_id: id } } })),
    onSuccess: refresh,
  });
  if (!canLog) return null;
  const running = timer.data?.timer;
  const here = running?.issue_id === issue.id;
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const n = Number(duration);
    const errs: Errors = {};
    if (!Number.isInteger(n) || n < 1 || n > 1440) errs.duration_minutes = "Whole minutes, 1 to 1440.";
    if (!day) errs.logged_at = "Pick the day you worked.";
    setErrors(errs);
    if (Object.keys(errs).length === 0) log.mutate();
  };
  const s = summary.data;
  return (
    <section className="card stack" aria-label="Time">
      <h2>Time</h2>
      {s ? (
        <p aria-label="Time summary">
          Logged <strong>{minutes(s.logged_minutes)}</strong> of {minutes(s.estimate_time)} estimated
          {s.remaining_minutes !== null && s.remaining_minutes !== undefined ? ` · ${minutes(s.remaining_minutes)} remaining` : ""}
          {s.overrun_minutes ? ` · ${minutes(s.overrun_minutes)} over` : ""}
        </p>
      ) : null}
      <div className="row">
        {here ? (
          <>
            <span className="muted">Timer running since {new Date(running.started_at).toLocaleTimeString()}</span>
            <button type="button" className="primary" onClick={() => stop.mutate()} disabled={stop.isPending}>
              Stop timer
            </button>
            <button type="button" onClick={() => discard.mutate()} disabled={discard.isPending}>
              Discard
            </button>
          </>
        ) : (
          <button type="button" onClick={() => start.mutate()} disabled={start.isPending}>
            Start timer
          </button>
        )}
        {running && !here ? <span className="muted">A timer runs on {running.issue_key}.</span> : null}
      </div>
      <ErrorNote error={start.error ?? stop.error ?? discard.error} />
      <form onSubmit={submit} noValidate className="row" aria-label="Log time">
        <Field label="Minutes" inputMode="numeric" value={duration} onChange={(e) => setDuration(e.target.value)} error={errors.duration_minutes} />
        <Field label="Day" type="date" value={day} onChange={(e) => setDay(e.target.value)} error={errors.logged_at} />
        <Field label="Note" value={note} onChange={(e) => setNote(e.target.value)} error={errors.description} />
        <button type="submit" className="primary" disabled={log.isPending}>
          Log time
        </button>
      </form>
      {log.isError && !Object.keys(fieldsOf(log.error)).length ? <ErrorNote error={log.error} /> : null}
      {logs.data && logs.data.items.length > 0 ? (
        <table aria-label="Work logs">
          <thead>
            <tr>
              <th scope="col">Day</th>
              <th scope="col">Who</th>
              <th scope="col">Time</th>
              <th scope="col">Note</th>
              <th scope="col">
                <span className="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {logs.data.items.map((l) => (
              <tr key={l.id}>
                <td>{l.logged_at}</td>
                <td>{l.logged_by_name}</td>
                <td>{minutes(l.duration_minutes)}</td>
                <td>{l.description}</td>
                <td className="actions">
                  {l.logged_by === session.user?.id ? (
                    <button type="button" className="link danger" onClick={() => remove.mutate(l.id)}>
                      Delete
                    </button>
                  ) : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </section>
  );
}

function Comments({ slug, pid, iid }: { slug: string; pid: string; iid: string }) {
  const qc = useQueryClient();
  const path = { slug, project_id: pid, issue_id: iid };
  const list = useQuery({
    queryKey: ["comments", iid],
    queryFn: () => unwrap(client.GET("/api/v1/workspaces/{slug}/projects/{project_id}/issues/{issue_id}/comments", { params: { path, query: { per_page: 200 } } })),
  });
  const [text, setText] = useState("");
  const [error, setError] = useState("");
  const add = useMutation({
    mutationFn: () => unwrap(client.POST("/api/v1/workspaces/{slug}/projects/{project_id}/issues/{issue_id}/comments", { params: { path }, body: { comment_html: toHtml(text) } })),
    onSuccess: () => {
      setText("");
      void qc.invalidateQueries({ queryKey: ["comments", iid] });
      void qc.invalidateQueries({ queryKey: ["activity", iid] });
    },
    onError: (e) => setError(fieldsOf(e).comment_html ?? messageOf(e)),
  });
  return (
    <section className="card stack" aria-label="Comments">
      <h2>Comments</h2>
      {list.data?.items.map((c) => (
        <article key={c.id} className="comment">
          <p className="muted">
            {c.actor_name} · {formatDate(c.created_at)}
            {c.edited_at ? " · edited" : ""}
          </p>
          <div className="rich" dangerouslySetInnerHTML={{ __html: c.comment_html }} />
        </article>
      ))}
      {list.data && list.data.items.length === 0 ? <p className="muted">No comments yet.</p> : null}
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (!text.trim()) {
            setError("Write something first.");
            return;
          }
          setError("");
          add.mutate();
        }}
        noValidate
        className="stack"
      >
        <div className="field">
          <label htmlFor="new-comment">Add a comment</label>
          <textarea id="new-comment" rows={3} value={text} onChange={(e) => setText(e.target.value)} aria-invalid={error ? true : undefined} />
          {error ? <p className="field-error">{error}</p> : null}
        </div>
        <div className="actions">
          <button type="submit" disabled={add.isPending}>
            Comment
          </button>
        </div>
      </form>
    </section>
  );
}

function Activity({ slug, pid, iid, states }: { slug: string; pid: string; iid: string; states: State[] | undefined }) {
  const list = useQuery({
    queryKey: ["activity", iid],
    queryFn: () =>
      unwrap(client.GET("/api/v1/workspaces/{slug}/projects/{project_id}/issues/{issue_id}/activity", { params: { path: { slug, project_id: pid, issue_id: iid }, query: { per_page: 200 } } })),
  });
  const show = (field: string | null | undefined, v: string | null | undefined) => (field === "state" ? stateName(states, v) : v ?? "—");
  return (
    <section className="card stack" aria-label="Activity">
      <h2>Activity</h2>
      <ul className="activity">
        {list.data?.items.map((a) => (
          <li key={a.id}>
            <span className="strong">{a.actor_name || "Someone"}</span>{" "}
            {a.verb === "updated" && a.field
              ? ["description", "assignees", "labels", "cycle", "module", "parent"].includes(a.field)
                ? `changed the ${a.field}`
                : `changed ${a.field.replace("_", " ")} from ${show(a.field, a.old_value)} to ${show(a.field, a.new_value)}`
              : a.verb.replace("_", " ")}{" "}
            <span className="muted">{formatDate(a.created_at)}</span>
          </li>
        ))}
      </ul>
    </section>
  );
}

// ---------------------------------------------------------------------------------------
// The project's time report

/** Rows per page of the time report's lists. */
const REPORT_PAGE = 25;

/** Time with a bar for its share of the whole. */
function Share({ part, whole }: { part: number; whole: number }) {
  const pct = whole > 0 ? Math.round((part / whole) * 100) : 0;
  return (
    <span className="share" title={`${pct}% of the time in this range`}>
      <span className="share-bar" aria-hidden="true">
        <span style={{ width: `${pct}%` }} />
      </span>
      {minutes(part)}
    </span>
  );
}

export function TimeReport() {
  const { slug = "", pid = "" } = useParams();
  const project = useProject(slug, pid);
  useTitle(project.data ? `${project.data.identifier} · Time` : "Time");
  const monthAgo = new Date(Date.now() - 29 * 86_400_000).toISOString().slice(0, 10);
  const [from, setFrom] = useState(monthAgo);
  const [to, setTo] = useState(today());
  const [interval, setInterval] = useState<"day" | "week">("week");
  const [range, setRange] = useState({ from: monthAgo, to: today(), interval: "week" as "day" | "week" });
  const [exportError, setExportError] = useState<unknown>(null);
  const [sort, setSort] = useState<"-minutes" | "minutes" | "name">("-minutes");
  const [page, setPage] = useState(1);
  const [memberPage, setMemberPage] = useState(1);
  const summary = useQuery({
    queryKey: ["time-report", slug, pid, range, sort, page, memberPage],
    queryFn: () =>
      unwrap(
        client.GET("/api/v1/workspaces/{slug}/projects/{project_id}/worklogs/summary", {
          params: { path: { slug, project_id: pid }, query: { ...range, sort, page, member_page: memberPage, per_page: REPORT_PAGE } },
        }),
      ),
    // The current page stays on screen while the next one loads.
    placeholderData: keepPreviousData,
  });
  const download = async () => {
    setExportError(null);
    try {
      const blob = await unwrap(
        client.GET("/api/v1/workspaces/{slug}/projects/{project_id}/worklogs/export", {
          params: { path: { slug, project_id: pid }, query: { from: range.from, to: range.to } },
          parseAs: "blob",
        }),
      );
      const url = URL.createObjectURL(blob);
      const a = document.createElement("a");
      a.href = url;
      a.download = `worklogs-${project.data?.identifier ?? "project"}-${range.from}-${range.to}.csv`;
      a.click();
      URL.revokeObjectURL(url);
    } catch (e) {
      setExportError(e);
    }
  };
  const s = summary.data;
  // Time per week (or day) per member, stacked: the analytics chart of this project's logs.
  const perWeek = useQuery({
    queryKey: ["time-chart", slug, pid, range],
    queryFn: async () =>
      (await unwrap(
        client.GET("/api/v1/workspaces/{slug}/projects/{project_id}/analytics/charts", {
          params: {
            path: { slug, project_id: pid },
            query: { x_axis: "LOGGED_AT", group_by: "WORK_LOGGED_BY", y_axis: "logged_minutes", interval: range.interval, logged_from: range.from, logged_to: range.to },
          },
        }),
      )) as ChartView,
    placeholderData: keepPreviousData,
  });
  return (
    <>
      <header className="page-head">
        <div>
          <p className="eyebrow">
            <Link to={`/w/${slug}`}>Projects</Link> / {project.data?.identifier ?? "…"}
          </p>
          <h1>{project.data?.name ?? "Time tracking"}</h1>
        </div>
        <button type="button" onClick={() => void download()}>
          Export CSV
        </button>
      </header>
      <ProjectTabs slug={slug} pid={pid} />
      <form
        className="filters"
        onSubmit={(e) => {
          e.preventDefault();
          setRange({ from, to, interval });
          setPage(1);
          setMemberPage(1);
        }}
      >
        <Field label="From" type="date" value={from} onChange={(e) => setFrom(e.target.value)} />
        <Field label="To" type="date" value={to} onChange={(e) => setTo(e.target.value)} />
        <SelectField label="By" value={interval} onChange={(e) => setInterval(e.target.value as "day" | "week")}>
          <option value="day">Day</option>
          <option value="week">Week</option>
        </SelectField>
        <SelectField
          label="Sort"
          value={sort}
          onChange={(e) => {
            setSort(e.target.value as typeof sort);
            setPage(1);
            setMemberPage(1);
          }}
        >
          <option value="-minutes">Most time first</option>
          <option value="minutes">Least time first</option>
          <option value="name">By name</option>
        </SelectField>
        <button type="submit">Show</button>
      </form>
      <ErrorNote error={exportError} />
      {summary.isPending ? <Spinner /> : null}
      <ErrorNote error={summary.error} retry={() => void summary.refetch()} />
      {s ? (
        s.entries === 0 ? (
          <Empty title="No time logged in this range" />
        ) : (
          <div className="stack">
            <p aria-label="Total">
              <strong>{minutes(s.total_minutes)}</strong> in {s.entries} work log{s.entries === 1 ? "" : "s"}
            </p>
            {perWeek.data ? (
              <Suspense fallback={<Spinner label="Loading the chart" />}>
                <ChartBox view={perWeek.data} kind="stacked" label={`Time per ${range.interval} and member`} exportName={`time-${project.data?.identifier ?? pid}`} />
              </Suspense>
            ) : null}
            <div className="report-grid">
              <div>
              <table aria-label="By member">
                <thead>
                  <tr>
                    <th scope="col">Member</th>
                    <th scope="col">Time</th>
                  </tr>
                </thead>
                <tbody>
                  {s.by_member.items.map((m) => (
                    <tr key={m.user_id}>
                      <td>{m.display_name}</td>
                      <td>
                        <Share part={m.minutes} whole={s.total_minutes} />
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
              {s.by_member.total_pages > 1 ? (
                <div className="pager" aria-label="Member pages">
                  <span>
                    {s.by_member.total} people · page {s.by_member.page} of {s.by_member.total_pages}
                  </span>
                  <button type="button" disabled={memberPage <= 1} onClick={() => setMemberPage(memberPage - 1)}>
                    Previous
                  </button>
                  <button type="button" disabled={memberPage >= s.by_member.total_pages} onClick={() => setMemberPage(memberPage + 1)}>
                    Next
                  </button>
                </div>
              ) : null}
              </div>
              <div>
              <table aria-label="By issue">
                <thead>
                  <tr>
                    <th scope="col">Issue</th>
                    <th scope="col">Time</th>
                    <th scope="col">Estimate</th>
                  </tr>
                </thead>
                <tbody>
                  {s.by_issue.items.map((m) => (
                    <tr key={m.issue_id}>
                      <td>
                        <Link to={`/w/${slug}/p/${pid}/issues/${m.issue_id}`}>
                          <code>{m.key}</code> {m.name}
                        </Link>
                      </td>
                      <td>
                        <Share part={m.minutes} whole={s.total_minutes} />
                      </td>
                      <td>{minutes(m.estimate_time)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
              {s.by_issue.total_pages > 1 ? (
                <div className="pager" aria-label="Issue pages">
                  <span>
                    {s.by_issue.total} issues · page {s.by_issue.page} of {s.by_issue.total_pages}
                  </span>
                  <button type="button" disabled={page <= 1} onClick={() => setPage(page - 1)}>
                    Previous
                  </button>
                  <button type="button" disabled={page >= s.by_issue.total_pages} onClick={() => setPage(page + 1)}>
                    Next
                  </button>
                </div>
              ) : null}
              </div>
              <table aria-label={`By ${range.interval}`}>
                <thead>
                  <tr>
                    <th scope="col">{range.interval === "week" ? "Week of" : "Day"}</th>
                    <th scope="col">Time</th>
                  </tr>
                </thead>
                <tbody>
                  {s.series.map((p) => (
                    <tr key={p.period}>
                      <td>{p.period}</td>
                      <td>{minutes(p.minutes)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </div>
        )
      ) : null}
    </>
  );
}

