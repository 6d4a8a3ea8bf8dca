import { useEffect, useState, type FormEvent } from "react";
import { Link, useParams } from "react-router";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { client, unwrap, type Project } from "../api/client";
import { fieldsOf } from "../api/errors";
import { Empty, ErrorNote, Field, Modal, Spinner, formatDate, useTitle } from "../components";
import { check, identifierFrom, rules, type Errors } from "../validate";
import { rememberWorkspace, useWorkspace } from "./workspaces";
import { FavoriteStar } from "./planning";

type Filter = "active" | "archived";

export function Projects() {
  const { slug = "" } = useParams();
  const ws = useWorkspace(slug);
  useTitle(ws.data ? `${ws.data.name} · Projects` : "Projects");
  useEffect(() => rememberWorkspace(slug), [slug]);
  const [filter, setFilter] = useState<Filter>("active");
  const [editing, setEditing] = useState<Project | "new" | null>(null);
  const list = useQuery({
    queryKey: ["projects", slug, filter],
    queryFn: () =>
      unwrap(
        client.GET("/api/v1/workspaces/{slug}/projects", {
          params: { path: { slug }, query: { archived: filter === "archived", per_page: 500 } },
        }),
      ),
  });
  const canCreate = ws.data?.role && ws.data.role !== "guest";
  const wsAdmin = ws.data?.role === "admin" || ws.data?.role === "owner";
  if (ws.isError) return <ErrorNote error={ws.error} retry={() => void ws.refetch()} />;
  return (
    <>
      <header className="page-head">
        <div>
          <p className="eyebrow">{ws.data?.name ?? "…"}</p>
          <h1>Projects</h1>
        </div>
        {canCreate ? (
          <button type="button" className="primary" onClick={() => setEditing("new")}>
            New project
          </button>
        ) : null}
      </header>
      <div className="tabs" role="tablist" aria-label="Which projects">
        {(["active", "archived"] as const).map((f) => (
          <button key={f} type="button" role="tab" aria-selected={filter === f} className={filter === f ? "tab on" : "tab"} onClick={() => setFilter(f)}>
            {f === "active" ? "Active" : "Archived"}
          </button>
        ))}
      </div>
      {list.isPending ? <Spinner /> : null}
      <ErrorNote error={list.error} retry={() => void list.refetch()} />
      {list.data && list.data.items.length === 0 ? (
        <Empty title={filter === "active" ? "No projects yet" : "No archived projects"}>
          {filter === "active" && canCreate ? (
            <button type="button" className="primary" onClick={() => setEditing("new")}>
              Create a project
            </button>
          ) : null}
        </Empty>
      ) : null}
      {list.data && list.data.items.length > 0 ? (
        <div className="table-wrap">
          <table aria-label="Projects">
            <thead>
              <tr>
                <th scope="col">Project</th>
                <th scope="col">Identifier</th>
                <th scope="col" className="hide-narrow">
                  Access
                </th>
                <th scope="col" className="hide-narrow">
                  Created
                </th>
                <th scope="col">
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.data.items.map((p) => (
                <ProjectRow key={p.id} slug={slug} project={p} wsAdmin={wsAdmin} onEdit={() => setEditing(p)} />
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      <Modal title={editing === "new" ? "New project" : "Edit project"} open={editing !== null} onClose={() => setEditing(null)}>
        {editing ? <ProjectForm slug={slug} project={editing === "new" ? null : editing} onDone={() => setEditing(null)} /> : null}
      </Modal>
    </>
  );
}

function ProjectRow({ slug, project: p, wsAdmin, onEdit }: { slug: string; project: Project; wsAdmin: boolean; onEdit: () => void }) {
  const qc = useQueryClient();
  // Workspace owners and admins count as admins of every project.
  const isAdmin = wsAdmin || p.member_role === "admin";
  const toggle = useMutation({
    mutationFn: () =>
      unwrap(
        p.archived_at
          ? client.POST("/api/v1/workspaces/{slug}/projects/{project_id}/unarchive", { params: { path: { slug, project_id: p.id } } })
          : client.POST("/api/v1/workspaces/{slug}/projects/{project_id}/archive", { params: { path: { slug, project_id: p.id } } }),
      ),
    onSuccess: () => void qc.invalidateQueries({ queryKey: ["projects", slug] }),
  });
  return (
    <tr>
      <td>
        <FavoriteStar slug={slug} type="project" id={p.id} on={p.is_favorite} name={p.name} invalidate={["projects", slug]} />{" "}
        <Link to={`/w/${slug}/p/${p.id}`} className="strong">
          {p.name}
        </Link>
        {p.description ? <span className="muted block clamp">{p.description}</span> : null}
        {toggle.isError ? <ErrorNote error={toggle.error} /> : null}
      </td>
      <td>
        <code>{p.identifier}</code>
      </td>
      <td className="hide-narrow">{p.is_private ? "Private" : "Public"}</td>
      <td className="hide-narrow">{formatDate(p.created_at)}</td>
      <td className="actions">
        {isAdmin ? (
          <>
            {!p.archived_at ? (
              <button type="button" onClick={onEdit} aria-label={`Edit ${p.name}`}>
                Edit
              </button>
            ) : null}
            <button type="button" onClick={() => toggle.mutate()} disabled={toggle.isPending} aria-label={`${p.archived_at ? "Unarchive" : "Archive"} ${p.name}`}>
              {p.archived_at ? "Unarchive" : "Archive"}
            </button>
          </>
        ) : (
          <span className="muted">{p.member_role ?? ""}</span>
        )}
      </td>
    </tr>
  );
}

function ProjectForm({ slug, project, onDone }: { slug: string; project: Project | null; onDone: () => void }) {
  const [name, setName] = useState(project?.name ?? "");
  const [identifier, setIdentifier] = useState(project?.identifier ?? "");
  const [identEdited, setIdentEdited] = useState(project !== null);
  const [description, setDescription] = useState(project?.description ?? "");
  const [isPrivate, setPrivate] = useState(project?.is_private ?? false);
  const [timeTracking, setTimeTracking] = useState(project?.is_time_tracking_enabled ?? true);
  const [errors, setErrors] = useState<Errors>({});
  const qc = useQueryClient();
  const body = { name, identifier, description, is_private: isPrivate, is_time_tracking_enabled: timeTracking };
  const save = useMutation({
    mutationFn: () =>
      unwrap(
        project
          ? client.PATCH("/api/v1/workspaces/{slug}/projects/{project_id}", { params: { path: { slug, project_id: project.id } }, body })
          : client.POST("/api/v1/workspaces/{slug}/projects", { params: { path: { slug } }, body }),
      ),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: ["projects", slug] });
      onDone();
    },
    onError: (e) => setErrors(fieldsOf(e)),
  });
  const submit = (ev: FormEvent) => {
    ev.preventDefault();
    const errs = check({ name: [name, rules.name], identifier: [identifier, rules.identifier] });
    if (description.length > 10_000) errs.description = "At most 10,000 characters";
    setErrors(errs);
    if (!Object.keys(errs).length) save.mutate();
  };
  return (
    <form onSubmit={submit} noValidate>
      <Field
        label="Name"
        value={name}
        autoFocus
        onChange={(e) => {
          setName(e.target.value);
          if (!identEdited) setIdentifier(identifierFrom(e.target.value));
        }}
        error={errors.name}
      />
      <Field
        label="Identifier"
        value={identifier}
        onChange={(e) => {
          setIdentEdited(true);
          setIdentifier(e.target.value.toUpperCase());
        }}
        error={errors.identifier}
        hint="2–12 upper-case letters or digits; prefixes the project's issue ids"
      />
      <div className="field">
        <label htmlFor="project-description">Description</label>
        <textarea id="project-description" rows={3} value={description} onChange={(e) => setDescription(e.target.value)} />
        {errors.description ? <p className="field-error">{errors.description}</p> : null}
      </div>
      <label className="check">
        <input type="checkbox" checked={isPrivate} onChange={(e) => setPrivate(e.target.checked)} />
        Private: only the project's members see it
      </label>
      <label className="check">
        <input type="checkbox" checked={timeTracking} onChange={(e) => setTimeTracking(e.target.checked)} />
        Time tracking
      </label>
      {save.isError && !Object.keys(fieldsOf(save.error)).length ? <ErrorNote error={save.error} /> : null}
      <div className="form-actions">
        <button type="button" onClick={onDone}>
          Cancel
        </button>
        <button type="submit" className="primary" disabled={save.isPending}>
          {save.isPending ? "Saving…" : project ? "Save" : "Create project"}
        </button>
      </div>
    </form>
  );
}
