import { useState } from "react";
import { Link, useParams } from "react-router";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { client, unwrap, type Schemas } from "../api/client";
import { Empty, ErrorNote, SelectField, Spinner, formatDate, useTitle } from "../components";
import { ProjectTabs, useProject } from "./issues";
import { useWorkspace } from "./workspaces";

type Reason = Schemas["MembershipReason"];

/** Why someone is in a project, as badges: by hand, and each department that brings them. */
function ReasonBadges({ byHand, departments }: { byHand: boolean; departments: Schemas["DepartmentRef"][] }) {
  return (
    <>
      {byHand ? <span className="badge">added by hand</span> : null}
      {departments.map((d) => (
        <span key={d.id} className="badge reason-dept" title="Manages this department, which is linked to the project">
          manages {d.name ?? "a deleted department"}
        </span>
      ))}
    </>
  );
}

function reasonText(r: Reason | null | undefined): string {
  if (!r) return "";
  const parts = [...(r.by_hand ? ["added by hand"] : []), ...r.departments.map((d) => `manages ${d.name ?? "a deleted department"}`)];
  return parts.length ? parts.join(", ") : "no reason left";
}

function eventText(e: Schemas["ProjectEventView"]): string {
  switch (e.verb) {
    case "joined":
      return `joined as ${e.role ?? "member"} (${reasonText(e.after)})`;
    case "left":
      return `left (was ${reasonText(e.before)})`;
    case "role_changed":
      return `role ${e.old_role ?? "?"} → ${e.role ?? "?"}`;
    default:
      return `reason: ${reasonText(e.before)} → ${reasonText(e.after)}`;
  }
}

/** A project's members, why each is in it, and the history of who joined and left. */
export function ProjectMembers() {
  const { slug = "", pid = "" } = useParams();
  const ws = useWorkspace(slug);
  const project = useProject(slug, pid);
  useTitle(project.data ? `${project.data.identifier} · Members` : "Members");
  const isAdmin = (ws.data && (ws.data.role === "owner" || ws.data.role === "admin")) || project.data?.member_role === "admin";
  const qc = useQueryClient();
  const members = useQuery({
    queryKey: ["project-members", slug, pid],
    queryFn: () => unwrap(client.GET("/api/v1/workspaces/{slug}/projects/{project_id}/members", { params: { path: { slug, project_id: pid }, query: { per_page: 500 } } })),
  });
  const history = useQuery({
    queryKey: ["project-activity", slug, pid],
    queryFn: () => unwrap(client.GET("/api/v1/workspaces/{slug}/projects/{project_id}/activity", { params: { path: { slug, project_id: pid }, query: { per_page: 50 } } })),
    enabled: ws.data ? ws.data.role !== "guest" : false,
  });
  const everyone = useQuery({
    queryKey: ["members", slug],
    queryFn: () => unwrap(client.GET("/api/v1/workspaces/{slug}/members", { params: { path: { slug }, query: { per_page: 500 } } })),
    enabled: !!isAdmin,
  });
  const [adding, setAdding] = useState("");
  const [role, setRole] = useState<Schemas["ProjRole"]>("member");
  const refresh = () => {
    void qc.invalidateQueries({ queryKey: ["project-members", slug, pid] });
    void qc.invalidateQueries({ queryKey: ["project-activity", slug, pid] });
  };
  const add = useMutation({
    mutationFn: () => unwrap(client.POST("/api/v1/workspaces/{slug}/projects/{project_id}/members", { params: { path: { slug, project_id: pid } }, body: { user_id: adding, role } })),
    onSuccess: () => {
      setAdding("");
      refresh();
    },
  });
  const remove = useMutation({
    mutationFn: (user: string) =>
      unwrap(client.DELETE("/api/v1/workspaces/{slug}/projects/{project_id}/members/{user_id}", { params: { path: { slug, project_id: pid, user_id: user } } })),
    onSettled: refresh,
  });
  const inProject = new Set((members.data?.items ?? []).filter((m) => m.added_by_hand).map((m) => m.user_id));
  return (
    <>
      <header className="page-head">
        <div>
          <p className="eyebrow">
            <Link to={`/w/${slug}`}>Projects</Link> / {project.data?.identifier ?? "…"}
          </p>
          <h1>{project.data?.name ?? "Members"}</h1>
        </div>
      </header>
      <ProjectTabs slug={slug} pid={pid} />
      <ErrorNote error={project.error ?? members.error} />
      {isAdmin ? (
        <form
          className="row filters"
          onSubmit={(e) => {
            e.preventDefault();
            if (adding) add.mutate();
          }}
        >
          <SelectField label="Add a member" value={adding} onChange={(e) => setAdding(e.target.value)}>
            <option value="">Choose a workspace member</option>
            {(everyone.data?.items ?? [])
              .filter((m) => !inProject.has(m.user_id))
              .map((m) => (
                <option key={m.user_id} value={m.user_id}>
                  {m.display_name}
                </option>
              ))}
          </SelectField>
          <SelectField label="Role" value={role} onChange={(e) => setRole(e.target.value as Schemas["ProjRole"])}>
            <option value="member">member</option>
            <option value="admin">admin</option>
            <option value="guest">guest</option>
          </SelectField>
          <button type="submit" className="primary" disabled={!adding || add.isPending}>
            Add
          </button>
        </form>
      ) : null}
      <ErrorNote error={add.error ?? remove.error} />
      {members.isPending ? <Spinner /> : null}
      {members.data && members.data.items.length === 0 ? <Empty title="No members" /> : null}
      {members.data && members.data.items.length ? (
        <div className="table-wrap">
          <table aria-label="Project members">
            <thead>
              <tr>
                <th>Name</th>
                <th>Role</th>
                <th>Why</th>
                <th>Since</th>
                {isAdmin ? <th aria-label="Actions" /> : null}
              </tr>
            </thead>
            <tbody>
              {members.data.items.map((m) => (
                <tr key={m.id} aria-label={m.display_name}>
                  <td>
                    <span className="strong">{m.display_name}</span>
                    {m.email ? <div className="muted">{m.email}</div> : null}
                  </td>
                  <td>{m.role}</td>
                  <td>
                    <ReasonBadges byHand={m.added_by_hand} departments={m.through_departments} />
                  </td>
                  <td>{formatDate(m.created_at)}</td>
                  {isAdmin ? (
                    <td className="actions">
                      <button
                        type="button"
                        className="danger"
                        aria-label={`Remove ${m.display_name}`}
                        disabled={m.through_departments.length > 0}
                        title={m.through_departments.length ? "A member through a department leaves when they stop managing it" : undefined}
                        onClick={() => remove.mutate(m.user_id)}
                      >
                        Remove
                      </button>
                    </td>
                  ) : null}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {history.data ? (
        <section className="section">
          <h2>History</h2>
          {history.data.items.length === 0 ? <p className="muted">Nobody has joined or left since the project began.</p> : null}
          <ol className="activity" aria-label="Project history">
            {history.data.items.map((e) => (
              <li key={e.id}>
                <span className="muted">{formatDate(e.created_at)}</span> <span className="strong">{e.user_name || "Someone"}</span> {eventText(e)}
                <span className="muted"> · {e.created_by_name ? `by ${e.created_by_name}` : "by the manager rule"}</span>
              </li>
            ))}
          </ol>
        </section>
      ) : null}
    </>
  );
}
