import { useState, type FormEvent } from "react";
import { Link, useParams } from "react-router";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { client, unwrap, type Schemas } from "../api/client";
import { fieldsOf } from "../api/errors";
import { Empty, ErrorNote, Field, Modal, SelectField, Spinner, formatDate, useTitle } from "../components";
import type { Errors } from "../validate";
import { IssueTable, ProjectTabs, useProject, useProjectMembers, useStates } from "./issues";

type FavoriteType = Schemas["FavoriteType"];
type ModuleStatus = Schemas["ModuleStatus"];

/** A star that marks something as the caller's favorite. */
export function FavoriteStar({ slug, type, id, on, name, invalidate }: { slug: string; type: FavoriteType; id: string; on: boolean; name: string; invalidate: unknown[] }) {
  const qc = useQueryClient();
  const toggle = useMutation({
    mutationFn: () =>
      on
        ? unwrap(client.DELETE("/api/v1/workspaces/{slug}/favorites/{entity_type}/{entity_id}", { params: { path: { slug, entity_type: type, entity_id: id } } }))
        : unwrap(client.POST("/api/v1/workspaces/{slug}/favorites", { params: { path: { slug } }, body: { entity_type: type, entity_id: id } })),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: invalidate });
      void qc.invalidateQueries({ queryKey: ["favorites", slug] });
    },
  });
  return (
    <button type="button" className="icon star" aria-pressed={on} aria-label={on ? `Unfavorite ${name}` : `Favorite ${name}`} disabled={toggle.isPending} onClick={() => toggle.mutate()}>
      {on ? "★" : "☆"}
    </button>
  );
}

function Progress({ done, total }: { done: number; total: number }) {
  const pct = total ? Math.round((done * 100) / total) : 0;
  return (
    <span className="progress" title={`${done} of ${total} done`}>
      <progress max={100} value={pct} aria-label={`${pct}% done`} /> {done}/{total}
    </span>
  );
}

function Header({ slug, pid, title, action }: { slug: string; pid: string; title: string; action?: React.ReactNode }) {
  const project = useProject(slug, pid);
  useTitle(project.data ? `${project.data.identifier} · ${title}` : title);
  return (
    <>
      <header className="page-head">
        <div>
          <p className="eyebrow">
            <Link to={`/w/${slug}`}>Projects</Link> / {project.data?.identifier ?? "…"}
          </p>
          <h1>{project.data?.name ?? title}</h1>
        </div>
        {action}
      </header>
      <ProjectTabs slug={slug} pid={pid} />
      <ErrorNote error={project.error} retry={() => void project.refetch()} />
    </>
  );
}

// ---------------------------------------------------------------------------------------
// Cycles

export function Cycles() {
  const { slug = "", pid = "" } = useParams();
  const [creating, setCreating] = useState(false);
  const key = ["cycles", slug, pid];
  const list = useQuery({
    queryKey: key,
    queryFn: () => unwrap(client.GET("/api/v1/workspaces/{slug}/projects/{project_id}/cycles", { params: { path: { slug, project_id: pid } } })),
  });
  const qc = useQueryClient();
  const remove = useMutation({
    mutationFn: (id: string) => unwrap(client.DELETE("/api/v1/workspaces/{slug}/projects/{project_id}/cycles/{cycle_id}", { params: { path: { slug, project_id: pid, cycle_id: id } } })),
    onSuccess: () => void qc.invalidateQueries({ queryKey: key }),
  });
  return (
    <>
      <Header
        slug={slug}
        pid={pid}
        title="Cycles"
        action={
          <button type="button" className="primary" onClick={() => setCreating(true)}>
            New cycle
          </button>
        }
      />
      {list.isPending ? <Spinner /> : null}
      <ErrorNote error={list.error ?? remove.error} retry={() => void list.refetch()} />
      {list.data?.length === 0 ? <Empty title="No cycles yet" /> : null}
      {list.data && list.data.length > 0 ? (
        <div className="table-wrap">
          <table aria-label="Cycles">
            <thead>
              <tr>
                <th scope="col">
                  <span className="sr-only">Favorite</span>
                </th>
                <th scope="col">Cycle</th>
                <th scope="col">Dates</th>
                <th scope="col">Status</th>
                <th scope="col">Done</th>
                <th scope="col">
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.data.map((c) => (
                <tr key={c.id}>
                  <td>
                    <FavoriteStar slug={slug} type="cycle" id={c.id} on={c.is_favorite} name={c.name} invalidate={key} />
                  </td>
                  <td>
                    <Link to={`/w/${slug}/p/${pid}?cycle=${c.id}`} className="strong">
                      {c.name}
                    </Link>
                  </td>
                  <td>{c.start_date ? `${formatDate(c.start_date)} – ${formatDate(c.end_date)}` : "—"}</td>
                  <td>
                    <span className="badge">{c.status}</span>
                  </td>
                  <td>
                    <Progress done={c.completed_issues} total={c.total_issues} />
                  </td>
                  <td className="actions">
                    <button type="button" className="link danger" aria-label={`Delete ${c.name}`} onClick={() => remove.mutate(c.id)}>
                      Delete
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      <Modal title="New cycle" open={creating} onClose={() => setCreating(false)}>
        {creating ? <CycleForm slug={slug} pid={pid} onDone={() => setCreating(false)} /> : null}
      </Modal>
    </>
  );
}

function CycleForm({ slug, pid, onDone }: { slug: string; pid: string; onDone: () => void }) {
  const qc = useQueryClient();
  const [name, setName] = useState("");
  const [start, setStart] = useState("");
  const [end, setEnd] = useState("");
  const [errors, setErrors] = useState<Errors>({});
  const create = useMutation({
    mutationFn: () =>
      unwrap(
        client.POST("/api/v1/workspaces/{slug}/projects/{project_id}/cycles", {
          params: { path: { slug, project_id: pid } },
          body: { name: name.trim(), start_date: start || null, end_date: end || null },
        }),
      ),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: ["cycles", slug, pid] });
      onDone();
    },
    onError: (e) => setErrors(fieldsOf(e)),
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const errs: Errors = {};
    if (!name.trim()) errs.name = "Name the cycle.";
    if (Boolean(start) !== Boolean(end)) errs.end_date = "Give both dates, or neither for a draft.";
    else if (start && end && start > end) errs.end_date = "The end comes after the start.";
    setErrors(errs);
    if (Object.keys(errs).length === 0) create.mutate();
  };
  return (
    <form onSubmit={submit} noValidate className="stack">
      <Field label="Name" value={name} onChange={(e) => setName(e.target.value)} error={errors.name} autoFocus />
      <div className="row">
        <Field label="Start" type="date" value={start} onChange={(e) => setStart(e.target.value)} error={errors.start_date} />
        <Field label="End" type="date" value={end} onChange={(e) => setEnd(e.target.value)} error={errors.end_date} />
      </div>
      <ErrorNote error={Object.keys(fieldsOf(create.error)).length ? null : create.error} />
      <div className="actions">
        <button type="submit" className="primary" disabled={create.isPending}>
          Create cycle
        </button>
      </div>
    </form>
  );
}

// ---------------------------------------------------------------------------------------
// Modules

const MODULE_STATUSES: ModuleStatus[] = ["backlog", "planned", "in_progress", "paused", "completed", "cancelled"];

export function Modules() {
  const { slug = "", pid = "" } = useParams();
  const [creating, setCreating] = useState(false);
  const key = ["modules", slug, pid];
  const members = useProjectMembers(slug, pid);
  const list = useQuery({
    queryKey: key,
    queryFn: () => unwrap(client.GET("/api/v1/workspaces/{slug}/projects/{project_id}/modules", { params: { path: { slug, project_id: pid } } })),
  });
  const qc = useQueryClient();
  const setStatus = useMutation({
    mutationFn: ({ id, status }: { id: string; status: ModuleStatus }) =>
      unwrap(client.PATCH("/api/v1/workspaces/{slug}/projects/{project_id}/modules/{module_id}", { params: { path: { slug, project_id: pid, module_id: id } }, body: { status } })),
    onSuccess: () => void qc.invalidateQueries({ queryKey: key }),
  });
  const lead = (id: string | null | undefined) => members.data?.items.find((m) => m.user_id === id)?.display_name ?? "—";
  return (
    <>
      <Header
        slug={slug}
        pid={pid}
        title="Modules"
        action={
          <button type="button" className="primary" onClick={() => setCreating(true)}>
            New module
          </button>
        }
      />
      {list.isPending ? <Spinner /> : null}
      <ErrorNote error={list.error ?? setStatus.error} retry={() => void list.refetch()} />
      {list.data?.length === 0 ? <Empty title="No modules yet" /> : null}
      {list.data && list.data.length > 0 ? (
        <div className="table-wrap">
          <table aria-label="Modules">
            <thead>
              <tr>
                <th scope="col">
                  <span className="sr-only">Favorite</span>
                </th>
                <th scope="col">Module</th>
                <th scope="col">Lead</th>
                <th scope="col">Status</th>
                <th scope="col">Done</th>
              </tr>
            </thead>
            <tbody>
              {list.data.map((m) => (
                <tr key={m.id}>
                  <td>
                    <FavoriteStar slug={slug} type="module" id={m.id} on={m.is_favorite} name={m.name} invalidate={key} />
                  </td>
                  <td>
                    <Link to={`/w/${slug}/p/${pid}?module=${m.id}`} className="strong">
                      {m.name}
                    </Link>
                  </td>
                  <td>{lead(m.lead_id)}</td>
                  <td>
                    <select aria-label={`Status of ${m.name}`} value={m.status} onChange={(e) => setStatus.mutate({ id: m.id, status: e.target.value as ModuleStatus })}>
                      {MODULE_STATUSES.map((s) => (
                        <option key={s} value={s}>
                          {s.replace("_", " ")}
                        </option>
                      ))}
                    </select>
                  </td>
                  <td>
                    <Progress done={m.completed_issues} total={m.total_issues} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      <Modal title="New module" open={creating} onClose={() => setCreating(false)}>
        {creating ? <ModuleForm slug={slug} pid={pid} members={members.data?.items ?? []} onDone={() => setCreating(false)} /> : null}
      </Modal>
    </>
  );
}

function ModuleForm({ slug, pid, members, onDone }: { slug: string; pid: string; members: Schemas["ProjectMemberView"][]; onDone: () => void }) {
  const qc = useQueryClient();
  const [name, setName] = useState("");
  const [leadId, setLead] = useState("");
  const [status, setStatus] = useState<ModuleStatus>("planned");
  const [errors, setErrors] = useState<Errors>({});
  const create = useMutation({
    mutationFn: () =>
      unwrap(
        client.POST("/api/v1/workspaces/{slug}/projects/{project_id}/modules", {
          params: { path: { slug, project_id: pid } },
          body: { name: name.trim(), status, lead_id: leadId || null },
        }),
      ),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: ["modules", slug, pid] });
      onDone();
    },
    onError: (e) => setErrors(fieldsOf(e)),
  });
  return (
    <form
      className="stack"
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        if (!name.trim()) {
          setErrors({ name: "Name the module." });
          return;
        }
        create.mutate();
      }}
    >
      <Field label="Name" value={name} onChange={(e) => setName(e.target.value)} error={errors.name} autoFocus />
      <div className="row">
        <SelectField label="Lead" value={leadId} onChange={(e) => setLead(e.target.value)} error={errors.lead_id}>
          <option value="">Nobody</option>
          {members.map((m) => (
            <option key={m.user_id} value={m.user_id}>
              {m.display_name}
            </option>
          ))}
        </SelectField>
        <SelectField label="Status" value={status} onChange={(e) => setStatus(e.target.value as ModuleStatus)}>
          {MODULE_STATUSES.map((s) => (
            <option key={s} value={s}>
              {s.replace("_", " ")}
            </option>
          ))}
        </SelectField>
      </div>
      <ErrorNote error={Object.keys(fieldsOf(create.error)).length ? null : create.error} />
      <div className="actions">
        <button type="submit" className="primary" disabled={create.isPending}>
          Create module
        </button>
      </div>
    </form>
  );
}

// ---------------------------------------------------------------------------------------
// Saved views

export function Views() {
  const { slug = "", pid = "" } = useParams();
  const key = ["views", slug, pid];
  const list = useQuery({
    queryKey: key,
    queryFn: () => unwrap(client.GET("/api/v1/workspaces/{slug}/projects/{project_id}/views", { params: { path: { slug, project_id: pid } } })),
  });
  return (
    <>
      <Header slug={slug} pid={pid} title="Views" />
      {list.isPending ? <Spinner /> : null}
      <ErrorNote error={list.error} retry={() => void list.refetch()} />
      {list.data?.length === 0 ? (
        <Empty title="No saved views yet">
          <p className="muted">Filter the issue list, then “Save as view”.</p>
        </Empty>
      ) : null}
      {list.data && list.data.length > 0 ? (
        <ul className="cards" aria-label="Views">
          {list.data.map((v) => (
            <li key={v.id} className="card">
              <FavoriteStar slug={slug} type="view" id={v.id} on={v.is_favorite} name={v.name} invalidate={key} />{" "}
              <Link to={`/w/${slug}/p/${pid}/views/${v.id}`} className="strong">
                {v.name}
              </Link>
              {v.is_private ? <span className="badge">private</span> : null}
              <p className="muted">
                {Object.entries(v.query)
                  .map(([k, val]) => `${k} = ${val}`)
                  .join(", ") || "All issues"}
              </p>
            </li>
          ))}
        </ul>
      ) : null}
    </>
  );
}

export function ViewIssues() {
  const { slug = "", pid = "", vid = "" } = useParams();
  const states = useStates(slug, pid);
  const view = useQuery({
    queryKey: ["view", vid],
    queryFn: () => unwrap(client.GET("/api/v1/workspaces/{slug}/projects/{project_id}/views/{view_id}", { params: { path: { slug, project_id: pid, view_id: vid } } })),
  });
  const issues = useQuery({
    queryKey: ["view-issues", vid],
    queryFn: () =>
      unwrap(client.GET("/api/v1/workspaces/{slug}/projects/{project_id}/views/{view_id}/issues", { params: { path: { slug, project_id: pid, view_id: vid }, query: { per_page: 100 } } })),
  });
  return (
    <>
      <Header slug={slug} pid={pid} title={view.data?.name ?? "View"} />
      <h2>{view.data?.name}</h2>
      <ErrorNote error={view.error ?? issues.error} />
      {issues.isPending ? <Spinner /> : null}
      {issues.data && issues.data.items.length === 0 ? <Empty title="No issue matches this view" /> : null}
      {issues.data && issues.data.items.length > 0 ? (
        <>
          <p className="muted">{issues.data.total} issues</p>
          <IssueTable slug={slug} pid={pid} items={issues.data.items} states={states.data} />
        </>
      ) : null}
    </>
  );
}
