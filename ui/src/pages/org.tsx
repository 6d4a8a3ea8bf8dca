import { useMemo, useState, type DragEvent, type FormEvent } from "react";
import { useParams } from "react-router";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { client, unwrap, type Schemas } from "../api/client";
import { fieldsOf } from "../api/errors";
import { Empty, ErrorNote, Field, Modal, SelectField, Spinner, useTitle } from "../components";
import { deptRules, type Errors } from "../validate";
import { useWorkspace } from "./workspaces";

type Node = Schemas["DepartmentNode"];
const MAX_LEVEL = 5;

/** Every node of the tree with its parent, in tree order. */
function flatten(nodes: Node[], parent: Node | null = null, out: { node: Node; parent: Node | null }[] = []) {
  for (const n of nodes) {
    out.push({ node: n, parent });
    flatten(n.children, n, out);
  }
  return out;
}

/** Levels of the subtree under a node, itself included. */
function height(n: Node): number {
  return 1 + Math.max(0, ...n.children.map(height));
}

function contains(n: Node, id: string): boolean {
  return n.id === id || n.children.some((c) => contains(c, id));
}

/** Why `moved` cannot go below `target` (null: the top level), or "" when it can: the
 * server's rules, shown before anything is sent. */
export function moveProblem(moved: Node, target: Node | null): string {
  if (target && contains(moved, target.id)) return `${moved.name} cannot go below itself or one of its sub-departments`;
  const level = target ? target.level + 1 : 1;
  const deepest = level + height(moved) - 1;
  if (deepest > MAX_LEVEL) return `That would nest departments ${deepest} levels deep; ${MAX_LEVEL} is the most`;
  return "";
}

export function Departments() {
  const { slug = "" } = useParams();
  const ws = useWorkspace(slug);
  useTitle(ws.data ? `${ws.data.name} · Departments` : "Departments");
  const isAdmin = ws.data ? ws.data.role === "owner" || ws.data.role === "admin" : false;
  const qc = useQueryClient();
  const tree = useQuery({
    queryKey: ["departments", slug],
    queryFn: () => unwrap(client.GET("/api/v1/workspaces/{slug}/departments/tree", { params: { path: { slug } } })),
  });
  const [editing, setEditing] = useState<{ node: Node | null; parent: string | null } | null>(null);
  const [deleting, setDeleting] = useState<Node | null>(null);
  const [collapsed, setCollapsed] = useState<Set<string>>(new Set());
  const [dragged, setDragged] = useState<Node | null>(null);
  const [dropHint, setDropHint] = useState("");
  const all = useMemo(() => flatten(tree.data ?? []), [tree.data]);
  const refresh = () => void qc.invalidateQueries({ queryKey: ["departments", slug] });
  const patch = useMutation({
    mutationFn: ({ id, body }: { id: string; body: Schemas["DepartmentBody"] }) =>
      unwrap(client.PATCH("/api/v1/workspaces/{slug}/departments/{department_id}", { params: { path: { slug, department_id: id } }, body })),
    onSettled: refresh,
  });
  const move = async (moved: Node, target: Node | null) => {
    const problem = moveProblem(moved, target);
    if (problem) {
      setDropHint(problem);
      return;
    }
    setDropHint("");
    if ((target?.id ?? null) === (moved.parent_id ?? null)) return;
    await patch.mutateAsync({ id: moved.id, body: { parent_id: target?.id ?? null } }).catch(() => undefined);
  };
  /** Up (-1) or down (+1) among its siblings: the siblings are renumbered in their new
   * order (only those whose place changes are sent). */
  const reorder = async (n: Node, dir: -1 | 1) => {
    const siblings = all.filter((x) => (x.parent?.id ?? null) === (n.parent_id ?? null)).map((x) => x.node);
    const i = siblings.findIndex((s) => s.id === n.id);
    const j = i + dir;
    if (j < 0 || j >= siblings.length) return;
    const order = [...siblings];
    order.splice(j, 0, ...order.splice(i, 1));
    for (const [k, s] of order.entries()) {
      if (s.sort_order !== k) await patch.mutateAsync({ id: s.id, body: { sort_order: k } }).catch(() => undefined);
    }
  };
  const onDrop = (e: DragEvent, target: Node | null) => {
    e.preventDefault();
    e.stopPropagation();
    if (dragged) void move(dragged, target);
    setDragged(null);
  };
  const onOver = (e: DragEvent, target: Node | null) => {
    if (!dragged) return;
    const problem = moveProblem(dragged, target);
    setDropHint(problem);
    if (!problem) e.preventDefault();
  };

  const row = (n: Node) => {
    const open = !collapsed.has(n.id);
    const toggle = () =>
      setCollapsed((s) => {
        const next = new Set(s);
        if (next.has(n.id)) next.delete(n.id);
        else next.add(n.id);
        return next;
      });
    return (
      <li key={n.id} role="treeitem" aria-expanded={n.children.length ? open : undefined} aria-label={n.name} aria-level={n.level}>
        <div
          className={`dept-row${dragged?.id === n.id ? " dragging" : ""}`}
          draggable={isAdmin}
          onDragStart={(e) => {
            e.dataTransfer.setData("text/plain", n.id);
            setDragged(n);
          }}
          onDragEnd={() => setDragged(null)}
          onDragOver={(e) => onOver(e, n)}
          onDrop={(e) => onDrop(e, n)}
        >
          {n.children.length ? (
            <button type="button" className="twisty" aria-label={`${open ? "Collapse" : "Expand"} ${n.name}`} onClick={toggle}>
              {open ? "▾" : "▸"}
            </button>
          ) : (
            <span className="twisty" aria-hidden="true" />
          )}
          <span className="strong">{n.name}</span>
          <code>{n.code}</code>
          <span className="badge">{n.short_name}</span>
          <span className="muted">#{n.dept_code}</span>
          {n.manager_name ? <span className="muted">· {n.manager_name}</span> : null}
          {!n.is_active ? <span className="badge warn">inactive</span> : null}
          <span className="level-pill" title={`Level ${n.level} of ${MAX_LEVEL}`}>
            {Array.from({ length: MAX_LEVEL }, (_, i) => (
              <span key={i} className={i < n.level ? "on" : ""} />
            ))}
          </span>
          {n.descendants ? <span className="muted">{n.descendants} below</span> : null}
          {isAdmin ? (
            <span className="row-actions">
              <button type="button" aria-label={`Move ${n.name} up`} onClick={() => void reorder(n, -1)}>
                ↑
              </button>
              <button type="button" aria-label={`Move ${n.name} down`} onClick={() => void reorder(n, 1)}>
                ↓
              </button>
              <button type="button" aria-label={`Add below ${n.name}`} disabled={n.level >= MAX_LEVEL} onClick={() => setEditing({ node: null, parent: n.id })}>
                + Sub
              </button>
              <button type="button" aria-label={`Edit ${n.name}`} onClick={() => setEditing({ node: n, parent: n.parent_id ?? null })}>
                Edit
              </button>
              <button type="button" className="danger" aria-label={`Delete ${n.name}`} onClick={() => setDeleting(n)}>
                Delete
              </button>
            </span>
          ) : null}
        </div>
        {n.children.length && open ? <ul role="group">{n.children.map(row)}</ul> : null}
      </li>
    );
  };

  if (ws.isError) return <ErrorNote error={ws.error} retry={() => void ws.refetch()} />;
  return (
    <>
      <header className="page-head">
        <div>
          <p className="eyebrow">{ws.data?.name ?? "…"}</p>
          <h1>Departments</h1>
        </div>
        {isAdmin ? (
          <button type="button" className="primary" onClick={() => setEditing({ node: null, parent: null })}>
            New department
          </button>
        ) : null}
      </header>
      {tree.isPending ? <Spinner /> : null}
      <ErrorNote error={tree.error} retry={() => void tree.refetch()} />
      <ErrorNote error={patch.error} />
      {dropHint ? (
        <p className="field-error" role="status">
          {dropHint}
        </p>
      ) : null}
      {tree.data && tree.data.length === 0 ? (
        <Empty title="No departments yet">{isAdmin ? "Create the first one: a tree of up to five levels." : null}</Empty>
      ) : null}
      {tree.data && tree.data.length ? (
        <div className="card">
          {isAdmin ? (
            <div className="drop-top" onDragOver={(e) => onOver(e, null)} onDrop={(e) => onDrop(e, null)}>
              Drag a department here to make it top level, or onto another to move it below.
            </div>
          ) : null}
          <ul role="tree" aria-label="Departments" className="dept-tree">
            {tree.data.map(row)}
          </ul>
        </div>
      ) : null}
      <Modal title={editing?.node ? "Edit department" : "New department"} open={editing !== null} onClose={() => setEditing(null)}>
        {editing ? <DepartmentForm slug={slug} node={editing.node} parent={editing.parent} all={all.map((x) => x.node)} onDone={() => setEditing(null)} /> : null}
      </Modal>
      <Modal title="Delete department" open={deleting !== null} onClose={() => setDeleting(null)}>
        {deleting ? <DeleteForm slug={slug} node={deleting} all={all.map((x) => x.node)} onDone={() => setDeleting(null)} /> : null}
      </Modal>
    </>
  );
}

function DepartmentForm({ slug, node, parent, all, onDone }: { slug: string; node: Node | null; parent: string | null; all: Node[]; onDone: () => void }) {
  const [name, setName] = useState(node?.name ?? "");
  const [code, setCode] = useState(node?.code ?? "");
  const [shortName, setShortName] = useState(node?.short_name ?? "");
  const [deptCode, setDeptCode] = useState(node?.dept_code ?? "");
  const [parentId, setParentId] = useState<string>(parent ?? "");
  const [managerId, setManagerId] = useState<string>(node?.manager_id ?? "");
  const [projectId, setProjectId] = useState<string>(node?.linked_project_id ?? "");
  const [active, setActive] = useState(node?.is_active ?? true);
  const [errors, setErrors] = useState<Errors>({});
  const qc = useQueryClient();
  const members = useQuery({
    queryKey: ["members", slug],
    queryFn: () => unwrap(client.GET("/api/v1/workspaces/{slug}/members", { params: { path: { slug }, query: { per_page: 500 } } })),
  });
  const projects = useQuery({
    queryKey: ["projects", slug, "all"],
    queryFn: () => unwrap(client.GET("/api/v1/workspaces/{slug}/projects", { params: { path: { slug }, query: { per_page: 500 } } })),
  });
  const body = {
    name,
    code,
    short_name: shortName,
    dept_code: deptCode,
    parent_id: parentId || null,
    manager_id: managerId || null,
    linked_project_id: projectId || null,
    is_active: active,
  };
  const save = useMutation({
    mutationFn: () =>
      unwrap(
        node
          ? client.PATCH("/api/v1/workspaces/{slug}/departments/{department_id}", { params: { path: { slug, department_id: node.id } }, body })
          : client.POST("/api/v1/workspaces/{slug}/departments", { params: { path: { slug } }, body }),
      ),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: ["departments", slug] });
      onDone();
    },
    onError: (e) => setErrors(fieldsOf(e)),
  });
  // A parent is offered with the reason it cannot be one, if it cannot.
  const asMoved = node ?? ({ id: "", name: name || "The new department", level: 1, children: [] } as unknown as Node);
  const submit = (ev: FormEvent) => {
    ev.preventDefault();
    const errs = deptRules({ name, code, short_name: shortName, dept_code: deptCode });
    const target = all.find((d) => d.id === parentId) ?? null;
    const problem = moveProblem(asMoved, target);
    if (problem) errs.parent_id = problem;
    setErrors(errs);
    if (!Object.keys(errs).length) save.mutate();
  };
  return (
    <form onSubmit={submit} noValidate>
      <Field label="Name" value={name} autoFocus onChange={(e) => setName(e.target.value)} error={errors.name} />
      <Field label="Code" value={code} onChange={(e) => setCode(e.target.value)} error={errors.code} hint="Up to 20 letters, digits, - or _; unique in the workspace" />
      <Field
        label="Short name"
        value={shortName}
        onChange={(e) => setShortName(e.target.value.toUpperCase())}
        error={errors.short_name}
        hint="Up to 10 upper-case letters or digits, like IT or HR"
      />
      <Field label="Department code" value={deptCode} inputMode="numeric" onChange={(e) => setDeptCode(e.target.value)} error={errors.dept_code} hint="Exactly 4 digits" />
      <SelectField label="Parent" value={parentId} onChange={(e) => setParentId(e.target.value)} error={errors.parent_id}>
        <option value="">None (top level)</option>
        {all.map((d) => {
          const problem = moveProblem(asMoved, d);
          return (
            <option key={d.id} value={d.id} disabled={!!problem} title={problem || undefined}>
              {"\u2003".repeat(d.level - 1)}
              {d.name}
              {problem ? " — not possible" : ""}
            </option>
          );
        })}
      </SelectField>
      <SelectField label="Manager" value={managerId} onChange={(e) => setManagerId(e.target.value)} error={errors.manager_id}>
        <option value="">No manager</option>
        {(members.data?.items ?? []).map((m) => (
          <option key={m.user_id} value={m.user_id}>
            {m.display_name}
          </option>
        ))}
      </SelectField>
      <SelectField label="Team project" value={projectId} onChange={(e) => setProjectId(e.target.value)} error={errors.linked_project_id}>
        <option value="">No team project</option>
        {(projects.data?.items ?? []).map((p) => (
          <option key={p.id} value={p.id}>
            {p.identifier} · {p.name}
          </option>
        ))}
      </SelectField>
      <p className="hint">Its managers, and the managers of the departments above it, join the team project.</p>
      <label className="check">
        <input type="checkbox" checked={active} onChange={(e) => setActive(e.target.checked)} />
        Active
      </label>
      {save.isError && !Object.keys(fieldsOf(save.error)).length ? <ErrorNote error={save.error} /> : null}
      <div className="form-actions">
        <button type="button" onClick={onDone}>
          Cancel
        </button>
        <button type="submit" className="primary" disabled={save.isPending}>
          {save.isPending ? "Saving…" : node ? "Save" : "Create department"}
        </button>
      </div>
    </form>
  );
}

function DeleteForm({ slug, node, all, onDone }: { slug: string; node: Node; all: Node[]; onDone: () => void }) {
  const [to, setTo] = useState("root");
  const qc = useQueryClient();
  const del = useMutation({
    mutationFn: () =>
      unwrap(
        client.DELETE("/api/v1/workspaces/{slug}/departments/{department_id}", {
          params: { path: { slug, department_id: node.id }, query: node.children.length ? { children_to: to } : {} },
        }),
      ),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: ["departments", slug] });
      onDone();
    },
  });
  // Where the children can go: anywhere outside this subtree that keeps them within five levels.
  const targets = all.filter((d) => !contains(node, d.id) && node.children.every((c) => !moveProblem(c, d)));
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        del.mutate();
      }}
    >
      <p>
        Delete <strong>{node.name}</strong>?
      </p>
      {node.children.length ? (
        <SelectField label="Move its sub-departments to" value={to} onChange={(e) => setTo(e.target.value)}>
          <option value="root">The top level</option>
          {targets.map((d) => (
            <option key={d.id} value={d.id}>
              {d.name}
            </option>
          ))}
        </SelectField>
      ) : null}
      <ErrorNote error={del.error} />
      <div className="form-actions">
        <button type="button" onClick={onDone}>
          Cancel
        </button>
        <button type="submit" className="danger" disabled={del.isPending}>
          Delete
        </button>
      </div>
    </form>
  );
}
