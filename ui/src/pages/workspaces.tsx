import { useState, type FormEvent } from "react";
import { Link, Navigate, NavLink, Outlet, useMatch, useNavigate } from "react-router";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { client, unwrap, type Workspace } from "../api/client";
import { session } from "../api/session";
import { fieldsOf } from "../api/errors";
import { Empty, ErrorNote, Field, Modal, Spinner, useTitle } from "../components";
import { check, rules, slugify, type Errors } from "../validate";
import { useUser } from "../App";

const LAST = "keel.lastWorkspace";

export function useWorkspaces() {
  return useQuery({
    queryKey: ["workspaces"],
    queryFn: () => unwrap(client.GET("/api/v1/workspaces", { params: { query: { per_page: 500 } } })),
  });
}

export function useWorkspace(slug: string) {
  return useQuery({
    queryKey: ["workspace", slug],
    queryFn: () => unwrap(client.GET("/api/v1/workspaces/{slug}", { params: { path: { slug } } })),
  });
}

export function rememberWorkspace(slug: string) {
  localStorage.setItem(LAST, slug);
}

/** `/`: the workspace used last, else the list. */
export function Home() {
  const list = useWorkspaces();
  if (list.isPending) return <Spinner />;
  if (list.isError) return <ErrorNote error={list.error} retry={() => void list.refetch()} />;
  const last = localStorage.getItem(LAST);
  const ws = list.data.items.find((w) => w.slug === last) ?? (list.data.items.length === 1 ? list.data.items[0] : undefined);
  return <Navigate to={ws ? `/w/${ws.slug}` : "/workspaces"} replace />;
}

/** The frame of every signed-in page: sidebar with the workspace switcher, then the page. */
export function Shell() {
  const user = useUser();
  const list = useWorkspaces();
  const nav = useNavigate();
  const qc = useQueryClient();
  const match = useMatch("/w/:slug/*");
  const slug = match?.params.slug;
  const [menuOpen, setMenuOpen] = useState(false);
  const signOut = async () => {
    // Best effort: the session ends locally even if the server cannot be told.
    await client.POST("/api/v1/auth/logout").catch(() => undefined);
    session.clear();
    qc.clear();
    nav("/login", { replace: true });
  };
  return (
    <div className="shell">
      <a href="#main" className="skip">
        Skip to content
      </a>
      <aside className={menuOpen ? "sidebar open" : "sidebar"} aria-label="Navigation">
        <div className="sidebar-top">
          <Link to="/" className="brand">
            <img src="/favicon.svg" alt="" width={24} height={24} />
            Keel
          </Link>
          <button type="button" className="icon menu-toggle" aria-expanded={menuOpen} aria-label="Menu" onClick={() => setMenuOpen(!menuOpen)}>
            ☰
          </button>
        </div>
        <div className="sidebar-body" onClick={(e) => (e.target as HTMLElement).closest("a") && setMenuOpen(false)}>
          <label className="switcher">
            <span className="label">Workspace</span>
            <select
              aria-label="Switch workspace"
              value={slug ?? ""}
              onChange={(e) => {
                const v = e.target.value;
                nav(v === "" ? "/workspaces" : `/w/${v}`);
              }}
            >
              <option value="">All workspaces…</option>
              {list.data?.items.map((w) => (
                <option key={w.id} value={w.slug}>
                  {w.name}
                </option>
              ))}
            </select>
          </label>
          {slug ? (
            <nav className="nav" aria-label="Workspace">
              <NavLink to={`/w/${slug}/home`}>Home</NavLink>
              <NavLink to={`/w/${slug}`} end>
                Projects
              </NavLink>
              <NavLink to={`/w/${slug}/members`}>Members</NavLink>
              <NavLink to={`/w/${slug}/departments`}>Departments</NavLink>
              <NavLink to={`/w/${slug}/staff`}>Staff</NavLink>
              {/* Workspace analytics are for members and above (seed 000). */}
              {list.data?.items.find((w) => w.slug === slug)?.role !== "guest" ? (
                <>
                  <NavLink to={`/w/${slug}/dashboards`}>Dashboards</NavLink>
                  <NavLink to={`/w/${slug}/metrics`}>Metrics</NavLink>
                  <NavLink to={`/w/${slug}/analytics`}>Analytics</NavLink>
                </>
              ) : null}
              <NavLink to={`/w/${slug}/plan`}>Plan</NavLink>
            </nav>
          ) : null}
          <nav className="nav" aria-label="Personal">
            <NavLink to="/workspaces" end>
              Workspaces
            </NavLink>
            <NavLink to="/sync">Devices and sync</NavLink>
            <NavLink to="/account">Account</NavLink>
          </nav>
          <div className="sidebar-foot">
            <span className="who" title={user?.email}>
              {user?.display_name}
            </span>
            <button type="button" className="link" onClick={() => void signOut()}>
              Sign out
            </button>
          </div>
        </div>
      </aside>
      <main id="main" className="content" tabIndex={-1}>
        <Outlet />
      </main>
    </div>
  );
}

export function WorkspaceList() {
  useTitle("Workspaces");
  const list = useWorkspaces();
  const [creating, setCreating] = useState(false);
  return (
    <>
      <header className="page-head">
        <h1>Workspaces</h1>
        <button type="button" className="primary" onClick={() => setCreating(true)}>
          New workspace
        </button>
      </header>
      {list.isPending ? <Spinner /> : null}
      <ErrorNote error={list.error} retry={() => void list.refetch()} />
      {list.data && list.data.items.length === 0 ? (
        <Empty title="No workspaces yet">
          <p>A workspace holds your team's projects and members.</p>
          <button type="button" className="primary" onClick={() => setCreating(true)}>
            Create your first workspace
          </button>
        </Empty>
      ) : null}
      {list.data && list.data.items.length > 0 ? (
        <ul className="cards" aria-label="Your workspaces">
          {list.data.items.map((w) => (
            <li key={w.id}>
              <Link to={`/w/${w.slug}`} className="card link-card" onClick={() => rememberWorkspace(w.slug)}>
                <span className="card-title">{w.name}</span>
                <span className="muted">
                  /{w.slug} · {w.role ?? "member"}
                </span>
              </Link>
            </li>
          ))}
        </ul>
      ) : null}
      <Modal title="New workspace" open={creating} onClose={() => setCreating(false)}>
        <NewWorkspace onDone={() => setCreating(false)} />
      </Modal>
    </>
  );
}

function NewWorkspace({ onDone }: { onDone: () => void }) {
  const [name, setName] = useState("");
  const [slug, setSlug] = useState("");
  const [slugEdited, setSlugEdited] = useState(false);
  const [errors, setErrors] = useState<Errors>({});
  const qc = useQueryClient();
  const nav = useNavigate();
  const create = useMutation({
    mutationFn: () => unwrap(client.POST("/api/v1/workspaces", { body: { name, slug } })),
    onSuccess: (w: Workspace) => {
      void qc.invalidateQueries({ queryKey: ["workspaces"] });
      rememberWorkspace(w.slug);
      onDone();
      nav(`/w/${w.slug}`);
    },
    onError: (e) => setErrors(fieldsOf(e)),
  });
  const submit = (ev: FormEvent) => {
    ev.preventDefault();
    const errs = check({ name: [name, rules.name], slug: [slug, rules.slug] });
    setErrors(errs);
    if (!Object.keys(errs).length) create.mutate();
  };
  return (
    <form onSubmit={submit} noValidate>
      <Field
        label="Name"
        value={name}
        autoFocus
        onChange={(e) => {
          setName(e.target.value);
          if (!slugEdited) setSlug(slugify(e.target.value));
        }}
        error={errors.name}
      />
      <Field
        label="URL name"
        value={slug}
        onChange={(e) => {
          setSlugEdited(true);
          setSlug(e.target.value.toLowerCase());
        }}
        error={errors.slug}
        hint="Lower-case letters, digits and hyphens; part of every link to the workspace"
      />
      {create.isError && !Object.keys(fieldsOf(create.error)).length ? <ErrorNote error={create.error} /> : null}
      <div className="form-actions">
        <button type="button" onClick={onDone}>
          Cancel
        </button>
        <button type="submit" className="primary" disabled={create.isPending}>
          {create.isPending ? "Creating…" : "Create workspace"}
        </button>
      </div>
    </form>
  );
}
