import { useState } from "react";
import { Link, useParams } from "react-router";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { client, unwrap, type Schemas } from "../api/client";
import { fieldsOf } from "../api/errors";
import { Empty, ErrorNote, Field, Spinner, useTitle } from "../components";
import { toHtml } from "./issues";
import { useWorkspace } from "./workspaces";

type Recent = Schemas["RecentVisitView"];

/** Where a favorite or a recent visit leads. */
function linkTo(slug: string, kind: string, id: string, pid: string | null | undefined): string {
  const p = `/w/${slug}/p/${pid ?? id}`;
  switch (kind) {
    case "project":
      return `/w/${slug}/p/${id}`;
    case "issue":
      return `${p}/issues/${id}`;
    case "cycle":
      return `${p}?cycle=${id}`;
    case "module":
      return `${p}?module=${id}`;
    default:
      return `${p}/views/${id}`;
  }
}

/** The workspace home: favorites, and the widgets the person keeps (seed 000). */
export function WorkspaceHome() {
  const { slug = "" } = useParams();
  const ws = useWorkspace(slug);
  useTitle(ws.data ? `${ws.data.name} · Home` : "Home");
  const qc = useQueryClient();
  const prefs = useQuery({
    queryKey: ["home", slug],
    queryFn: () => unwrap(client.GET("/api/v1/workspaces/{slug}/home-preferences", { params: { path: { slug } } })),
  });
  const favorites = useQuery({
    queryKey: ["favorites", slug],
    queryFn: () => unwrap(client.GET("/api/v1/workspaces/{slug}/favorites", { params: { path: { slug } } })),
  });
  // A change is shown in the same event as the click: the choice is kept in local state until
  // the server's list has been fetched again (a controlled checkbox whose value changed only a
  // tick later would be put back by React first). A refused change is undone by that fetch.
  const [chosen, setChosen] = useState<Record<string, boolean>>({});
  const toggle = useMutation({
    // One change at a time per workspace: two quick clicks reach the server in order.
    scope: { id: `home-preferences:${slug}` },
    mutationFn: ({ key, on }: { key: string; on: boolean }) =>
      unwrap(client.PATCH("/api/v1/workspaces/{slug}/home-preferences/{key}", { params: { path: { slug, key } }, body: { is_enabled: on } })),
    onSettled: async (_data, _error, { key, on }) => {
      await qc.invalidateQueries({ queryKey: ["home", slug] });
      // A later click on the same box keeps its own choice.
      const k = `${slug}:${key}`;
      setChosen((c) => {
        if (c[k] !== on) return c;
        const rest = { ...c };
        delete rest[k];
        return rest;
      });
    },
  });
  // Keyed by workspace too: the page stays mounted when another workspace's home opens.
  const enabled = (p: { key: string; is_enabled: boolean }) => chosen[`${slug}:${p.key}`] ?? p.is_enabled;
  const setEnabled = (key: string, on: boolean) => {
    setChosen((c) => ({ ...c, [`${slug}:${key}`]: on }));
    toggle.mutate({ key, on });
  };
  const names: Record<string, string> = { quick_links: "Quick links", recents: "Recent", my_stickies: "Stickies" };
  return (
    <>
      <header className="page-head">
        <div>
          <p className="eyebrow">{ws.data?.name ?? "…"}</p>
          <h1>Home</h1>
        </div>
      </header>
      <section className="card stack" aria-label="Favorites">
        <h2>Favorites</h2>
        {favorites.data?.length === 0 ? <p className="muted">Star a project, cycle, module or view to keep it here.</p> : null}
        <ul className="plain">
          {favorites.data?.map((f) => (
            <li key={`${f.entity_type}:${f.entity_id}`}>
              <span className="badge">{f.entity_type}</span> <Link to={linkTo(slug, f.entity_type, f.entity_id, f.project_id)}>{f.name}</Link>
            </li>
          ))}
        </ul>
      </section>
      <fieldset className="card row" aria-label="Widgets">
        <legend>Show on home</legend>
        {prefs.data?.map((p) => (
          <label key={p.key} className="check">
            <input type="checkbox" checked={enabled(p)} onChange={(e) => setEnabled(p.key, e.target.checked)} /> {names[p.key] ?? p.key}
          </label>
        ))}
      </fieldset>
      <ErrorNote error={prefs.error ?? toggle.error} />
      {prefs.isPending ? <Spinner /> : null}
      {prefs.data
        ?.filter(enabled)
        .map((p) =>
          p.key === "quick_links" ? <QuickLinks key={p.key} slug={slug} /> : p.key === "recents" ? <Recents key={p.key} slug={slug} /> : <Stickies key={p.key} slug={slug} />,
        )}
    </>
  );
}

function QuickLinks({ slug }: { slug: string }) {
  const qc = useQueryClient();
  const list = useQuery({
    queryKey: ["quick-links", slug],
    queryFn: () => unwrap(client.GET("/api/v1/workspaces/{slug}/quick-links", { params: { path: { slug } } })),
  });
  const [url, setUrl] = useState("");
  const [title, setTitle] = useState("");
  const [error, setError] = useState("");
  const refresh = () => void qc.invalidateQueries({ queryKey: ["quick-links", slug] });
  const add = useMutation({
    mutationFn: () => unwrap(client.POST("/api/v1/workspaces/{slug}/quick-links", { params: { path: { slug } }, body: { url: url.trim(), title: title.trim() || undefined } })),
    onSuccess: () => {
      setUrl("");
      setTitle("");
      refresh();
    },
    onError: (e) => setError(fieldsOf(e).url ?? ""),
  });
  const remove = useMutation({
    mutationFn: (id: string) => unwrap(client.DELETE("/api/v1/workspaces/{slug}/quick-links/{link_id}", { params: { path: { slug, link_id: id } } })),
    onSuccess: refresh,
  });
  return (
    <section className="card stack" aria-label="Quick links">
      <h2>Quick links</h2>
      <ul className="plain">
        {list.data?.map((l) => (
          <li key={l.id}>
            <a href={l.url} target="_blank" rel="noopener noreferrer">
              {l.title}
            </a>{" "}
            <button type="button" className="link danger" aria-label={`Remove ${l.title}`} onClick={() => remove.mutate(l.id)}>
              Remove
            </button>
          </li>
        ))}
      </ul>
      <form
        className="row"
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          if (!/^https?:\/\/\S+$/.test(url.trim())) {
            setError("A web address, starting with https://");
            return;
          }
          setError("");
          add.mutate();
        }}
      >
        <Field label="Address" value={url} onChange={(e) => setUrl(e.target.value)} error={error} placeholder="https://" />
        <Field label="Title" value={title} onChange={(e) => setTitle(e.target.value)} />
        <button type="submit">Add link</button>
      </form>
    </section>
  );
}

function Recents({ slug }: { slug: string }) {
  const list = useQuery({
    queryKey: ["recents", slug],
    queryFn: () => unwrap(client.GET("/api/v1/workspaces/{slug}/recent-visits", { params: { path: { slug } } })),
  });
  return (
    <section className="card stack" aria-label="Recent">
      <h2>Recent</h2>
      {list.isPending ? <Spinner /> : null}
      {list.data?.length === 0 ? <p className="muted">What you open shows up here.</p> : null}
      <ul className="plain">
        {list.data?.map((r: Recent) => (
          <li key={`${r.entity_type}:${r.entity_id}`}>
            <span className="badge">{r.entity_type}</span> <Link to={linkTo(slug, r.entity_type, r.entity_id, r.project_id)}>{r.name}</Link>
          </li>
        ))}
      </ul>
    </section>
  );
}

function Stickies({ slug }: { slug: string }) {
  const qc = useQueryClient();
  const list = useQuery({
    queryKey: ["stickies", slug],
    queryFn: () => unwrap(client.GET("/api/v1/workspaces/{slug}/stickies", { params: { path: { slug } } })),
  });
  const [text, setText] = useState("");
  const refresh = () => void qc.invalidateQueries({ queryKey: ["stickies", slug] });
  const add = useMutation({
    mutationFn: () => unwrap(client.POST("/api/v1/workspaces/{slug}/stickies", { params: { path: { slug } }, body: { description_html: toHtml(text) } })),
    onSuccess: () => {
      setText("");
      refresh();
    },
  });
  const remove = useMutation({
    mutationFn: (id: string) => unwrap(client.DELETE("/api/v1/workspaces/{slug}/stickies/{sticky_id}", { params: { path: { slug, sticky_id: id } } })),
    onSuccess: refresh,
  });
  return (
    <section className="card stack" aria-label="Stickies">
      <h2>Stickies</h2>
      {list.data?.length === 0 ? <Empty title="No stickies" /> : null}
      <div className="cards">
        {list.data?.map((s) => (
          <article key={s.id} className="card sticky" style={s.color ? { borderColor: s.color } : undefined}>
            <div className="rich" dangerouslySetInnerHTML={{ __html: s.description_html }} />
            <button type="button" className="link danger" onClick={() => remove.mutate(s.id)}>
              Delete
            </button>
          </article>
        ))}
      </div>
      <form
        className="stack"
        onSubmit={(e) => {
          e.preventDefault();
          if (text.trim()) add.mutate();
        }}
      >
        <div className="field">
          <label htmlFor="new-sticky">New sticky</label>
          <textarea id="new-sticky" rows={2} value={text} onChange={(e) => setText(e.target.value)} />
        </div>
        <ErrorNote error={add.error ?? remove.error} />
        <div className="actions">
          <button type="submit" disabled={add.isPending || !text.trim()}>
            Add sticky
          </button>
        </div>
      </form>
    </section>
  );
}
